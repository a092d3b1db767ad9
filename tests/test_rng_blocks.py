"""Tests of the vectorised normal generator: elementary functions, normality, blocks, bit-identity."""

import numba as nb
import numpy as np
import pytest
from scipy import stats

from deeplimits import rng
from deeplimits.rng.elementary import log_positive, sincos
from deeplimits.sde import SDE, brownian_increments, solve, uniform_grid


@nb.njit(cache=True)
def _log_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = log_positive(x[i])
    return out


@nb.njit(cache=True)
def _sincos_all(x):
    s = np.empty_like(x)
    c = np.empty_like(x)
    for i in range(x.size):
        s[i], c[i] = sincos(x[i])
    return s, c


@nb.njit(cache=True)
def _pairs_one_by_one(seed, stream, m):
    s = rng.stream_state(seed, stream)
    out = np.empty(m)
    for j in range(0, m, 2):
        z0, z1, s = rng.normal_pair(s)
        out[j] = z0
        if j + 1 < m:
            out[j + 1] = z1
    return out


def _ulps(a, b):
    """|a - b| in units of the last place of b."""
    return np.abs(a - b) / np.spacing(np.abs(b))


def _generator_uniforms(n):
    # the arguments Box--Muller meets: (k + 0.5) 2**-53, plus the extreme ones
    u = (np.floor(np.random.default_rng(20261206).random(n) * 2.0**53) + 0.5) * 2.0**-53
    u[:3] = [0.5 * 2.0**-53, 1.0 - 0.5 * 2.0**-53, np.sqrt(0.5)]
    return u


def test_log_within_1_ulp_of_numpy_on_the_unit_interval():
    # measured: max 1.0 ulp over 1e7 arguments (92.6 % bit-identical to numpy.log)
    u = _generator_uniforms(10_000_000)
    assert np.max(_ulps(_log_all(u), np.log(u))) <= 1.0
    assert log_positive(1.0) == 0.0


def test_sincos_within_2_ulp_of_numpy_on_zero_to_two_pi():
    # measured: max 1.0 ulp for sin and for cos over 1e7 arguments (96.9 % bit-identical)
    a = 2.0 * np.pi * _generator_uniforms(10_000_000)
    # and around every multiple of pi/2, where the reduction cancels most
    near = np.array([np.nextafter(k * np.pi / 2, d) for k in range(5) for d in (-1.0, 10.0)] + [0.0, np.pi])
    for x in (a, near):
        s, c = _sincos_all(x)
        assert np.max(_ulps(s, np.sin(x))) <= 2.0
        assert np.max(_ulps(c, np.cos(x))) <= 2.0


def test_vectorised_block_equals_scalar_pairs_bit_for_bit():
    for m in (1, 2, 15, 16, 101):
        a = rng.normal_array(4, (3, m), first_stream=7)
        for i in range(3):
            assert np.array_equal(a[i], _pairs_one_by_one(4, 7 + i, m))


def test_normals_are_box_muller_of_the_unchanged_uniform_stream_up_to_4_ulp():
    # normal pair j of a stream is Box--Muller of its uniforms 2j, 2j + 1 (the uniform stream is the
    # same as uniform_array's); with log, sin, cos within 1 ulp the products are within 4 ulp (measured 3)
    u = rng.uniform_array(3, (200, 1000))
    z = rng.normal_array(3, (200, 1000))
    r = np.sqrt(-2.0 * np.log(u[:, 0::2]))
    a = 2.0 * np.pi * u[:, 1::2]
    assert np.max(_ulps(z[:, 0::2], r * np.cos(a))) <= 4.0
    assert np.max(_ulps(z[:, 1::2], r * np.sin(a))) <= 4.0


def test_normals_pass_kolmogorov_smirnov_and_moments():
    n = 1_000_000
    z = rng.normal_array(2026, (1000, 1000)).ravel()
    # KS statistic below its 0.1 % critical value 1.95 / sqrt(n) (asymptotic Kolmogorov distribution)
    assert stats.kstest(z, "norm").statistic < 1.95 / np.sqrt(n)
    # moments 1-4 within 4 standard errors: Var(Z) = 1, Var(Z^2) = 2, Var(Z^3) = 15, Var(Z^4) = 96
    for k, exact, var in ((1, 0.0, 1.0), (2, 1.0, 2.0), (3, 0.0, 15.0), (4, 3.0, 96.0)):
        assert abs(np.mean(z**k) - exact) < 4 * np.sqrt(var / n)


@nb.njit(cache=True)
def _f3(t, y, p, out):
    out[0] = -y[0]


@nb.njit(cache=True)
def _g3(t, y, p, out):
    out[0, 0] = 1.0
    out[0, 1] = 0.5 * y[0]
    out[0, 2] = 0.25


@nb.njit(cache=True)
def _f_diag(t, y, p, out):
    for a in range(3):
        out[a] = -y[a]


@nb.njit(cache=True)
def _g_diag(t, y, p, out):
    for a in range(3):
        out[a, a] = 0.5 * y[a] + 0.1


@pytest.mark.parametrize("scheme, diagonal", [("euler", False), ("theta", False), ("milstein", True)])
def test_blocks_straddling_steps_bit_identical_across_threads_batches_and_given_increments(scheme, diagonal):
    # 3 noises per step: blocks of NORMAL_BLOCK normals end inside steps
    assert rng.NORMAL_BLOCK % 2 == 0 and rng.NORMAL_BLOCK % 3
    if diagonal:
        sde, y0 = SDE(_f_diag, _g_diag, dim=3), [1.0, 0.5, -0.5]
    else:
        sde, y0 = SDE(_f3, _g3, dim=1, noise="general", n_noise=3), [1.0]
    grid = uniform_grid(0.0, 1.0, 13)
    whole = solve(sde, y0, grid, n_paths=37, seed=5, scheme=scheme).ys
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        one = solve(sde, y0, grid, n_paths=37, seed=5, scheme=scheme).ys
    finally:
        nb.set_num_threads(old)
    parts = [solve(sde, y0, grid, n_paths=n, seed=5, first_path=f, scheme=scheme).ys for f, n in ((0, 10), (10, 27))]
    dW = brownian_increments(grid, n_paths=37, seed=5, n_noise=3)
    given = solve(sde, y0, grid, dW=dW, scheme=scheme).ys
    assert np.array_equal(whole, one)
    assert np.array_equal(whole, np.concatenate(parts))
    assert np.array_equal(whole, given)


def test_pairs_across_streams_equal_each_streams_own_pairs():
    # pair j of every stream at once (the batched SDE kernels' draw) = the j-th normal_pair call
    # of each stream; 67 streams so that the vectorised loop has a remainder
    states = np.array([rng.stream_state(5, 100 + r) for r in range(67)], dtype=np.uint64)
    z0 = np.empty(67)
    z1 = np.empty(67)
    for j in (0, 1, 31, 32):
        rng.streams.pairs_across(states, j, z0, z1)
        for r in (0, 7, 66):
            own = _pairs_one_by_one(5, 100 + r, 2 * j + 2)
            assert z0[r] == own[2 * j] and z1[r] == own[2 * j + 1]


def test_pairs_across_rejects_negative_pair_and_short_outputs():
    states = np.array([rng.stream_state(5, r) for r in range(4)], dtype=np.uint64)
    with pytest.raises(ValueError, match="j must be >= 0"):
        rng.pairs_across(states, -1, np.empty(4), np.empty(4))
    with pytest.raises(ValueError, match="z0 and z1"):
        rng.pairs_across(states, 0, np.empty(3), np.empty(4))
    with pytest.raises(ValueError, match="z0 and z1"):
        rng.pairs_across(states, 0, np.empty(4), np.empty(3))
