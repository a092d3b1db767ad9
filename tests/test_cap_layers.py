"""Layers as data: offsets, the transition rule, scaling laws and bad input."""

import numpy as np
import pytest

from deeplimits.capacity import ConvLayer, ScalingLaw, plain_stack, propagate, residual_stack
from deeplimits.capacity._stack import check_stack


def test_offsets_centred_causal_dilated():
    assert ConvLayer([1, 2, 3]).offsets[:, 0].tolist() == [-1, 0, 1]
    assert ConvLayer([1, 2, 3], causal=True).offsets[:, 0].tolist() == [-2, -1, 0]
    assert ConvLayer([1, 2, 3], dilation=2).offsets[:, 0].tolist() == [-2, 0, 2]
    assert ConvLayer([1, 2, 3, 4]).offsets[:, 0].tolist() == [-1, 0, 1, 2]
    lay = ConvLayer(np.ones((2, 3)), dilation=(1, 3), causal=(True, False))
    assert lay.offsets.tolist() == [[-1, -3], [-1, 0], [-1, 3], [0, -3], [0, 0], [0, 3]]
    assert lay.span == (2, 7)


def test_residual_transition_formula():
    w = np.array([1.0, 2.0, 0.5])
    alpha, b, d = 0.3, 0.7, 0.5
    t = ConvLayer(w, alpha=alpha, bias=b, decoupling=d).transition()
    z = 1 + alpha**2 * (d * np.sum(w**2) + b**2)
    expect = {-1: alpha**2 * d * 1.0 / z, 0: (1 + alpha**2 * d * 4.0) / z, 1: alpha**2 * d * 0.25 / z}
    got = dict(zip(t.offsets[:, 0].tolist(), t.probs, strict=True))
    assert got.keys() == expect.keys()
    for k in expect:
        assert got[k] == pytest.approx(expect[k], rel=1e-14)
    assert t.sink == pytest.approx(alpha**2 * b**2 / z, rel=1e-14)
    assert t.probs.sum() + t.sink == pytest.approx(1.0, abs=1e-15)


def test_plain_transition_formula():
    t = ConvLayer([1.0, 3.0], bias=1.0).transition()
    assert dict(zip(t.offsets[:, 0].tolist(), t.probs, strict=True)) == pytest.approx({0: 1 / 11, 1: 9 / 11})
    assert t.sink == pytest.approx(1 / 11)


def test_scaling_law_and_stacks():
    law = ScalingLaw(2.0, 0.5)
    assert law(16) == pytest.approx(0.5)
    st = residual_stack([1, 1, 1], 16, a=2.0)
    assert len(st) == 16 and st[0].alpha == pytest.approx(0.5)
    assert residual_stack([1, 1, 1], 0, a=2.0) == ()
    assert len(plain_stack([1, 1], 3)) == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(taps=[]), "taps must be non-empty"),
        (dict(taps=[1.0, np.nan]), "taps must be finite"),
        (dict(taps=[1.0, np.inf]), "taps must be finite"),
        (dict(taps=np.ones((2, 2, 2))), "taps must be a 1-D or 2-D"),
        (dict(taps=[1.0], alpha=-0.1), "alpha must be non-negative"),
        (dict(taps=[1.0], alpha=np.nan), "alpha must be a finite"),
        (dict(taps=[1.0], dilation=0), "dilation must be a positive integer"),
        (dict(taps=[1.0], bias=np.inf), "bias must be a finite"),
        (dict(taps=[1.0], padding="same"), "padding must be one of"),
        (dict(taps=[1.0], decoupling=0.0), "decoupling must be non-zero"),
        (dict(taps=[0.0, 0.0]), "plain layer needs non-zero taps"),
    ],
)
def test_bad_layers(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvLayer(**kwargs)


def test_bad_depth_and_scaling():
    with pytest.raises(ValueError, match="depth must be an integer"):
        residual_stack([1, 1], -1, a=1.0)
    with pytest.raises(ValueError, match="depth must be an integer"):
        plain_stack([1, 1], 2.5)
    with pytest.raises(ValueError, match="a must be non-negative"):
        residual_stack([1, 1], 4, a=-1.0)


def test_grid_too_small_for_kernel():
    st = residual_stack([1, 1, 1, 1, 1], 4, a=1.0)
    with pytest.raises(ValueError, match="too small for the kernel"):
        propagate(st, np.ones(4))
    st2 = residual_stack(np.ones((3, 3)), 2, a=1.0, dilation=(1, 4))
    with pytest.raises(ValueError, match="axis 1 has 8 sites but the kernel spans 9"):
        check_stack(st2, (10, 8))


def test_mixed_dimensions_rejected():
    with pytest.raises(ValueError, match="same dimension"):
        check_stack([ConvLayer([1.0]), ConvLayer(np.ones((1, 1)))])
    with pytest.raises(ValueError, match="must be a ConvLayer"):
        check_stack([np.ones(3)])
