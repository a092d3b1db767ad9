"""Deterministic limits: shaped MLP (d << n) and ResNet with a d^{-1/2} branch, and their coincidence."""

import numpy as np
import pytest

from deeplimits.correlation.odes import (
    J1,
    correlation_ode,
    resnet_correlation_ode,
    resnet_covariance_ode,
    resnet_recursion,
    shaped_mlp_correlation_ode,
    shaped_mlp_recursion,
)

DEPTHS = np.array([16, 32, 64, 128, 256, 512])


def _slope(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def test_resnet_and_shaped_mlp_limits_coincide_when_kappa_equals_sigma2():
    # The two *finite-depth* infinite-width systems (shaped MLP with s_pm = 1 + c_pm/sqrt(d), ResNet
    # with a d^{-1/2} branch; two independent recursions) approach each other when
    # (c+ - c-)^2 = sigma_r^2: max over layers of |u_mlp - u_resnet| = O(1/d) (c+ + c- = 0) or
    # O(d^{-1/2}) (c+ + c- != 0), and stays O(1) apart otherwise.
    V0 = np.array([[1.0, -0.3], [-0.3, 1.0]])

    def gap(cp, cm, sigma_r):
        out = []
        for d in DEPTHS:
            V = resnet_recursion(V0, d, sigma_r)
            u_res = 1 - V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])
            out.append(np.max(np.abs(shaped_mlp_recursion(-0.3, d, cp, cm) - u_res)))
        return np.array(out)

    same = gap(0.6, -0.6, 1.2)  # kappa = 1.44 = sigma_r^2
    assert _slope(1 / DEPTHS, same) == pytest.approx(1.0, abs=0.2)
    assert same[-1] < 2e-4
    assert _slope(1 / DEPTHS, gap(0.0, -1.2, 1.2)) == pytest.approx(0.5, abs=0.2)
    other = gap(0.6, -0.6, 1.0)  # kappa != sigma_r^2: the gap does not close
    assert other.min() > 0.07
    # and the ODEs themselves (one code path, parametrised by kappa) agree
    t = np.linspace(0, 5, 11)
    a = shaped_mlp_correlation_ode(-0.3, t, 0.7, -0.5, return_u=True)
    b = resnet_correlation_ode(-0.3, t, 1.2, return_u=True)
    assert np.allclose(a, b, rtol=1e-14, atol=0)


def test_finite_depth_recursions_converge_to_the_ode():
    # ResNet (exact infinite-width recursion): distance O(1/d)
    V0 = np.array([[1.0, 0.2], [0.2, 2.0]])
    errs = []
    for d in DEPTHS:
        V = resnet_recursion(V0, d, 1.0)
        errs.append(np.max(np.abs(V - resnet_covariance_ode(V0, np.arange(d + 1) / d, 1.0))))
    assert _slope(1 / DEPTHS, errs) == pytest.approx(1.0, abs=0.2)
    # shaped MLP with c+ + c- = 0: O(1/d); with c+ + c- != 0 the gain normalisation
    # 2/(s+^2 + s-^2) adds a relative O(d^{-1/2}) term: O(d^{-1/2})
    for (cp, cm), order in [((0.5, -0.5), 1.0), ((0.0, -1.0), 0.5)]:
        errs = []
        for d in DEPTHS:
            u = shaped_mlp_recursion(0.2, d, cp, cm)
            errs.append(np.max(np.abs(u - shaped_mlp_correlation_ode(0.2, np.arange(d + 1) / d, cp, cm, True))))
        assert _slope(1 / DEPTHS, errs) == pytest.approx(order, abs=0.2)


def test_ode_closed_form_pieces():
    V0 = np.array([[1.5, 0.3], [0.3, 1.0]])
    V = resnet_covariance_ode(V0, [0.0, 2.0], 0.8)
    assert V[1, 0, 0] == pytest.approx(1.5 * np.exp(0.64))
    assert np.allclose(V[0], V0)
    assert J1(1.0) == pytest.approx(0.5)
    # large t: theta' ~ -(kappa/(2 pi)) theta^2 / 3, so t^2 (1 - rho_t) -> 18 pi^2 / kappa^2
    u = correlation_ode(0.0, [1e6], 2.0, return_u=True)[0]
    assert 1e12 * u == pytest.approx(18 * np.pi**2 / 4, rel=1e-4)
    assert correlation_ode(0.4, [0.0, 3.0], 0.0)[1] == pytest.approx(0.4)


def test_bad_input():
    with pytest.raises(ValueError, match="rho"):
        correlation_ode(1.1, [1.0], 1.0)
    with pytest.raises(ValueError, match="t must"):
        correlation_ode(0.1, [-1.0], 1.0)
    with pytest.raises(ValueError, match="kappa"):
        correlation_ode(0.1, [1.0], -1.0)
    with pytest.raises(ValueError, match="c_plus"):
        shaped_mlp_correlation_ode(0.1, [1.0], np.nan, 0.0)
    with pytest.raises(ValueError, match="rho"):
        J1(1.2)
    with pytest.raises(ValueError, match="depth"):
        shaped_mlp_recursion(0.1, 0, 0.0, -1.0)
    with pytest.raises(ValueError, match="c_pm"):
        shaped_mlp_recursion(0.1, 4, -3.0, 0.0)
    with pytest.raises(ValueError, match="depth"):
        resnet_recursion(np.eye(2), 0, 1.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        resnet_recursion([[1.0, 2.0], [2.0, 1.0]], 4, 1.0)
    with pytest.raises(ValueError, match="sigma_r"):
        resnet_recursion(np.eye(2), 4, -1.0)
    with pytest.raises(ValueError, match="sigma_r"):
        resnet_covariance_ode(np.eye(1), [1.0], np.nan)
    with pytest.raises(ValueError, match="t must"):
        resnet_covariance_ode(np.eye(2), [1.0, 0.5], 1.0)
    with pytest.raises(ValueError, match="positive"):
        resnet_covariance_ode([[1.0, 2.0], [2.0, 1.0]], [1.0], 1.0)
    with pytest.raises(ValueError, match="sigma_r"):
        resnet_correlation_ode(0.1, [1.0], -1.0)
