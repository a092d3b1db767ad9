"""Exact correlation maps, the depth recursion in u = 1 - rho, and the 9 pi^2/2 asymptote."""

import numpy as np
import pytest

from deeplimits.correlation import depth
from deeplimits.correlation.depth import depth_recursion_reference, depth_recursion_u, relu_asymptote
from deeplimits.correlation.maps import (
    Q_STAR,
    angle_map,
    corr_map,
    corr_map_u,
    g_angle,
    shaping_coefficient,
)
from deeplimits.networks import shaped_slopes

mp = pytest.importorskip("mpmath")


def _u_map_mp(u, k):
    u = mp.mpf(u)
    th = 2 * mp.asin(mp.sqrt(u / 2))
    return u - k * (mp.sin(th) - th * mp.cos(th))


def test_u_map_accurate_to_an_ulp_down_to_1e_300():
    mp.mp.dps = 60
    us = np.logspace(-300, np.log10(2.0), 150)
    for sp, sm in [(1.0, 0.0), (1.3, 0.4)]:
        k = mp.mpf((sp - sm) ** 2) / (mp.pi * (sp**2 + sm**2))
        ref = np.array([float(_u_map_mp(x, k)) for x in us])
        rel = np.abs(corr_map_u(us, sp, sm) - ref) / ref
        # a handful of floating operations: 4 ulp bounds the accumulated rounding
        assert rel.max() < 4 * np.finfo(float).eps


def test_g_angle_series_matches_mpmath_across_switch():
    mp.mp.dps = 60
    th = np.concatenate([np.logspace(-12, np.log10(np.pi), 200), [0.4999999, 0.5, 0.5000001]])
    ref = np.array([float(mp.sin(mp.mpf(x)) - mp.mpf(x) * mp.cos(mp.mpf(x))) for x in th])
    assert np.max(np.abs(g_angle(th) - ref) / ref) < 4 * np.finfo(float).eps


def test_corr_map_relu_is_arccos_kernel_and_fixed_points():
    rho = np.linspace(-1, 1, 101)
    f = (np.sqrt(1 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi
    assert np.allclose(corr_map(rho), f, atol=1e-15)
    assert corr_map(1.0) == 1.0
    assert corr_map(-1.0) == 0.0
    # identity activation (s+ = s-) leaves the correlation unchanged
    assert np.allclose(corr_map(rho, 0.7, 0.7), rho, atol=1e-15)
    assert shaping_coefficient() == pytest.approx(1 / np.pi)


def test_corr_map_matches_one_layer_monte_carlo():
    # E[phi(z1) phi(z2)] c with c = 2/(s+^2+s-^2) against the closed form; 4 standard errors.
    rng = np.random.default_rng(0)
    n = 400_000
    for sp, sm in [(1.0, 0.0), (1.2, 0.5)]:
        c = 2 / (sp**2 + sm**2)
        for rho in [-0.9, -0.3, 0.2, 0.8]:
            z1 = rng.standard_normal(n)
            z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
            phi = lambda x, sp=sp, sm=sm: np.where(x > 0, sp * x, sm * x)
            prod = c * phi(z1) * phi(z2)
            assert abs(prod.mean() - corr_map(rho, sp, sm)) < 4 * prod.std() / np.sqrt(n)


def test_angle_map_expansion():
    th = np.array([1e-6, 1e-4, 1e-3])
    expected = th - th**2 / (3 * np.pi) - th**3 / (18 * np.pi**2)
    # next term is O(theta^4): relative residual / theta^3 must stay bounded
    assert np.all(np.abs(angle_map(th) - expected) / th**3 < 0.01)


def test_recursion_matches_mpmath_and_asymptote_with_log_correction():
    mp.mp.dps = 40
    u = depth_recursion_u(0.5, 3000)
    k = 1 / mp.pi
    x = mp.mpf("0.5")
    for _ in range(3000):
        x = _u_map_mp(x, k)
    # 3000 steps, each <= ~2 ulp: random-walk accumulation well below 1e-12
    assert abs(u[-1] / float(x) - 1) < 1e-12

    u = depth_recursion_u(0.5, 10**6, stride=10)
    ell = np.arange(u.size) * 10.0
    assert abs(ell[-1] ** 2 * u[-1] / Q_STAR - 1) < 1e-4
    sel = ell >= 1e3
    # (l^2 u / Q* - 1) l = -3 log l + C + o(1): fitted slope on log l must be -3
    slope = np.polyfit(np.log(ell[sel]), (ell[sel] ** 2 * u[sel] / Q_STAR - 1) * ell[sel], 1)[0]
    assert slope == pytest.approx(-3.0, abs=0.05)
    # the log-corrected asymptote leaves an O(1/l) relative error: l * err bounded
    err = u[1:] / relu_asymptote(ell[1:]) - 1
    tail = ell[1:] >= 1e4
    assert np.ptp(ell[1:][tail] * err[tail]) < 0.2


def test_recursion_keeps_relative_accuracy_in_the_tiny_u_regime():
    # (a) per-step accuracy where u is far below eps (l ~ 1e6 has u ~ 4e-11; also u ~ 1e-200):
    # 2000 layers against 40-digit mpmath
    mp.mp.dps = 40
    k = 1 / mp.pi
    for u0 in [1e-10, 1e-200]:
        x = mp.mpf(u0)
        for _ in range(2000):
            x = _u_map_mp(x, k)
        assert abs(depth_recursion_u(u0, 2000)[-1] / float(x) - 1) < 1e-13
    # (b) accumulated rounding over 3e4 layers against the long-double recursion; the naive recursion
    # on rho (f(rho) by the closed form, then 1 - rho) is already wrong in the 8th digit
    if np.finfo(np.longdouble).eps > 1e-18:
        pytest.skip("no extended precision long double on this platform")
    ref = depth_recursion_reference(0.5, 30_000, stride=30_000).astype(float)
    fast = depth_recursion_u(0.5, 30_000, stride=30_000)
    assert abs(fast[-1] / ref[-1] - 1) < 1e-13
    rho = 0.5
    for _ in range(30_000):
        rho = float(corr_map(rho))
    assert abs((1 - rho) / ref[-1] - 1) > 1e-9


def test_bad_input():
    with pytest.raises(ValueError, match="rho"):
        corr_map([0.5, 1.0000001])
    with pytest.raises(ValueError, match="u"):
        corr_map_u(-1e-3)
    with pytest.raises(ValueError, match="s_plus"):
        corr_map(0.3, -0.1, 0.0)
    with pytest.raises(ValueError, match="both be 0"):
        shaping_coefficient(0.0, 0.0)
    with pytest.raises(ValueError, match="c_pm"):
        shaped_slopes(-5.0, 0.0, 16)
    with pytest.raises(ValueError, match="scale"):
        shaped_slopes(1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="depth"):
        depth_recursion_u(0.5, 0)
    with pytest.raises(ValueError, match="theta"):
        g_angle(4.0)
    with pytest.raises(ValueError, match="finite"):
        corr_map(np.nan)
    with pytest.raises(ValueError, match="l must"):
        relu_asymptote(0.5)
    with pytest.raises(ValueError, match="u0"):
        depth_recursion_u(0.0, 10)
    with pytest.raises(ValueError, match="stride"):
        depth_recursion_u(0.5, 10, stride=3)
    with pytest.raises(ValueError, match="n_samples"):
        depth.sample_one_layer(0.1, 8, 0)
    with pytest.raises(ValueError, match="n must be"):
        depth.sample_one_layer(0.1, 0, 10)
    with pytest.raises(ValueError, match="order"):
        relu_asymptote(10.0, order=2)
    assert shaped_slopes(1.0, -1.0, 4) == (1.5, 0.5)
