"""Numba kernels of the SDE schemes: one ``prange`` loop over independent paths.

Every kernel has the same calling convention::

    kernel(drift, diffusion, <scheme extras>, diag, m, grid, save_idx, y0, p,
           seed, first_path, dW, use_dW, box, out)

* ``diag`` -- diagonal noise (use ``g[i, i]`` only) or general (``g @ dW``);
* ``m`` -- number of Brownian motions;
* ``grid`` -- step times, ``save_idx`` -- grid indices written to ``ys``;
* ``y0`` -- ``(n_paths, dim)``;
* ``seed`` -- row ``i`` draws from stream ``(seed, first_path + i)`` of
  :mod:`deeplimits.rng` (see :mod:`deeplimits.sde.noise`) unless ``use_dW``, in
  which case increments are read from ``dW[i, k, :]``;
* ``box = (lo, hi, closed, code)`` -- the SDE's :class:`~deeplimits.sde.Box`
  domain and its rule ``code`` (0 none, 1 raise, 2 reflect, 3 report);
* ``out = (ys, fail, exits)`` -- the outputs: ``ys`` ``(n_paths, n_save, dim)``;
  ``fail[i] = (k + 1, cause)`` when path ``i`` stopped at step ``k``, with
  ``cause`` one of the ``FAIL_*`` codes of :mod:`deeplimits.sde._steps`,
  ``(0, 0)`` on success; ``exits[i]``, the number of steps of path ``i`` that
  left the domain.

Each kernel is compiled (or loaded from Numba's cache) on its first call, for its one
signature (:mod:`deeplimits.sde.lazy`): a run compiles only the scheme it uses.

Because a path's random numbers depend only on ``(seed, first_path + i)``,
results are bit-identical whatever the number of threads or the batch.

Each kernel unpacks ``out`` before its ``prange`` loop and hands the arrays to the
helpers of :mod:`deeplimits.sde._steps`: with Numba 0.68, the tuple unpacked inside
the parallel loop (in an inlined helper) made every path stop after its first step.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from ._steps import (
    BOOL,
    COMMON,
    F64,
    FAIL_NEWTON,
    I64,
    MATRIX_FN,
    VECTOR_FN,
    add_noise,
    begin_step,
    diagonal_derivative,
    eval_diffusion,
    eval_diffusion_checked,
    eval_drift,
    finish_step,
    increments,
    newton_theta,
    start_path,
    stop,
)
from .domain import enforce_box
from .lazy import lazy_njit

# The random numbers are inlined into the cached kernels of this module, and Numba's on-disk cache does
# not see changes to imported functions: the normals changed with the vectorised Box--Muller blocks of
# deeplimits.rng (2026-12), and this note changes this file so that stale cached kernels are recompiled.

# --------------------------------------------------------------------------------------
# Euler--Maruyama


@lazy_njit(types.void(VECTOR_FN, MATRIX_FN, *COMMON), parallel=True)
def euler_kernel(drift, diffusion, diag, m, grid, save_idx, y0, p, seed, first_path, dW, use_dW, box, out):
    """Euler--Maruyama: ``y += f h + g dW`` (strong order 1/2, weak order 1)."""
    ys, fail, exits = out
    for i in nb.prange(y0.shape[0]):
        y, f, g, dw, rng, js = start_path(y0, i, m, seed, first_path, ys, save_idx, (grid.size - 1) * m)
        for k in range(grid.size - 1):
            t, h, rng, ok = begin_step(drift, diffusion, grid, k, y, p, f, g, dw, rng, use_dW, dW, fail, i)
            if not ok:
                break
            for a in range(y.size):
                y[a] += f[a] * h
            add_noise(y, g, dw, diag)
            stopped, js = finish_step(y, box, ys, fail, exits, save_idx, i, k, js)
            if stopped:
                break


# --------------------------------------------------------------------------------------
# Milstein (diagonal noise)


@lazy_njit(types.void(VECTOR_FN, MATRIX_FN, VECTOR_FN, BOOL, *COMMON), parallel=True)
def milstein_kernel(
    drift, diffusion, dgdy, has_dgdy, diag, m, grid, save_idx, y0, p, seed, first_path, dW, use_dW, box, out
):
    """Milstein for diagonal noise: ``y_a += f_a h + g_aa dW_a + g_aa g'_aa (dW_a^2 - h) / 2``.

    Strong order 1, weak order 1.  ``g'_aa = dg_aa/dy_a`` comes from ``dgdy``
    when ``has_dgdy``, else from central finite differences.
    """
    dim = y0.shape[1]
    ys, fail, exits = out
    for i in nb.prange(y0.shape[0]):
        y, f, g, dw, rng, js = start_path(y0, i, m, seed, first_path, ys, save_idx, (grid.size - 1) * m)
        gtmp = np.zeros((dim, m))
        dg = np.empty(dim)
        ytmp = np.empty(dim)
        for k in range(grid.size - 1):
            t, h, rng, ok = begin_step(drift, diffusion, grid, k, y, p, f, g, dw, rng, use_dW, dW, fail, i)
            if not ok:
                break
            diagonal_derivative(dgdy, has_dgdy, diffusion, t, y, p, dg, gtmp, ytmp)
            for a in range(dim):
                y[a] += f[a] * h + g[a, a] * dw[a] + 0.5 * g[a, a] * dg[a] * (dw[a] * dw[a] - h)
            stopped, js = finish_step(y, box, ys, fail, exits, save_idx, i, k, js)
            if stopped:
                break


# --------------------------------------------------------------------------------------
# drift-implicit theta method


@lazy_njit(types.void(VECTOR_FN, MATRIX_FN, MATRIX_FN, BOOL, F64, F64, I64, *COMMON), parallel=True)
def theta_kernel(
    drift,
    diffusion,
    jac,
    has_jac,
    theta,
    tol,
    maxiter,
    diag,
    m,
    grid,
    save_idx,
    y0,
    p,
    seed,
    first_path,
    dW,
    use_dW,
    box,
    out,
):
    """Drift-implicit theta method (Newton iteration on the implicit drift).

    ``y1 = y0 + h [theta f(t1, y1) + (1 - theta) f(t0, y0)] + g(t0, y0) dW``.
    Strong order 1/2, weak order 1 (strong 1 for additive noise).  With
    ``theta = 1`` the drift is never evaluated at the first grid time, so the
    SDE may be singular there.  Under the rule ``reflect`` the explicit part
    is reflected into the domain before the implicit solve (counted as an exit),
    so Newton never starts outside the domain.
    """
    dim = y0.shape[1]
    lo, hi, closed, code = box
    ys, fail, exits = out
    for i in nb.prange(y0.shape[0]):
        y, f, g, dw, rng, js = start_path(y0, i, m, seed, first_path, ys, save_idx, (grid.size - 1) * m)
        fp = np.empty(dim)
        fm = np.empty(dim)
        ytmp = np.empty(dim)
        rhs = np.empty(dim)
        z = np.empty(dim)
        r = np.empty(dim)
        J = np.empty((dim, dim))
        for k in range(grid.size - 1):
            t = grid[k]
            t1 = grid[k + 1]
            h = t1 - t
            rng = increments(dw, np.sqrt(h), rng, use_dW, dW, i, k)
            for a in range(dim):
                rhs[a] = y[a]
            if theta < 1.0:
                if not eval_drift(drift, t, y, p, f, fail, i, k):
                    break
                for a in range(dim):
                    rhs[a] += (1.0 - theta) * h * f[a]
            if not eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k):
                break
            add_noise(rhs, g, dw, diag)
            if code == 2 and enforce_box(rhs, lo, hi, closed, code):
                exits[i] += 1
            if not newton_theta(drift, jac, has_jac, t1, theta * h, rhs, p, tol, maxiter, z, f, r, J, fp, fm, ytmp):
                stop(fail, i, k, FAIL_NEWTON)
                break
            for a in range(dim):
                y[a] = z[a]
            stopped, js = finish_step(y, box, ys, fail, exits, save_idx, i, k, js)
            if stopped:
                break


# --------------------------------------------------------------------------------------
# explicit weak order 2 (scalar)


@lazy_njit(types.void(VECTOR_FN, MATRIX_FN, *COMMON), parallel=True)
def weak2_kernel(drift, diffusion, diag, m, grid, save_idx, y0, p, seed, first_path, dW, use_dW, box, out):
    """Platen's explicit weak order 2.0 scheme for scalar SDEs (Kloeden & Platen 1992, eq. 15.1.1).

    With supporting values ``ybar = y + a h + b dW`` and ``y± = y + a h ± b sqrt(h)``::

        y1 = y + (a(ybar) + a) h / 2 + (b(y+) + b(y-) + 2 b) dW / 4
               + (b(y+) - b(y-)) (dW^2 - h) / (4 sqrt(h))

    the supporting values being evaluated at ``t + h``.  Derivative free.
    """
    ys, fail, exits = out
    for i in nb.prange(y0.shape[0]):
        y, f, g, dw, rng, js = start_path(y0, i, m, seed, first_path, ys, save_idx, (grid.size - 1) * m)
        ysup = np.empty(1)
        for k in range(grid.size - 1):
            t, h, rng, ok = begin_step(drift, diffusion, grid, k, y, p, f, g, dw, rng, use_dW, dW, fail, i)
            if not ok:
                break
            t1 = grid[k + 1]
            sh = np.sqrt(h)
            a0 = f[0]
            b0 = g[0, 0]
            ysup[0] = y[0] + a0 * h + b0 * dw[0]
            drift(t1, ysup, p, f)
            abar = f[0]
            ysup[0] = y[0] + a0 * h + b0 * sh
            eval_diffusion(diffusion, t1, ysup, p, g)
            bp = g[0, 0]
            ysup[0] = y[0] + a0 * h - b0 * sh
            eval_diffusion(diffusion, t1, ysup, p, g)
            bm = g[0, 0]
            y[0] += (
                0.5 * (abar + a0) * h
                + 0.25 * (bp + bm + 2.0 * b0) * dw[0]
                + 0.25 * (bp - bm) * (dw[0] * dw[0] - h) / sh
            )
            stopped, js = finish_step(y, box, ys, fail, exits, save_idx, i, k, js)
            if stopped:
                break
