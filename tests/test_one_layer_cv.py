"""The control variates of ``deeplimits.experiments._one_layer_cv`` (used by ``corr.infinite_width``).

The statistics come from the same draws as ``sample_one_layer``; the closed-form expectations (``E[T | k] =
(k - 1)/(k - 2)``, the eight Gaussian means, the Isserlis covariances) are checked against Monte Carlo with fixed
seeds, each family against a Bonferroni threshold for a family-wise false-failure probability of 1e-4
(``norm.isf(1e-4 / (2 m))`` for ``m`` z-scores).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from deeplimits.correlation.depth import sample_one_layer
from deeplimits.experiments._one_layer_cv import (
    moment_covariance,
    one_layer_cv,
    regression_mean,
    shaped_controls,
    shaped_means,
    t_conditional_mean,
)


def _z_limit(m):
    return scipy.stats.norm.isf(1e-4 / (2 * m))


def test_same_draws_as_sample_one_layer():
    for u, n, sp, sm in [(1e-6, 16, 1.0, 0.0), (0.7, 32, 1.0, 0.75)]:
        out = one_layer_cv(u, n, 500, seed=4, s_plus=sp, s_minus=sm)
        u_ref, rho_ref = sample_one_layer(u, n, 500, seed=4, s_plus=sp, s_minus=sm)
        np.testing.assert_array_equal(out["u"], u_ref)
        np.testing.assert_array_equal(out["rho"], rho_ref)


def test_t_has_the_chi_square_ratio_mean():
    # n = 16: k = 3..16 all occur; k >= 5 where T has a finite variance, per k and pooled (13 z-scores)
    out = one_layer_cv(1e-6, 16, 200_000, seed=1)
    k, T = out["k"], out["T"]
    zs = []
    for kk in range(5, 17):
        sel = k == kk
        if sel.sum() > 1000:
            c = T[sel] - t_conditional_mean(kk)
            zs.append(abs(c.mean()) / (c.std() / np.sqrt(c.size)))
    sel = k >= 5
    c = T[sel] - t_conditional_mean(k[sel])
    zs.append(abs(c.mean()) / (c.std() / np.sqrt(c.size)))
    assert len(zs) >= 8
    assert max(zs) < _z_limit(len(zs))
    assert np.isnan(t_conditional_mean(2)) and t_conditional_mean(3) == 2.0


def test_small_u_layer_is_the_chi_square_ratio():
    # u'/u = (1 - u/2) T up to O(sqrt(u)) sign flips: at u = 1e-8 the two agree to 1e-3 in the mean
    u = 1e-8
    out = one_layer_cv(u, 64, 5000, seed=2)
    ok = np.isfinite(out["u"])
    r = out["u"][ok] / u - (1 - u / 2) * out["T"][ok]
    assert abs(r.mean()) < 1e-3
    assert r.std() < 0.01 * np.std(out["u"][ok] / u)


@pytest.mark.parametrize("rho", [0.3, -0.6])
def test_shaped_controls_have_mean_zero(rho):
    n = 32
    out = one_layer_cv(1 - rho, n, 100_000, seed=5, s_plus=1.0, s_minus=1 - 2 / np.sqrt(n))
    X = shaped_controls(out["G"], rho, n)
    z = np.abs(X.mean(0)) / (X.std(0) / np.sqrt(X.shape[0]))
    assert X.shape[1] == 14
    assert z.max() < _z_limit(X.shape[1])


def test_isserlis_covariance():
    rng = np.random.default_rng(0)
    rho = 0.4
    x = rng.standard_normal(400_000)
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(x.size)
    S = np.cov(np.vstack([x * x, y * y, x * y]))
    C = moment_covariance(rho)
    # entries of S have standard errors below 0.02 at this sample size
    np.testing.assert_allclose(S, C, atol=0.02)
    assert shaped_means(0.0)[-1] == pytest.approx(1 / (2 * np.pi))


def test_regression_mean_removes_the_control_noise():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20_000, 2))
    y = 3.0 + X @ np.array([5.0, -2.0]) + 0.1 * rng.standard_normal(20_000)
    m, se = regression_mean(y, X)
    assert se == pytest.approx(0.1 / np.sqrt(20_000), rel=0.05)
    assert abs(m - 3.0) < 4 * se


def test_bad_arguments():
    with pytest.raises(ValueError, match="u = 1 - rho"):
        one_layer_cv(3.0, 8, 10, seed=0)
    with pytest.raises(ValueError, match="n"):
        one_layer_cv(0.5, 0, 10, seed=0)
