"""Property tests (hypothesis) for the network and ResNet simulators.

Invariants: every per-layer Gram matrix is symmetric positive semi-definite, every correlation lies in
[-1, 1] (or is NaN for a dead column), and a network's result does not depend on the batch it runs in
(networks [0, P) in one call equal [0, k) and [k, P) with ``first_path=k``, bit for bit).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deeplimits.networks import gram_from_correlation, leaky_mlp, relu_mlp, resnet, shaped_mlp
from deeplimits.resnet import exact_resnets, fgn_weights, iid_weights, random_resnets, rbf_gp_weights

SETTINGS = settings(max_examples=25, deadline=None)

seeds = st.integers(min_value=0, max_value=2**70)
rhos = st.floats(min_value=-1.0, max_value=1.0)
scales = st.floats(min_value=1e-150, max_value=1e150)
engines = st.sampled_from(["gram", "dense"])


def _gram3(a, b, c):
    # a PSD 3 x 3 Gram matrix from three random directions
    v = np.array([[1.0, 0.0], [np.cos(a), np.sin(a)], [np.cos(b), np.sin(b)]]) * np.array([[1.0], [2.0], [c]])
    return v @ v.T


def _check_psd_and_correlations(batch):
    g = batch.ys
    assert np.allclose(g, np.swapaxes(g, -1, -2), rtol=0, atol=0)
    scale = np.maximum(np.diagonal(g, axis1=-2, axis2=-1).max(-1), np.finfo(float).tiny)[..., None, None]
    eig = np.linalg.eigvalsh(g / scale)
    assert eig.min() >= -1e-9
    corr = batch.corr
    ok = np.isnan(corr) | ((corr >= -1.0) & (corr <= 1.0))
    assert ok.all()
    assert np.all(batch.sqnorm >= 0) and np.all(np.isfinite(batch.sqnorm))


@SETTINGS
@given(rho=rhos, scale=scales, seed=seeds, engine=engines, width=st.integers(1, 12))
def test_relu_mlp_gram_psd_and_correlations_in_range(rho, scale, seed, engine, width):
    b = relu_mlp(gram_from_correlation(rho, scale), width, 4, 3, engine=engine, seed=seed)
    _check_psd_and_correlations(b)
    np.testing.assert_allclose(b.corr[:, 0, 0, 1], rho, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(
    a=st.floats(0.0, np.pi),
    b=st.floats(0.0, np.pi),
    c=st.floats(0.1, 3.0),
    seed=seeds,
    engine=engines,
    arch=st.sampled_from(["leaky", "shaped", "resnet"]),
)
def test_three_inputs_gram_psd(a, b, c, seed, engine, arch):
    g = _gram3(a, b, c)
    if arch == "leaky":
        out = leaky_mlp(g, 6, 3, 2, s_plus=1.0, s_minus=0.3, engine=engine, seed=seed)
    elif arch == "shaped":
        out = shaped_mlp(g, 9, 3, 2, c_plus=0.5, c_minus=-1.0, engine=engine, seed=seed)
    else:
        out = resnet(g, 6, 3, 2, sigma_r=1.3, engine=engine, seed=seed)
    _check_psd_and_correlations(out)


@SETTINGS
@given(rho=rhos, seed=seeds, engine=engines, n=st.integers(2, 7), data=st.data())
def test_networks_independent_of_batch_split(rho, seed, engine, n, data):
    k = data.draw(st.integers(1, n - 1))
    g = gram_from_correlation(rho)
    for f in (relu_mlp, resnet):
        whole = f(g, 5, 3, n, engine=engine, seed=seed)
        head = f(g, 5, 3, k, engine=engine, seed=seed)
        tail = f(g, 5, 3, n - k, engine=engine, seed=seed, first_path=k)
        np.testing.assert_array_equal(np.concatenate([head.ys, tail.ys]), whole.ys)
        np.testing.assert_array_equal(np.concatenate([head.one_minus_corr, tail.one_minus_corr]), whole.one_minus_corr)


@SETTINGS
@given(
    seed=seeds,
    n=st.integers(2, 6),
    variant=st.sampled_from(["cohen", "res1", "res3"]),
    weights=st.sampled_from(["iid", "smooth", "fgn", "exact"]),
    chunk=st.integers(1, 3),
    data=st.data(),
)
def test_resnets_independent_of_batch_split(seed, n, variant, weights, chunk, data):
    k = data.draw(st.integers(1, n - 1))

    def run(n_nets, first_path=0):
        kw = dict(activation="relu", seed=seed, first_path=first_path, save_trajectories=True)
        if weights == "exact":
            return exact_resnets(variant, n_nets, 3, 5, 0.5, bias_std=0.2, **kw)
        return random_resnets(variant, n_nets, 3, 5, 0.5, weights, hurst=0.3, bias_std=0.2, chunk_size=chunk, **kw)

    whole, head, tail = run(n), run(k), run(n - k, first_path=k)
    np.testing.assert_array_equal(np.concatenate([head.ys, tail.ys]), whole.ys)
    np.testing.assert_array_equal(np.concatenate([head.norms, tail.norms]), whole.norms)


@SETTINGS
@given(seed=seeds, n=st.integers(2, 6), family=st.sampled_from(["iid", "rbf", "fgn"]), data=st.data())
def test_weights_independent_of_batch_split(seed, n, family, data):
    k = data.draw(st.integers(1, n - 1))
    draw = {
        "iid": lambda m, first: iid_weights(m, 6, (2, 3), seed=seed, first_path=first),
        "rbf": lambda m, first: rbf_gp_weights(m, 6, (2, 3), 0.3, seed=seed, first_path=first),
        "fgn": lambda m, first: fgn_weights(m, 6, (2, 3), 0.7, seed=seed, first_path=first),
    }[family]
    np.testing.assert_array_equal(np.concatenate([draw(k, 0), draw(n - k, k)]), draw(n, 0))
