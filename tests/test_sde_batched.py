"""SDEs written in batched form (``SDE(..., batched=True)``): same paths as the per-path form, reproducibility
across threads and batch splits, measured orders, domains and failures, bad input."""

from contextlib import nullcontext
from dataclasses import replace

import numba as nb
import numpy as np
import pytest

from deeplimits.convergence import strong_order
from deeplimits.sde import SDE, Box, DomainError, brownian_increments, models, solve, uniform_grid
from deeplimits.sde.batched import BLOCK

STRONG_TOL = 0.2  # brief: strong orders within +-0.2 of theory


# ----------------------------------------------------------------------------- batched definitions
@nb.njit(cache=True)
def _gbm_drift(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = p[0] * Y[r, 0]


@nb.njit(cache=True)
def _gbm_diffusion(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = p[1] * Y[r, 0]


@nb.njit(cache=True)
def _gbm_dgdy(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = p[1]


@nb.njit(cache=True)
def _logistic_drift(t, Y, p, out):  # models.singular_logistic, row by row
    for r in range(Y.shape[0]):
        q = Y[r, 0]
        out[r, 0] = (2.0 * q - p[0] * q * np.sqrt(np.abs(q))) / t + 2.0 * q


def batched_gbm(mu=1.0, sigma=0.5, derivative=True):
    return SDE(
        _gbm_drift,
        _gbm_diffusion,
        params=[mu, sigma],
        diffusion_derivative=_gbm_dgdy if derivative else None,
        batched=True,
    )


def batched_logistic(c=0.3, sigma=1.0):
    return SDE(_logistic_drift, _gbm_diffusion, params=[c, sigma], diffusion_derivative=_gbm_dgdy, batched=True)


# a 3-d SDE with a full, state-dependent 3 x 3 diffusion, in both forms
@nb.njit(cache=True)
def _g3_drift(t, y, p, out):
    for i in range(3):
        out[i] = -y[i] + 0.5 * np.sin(y[(i + 1) % 3])


@nb.njit(cache=True)
def _g3_diffusion(t, y, p, out):
    for i in range(3):
        for j in range(3):
            out[i, j] = (0.3 if i == j else 0.1) * (1.0 + 0.1 * np.cos(y[j]))


@nb.njit(cache=True)
def _g3_drift_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        for i in range(3):
            out[r, i] = -Y[r, i] + 0.5 * np.sin(Y[r, (i + 1) % 3])


@nb.njit(cache=True)
def _g3_diffusion_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        for i in range(3):
            for j in range(3):
                out[r, i, j] = (0.3 if i == j else 0.1) * (1.0 + 0.1 * np.cos(Y[r, j]))


# a 2-d SDE with diagonal, state-dependent noise (finite-difference Milstein derivative)
@nb.njit(cache=True)
def _d2_drift(t, y, p, out):
    out[0] = y[1]
    out[1] = -y[0] - 0.5 * y[1]


@nb.njit(cache=True)
def _d2_diffusion(t, y, p, out):
    out[0, 0] = 0.2 * np.cos(y[0])
    out[1, 1] = 0.3 * y[1]


@nb.njit(cache=True)
def _d2_drift_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = Y[r, 1]
        out[r, 1] = -Y[r, 0] - 0.5 * Y[r, 1]


@nb.njit(cache=True)
def _d2_diffusion_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = 0.2 * np.cos(Y[r, 0])
        out[r, 1, 1] = 0.3 * Y[r, 1]


G3 = SDE(_g3_drift, _g3_diffusion, dim=3, noise="general")
G3_B = SDE(_g3_drift_b, _g3_diffusion_b, dim=3, noise="general", batched=True)
D2 = SDE(_d2_drift, _d2_diffusion, dim=2)
D2_B = SDE(_d2_drift_b, _d2_diffusion_b, dim=2, batched=True)


def _starts(n, dim, seed=0):
    """Distinct initial states, so that a path in the wrong row would show."""
    return 1.0 + 0.1 * np.random.default_rng(seed).random((n, dim))


# ----------------------------------------------------------------------------- same paths as the per-path form
# The batched kernels draw the same normals (stream (seed, first_path + i) for path i) and round the update in
# the same order, and the batched functions above do the per-path arithmetic row by row: the paths are
# bit-identical, which is what these tests assert (measured: max |difference| = 0).
@pytest.mark.parametrize(
    "per_path, batched, scheme, y0, grid",
    [
        (models.singular_logistic(0.3, 1.0), batched_logistic(0.3, 1.0), "euler", [1.0], uniform_grid(0.5, 1.5, 50)),
        (models.singular_logistic(0.3, 1.0), batched_logistic(0.3, 1.0), "milstein", [1.0], uniform_grid(0.5, 1.5, 50)),
        (G3, G3_B, "euler", np.ones(3), uniform_grid(0.0, 1.0, 40)),
        (D2, D2_B, "euler", [1.0, 0.5], uniform_grid(0.0, 1.0, 40)),
        (D2, D2_B, "milstein", [1.0, 0.5], uniform_grid(0.0, 1.0, 40)),
    ],
)
def test_batched_form_gives_the_per_path_paths_bit_for_bit(per_path, batched, scheme, y0, grid):
    y0 = _starts(150, len(y0)) * np.asarray(y0)
    saveat = grid[::5]
    a = solve(per_path, y0, grid, saveat=saveat, seed=4, scheme=scheme)
    b = solve(batched, y0, grid, saveat=saveat, seed=4, scheme=scheme)
    assert np.array_equal(a.ys, b.ys)
    dW = brownian_increments(grid, n_paths=150, seed=9, n_noise=per_path.n_noise)
    assert np.array_equal(
        solve(per_path, y0, grid, dW=dW, scheme=scheme).ys, solve(batched, y0, grid, dW=dW, scheme=scheme).ys
    )


def test_milstein_finite_difference_derivative_matches_given_one():
    grid = uniform_grid(0.0, 1.0, 32)
    a = solve(batched_gbm(), [1.0], grid, n_paths=70, seed=5, scheme="milstein").ys
    b = solve(batched_gbm(derivative=False), [1.0], grid, n_paths=70, seed=5, scheme="milstein").ys
    # the central difference of the linear g(y) = sigma y has relative error ~1e-10 (rounding of the 1e-6 step)
    assert np.max(np.abs(a - b)) < 1e-8
    c = solve(models.gbm(), [1.0], grid, n_paths=70, seed=5, scheme="milstein").ys
    assert np.array_equal(a, c)


# ----------------------------------------------------------------------------- reproducibility
def test_bit_identical_across_thread_counts_and_batch_splits():
    sde = G3_B
    grid = uniform_grid(0.0, 1.0, 30)
    n = 1000
    y0 = _starts(n, 3)
    full = solve(sde, y0, grid, seed=11).ys
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        one = solve(sde, y0, grid, seed=11).ys
    finally:
        nb.set_num_threads(old)
    assert np.array_equal(full, one)
    # path i is the same whether it runs in a batch of 1, BLOCK - 1, BLOCK, BLOCK + 1 paths, at any offset
    for size in (1, BLOCK - 1, BLOCK, BLOCK + 1):
        for lo in (0, 1, 100, n - size):
            part = solve(sde, y0[lo : lo + size], grid, seed=11, first_path=lo).ys
            assert np.array_equal(part, full[lo : lo + size]), (size, lo)
    # and in chunks of the Python layer
    assert np.array_equal(solve(sde, y0, grid, seed=11, chunk_size=97).ys, full)
    assert not np.array_equal(solve(sde, y0, grid, seed=12).ys, full)


# ----------------------------------------------------------------------------- measured orders
@pytest.mark.parametrize("scheme, expected", [("euler", 0.5), ("milstein", 1.0)])
def test_strong_order_batched_gbm(scheme, expected):
    res = strong_order(
        batched_gbm(1.0, 0.5),
        [1.0],
        1.0,
        n_steps=[16, 32, 64, 128, 256],
        scheme=scheme,
        exact=models.gbm_exact(1.0, 1.0, 0.5),
        n_paths=1000,
        seed=1,
        n_boot=100,
    )
    assert res.expected == expected
    assert abs(res.order - expected) <= STRONG_TOL, res.as_dict()


# ----------------------------------------------------------------------------- failures and domains
@nb.njit(cache=True)
def _blows_up_above(t, y, p, out):
    out[0] = 0.0 if y[0] < p[0] else np.inf


@nb.njit(cache=True)
def _blows_up_above_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = 0.0 if Y[r, 0] < p[0] else np.inf


@nb.njit(cache=True)
def _unit(t, y, p, out):
    out[0, 0] = 1.0


@nb.njit(cache=True)
def _unit_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = 1.0


def test_failing_rows_stop_like_per_path_and_the_others_go_on():
    grid = uniform_grid(0.0, 1.0, 20)
    a = SDE(_blows_up_above, _unit, params=[0.8])
    b = SDE(_blows_up_above_b, _unit_b, params=[0.8], batched=True)
    with pytest.raises(ValueError, match="non-finite"):
        solve(b, [0.0], grid, n_paths=200, seed=2, check_stability=False)
    with pytest.warns(RuntimeWarning):
        sa = solve(a, [0.0], grid, n_paths=200, seed=2, check_stability=False, nonfinite="keep")
    with pytest.warns(RuntimeWarning):
        sb = solve(b, [0.0], grid, n_paths=200, seed=2, check_stability=False, nonfinite="keep")
    assert 0 < sb.stats["n_failed"] < 200  # some rows of a block stop, others finish
    assert sa.stats["n_failed"] == sb.stats["n_failed"]
    assert np.array_equal(sa.ys, sb.ys, equal_nan=True)


@pytest.mark.parametrize("rule", ["reflect", "report"])
def test_domain_rules_match_per_path(rule):
    grid = uniform_grid(0.0, 1.0, 40)
    box = Box(lower=0.7, upper=1.4, on_exit=rule)
    a = replace(models.gbm(0.0, 0.8), domain=box)
    b = replace(batched_gbm(0.0, 0.8), domain=box)
    with pytest.warns(RuntimeWarning) if rule == "report" else nullcontext():
        sa = solve(a, [1.0], grid, n_paths=130, seed=3)
    with pytest.warns(RuntimeWarning) if rule == "report" else nullcontext():
        sb = solve(b, [1.0], grid, n_paths=130, seed=3)
    assert sb.stats["n_exits"] > 0
    assert sa.stats["n_exits"] == sb.stats["n_exits"]
    assert np.array_equal(sa.ys, sb.ys)
    with pytest.raises(DomainError):
        solve(replace(b, domain=Box(lower=0.7, upper=1.4, on_exit="raise")), [1.0], grid, n_paths=130, seed=3)


# ----------------------------------------------------------------------------- bad input
@nb.njit(cache=True)
def _first_row_only(t, Y, p, out):
    out[0, 0] = -Y[0, 0]


@nb.njit(cache=True)
def _singular_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = -Y[r, 0] / t


@nb.njit(cache=True)
def _singular_jac_b(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = -1.0 / t


def test_bad_batched_input_names_the_argument():
    with pytest.raises(TypeError, match="batched"):
        SDE(_gbm_drift, _gbm_diffusion, batched="yes")
    with pytest.raises(TypeError, match="batched"):
        SDE(_gbm_drift, _gbm_diffusion, batched=1)
    grid = uniform_grid(0.0, 1.0, 8)
    for scheme in ("theta", "weak2"):
        with pytest.raises(ValueError, match="scheme"):
            solve(batched_gbm(), [1.0], grid, scheme=scheme)
    with pytest.raises(ValueError, match="backend"):
        solve(batched_gbm(), [1.0], grid, backend="torchsde")
    with pytest.raises(ValueError, match="every row"):
        solve(SDE(_first_row_only, _gbm_diffusion, params=[0.0, 1.0], batched=True), [1.0], grid)
    # the explicit-stability check works on batched drifts
    with pytest.raises(ValueError, match="unstable"):
        solve(SDE(_singular_b, _unit_b, batched=True), [1.0], uniform_grid(0.01, 1.0, 20))
    with pytest.raises(ValueError, match="unstable"):
        solve(
            SDE(_singular_b, _unit_b, drift_jacobian=_singular_jac_b, batched=True), [1.0], uniform_grid(0.01, 1.0, 20)
        )
    # the same grid refined near t = 0.01 is accepted, with either form of the check
    fine = uniform_grid(0.01, 1.0, 400)
    assert np.all(np.isfinite(solve(SDE(_singular_b, _unit_b, batched=True), [1.0], fine, n_paths=3, seed=0).ys))
