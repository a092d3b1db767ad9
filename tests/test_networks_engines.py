"""The Gram engine and the dense engine agree in distribution; exact one-layer moments; reproducibility.

Two-sample thresholds.  For two independent samples of sizes N1, N2 the Kolmogorov-Smirnov statistic
exceeds ``c(alpha) sqrt((N1 + N2) / (N1 N2))``, ``c(alpha) = sqrt(-log(alpha / 2) / 2)``, with probability
at most alpha (asymptotic Kolmogorov law).  Each test makes K comparisons and uses alpha = 1e-3 / K
(Bonferroni), so a correct engine fails a test with probability <= 1e-3; seeds are fixed, so the outcome
is deterministic.  Means are compared within 4 standard errors of the difference.
"""

import numba as nb
import numpy as np
import pytest
from scipy import stats

from deeplimits.networks import gram_from_correlation, leaky_mlp, relu_mlp, resnet, shaped_mlp


def ks_threshold(n1, n2, n_tests, alpha_total=1e-3):
    alpha = alpha_total / n_tests
    return np.sqrt(-np.log(alpha / 2) / 2) * np.sqrt((n1 + n2) / (n1 * n2))


def assert_same_law(x, y, n_tests, what):
    x, y = np.asarray(x), np.asarray(y)
    ks = stats.ks_2samp(x, y).statistic
    thr = ks_threshold(x.size, y.size, n_tests)
    assert ks < thr, f"{what}: KS = {ks:.4f} >= {thr:.4f}"
    se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    assert abs(x.mean() - y.mean()) < 4 * se, f"{what}: means {x.mean():.5g} vs {y.mean():.5g}, 4 se = {4 * se:.3g}"


def compare_batches(a, b, layers, pairs):
    n_tests = len(layers) * (1 + len(pairs))
    for l in layers:
        ka, kb = a.index(l), b.index(l)
        assert_same_law(a.sqnorm[:, ka, 0], b.sqnorm[:, kb, 0], n_tests, f"sqnorm layer {l}")
        for i, j in pairs:
            assert_same_law(a.corr[:, ka, i, j], b.corr[:, kb, i, j], n_tests, f"corr[{i},{j}] layer {l}")


N_NETS = 3000


def test_relu_mlp_engines_agree():
    G = gram_from_correlation(0.3, (1.0, 2.0))
    kw = dict(width=24, depth=10, n_nets=N_NETS, save=[1, 3, 10])
    compare_batches(
        relu_mlp(G, engine="gram", seed=1, **kw), relu_mlp(G, engine="dense", seed=2, **kw), [1, 3, 10], [(0, 1)]
    )


def test_shaped_mlp_three_inputs_engines_agree():
    # m = 3 exercises the general factorisation (two difference coordinates)
    G = np.array([[1.0, 0.6, -0.2], [0.6, 1.5, 0.1], [-0.2, 0.1, 0.8]])
    kw = dict(width=16, depth=16, n_nets=N_NETS, c_plus=0.5, c_minus=-1.0, save=[2, 16])
    compare_batches(
        shaped_mlp(G, engine="gram", seed=3, **kw),
        shaped_mlp(G, engine="dense", seed=4, **kw),
        [2, 16],
        [(0, 1), (0, 2), (1, 2)],
    )


def test_resnet_engines_agree():
    G = gram_from_correlation(-0.4, (1.0, 0.5))
    kw = dict(width=16, depth=8, n_nets=N_NETS, sigma_r=1.5, save=[0, 4, 8])
    compare_batches(
        resnet(G, engine="gram", seed=5, **kw), resnet(G, engine="dense", seed=6, **kw), [0, 4, 8], [(0, 1)]
    )


def test_near_one_correlation_kept_without_cancellation():
    # 1 - rho_0 = 1e-10: a naive 1 - G_ab / sqrt(G_aa G_bb) would carry relative errors ~ 1e-6 at best;
    # both engines compute 1 - rho from normalised differences, so u_1 / u_0 must agree in law
    # (and stay O(1)) between engines.
    u0 = 1e-10
    G = gram_from_correlation(1.0 - u0)
    kw = dict(width=32, depth=2, n_nets=2000, save=[2])
    a = relu_mlp(G, engine="gram", seed=7, **kw).one_minus_corr[:, 0, 0, 1] / u0
    b = relu_mlp(G, engine="dense", seed=8, **kw).one_minus_corr[:, 0, 0, 1] / u0
    assert np.all(a > 0) and np.all(b > 0)
    assert_same_law(a, b, 1, "u_2/u_0")
    # at the infinite-width fixed point u_{l+1} ~ u_l (1 + O(sqrt(u_l))), so E[u_2/u_0] = 1 + O(1/n)
    assert 0.8 < a.mean() < 1.3


def test_one_layer_exact_moments_relu():
    # At any width, E[Phi_1^aa] = Phi_0^aa (He init), E[Phi_1^ab] = sqrt(P_a P_b) f(rho_0) with the
    # arc-cosine map f, and Var[Phi_1^aa] = (c^2 E[relu(w)^4] - 1) P_a^2 / n = 5 P_a^2 / n.
    n, N = 8, 200_000
    rho0 = 0.3
    P = np.array([1.0, 2.0])
    b = relu_mlp(gram_from_correlation(rho0, P), width=n, depth=1, n_nets=N, seed=9, save=[1])
    g = b.ys[:, 0]
    for a in range(2):
        x = g[:, a, a]
        assert abs(x.mean() - P[a]) < 4 * x.std() / np.sqrt(N)
        # standard error of the sample variance: sqrt((mu4 - sigma^4) / N)
        mu4 = np.mean((x - x.mean()) ** 4)
        assert abs(x.var() - 5 * P[a] ** 2 / n) < 4 * np.sqrt((mu4 - x.var() ** 2) / N)
        ratio = x / P[a]
        assert abs(ratio.mean() - 1) < 4 * ratio.std() / np.sqrt(N)
    f = (np.sqrt(1 - rho0**2) + (np.pi - np.arccos(rho0)) * rho0) / np.pi
    x = g[:, 0, 1]
    assert abs(x.mean() - np.sqrt(P[0] * P[1]) * f) < 4 * x.std() / np.sqrt(N)


def test_one_layer_exact_moments_leaky_and_resnet():
    n, N = 4, 200_000
    rho0, sp, sm = -0.5, 1.3, 0.4
    b = leaky_mlp(gram_from_correlation(rho0), width=n, depth=1, n_nets=N, s_plus=sp, s_minus=sm, seed=10)
    g = b.ys[:, 1]
    # c E[phi(w1) phi(w2)] = rho + ((s+ - s-)^2 / (pi (s+^2 + s-^2))) (sqrt(1 - rho^2) - rho arccos rho)
    k = rho0 + (sp - sm) ** 2 / (np.pi * (sp**2 + sm**2)) * (np.sqrt(1 - rho0**2) - rho0 * np.arccos(rho0))
    assert abs(g[:, 0, 1].mean() - k) < 4 * g[:, 0, 1].std() / np.sqrt(N)
    assert abs(g[:, 0, 0].mean() - 1) < 4 * g[:, 0, 0].std() / np.sqrt(N)
    # ResNet, one layer of d: E[V_1^aa] = V_0^aa (1 + sigma_r^2 / (2 d)) exactly (E relu(h)^2 = V/2)
    d, s = 4, 2.0
    r = resnet(gram_from_correlation(0.2), width=n, depth=d, n_nets=N, sigma_r=s, seed=11, save=[1])
    v = r.sqnorm[:, 0, 0]
    assert abs(v.mean() - (1 + s**2 / (2 * d))) < 4 * v.std() / np.sqrt(N)


G3 = np.array([[1.0, 0.6, -0.2], [0.6, 1.5, 0.1], [-0.2, 0.1, 0.8]])
MODELS = {
    "mlp": lambda seed: relu_mlp(gram_from_correlation(0.1), 20, 6, 64, seed=seed),
    "resnet": lambda seed: resnet(gram_from_correlation(0.1), 20, 6, 64, seed=seed),
    "shaped_m3": lambda seed: shaped_mlp(G3, 10, 7, 33, c_plus=0.5, c_minus=-1.0, seed=seed),
}


@pytest.mark.parametrize("model", list(MODELS))
def test_gram_engine_thread_independent_and_seeded(model):
    f = MODELS[model]
    a = f(12)
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        b = f(12)
    finally:
        nb.set_num_threads(old)
    np.testing.assert_array_equal(a.one_minus_corr, b.one_minus_corr)
    np.testing.assert_array_equal(a.sqnorm, b.sqnorm)
    assert not np.array_equal(a.sqnorm, f(13).sqnorm)


def test_dense_engine_independent_of_batching():
    # network k depends only on (seed, k): the first 3 networks of a batch of 5 equal a batch of 3
    G = gram_from_correlation(0.1)
    a = relu_mlp(G, 16, 4, 5, engine="dense", seed=14)
    b = relu_mlp(G, 16, 4, 3, engine="dense", seed=14)
    np.testing.assert_array_equal(a.sqnorm[:3], b.sqnorm)


def test_output_shapes_and_layer_zero():
    G = gram_from_correlation(0.25, (2.0, 3.0))
    for eng in ("gram", "dense"):
        b = relu_mlp(G, 8, 5, 7, engine=eng, seed=0)
        assert b.sqnorm.shape == (7, 6, 2) and b.one_minus_corr.shape == (7, 6, 2, 2)
        np.testing.assert_allclose(b.sqnorm[:, 0], [[2.0, 3.0]] * 7)
        np.testing.assert_allclose(b.corr[:, 0, 0, 1], 0.25, rtol=1e-12)
        assert np.all(b.one_minus_corr[:, :, 0, 0] == 0)
        last = relu_mlp(G, 8, 5, 7, engine=eng, seed=0, save="last")
        np.testing.assert_allclose(last.sqnorm[:, 0], b.sqnorm[:, -1], rtol=1e-12)


@pytest.mark.parametrize("engine", ["gram", "dense"])
def test_same_seed_bit_identical_all_models(engine):
    # m = 3 inputs, every architecture: a repeated call with the same seed reproduces every bit
    runs = [
        lambda: relu_mlp(G3, 12, 5, 6, engine=engine, seed=21),
        lambda: shaped_mlp(G3, 12, 5, 6, c_plus=0.5, engine=engine, seed=21),
        lambda: resnet(G3, 12, 5, 6, sigma_r=0.7, engine=engine, seed=21),
    ]
    for f in runs:
        a, b = f(), f()
        np.testing.assert_array_equal(a.sqnorm, b.sqnorm)
        np.testing.assert_array_equal(a.one_minus_corr, b.one_minus_corr)
