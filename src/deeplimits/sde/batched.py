"""Kernels for SDEs whose drift and diffusion are written in batched form (``SDE(..., batched=True)``).

A batched drift ``f(t, Y, p, OUT)`` receives the states of a block of paths,
``Y`` of shape ``(B, dim)``, and writes ``OUT`` of shape ``(B, dim)``; a batched
diffusion writes ``OUT`` of shape ``(B, dim, n_noise)`` (zeroed before each
call; with diagonal noise only ``OUT[r, a, a]`` is used).  Row ``r`` of the
output must depend on row ``r`` of ``Y`` only: this is what makes each path's
values independent of the block it runs in.

The kernels share the calling convention of :mod:`deeplimits.sde.kernels`.  They
run a ``prange`` loop over blocks of :data:`BLOCK` consecutive paths; at each
step a block draws every path's increments from the path's own stream
``(seed, first_path + i)`` (so the normals equal those of the per-path kernels),
calls the drift and the diffusion once for the whole block, and updates the rows
in loops that LLVM vectorises.  A row that fails (non-finite value, a domain
rule ``"raise"``) is marked in ``fail`` exactly as in the per-path kernels and
its state is frozen at its last valid value while the other rows go on.  The
block size is fixed, so results do not depend on the number of threads.

Examples
--------
>>> import numba as nb
>>> import numpy as np
>>> from deeplimits.sde import SDE, models, solve, uniform_grid
>>> @nb.njit
... def drift(t, Y, p, OUT):
...     for r in range(Y.shape[0]):
...         OUT[r, 0] = p[0] * Y[r, 0]
>>> @nb.njit
... def diffusion(t, Y, p, OUT):
...     for r in range(Y.shape[0]):
...         OUT[r, 0, 0] = p[1] * Y[r, 0]
>>> gbm = SDE(drift, diffusion, params=[1.0, 0.5], batched=True)
>>> grid = uniform_grid(0.0, 1.0, 20)
>>> sol = solve(gbm, [1.0], grid, n_paths=100, seed=3)
>>> bool(np.array_equal(sol.ys, solve(models.gbm(1.0, 0.5), [1.0], grid, n_paths=100, seed=3).ys))
True
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from ..rng import stream_state
from ..rng.streams import pairs_across
from ._steps import (
    BOOL,
    COMMON,
    F64,
    FAIL_DIFFUSION,
    FAIL_DRIFT,
    I64,
    MAT,
    VEC,
    end_step,
    fd_point,
    stiffness_on_diagonal,
    stop,
)
from .lazy import lazy_njit

__all__ = ["BLOCK", "BATCH_VECTOR_FN", "BATCH_MATRIX_FN", "batched_euler_kernel", "batched_milstein_kernel"]

#: Paths per block: each batched user call sees at most this many rows.
BLOCK = 64
ARR3 = types.float64[:, :, ::1]
#: ``f(t, Y, p, OUT)`` with ``Y``, ``OUT`` of shape ``(B, dim)`` (drift, diffusion derivative).
BATCH_VECTOR_FN = types.FunctionType(types.void(F64, MAT, VEC, MAT))
#: ``f(t, Y, p, OUT)`` with ``OUT`` of shape ``(B, dim, k)`` (diffusion, drift Jacobian).
BATCH_MATRIX_FN = types.FunctionType(types.void(F64, MAT, VEC, ARR3))


# --------------------------------------------------------------------------------------
# inline pieces of the block loop (the hot loops run over flat views of the block's arrays)


@nb.njit(cache=True, inline="always")
def start_block(y0, lo, nr, seed, first_path, S, Y, ys, save_idx):
    """Copy rows ``[lo, lo + nr)`` of ``y0`` into ``Y``, seed their streams into ``S``; return the next output slot."""
    dim = Y.shape[1]
    for r in range(nr):
        S[r] = stream_state(seed, first_path + lo + r)
        for a in range(dim):
            Y[r, a] = y0[lo + r, a]
    if save_idx[0] == 0:
        for r in range(nr):
            ys[lo + r, 0, :] = Y[r]
        return 1
    return 0


@nb.njit(cache=True, inline="always")
def block_increments(DWf, m, sqrt_h, S, Z0, Z1, i, use_dW, dW, lo, k):
    """Fill ``DWf[r m + j]`` with increment ``j`` of row ``r`` at step ``k``; returns the index of the next normal.

    Row ``r`` takes normal ``i`` of its stream (initial state ``S[r]``): the
    sequence :func:`deeplimits.sde.noise.draw_increments` gives one path.  All rows
    draw in step, so each Box--Muller pair is computed for the whole block in one
    vectorised call (:func:`~deeplimits.rng.streams.pairs_across`), its second
    values kept in ``Z1`` for the next draw.
    """
    nr = S.size
    if use_dW:
        for r in range(nr):
            for j in range(m):
                DWf[r * m + j] = dW[lo + r, k, j]
        return i
    for j in range(m):
        if i & 1:
            for r in range(nr):
                DWf[r * m + j] = Z1[r] * sqrt_h
        else:
            pairs_across(S, i >> 1, Z0, Z1)
            for r in range(nr):
                DWf[r * m + j] = Z0[r] * sqrt_h
        i += 1
    return i


@nb.njit(cache=True, inline="always")
def all_finite_flat(x):
    """Whether every entry of the 1-D array ``x`` is finite (a branch-free, vectorised reduction)."""
    ok = True
    for q in range(x.size):
        ok &= np.isfinite(x[q])
    return ok


@nb.njit(cache=True, inline="always")
def eval_block(drift, diffusion, t, Y, p, F, G, Ff, Gf, live, fail, lo, k):
    """Evaluate drift into ``F`` and diffusion into ``G`` (zeroed first) for the block; kill rows where one
    is not finite, with the cause ``FAIL_DRIFT`` or ``FAIL_DIFFUSION``.  Returns the number of rows killed.

    ``Ff``, ``Gf`` are flat views of ``F``, ``G``.
    """
    drift(t, Y, p, F)
    for q in range(Gf.size):
        Gf[q] = 0.0
    diffusion(t, Y, p, G)
    if all_finite_flat(Ff) and all_finite_flat(Gf):
        return 0
    killed = 0
    for r in range(Y.shape[0]):
        if not live[r]:
            continue
        if not all_finite_flat(F[r]):
            stop(fail, lo + r, k, FAIL_DRIFT)
        elif not all_finite_flat(G[r].reshape(-1)):
            stop(fail, lo + r, k, FAIL_DIFFUSION)
        else:
            continue
        live[r] = False
        killed += 1
    return killed


@nb.njit(cache=True, inline="always")
def euler_update(Yf, Ff, Gf, DWf, h, diag, dim, m, Ynf):
    """``Yn = (Y + F h) + G dW`` on flat arrays, rounded as in the per-path kernels (diagonal: ``G[r, a, a]``)."""
    for q in range(Yf.size):
        Ynf[q] = Yf[q] + Ff[q] * h
    if diag and dim == 1:
        for q in range(Yf.size):
            Ynf[q] += Gf[q] * DWf[q]
    elif diag:
        for r in range(Yf.size // dim):
            for a in range(dim):
                q = r * dim + a
                Ynf[q] += Gf[q * dim + a] * DWf[q]
    else:
        for r in range(Yf.size // dim):
            for a in range(dim):
                q = r * dim + a
                acc = 0.0
                for j in range(m):
                    acc += Gf[q * m + j] * DWf[r * m + j]
                Ynf[q] += acc


@nb.njit(cache=True, inline="always")
def end_block(Y, Yn, Yf, Ynf, live, n_dead, box, fail, exits, ys, save_idx, lo, k, js):
    """Check the new states ``Yn`` row by row as the per-path kernels do, move them into ``Y`` (rows that stop keep
    their previous state), and save them if grid index ``k + 1`` is an output.  Returns ``(n_dead, js)``.

    ``Yf``, ``Ynf`` are flat views of ``Y``, ``Yn``.
    """
    nr = Y.shape[0]
    if box[3] != 0 or n_dead > 0 or not all_finite_flat(Ynf):
        for r in range(nr):
            if live[r] and end_step(Yn[r], box, fail, exits, lo + r, k):
                live[r] = False
                n_dead += 1
    if n_dead == 0:
        for q in range(Yf.size):
            Yf[q] = Ynf[q]
    else:
        for r in range(nr):
            if live[r]:
                Y[r, :] = Yn[r]
    if js < save_idx.size and save_idx[js] == k + 1:
        for r in range(nr):
            if live[r]:
                ys[lo + r, js, :] = Y[r]
        js += 1
    return n_dead, js


@nb.njit(cache=True, inline="always")
def block_derivative(dgdy, has_dgdy, diffusion, t, Y, p, DG, Gt, Yt, gp):
    """``DG[r, a] = dg_aa/dy_a`` at row ``r``: from ``dgdy`` when ``has_dgdy``, else central finite differences
    (the per-path kernels' step ``d = 1e-6 max(1, |y_a|)``)."""
    if has_dgdy:
        dgdy(t, Y, p, DG)
        return
    nr, dim = Y.shape
    for a in range(dim):
        for r in range(nr):
            fd_point(Y[r], a, 1.0, Yt[r])
        Gt[:, :, :] = 0.0
        diffusion(t, Yt, p, Gt)
        for r in range(nr):
            gp[r] = Gt[r, a, a]
        for r in range(nr):
            fd_point(Y[r], a, -1.0, Yt[r])
        Gt[:, :, :] = 0.0
        diffusion(t, Yt, p, Gt)
        for r in range(nr):
            d = 1e-6 * max(1.0, abs(Y[r, a]))
            DG[r, a] = (gp[r] - Gt[r, a, a]) / (2.0 * d)


# --------------------------------------------------------------------------------------
# kernels

# Every block allocates its arrays flat and works on 2-D / 3-D views of them (for the user's
# functions) and on the flat arrays (for the update loops, which LLVM then vectorises).


@lazy_njit(types.void(BATCH_VECTOR_FN, BATCH_MATRIX_FN, *COMMON), parallel=True)
def batched_euler_kernel(drift, diffusion, diag, m, grid, save_idx, y0, p, seed, first_path, dW, use_dW, box, out):
    """Euler--Maruyama on blocks of paths: ``Y += F h + G dW`` (strong order 1/2, weak order 1)."""
    ys, fail, exits = out
    n, dim = y0.shape
    n_steps = grid.size - 1
    for b in nb.prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        nr = min(BLOCK, n - lo)
        S = np.empty(nr, dtype=np.uint64)
        Z0 = np.empty(nr)
        Z1 = np.empty(nr)
        Yf = np.empty(nr * dim)
        Ynf = np.empty(nr * dim)
        Ff = np.empty(nr * dim)
        Gf = np.zeros(nr * dim * m)
        DWf = np.empty(nr * m)
        live = np.ones(nr, dtype=np.bool_)
        Y = Yf.reshape((nr, dim))
        Yn = Ynf.reshape((nr, dim))
        F = Ff.reshape((nr, dim))
        G = Gf.reshape((nr, dim, m))
        js = start_block(y0, lo, nr, seed, first_path, S, Y, ys, save_idx)
        i = 0
        n_dead = 0
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            i = block_increments(DWf, m, np.sqrt(h), S, Z0, Z1, i, use_dW, dW, lo, k)
            n_dead += eval_block(drift, diffusion, t, Y, p, F, G, Ff, Gf, live, fail, lo, k)
            euler_update(Yf, Ff, Gf, DWf, h, diag, dim, m, Ynf)
            n_dead, js = end_block(Y, Yn, Yf, Ynf, live, n_dead, box, fail, exits, ys, save_idx, lo, k, js)
            if n_dead == nr:
                break


@lazy_njit(types.void(BATCH_VECTOR_FN, BATCH_MATRIX_FN, BATCH_VECTOR_FN, BOOL, *COMMON), parallel=True)
def batched_milstein_kernel(
    drift, diffusion, dgdy, has_dgdy, diag, m, grid, save_idx, y0, p, seed, first_path, dW, use_dW, box, out
):
    """Milstein (diagonal noise) on blocks of paths: ``y_a += f_a h + g_aa dW_a + g_aa g'_aa (dW_a^2 - h) / 2``.

    Strong order 1, weak order 1; ``g'_aa`` from the batched ``dgdy`` when
    ``has_dgdy``, else central finite differences.
    """
    ys, fail, exits = out
    n, dim = y0.shape
    n_steps = grid.size - 1
    for b in nb.prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        nr = min(BLOCK, n - lo)
        S = np.empty(nr, dtype=np.uint64)
        Z0 = np.empty(nr)
        Z1 = np.empty(nr)
        Yf = np.empty(nr * dim)
        Ynf = np.empty(nr * dim)
        Ff = np.empty(nr * dim)
        Gf = np.zeros(nr * dim * m)
        DWf = np.empty(nr * m)
        DGf = np.zeros(nr * dim)
        live = np.ones(nr, dtype=np.bool_)
        Y = Yf.reshape((nr, dim))
        Yn = Ynf.reshape((nr, dim))
        F = Ff.reshape((nr, dim))
        G = Gf.reshape((nr, dim, m))
        DG = DGf.reshape((nr, dim))
        Gt = np.zeros((nr, dim, m))
        Yt = np.empty((nr, dim))
        gp = np.empty(nr)
        js = start_block(y0, lo, nr, seed, first_path, S, Y, ys, save_idx)
        i = 0
        n_dead = 0
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            i = block_increments(DWf, m, np.sqrt(h), S, Z0, Z1, i, use_dW, dW, lo, k)
            n_dead += eval_block(drift, diffusion, t, Y, p, F, G, Ff, Gf, live, fail, lo, k)
            block_derivative(dgdy, has_dgdy, diffusion, t, Y, p, DG, Gt, Yt, gp)
            for r in range(nr):
                for a in range(dim):
                    q = r * dim + a
                    g = Gf[q * dim + a]
                    dw = DWf[q]
                    Ynf[q] = Yf[q] + (Ff[q] * h + g * dw + 0.5 * g * DGf[q] * (dw * dw - h))
            n_dead, js = end_block(Y, Yn, Yf, Ynf, live, n_dead, box, fail, exits, ys, save_idx, lo, k, js)
            if n_dead == nr:
                break


@lazy_njit(types.Tuple((F64, I64))(BATCH_VECTOR_FN, BATCH_MATRIX_FN, BOOL, VEC, VEC, VEC))
def batched_stiffness(drift, jac, has_jac, grid, y, p):
    """:func:`~deeplimits.sde.evaluate.explicit_stiffness` for a batched drift (and Jacobian).

    The central differences of all coordinates are evaluated in one batched call
    per grid time, with the per-path kernels' steps, so the value is the same.
    """
    dim = y.size
    Y1 = y.copy().reshape((1, dim))
    J = np.zeros((1, dim, dim))
    Yp = np.empty((2 * dim, dim))
    Fp = np.empty((2 * dim, dim))
    worst = 0.0
    kworst = 0
    for k in range(grid.size - 1):
        h = grid[k + 1] - grid[k]
        if has_jac:
            jac(grid[k], Y1, p, J)
        else:
            for c in range(dim):
                fd_point(y, c, 1.0, Yp[2 * c])
                fd_point(y, c, -1.0, Yp[2 * c + 1])
            drift(grid[k], Yp, p, Fp)
            for c in range(dim):
                d = 1e-6 * max(1.0, abs(y[c]))
                for a in range(dim):
                    J[0, a, c] = (Fp[2 * c, a] - Fp[2 * c + 1, a]) / (2.0 * d)
        v = stiffness_on_diagonal(J[0], h)
        if not np.isfinite(v):
            return np.inf, k
        if v > worst:
            worst = v
            kworst = k
    return worst, kworst


@nb.njit(cache=True)
def no_batch_vector_function(t, Y, p, out):
    """Placeholder for an optional batched vector-valued function that is not given (never called)."""
    out[:, :] = 0.0


@nb.njit(cache=True)
def no_batch_matrix_function(t, Y, p, out):
    """Placeholder for an optional batched matrix-valued function that is not given (never called)."""
    out[:, :, :] = 0.0
