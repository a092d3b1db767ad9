"""Numba kernels of the SDE schemes: one ``prange`` loop over independent paths.

Every kernel has the same calling convention::

    kernel(drift, diffusion, <scheme extras>, diag, m, grid, save_idx, y0, p,
           seed, first_path, dW, use_dW, lo, hi, closed, domain_code, ys, fail, exits)

* ``diag`` -- diagonal noise (use ``g[i, i]`` only) or general (``g @ dW``);
* ``m`` -- number of Brownian motions;
* ``grid`` -- step times, ``save_idx`` -- grid indices written to ``ys``;
* ``y0`` -- ``(n_paths, dim)``; ``ys`` -- ``(n_paths, n_save, dim)`` output;
* ``seed`` -- row ``i`` draws from stream ``(seed, first_path + i)`` of
  :mod:`deeplimits.rng` (see :mod:`deeplimits.sde.noise`) unless ``use_dW``, in
  which case increments are read from ``dW[i, k, :]``;
* ``lo, hi, closed, domain_code`` -- the SDE's :class:`~deeplimits.sde.Box`
  domain and its rule (0 none, 1 raise, 2 reflect, 3 report);
* ``fail[i] = (k + 1, cause)`` when path ``i`` stopped at step ``k``, with
  ``cause`` one of the ``FAIL_*`` codes below; ``(0, 0)`` on success;
* ``exits[i]`` -- number of steps of path ``i`` that left the domain.

Because a path's random numbers depend only on ``(seed, first_path + i)``,
results are bit-identical whatever the number of threads or the batch.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from .._linalg import solve_inplace
from ..rng import stream_state
from ._steps import (
    BOOL,
    COMMON,
    F64,
    FAIL_NEWTON,
    I64,
    MATRIX_FN,
    VECTOR_FN,
    add_noise,
    end_step,
    eval_diffusion,
    eval_diffusion_checked,
    eval_drift,
    fd_jacobian,
    increments,
    save_initial,
    save_step,
    stop,
)
from .domain import enforce_box

# --------------------------------------------------------------------------------------
# Euler--Maruyama


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, *COMMON), cache=True, parallel=True)
def euler_kernel(
    drift,
    diffusion,
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
    lo,
    hi,
    closed,
    code,
    ys,
    fail,
    exits,
):
    """Euler--Maruyama: ``y += f h + g dW`` (strong order 1/2, weak order 1)."""
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(dim)
        g = np.zeros((dim, m))
        dw = np.empty(m)
        s = stream_state(seed, first_path + i)
        spare = 0.0
        have = False
        js = save_initial(ys, i, save_idx, y)
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            s, spare, have = increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
            if not eval_drift(drift, t, y, p, f, fail, i, k):
                break
            if not eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k):
                break
            for a in range(dim):
                y[a] += f[a] * h
            add_noise(y, g, dw, diag)
            if end_step(y, lo, hi, closed, code, fail, exits, i, k):
                break
            js = save_step(ys, i, js, save_idx, k, y)


# --------------------------------------------------------------------------------------
# Milstein (diagonal noise)


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, VECTOR_FN, BOOL, *COMMON), cache=True, parallel=True)
def milstein_kernel(
    drift,
    diffusion,
    dgdy,
    has_dgdy,
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
    lo,
    hi,
    closed,
    code,
    ys,
    fail,
    exits,
):
    """Milstein for diagonal noise: ``y_a += f_a h + g_aa dW_a + g_aa g'_aa (dW_a^2 - h) / 2``.

    Strong order 1, weak order 1.  ``g'_aa = dg_aa/dy_a`` comes from ``dgdy``
    when ``has_dgdy``, else from central finite differences.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(dim)
        g = np.zeros((dim, m))
        gtmp = np.zeros((dim, m))
        dg = np.empty(dim)
        ytmp = np.empty(dim)
        dw = np.empty(m)
        s = stream_state(seed, first_path + i)
        spare = 0.0
        have = False
        js = save_initial(ys, i, save_idx, y)
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            s, spare, have = increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
            if not eval_drift(drift, t, y, p, f, fail, i, k):
                break
            if not eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k):
                break
            if has_dgdy:
                dgdy(t, y, p, dg)
            else:
                for a in range(dim):
                    d = 1e-6 * max(1.0, abs(y[a]))
                    for b in range(dim):
                        ytmp[b] = y[b]
                    ytmp[a] = y[a] + d
                    eval_diffusion(diffusion, t, ytmp, p, gtmp)
                    gp = gtmp[a, a]
                    ytmp[a] = y[a] - d
                    eval_diffusion(diffusion, t, ytmp, p, gtmp)
                    dg[a] = (gp - gtmp[a, a]) / (2.0 * d)
            for a in range(dim):
                y[a] += f[a] * h + g[a, a] * dw[a] + 0.5 * g[a, a] * dg[a] * (dw[a] * dw[a] - h)
            if end_step(y, lo, hi, closed, code, fail, exits, i, k):
                break
            js = save_step(ys, i, js, save_idx, k, y)


# --------------------------------------------------------------------------------------
# drift-implicit theta method


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, MATRIX_FN, BOOL, F64, F64, I64, *COMMON), cache=True, parallel=True)
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
    lo,
    hi,
    closed,
    code,
    ys,
    fail,
    exits,
):
    """Drift-implicit theta method (Newton iteration on the implicit drift).

    ``y1 = y0 + h [theta f(t1, y1) + (1 - theta) f(t0, y0)] + g(t0, y0) dW``.
    Strong order 1/2, weak order 1 (strong 1 for additive noise).  With
    ``theta = 1`` the drift is never evaluated at the first grid time, so the
    SDE may be singular there.  Under the rule ``reflect`` the explicit part
    is reflected into the domain before the implicit solve (counted as an exit),
    so Newton never starts outside the domain.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(dim)
        fp = np.empty(dim)
        fm = np.empty(dim)
        ytmp = np.empty(dim)
        rhs = np.empty(dim)
        z = np.empty(dim)
        r = np.empty(dim)
        J = np.empty((dim, dim))
        g = np.zeros((dim, m))
        dw = np.empty(m)
        s = stream_state(seed, first_path + i)
        spare = 0.0
        have = False
        js = save_initial(ys, i, save_idx, y)
        for k in range(n_steps):
            t = grid[k]
            t1 = grid[k + 1]
            h = t1 - t
            s, spare, have = increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
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
            # Newton on F(z) = z - theta h f(t1, z) - rhs, started from the explicit part.
            for a in range(dim):
                z[a] = rhs[a]
            converged = False
            for _it in range(maxiter):
                drift(t1, z, p, f)
                if has_jac:
                    jac(t1, z, p, J)
                else:
                    fd_jacobian(drift, t1, z, p, J, fp, fm, ytmp)
                for a in range(dim):
                    r[a] = -(z[a] - theta * h * f[a] - rhs[a])
                    for b in range(dim):
                        J[a, b] = -theta * h * J[a, b]
                    J[a, a] += 1.0
                if not solve_inplace(J, r):
                    break
                step = 0.0
                size = 0.0
                for a in range(dim):
                    z[a] += r[a]
                    step = max(step, abs(r[a]))
                    size = max(size, abs(z[a]))
                if not np.isfinite(step):
                    break
                if step <= tol * (1.0 + size):
                    converged = True
                    break
            if not converged:
                stop(fail, i, k, FAIL_NEWTON)
                break
            for a in range(dim):
                y[a] = z[a]
            if end_step(y, lo, hi, closed, code, fail, exits, i, k):
                break
            js = save_step(ys, i, js, save_idx, k, y)


# --------------------------------------------------------------------------------------
# explicit weak order 2 (scalar)


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, *COMMON), cache=True, parallel=True)
def weak2_kernel(
    drift,
    diffusion,
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
    lo,
    hi,
    closed,
    code,
    ys,
    fail,
    exits,
):
    """Platen's explicit weak order 2.0 scheme for scalar SDEs (Kloeden & Platen 1992, eq. 15.1.1).

    With supporting values ``ybar = y + a h + b dW`` and ``y± = y + a h ± b sqrt(h)``::

        y1 = y + (a(ybar) + a) h / 2 + (b(y+) + b(y-) + 2 b) dW / 4
               + (b(y+) - b(y-)) (dW^2 - h) / (4 sqrt(h))

    the supporting values being evaluated at ``t + h``.  Derivative free.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(1)
        g = np.zeros((1, 1))
        ysup = np.empty(1)
        dw = np.empty(1)
        s = stream_state(seed, first_path + i)
        spare = 0.0
        have = False
        js = save_initial(ys, i, save_idx, y)
        for k in range(n_steps):
            t = grid[k]
            t1 = grid[k + 1]
            h = t1 - t
            sh = np.sqrt(h)
            s, spare, have = increments(dw, sh, s, spare, have, use_dW, dW, i, k)
            if not eval_drift(drift, t, y, p, f, fail, i, k):
                break
            a0 = f[0]
            if not eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k):
                break
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
            if end_step(y, lo, hi, closed, code, fail, exits, i, k):
                break
            js = save_step(ys, i, js, save_idx, k, y)
