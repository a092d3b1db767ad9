"""Tests of the dense and exact ResNet simulators and the closed-form moments."""

import numba
import numpy as np
import pytest
from scipy import stats

from deeplimits.resnet.exact import exact_resnets
from deeplimits.resnet.finite import random_resnets, simulate_resnets
from deeplimits.resnet.moments import norm_moments, norm_moments_limit


def _ks_threshold(n1, n2, alpha=1e-4):
    # Two-sample KS critical value sqrt(-ln(alpha/2)/2) sqrt((n1+n2)/(n1 n2)), alpha = 1e-4 (fixed seeds).
    return np.sqrt(-np.log(alpha / 2) / 2) * np.sqrt((n1 + n2) / (n1 * n2))


@pytest.mark.parametrize(
    "variant,activation", [("res1", "tanh"), ("res3", "relu"), ("cohen", "tanh"), ("cohen", "swish")]
)
def test_exact_simulator_matches_dense_in_law(variant, activation):
    n, d, L = 3000, 6, 40
    kw = dict(activation=activation, bias_std=0.5 if variant == "cohen" else 0.0)
    a = random_resnets(variant, n, d, L, 0.5, seed=11, **kw)
    b = exact_resnets(variant, n, d, L, 0.5, seed=12, **kw)
    thr = _ks_threshold(n, n)
    for k in (10, L):  # law of the norm at two depths, and of one coordinate at the output
        assert stats.ks_2samp(a.norms[:, k], b.norms[:, k]).statistic < thr
    assert stats.ks_2samp(a.final[:, 0], b.final[:, 0]).statistic < thr


@pytest.mark.parametrize("variant,activation", [("res1", "linear"), ("res3", "relu"), ("res3", "linear")])
def test_closed_form_moments_within_4_standard_errors(variant, activation):
    n, d, L = 100_000, 4, 25
    b = exact_resnets(variant, n, d, L, 0.5, activation=activation, seed=3)
    r = b.norms[:, -1] ** 2
    m2, m4 = norm_moments(variant, activation, d, L, 0.5)
    assert abs(r.mean() - m2) < 4 * r.std() / np.sqrt(n)
    assert abs((r**2).mean() - m4) < 4 * (r**2).std() / np.sqrt(n)


def test_dense_matches_closed_form_second_moment():
    n, d, L = 20_000, 5, 16
    a = random_resnets("res3", n, d, L, 0.5, activation="relu", seed=4)
    r = a.norms[:, -1] ** 2
    assert abs(r.mean() - norm_moments("res3", "relu", d, L, 0.5)[0]) < 4 * r.std() / np.sqrt(n)


def test_moments_converge_to_sde_limit_with_weak_order_one():
    # alpha = L^-1/2: E R_L^p -> SDE value with error O(1/L): fitted log-log slope over 5 depths is -1 +- 0.25.
    depths = np.array([16, 32, 64, 128, 256])
    for variant, act in (("res1", "linear"), ("res3", "relu")):
        lim = norm_moments_limit(variant, act, 8)
        for p in (0, 1):
            err = [abs(norm_moments(variant, act, 8, L, 0.5)[p] - lim[p]) for L in depths]
            slope = np.polyfit(np.log(depths), np.log(err), 1)[0]
            assert abs(slope + 1) < 0.25, (variant, p, slope)


def test_thread_count_does_not_change_results():
    default = numba.get_num_threads()
    out = []
    for nt in (1, default):
        numba.set_num_threads(nt)
        try:
            a = random_resnets("res3", 64, 5, 20, 0.5, activation="tanh", seed=9)
            b = exact_resnets("res1", 64, 5, 20, 0.5, activation="relu", seed=9)
            c = random_resnets("res1", 16, 5, 20, 0.5, weights="fgn", hurst=0.3, seed=9)
            out.append((a.norms, b.norms, c.norms))
        finally:
            numba.set_num_threads(default)
    for x, y in zip(*out, strict=True):
        np.testing.assert_array_equal(x, y)


def test_trajectories_and_given_weights_agree():
    rng = np.random.default_rng(0)
    n, L, d = 3, 7, 4
    V = rng.standard_normal((n, L, d, d)) / 2
    W = rng.standard_normal((n, L, d, d)) / 2
    h0 = rng.standard_normal((n, d))
    out = simulate_resnets(h0, "res3", 0.3, "tanh", V=V, W=W, save_trajectories=True)
    h = h0.copy()
    for k in range(L):
        h = h + 0.3 * np.einsum("nij,nj->ni", V[:, k], np.tanh(np.einsum("nij,nj->ni", W[:, k], h)))
        np.testing.assert_allclose(out.ys[:, k + 1], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.norms, np.linalg.norm(out.ys, axis=2))
    np.testing.assert_allclose(out.final, h)


def test_beta_regimes_of_the_norm():
    # i.i.d. weights, linear res1: E log(R_L/R_0) ~ L^{1-2 beta} (1 - 2/d): explosion / O(1) / identity.
    d = 8
    for beta, lo, hi in ((0.25, 1.5, np.inf), (0.5, 0.4, 1.5), (1.0, -np.inf, 0.1)):
        b = exact_resnets("res1", 2000, d, 400, beta, activation="linear", seed=5)
        m = np.mean(2 * np.log(b.norms[:, -1] / b.norms[:, 0]))
        assert lo < m < hi, (beta, m)


@pytest.mark.parametrize(
    "call",
    [
        lambda: random_resnets("res1", 4, 0, 5, 0.5),
        lambda: random_resnets("res1", 4, 3, 0, 0.5),
        lambda: random_resnets("res1", 0, 3, 5, 0.5),
        lambda: random_resnets("res1", 4, 3, 5, -0.1),
        lambda: random_resnets("res1", 4, 3, 5, float("nan")),
        lambda: random_resnets("res1", 4, 3, 5, 0.5, weights="fgn", hurst=1.2),
        lambda: random_resnets("res1", 4, 3, 5, 0.5, weights="fgn"),
        lambda: random_resnets("res2", 4, 3, 5, 0.5),
        lambda: random_resnets("res1", 4, 3, 5, 0.5, activation="elu"),
        lambda: exact_resnets("res1", 4, 0, 5, 0.5),
        lambda: exact_resnets("res1", 4, 3, 0, 0.5),
        lambda: exact_resnets("res1", 4, 3, 5, -1.0),
        lambda: simulate_resnets(np.ones((2, 3)), "res1", 0.1, V=np.full((2, 4, 3, 3), np.nan)),
        lambda: simulate_resnets(np.ones((2, 3)), "res1", 0.1, V=np.ones((2, 4, 3, 2))),
        lambda: simulate_resnets(np.ones((2, 3)), "res3", 0.1, V=np.ones((2, 4, 3, 3))),
        lambda: simulate_resnets(np.ones((2, 3)), "res1", 0.1, V=np.ones((2, 3, 3))),
        lambda: simulate_resnets(np.ones((2, 3)), "res1", float("inf"), V=np.ones((2, 4, 3, 3))),
        lambda: simulate_resnets(np.full((2, 3), np.nan), "res1", 0.1, V=np.ones((2, 4, 3, 3))),
        lambda: random_resnets("res3", 4, 3, 5, 0.5, weights="smooth", lengthscale=0.0),
        lambda: random_resnets("cohen", 4, 3, 5, 0.5, gamma=-0.5),
        lambda: random_resnets("res1", 4, 3, 5, 0.5, h0=np.ones(4)),
        lambda: norm_moments("res1", "tanh", 4, 10, 0.5),
        lambda: norm_moments("res3", "relu", 0, 10, 0.5),
    ],
)
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
