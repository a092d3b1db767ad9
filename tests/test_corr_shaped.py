"""Shaped ReLU covariance SDE: Fisher-z correlation marginal and PSD-preserving factor form."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from deeplimits.correlation import covariance_factor_sde, sample_covariance
from deeplimits.correlation.maps import g_angle
from deeplimits.correlation.shaped_sde import (
    correlation_sde,
    covariance_drift,
    kappa_from_shaping,
    nu,
    sample_correlation,
    theta_martingale_mean,
)
from deeplimits.sde import brownian_increments, coarsen_increments, solve, uniform_grid


def _slope(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def test_nu_matches_formula_and_one_layer_shaped_map():
    rho = np.linspace(-1, 1, 41)
    assert np.allclose(nu(rho, 2.0), (np.sqrt(1 - rho**2) - rho * np.arccos(rho)) / np.pi, atol=1e-15)
    assert nu(1.0, 3.0) == 0.0
    # one shaped layer at width n moves rho by nu(rho)/n + O(n^{-3/2}) (infinite-width part)
    from deeplimits.correlation.maps import corr_map
    from deeplimits.networks import shaped_slopes

    for n in [1e4, 1e6]:
        sp, sm = shaped_slopes(0.5, -1.0, n)
        step = (corr_map(0.3, sp, sm) - 0.3) * n
        assert step == pytest.approx(float(nu(0.3, 2.25)), rel=3 / np.sqrt(n))
    V = np.array([[2.0, 0.5], [0.5, 1.0]])
    b = covariance_drift(V, 1.0)
    assert b[0, 0] == 0 and b[1, 1] == 0
    assert b[0, 1] == pytest.approx(float(nu(0.5 / np.sqrt(2), 1.0)) * np.sqrt(2))


def test_correlation_strong_order_one_and_weak_order_one():
    # Fisher-z form has additive noise: Euler-Maruyama is strong order 1.
    T, P, n_ref = 0.5, 2000, 512
    sde = correlation_sde(10.0)
    z0 = np.arctanh(-0.5)
    dW = brownian_increments(uniform_grid(0, T, n_ref), n_paths=P, seed=5)
    X = {}
    for N in [8, 16, 32, 64, 128, n_ref]:
        s = solve(sde, [z0], uniform_grid(0, T, N), saveat=[T], dW=coarsen_increments(dW, n_ref // N))
        X[N] = np.tanh(s.ys[:, 0, 0])
    Ns = np.array([8, 16, 32, 64, 128])
    strong = [np.sqrt(np.mean((X[N] - X[n_ref]) ** 2)) for N in Ns]
    assert _slope(T / Ns, strong) == pytest.approx(1.0, abs=0.2)
    # weak error E[rho_h] - E[rho_ref] on coupled paths (no closed form for kappa > 0): the MC error of
    # the difference is ~ strong error / sqrt(P) ~ 1e-4 at N = 128, 1/10 of the measured difference.
    weak = [abs(np.mean(X[N] - X[n_ref])) for N in Ns]
    se = np.std(X[128] - X[n_ref]) / np.sqrt(P)
    assert 5 * se < weak[-1]
    assert _slope(T / Ns, weak) == pytest.approx(1.0, abs=0.25)
    assert np.all(np.abs(X[8]) < 1)


def test_covariance_factor_is_psd_and_matches_correlation_marginal():
    V0 = np.array([[1.0, 0.3], [0.3, 1.5]])
    V = sample_covariance(V0, 1.0, 0.0, -1.0, n_paths=4000, seed=2, n_steps=100)
    assert np.linalg.eigvalsh(V).min() >= 0
    rc = V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])
    r = sample_correlation(0.3 / np.sqrt(1.5), 1.0, 0.0, -1.0, n_paths=4000, seed=1, n_steps=100)
    # two-sample KS at level 1e-4: c = sqrt(ln(2/1e-4)/2) = 2.23, D_crit = c sqrt(2/4000) = 0.050
    assert ks_2samp(r, rc).statistic < 2.23 * np.sqrt(2 / 4000)
    # the diagonal is a driftless martingale (nu(1) = 0): E[V_11] = V0_11 within 4 standard errors
    v = V[:, 1, 1]
    assert abs(v.mean() - 1.5) < 4 * v.std() / np.sqrt(v.size)
    # three inputs, very coarse steps: still PSD (V = L L^T by construction)
    V3 = sample_covariance(np.eye(3) + 0.5, 1.0, 1.0, -1.0, n_paths=500, seed=3, n_steps=4)
    assert np.linalg.eigvalsh(V3).min() >= -1e-12 * np.abs(V3).max()
    # five inputs, nearly collinear (condition number ~1e3), strong shaping, every sample and save point
    V5_0 = 0.9 * np.ones((5, 5)) + 0.1 * np.eye(5) + 0.02 * np.diag(np.arange(5))
    V5 = sample_covariance(V5_0, 2.0, 2.0, -2.0, n_paths=300, seed=6, n_steps=40, saveat=np.linspace(0, 2.0, 11))
    ev = np.linalg.eigvalsh(V5)
    assert np.all(ev >= -1e-12 * ev.max(axis=-1, keepdims=True))


def test_covariance_factor_strong_order_half_and_engine_agreement():
    V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    T, P, n_ref = 0.5, 1000, 512
    dW = brownian_increments(uniform_grid(0, T, n_ref), n_paths=P, seed=7, n_noise=3)
    ref = sample_covariance(V0, T, 0.0, -1.0, n_steps=n_ref, dW=dW)
    Ns = np.array([8, 16, 32, 64])
    errs = [
        np.sqrt(
            np.mean(
                np.sum(
                    (sample_covariance(V0, T, 0.0, -1.0, n_steps=N, dW=coarsen_increments(dW, n_ref // N)) - ref) ** 2,
                    axis=(1, 2),
                )
            )
        )
        for N in Ns
    ]
    assert _slope(T / Ns, errs) == pytest.approx(0.5, abs=0.2)
    # the specialised kernel is the engine's Euler on the covariance_factor_sde object (m = 3)
    V3 = np.eye(3) + 0.5
    g = uniform_grid(0, 1.0, 20)
    dW3 = brownian_increments(g, n_paths=50, seed=1, n_noise=6)
    a = sample_covariance(V3, 1.0, 1.0, -1.0, n_steps=20, dW=dW3)
    L = solve(covariance_factor_sde(3, 4.0), np.linalg.cholesky(V3).ravel(), g, saveat=[1.0], dW=dW3).ys[:, 0]
    L = L.reshape(-1, 3, 3)
    assert np.max(np.abs(a - L @ np.swapaxes(L, 1, 2))) < 1e-12 * np.abs(a).max()


def test_covariance_factor_weak_order_one():
    # Weak error of E[rho_T] (rho from the factor-form covariance, m = 2) on coupled paths against
    # the same scheme at h = T/512; the reference's own O(T/512) bias is below 1/8 of the finest level's.
    # MC error of the coupled difference ~ strong error / sqrt(P): asserted below 1/5 of the finest error.
    V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    T, P, n_ref = 0.5, 4000, 512
    dW = brownian_increments(uniform_grid(0, T, n_ref), n_paths=P, seed=7, n_noise=3)

    def rho(V):
        return V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])

    r_ref = rho(sample_covariance(V0, T, 0.0, -np.sqrt(10.0), n_steps=n_ref, dW=dW))
    Ns = np.array([4, 8, 16, 32])
    errs, ses = [], []
    for N in Ns:
        d = rho(sample_covariance(V0, T, 0.0, -np.sqrt(10.0), n_steps=N, dW=coarsen_increments(dW, n_ref // N))) - r_ref
        errs.append(abs(d.mean()))
        ses.append(d.std() / np.sqrt(P))
    assert 5 * ses[-1] < errs[-1]
    assert _slope(T / Ns, errs) == pytest.approx(1.0, abs=0.25)


def test_correlation_marginal_stays_in_closed_interval_for_long_times():
    # nu >= 0 pushes rho to 1 (zeta -> +inf) and the noise spreads it over (-1, 1): over a long
    # horizon many paths get within rounding of +-1; tanh(zeta) never leaves [-1, 1] and is never NaN
    r = sample_correlation(-0.95, 10.0, 0.0, -1.0, n_paths=2000, seed=5, n_steps=1000)
    assert np.all(np.isfinite(r)) and np.all(np.abs(r) <= 1.0)


def test_engine_objects_run_through_torchsde():
    pytest.importorskip("torchsde")
    g = uniform_grid(0, 0.5, 16)
    dW = brownian_increments(g, n_paths=64, seed=3)
    z0 = [np.arctanh(0.2)]
    a = solve(correlation_sde(2.0), z0, g, dW=dW, backend="torchsde").ys
    b = solve(correlation_sde(2.0), z0, g, dW=dW).ys
    assert np.max(np.abs(a - b)) < 1e-12
    # general noise (m = 2: 4 state components, 3 Brownian motions)
    V0 = np.array([[1.0, 0.3], [0.3, 1.5]])
    dW3 = brownian_increments(g, n_paths=32, seed=4, n_noise=3)
    L0 = np.linalg.cholesky(V0).ravel()
    a = solve(covariance_factor_sde(2, 1.0), L0, g, dW=dW3, backend="torchsde").ys
    b = solve(covariance_factor_sde(2, 1.0), L0, g, dW=dW3).ys
    assert np.max(np.abs(a - b)) < 1e-12 * np.abs(b).max()


def test_angle_is_a_martingale_without_shaping_drift():
    # kappa = 0: d theta = -sin(theta) dW (angle form of the marginal, [D]), so E[arccos rho_T] = arccos rho0.
    # 2e4 paths: 4 standard errors ~ 0.02; Euler's O(h) bias at h = 1/200 is far below that.
    r = sample_correlation(0.3, 1.0, 0.5, 0.5, n_paths=20_000, seed=8, n_steps=200)
    th = np.arccos(r)
    assert abs(th.mean() - theta_martingale_mean(0.3)) < 4 * th.std() / np.sqrt(th.size)
    # while rho itself is not a martingale (drift -rho (1 - rho^2)/2): E[rho_T] < rho0 by many SE
    assert 0.3 - r.mean() > 4 * r.std() / np.sqrt(r.size)


def test_covariance_sampler_thread_independent():
    import numba

    default = numba.get_num_threads()
    a = sample_covariance(np.eye(2) + 0.2, 1.0, n_paths=200, seed=4, n_steps=30)
    numba.set_num_threads(1)
    try:
        b = sample_covariance(np.eye(2) + 0.2, 1.0, n_paths=200, seed=4, n_steps=30)
    finally:
        numba.set_num_threads(default)
    assert np.array_equal(a, b)


def test_bad_input():
    with pytest.raises(ValueError, match="rho0"):
        sample_correlation(1.0, 1.0)
    with pytest.raises(ValueError, match="rho0"):
        sample_correlation(-1.2, 1.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        sample_covariance([[1.0, 2.0], [2.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="positive definite"):
        sample_covariance([[1.0, 1.0], [1.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        sample_covariance([[1.0, 0.2], [0.1, 1.0]], 1.0)
    with pytest.raises(ValueError, match="T"):
        sample_correlation(0.2, 0.0)
    with pytest.raises(ValueError, match="n_paths"):
        sample_correlation(0.2, 1.0, n_paths=0)
    with pytest.raises(ValueError, match="kappa"):
        correlation_sde(-1.0)
    with pytest.raises(ValueError, match="rho"):
        nu(1.5, 1.0)
    with pytest.raises(ValueError, match="V must be positive semi-definite"):
        covariance_drift([[1.0, 2.0], [2.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="n_steps"):
        sample_covariance(np.eye(2), 1.0, n_steps=0)
    with pytest.raises(ValueError, match="n_steps"):
        sample_correlation(0.2, 1.0, n_steps=0)
    with pytest.raises(ValueError, match="dW"):
        sample_covariance(np.eye(2), 1.0, n_steps=4, dW=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="m must"):
        covariance_factor_sde(0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        kappa_from_shaping(np.inf, 0.0)
    assert g_angle(0.0) == 0.0
