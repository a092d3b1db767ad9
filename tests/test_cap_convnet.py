"""Finite conv ResNets: hand-written backward pass vs finite differences, decoupling
coefficients, and agreement of the empirical capacity with the chain."""

import numpy as np
import pytest

from deeplimits.capacity import ConvResNet, capacity_profile, decoupling_coefficient, propagate


def _fd_check(net, n_checks=6, eps=1e-6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((net.channels, 3) + net.grid)
    g, _ = net.input_gradient(x)
    for _ in range(n_checks):
        idx = tuple(int(rng.integers(n)) for n in x.shape)
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        b = idx[1]
        fd = (net.output(xp)[b] - net.output(xm)[b]) / (2 * eps)
        # central differences: truncation ~ eps^2 |y'''|, roundoff ~ 1e-16 |y| / eps  -> ~1e-8 here
        assert g[idx] == pytest.approx(fd, rel=1e-5, abs=1e-7)
    # also the coordinates that matter most: near the output unit, channel 0
    site = (0, 0) + net.output_site
    xp, xm = x.copy(), x.copy()
    xp[site] += eps
    xm[site] -= eps
    assert g[site] == pytest.approx((net.output(xp)[0] - net.output(xm)[0]) / (2 * eps), rel=1e-5)


@pytest.mark.parametrize("act", ["relu", "tanh", "sin", "linear"])
@pytest.mark.parametrize("padding", ["circular", "zero"])
def test_backward_matches_finite_differences_1d(act, padding):
    net = ConvResNet(
        [0.5, 1.0, 2.0, 1.0],
        depth=5,
        channels=6,
        alpha=0.7,
        grid=11,
        activation=act,
        omega=3.0,
        padding=padding,
        dilation=2,
        causal=False,
        seed=4,
    )
    _fd_check(net)


@pytest.mark.parametrize("padding", ["circular", "zero"])
def test_backward_matches_finite_differences_2d(padding):
    net = ConvResNet(
        np.array([[1.0, 0.5], [2.0, 1.0], [0.3, 1.0]]),
        depth=4,
        channels=5,
        alpha=0.8,
        grid=(7, 6),
        activation="tanh",
        padding=padding,
        causal=(False, True),
        seed=2,
    )
    _fd_check(net)


def test_decoupling_coefficients():
    assert decoupling_coefficient("relu", 2.7) == 0.5
    assert decoupling_coefficient("linear") == pytest.approx(1.0)
    v, w = 0.3, 2.0
    assert decoupling_coefficient("sin", v, omega=w) == pytest.approx((1 + np.exp(-2 * w * w * v)) / 2, rel=1e-10)
    assert decoupling_coefficient("tanh", 0.0) == pytest.approx(1.0)
    assert decoupling_coefficient("tanh", 4.0) < decoupling_coefficient("tanh", 1.0) < 1.0


def test_measured_decoupling_matches_quadrature_first_layer():
    net = ConvResNet([1.0, 1.0, 1.0], depth=2, channels=16, alpha=0.5, grid=16, activation="tanh", seed=1)
    est = capacity_profile(net, 256, seed=3)
    # first layer sees x ~ N(0, 1): 16*16*256 = 65536 samples of tanh'^2 (sd ~0.3): SE ~ 1.2e-3, 5 SE
    assert est.decoupling[0] == pytest.approx(decoupling_coefficient("tanh", 1.0), abs=6e-3)


def test_sin_network_matches_chain_within_sampling_noise():
    # 16 independent networks (sin(6u)/6, C = 48) x 32 inputs each; the chain uses the measured
    # per-layer E[phi'^2].  If the network's capacity is the chain plus sampling noise of per-site
    # standard error SE_j (estimated across networks), L1 = sum_j |noise_j| has mean 0.8 sum SE and
    # sd <= 0.6 sum SE (fully correlated worst case), so L1 < 3.2 sum SE at 4 sd.
    L, C, N, nets = 8, 48, 12, 16
    profs, ds = [], []
    for i in range(nets):
        net = ConvResNet([1.0, 1.0, 1.0], L, C, 2.0 / np.sqrt(L), N, activation="sin", omega=6.0, seed=100 + i)
        est = capacity_profile(net, 32, seed=200 + i)
        profs.append(est.profile)
        ds.append(est.decoupling)
    P = np.array(profs)
    c = np.zeros(N)
    c[net.output_site] = 1.0
    chain = propagate(net.chain_layers(np.mean(ds, axis=0)), c)
    se = P.std(axis=0, ddof=1) / np.sqrt(nets)
    assert np.abs(P.mean(axis=0) - chain).sum() < 3.2 * se.sum()
    assert np.mean(ds) == pytest.approx(0.5, abs=0.01)


def test_float32_matches_float64():
    kw = dict(taps=[1.0, 2.0, 1.0], depth=4, channels=8, alpha=0.5, grid=9, activation="relu", seed=3)
    p64 = capacity_profile(ConvResNet(**kw), 16, seed=1).profile
    p32 = capacity_profile(ConvResNet(dtype="float32", **kw), 16, seed=1).profile
    assert np.max(np.abs(p64 - p32)) < 1e-5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(taps=[], depth=2, channels=2, alpha=0.1, grid=8), "taps must be non-empty"),
        (dict(taps=[1.0, np.nan], depth=2, channels=2, alpha=0.1, grid=8), "taps must be finite"),
        (dict(taps=[1.0], depth=-1, channels=2, alpha=0.1, grid=8), "depth must be an integer"),
        (dict(taps=[1.0], depth=0, channels=2, alpha=0.1, grid=8), "depth must be >= 1"),
        (dict(taps=[1.0], depth=2, channels=0, alpha=0.1, grid=8), "channels must be an integer >= 1"),
        (dict(taps=[1.0], depth=2, channels=2, alpha=-0.1, grid=8), "alpha must be non-negative"),
        (dict(taps=[1.0] * 5, depth=2, channels=2, alpha=0.1, grid=4), "too small for the kernel"),
        (dict(taps=[1.0], depth=2, channels=2, alpha=0.1, grid=8, activation="gelu"), "activation must be"),
        (dict(taps=[1.0], depth=2, channels=2, alpha=0.1, grid=8, padding="reflect"), "padding must be"),
        (dict(taps=[1.0], depth=2, channels=2, alpha=0.1, grid=8, activation="sin", omega=0.0), "omega"),
    ],
)
def test_bad_networks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvResNet(**kwargs)


def test_bad_capacity_arguments():
    net = ConvResNet([1.0], 2, 2, 0.1, 4)
    with pytest.raises(ValueError, match="n_inputs"):
        capacity_profile(net, 1)
    with pytest.raises(ValueError, match="x must have shape"):
        net.forward(np.zeros((3, 1, 4)))


def test_split_input_batches_are_bit_identical():
    """Input i is stream (seed, first_path + i): the per-input gradient norms of two runs are those of one."""
    net = ConvResNet([1.0, 2.0, 1.0], depth=4, channels=3, alpha=0.3, grid=11, seed=5)
    whole = capacity_profile(net, 10, seed=7, batch=1)
    a = capacity_profile(net, 4, seed=7, batch=1)
    b = capacity_profile(net, 6, seed=7, batch=1, first_path=4)
    assert np.array_equal(whole.per_input, np.concatenate([a.per_input, b.per_input]))
    # the profile is the mean of the per-input profiles: the two halves recombine to it
    mixed = (4 * a.profile * a.total + 6 * b.profile * b.total) / (10 * whole.total)
    np.testing.assert_allclose(mixed, whole.profile, rtol=1e-12)
