"""Deep-limit coefficients, exact master equation, O(1/L) convergence, sinks, recurrent memory."""

import numpy as np
import pytest

from deeplimits.capacity import (
    ConvLayer,
    catalogue,
    kfe_coefficients,
    master_equation_periodic,
    propagate,
    residual_stack,
    run_walkers,
)
from deeplimits.capacity.catalogue import plain_conv_limit, recurrent_lag_allocation


def test_coefficients_simple_kernel():
    lay = ConvLayer([1.0, 2.0, 1.0], alpha=0.5, decoupling=0.5, bias=0.3)
    co = kfe_coefficients(lay, depth=16)  # a = 0.5 * 4 = 2
    assert co.rate == pytest.approx(4 * 0.5 * 6)
    assert co.jump_probs == pytest.approx([1 / 6, 4 / 6, 1 / 6])
    assert co.drift == pytest.approx([0.0], abs=1e-15)
    assert co.diffusion[0, 0] == pytest.approx(0.5 * 4 * 0.5 * 2)
    assert co.sink == pytest.approx(4 * 0.09)
    assert set(co.as_dict()) == {"lam", "offsets", "q", "v", "D", "kappa"}


def test_dilation_causal_2d_coefficients():
    base = kfe_coefficients(ConvLayer([1.0, 1.0, 1.0], alpha=0.0), a=1.0)
    dil = kfe_coefficients(ConvLayer([1.0, 1.0, 1.0], alpha=0.0, dilation=3), a=1.0)
    assert dil.diffusion[0, 0] == pytest.approx(9 * base.diffusion[0, 0])
    cau = kfe_coefficients(ConvLayer([1.0, 1.0, 1.0], alpha=0.0, causal=True), a=1.0)
    assert cau.drift[0] == pytest.approx(-3.0)  # offsets -2, -1, 0
    two = kfe_coefficients(ConvLayer(np.array([[0.0, 1.0], [1.0, 1.0]]), alpha=0.0, causal=True), a=2.0)
    # offsets (-1,-1) w=0, (-1,0) w=1, (0,-1) w=1, (0,0) w=1
    assert two.drift == pytest.approx([-4.0, -4.0])
    assert two.diffusion == pytest.approx(np.array([[2.0, 0.0], [0.0, 2.0]]))


def test_master_equation_moments_are_v_t_and_2Dt():
    # The lattice jump process has exactly mean v t and variance 2 D t (compound Poisson).
    lay = ConvLayer([0.5, 1.0, 2.0, 0.3], alpha=0.0, causal=True, dilation=2)
    co = kfe_coefficients(lay, a=1.5)
    N = 401
    c0 = np.zeros(N)
    c0[N // 2] = 1.0
    t = 0.7
    c = master_equation_periodic(co, c0, t)
    x = np.arange(N) - N // 2
    mean = (c * x).sum()
    assert c.sum() == pytest.approx(1.0, abs=1e-12)
    assert mean == pytest.approx(co.drift[0] * t, rel=1e-10)
    assert (c * (x - mean) ** 2).sum() == pytest.approx(2 * co.diffusion[0, 0] * t, rel=1e-10)


def test_chain_converges_to_master_equation_order_one():
    # exact chain with alpha = a / sqrt(L) vs the master equation at t = 1; order 1 in 1/L
    c0 = np.zeros(48)
    c0[24] = 1.0
    depths = np.array([32, 64, 128, 256, 512])
    errs = []
    for L in depths:
        st = residual_stack([1.0, 2.0, 1.0], int(L), a=1.2, causal=True, bias=0.4)
        me = master_equation_periodic(kfe_coefficients(st[0], int(L)), c0, 1.0)
        errs.append(np.abs(propagate(st, c0) - me).sum())
    slope = np.polyfit(np.log(depths), np.log(errs), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.2)


def test_sink_mass_tends_to_exp_minus_kappa():
    a, b = 1.5, 0.6
    kappa = a**2 * b**2
    gaps = []
    for L in (50, 100, 200, 400):
        st = residual_stack([1.0, 1.0, 1.0], L, a=a, bias=b)
        left = propagate(st, np.eye(1, 16, 8)[0]).sum()
        gaps.append(abs(left - np.exp(-kappa)))
    slope = np.polyfit(np.log([50, 100, 200, 400]), np.log(gaps), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.2)


def test_recurrent_lag_law_matches_walkers():
    # Unrolled residual RNN: recurrent path = null jump, input x_t = sink (bias weight sqrt(d ||U||^2)).
    alpha, u2, w2, d, T = 0.3, 2.0, 1.0, 0.5, 60
    lay = ConvLayer([np.sqrt(w2)], alpha=alpha, bias=np.sqrt(d * u2), decoupling=d)
    law = recurrent_lag_allocation(alpha, u2, w2, d, n_lags=T)
    assert lay.transition().sink == pytest.approx(law["absorb_prob"], rel=1e-14)
    n = 100_000
    res = run_walkers((lay,) * T, np.ones(1), n, seed=9)
    lag = T - 1 - res.death_layer[~res.alive]  # layer T-1 is lag 0
    counts = np.bincount(lag, minlength=T) / n
    p = law["lag_probs"]
    sd = np.sqrt(p * (1 - p) / n)
    # Bonferroni over T bins, family-wise 1e-3: z < 4.2 (norm.isf(1e-3/120) = 4.0)
    assert np.max(np.abs(counts - p) / sd) < 4.2
    assert law["memory_length"] == pytest.approx((1 - law["absorb_prob"]) / law["absorb_prob"])


def test_plain_conv_limit_and_catalogue():
    lim = plain_conv_limit(np.ones(5), 30)
    assert lim["cov"][0, 0] == pytest.approx(30 * 24 / 12)
    cat = catalogue()
    assert {
        "plain_conv",
        "residual",
        "residual_beta",
        "residual_bias",
        "dilated",
        "causal",
        "conv2d",
        "recurrent",
    } <= set(cat)
    for e in cat.values():
        assert e.paper and e.derived and e.confirmed and e.scaling and e.limit
    co = cat["residual_bias"].coefficients([1.0, 1.0, 1.0], a=2.0, bias=0.5)
    assert co["kappa"] == pytest.approx(1.0)
    assert cat["residual_beta"].coefficients([1.0, 1.0, 1.0], beta=0.25)["exponent"] == 0.5


def test_bad_input_limits():
    with pytest.raises(ValueError, match="plain layer has no continuous-depth limit"):
        kfe_coefficients(ConvLayer([1.0]), depth=4)
    with pytest.raises(ValueError, match="exactly one of depth and a"):
        kfe_coefficients(ConvLayer([1.0], alpha=0.1))
    with pytest.raises(ValueError, match="depth must be"):
        kfe_coefficients(ConvLayer([1.0], alpha=0.1), depth=-3)
    with pytest.raises(ValueError, match="t must be non-negative"):
        master_equation_periodic(kfe_coefficients(ConvLayer([1.0], alpha=0.1), a=1.0), np.ones(3), -1.0)
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        recurrent_lag_allocation(-0.1, 1.0)
