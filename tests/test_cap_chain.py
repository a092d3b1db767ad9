"""Exact propagation of the capacity chain: stencil vs FFT, conservation, moments, sinks."""

import numpy as np
import pytest

from deeplimits.capacity import ConvLayer, chain_moments, propagate, residual_stack


def _delta(shape, at):
    c = np.zeros(shape)
    c[at] = 1.0
    return c


def _varied_stack_1d():
    rng = np.random.default_rng(3)
    return tuple(
        ConvLayer(rng.uniform(0.2, 1.5, size=3 + 2 * (l % 2)), alpha=rng.uniform(0.1, 0.6), dilation=1 + l % 3)
        for l in range(12)
    )


def test_stencil_equals_fft_varied_stack_1d():
    st = _varied_stack_1d()
    c = np.random.default_rng(0).uniform(size=40)
    a = propagate(st, c, method="stencil")
    b = propagate(st, c, method="fft")
    assert np.max(np.abs(a - b)) < 1e-14
    assert a.sum() == pytest.approx(c.sum(), abs=1e-12)  # periodic: mass conserved


def test_stencil_equals_fft_2d():
    st = residual_stack(np.arange(1.0, 10.0).reshape(3, 3), 20, a=1.3, dilation=(2, 1), causal=(False, True))
    c = _delta((17, 13), (8, 6))
    a = propagate(st, c, method="stencil")
    b = propagate(st, c, method="fft")
    assert np.max(np.abs(a - b)) < 1e-14


def test_fourier_identity_power_of_symbol():
    # c_L(xi) = p(xi)^L for a delta start (stated as an exact chain fact in the theory reference)
    lay = ConvLayer([1.0, 2.0, 1.0], alpha=0.4)
    c = _delta(32, 0)
    out = propagate((lay,) * 25, c, method="stencil")
    p = np.zeros(32)
    t = lay.transition()
    np.add.at(p, t.offsets[:, 0] % 32, t.probs)
    assert np.max(np.abs(np.fft.fft(out) - np.fft.fft(p) ** 25)) < 1e-13


@pytest.mark.parametrize("padding", ["circular", "reflecting"])
def test_mass_conserved(padding):
    st = residual_stack([1.0, 2.0, 0.5], 64, a=3.0, causal=True, dilation=2, padding=padding)
    c = np.random.default_rng(1).uniform(size=25)
    out, hist = propagate(st, c, return_history=True)
    assert hist.shape == (65, 25)
    assert np.allclose(hist.sum(axis=1), c.sum(), atol=1e-12, rtol=0)
    assert np.all(out >= 0)
    assert np.array_equal(hist[0], out) and np.array_equal(hist[-1], c)


def test_sink_and_absorbing_mass_loss():
    L, alpha, b = 30, 0.4, 0.8
    st = tuple([ConvLayer([1.0, 1.0, 1.0], alpha=alpha, bias=b)] * L)
    s = st[0].transition().sink
    out = propagate(st, _delta(21, 10))
    assert out.sum() == pytest.approx((1 - s) ** L, rel=1e-12)
    # absorbing boundary: capacity that leaves is lost; it equals the periodic mass that wrapped
    st_abs = residual_stack([1.0, 1.0, 1.0], 200, a=4.0, padding="absorbing")
    c = _delta(9, 4)
    out_abs, hist = propagate(st_abs, c, return_history=True)
    assert 0 < out_abs.sum() < 1 and np.all(np.diff(hist.sum(axis=1)) >= -1e-15)


def test_moments_match_chain_moments():
    # exact chain facts: mean = L mu1, variance = L (mu2 - mu1^2) on an unbounded lattice
    st = residual_stack([0.5, 1.0, 2.0, 1.5], 40, a=2.0, causal=True, dilation=3)
    N = 2 * 40 * 9 + 1
    out = propagate(st, _delta(N, N // 2))
    x = np.arange(N) - N // 2
    mean, cov = chain_moments(st)
    assert (out * x).sum() == pytest.approx(mean[0], abs=1e-10)
    assert (out * (x - mean[0]) ** 2).sum() == pytest.approx(cov[0, 0], rel=1e-10)
    st2 = residual_stack(np.array([[1.0, 0.0], [2.0, 3.0]]), 10, a=1.5, causal=True)
    out2 = propagate(st2, _delta((41, 41), (20, 20)))
    X, Y = np.meshgrid(np.arange(41) - 20, np.arange(41) - 20, indexing="ij")
    m2, c2 = chain_moments(st2)
    assert np.array([(out2 * X).sum(), (out2 * Y).sum()]) == pytest.approx(m2, abs=1e-12)
    cxy = (out2 * (X - m2[0]) * (Y - m2[1])).sum()
    assert cxy == pytest.approx(c2[0, 1], abs=1e-12)


def test_plain_conv_random_walk_variance():
    # plain conv, uniform kernel of size K: variance L (K^2 - 1)/12 (theory reference, section 5)
    K, L = 5, 30
    st = tuple([ConvLayer(np.ones(K))] * L)
    N = 2 * L * 2 + 1
    out = propagate(st, _delta(N, N // 2))
    x = np.arange(N) - N // 2
    assert (out * x * x).sum() == pytest.approx(L * (K**2 - 1) / 12, rel=1e-12)


def test_empty_stack_is_identity_and_bad_capacity():
    c = np.array([0.2, 0.8])
    assert np.array_equal(propagate((), c), c)
    st = residual_stack([1.0, 1.0, 1.0], 3, a=1.0)
    with pytest.raises(ValueError, match="c_out must be"):
        propagate(st, np.array([1.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="c_out must be a 1-D array"):
        propagate(st, np.ones((3, 3)))
    with pytest.raises(ValueError, match="method"):
        propagate(st, np.ones(5), method="spectral")
    with pytest.raises(ValueError, match="periodic"):
        propagate(residual_stack([1.0, 1.0, 1.0], 3, a=1.0, padding="zero"), np.ones(5), method="fft")
