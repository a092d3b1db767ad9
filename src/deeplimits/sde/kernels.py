"""Numba kernels of the SDE schemes: one ``prange`` loop over independent paths.

Every kernel has the same calling convention::

    kernel(drift, diffusion, <scheme extras>, diag, m, grid, save_idx, y0, p,
           seed, dW, use_dW, ys, status)

* ``diag`` -- diagonal noise (use ``g[i, i]`` only) or general (``g @ dW``);
* ``m`` -- number of Brownian motions;
* ``grid`` -- step times, ``save_idx`` -- grid indices written to ``ys``;
* ``y0`` -- ``(n_paths, dim)``; ``ys`` -- ``(n_paths, n_save, dim)`` output;
* ``seed`` -- path ``i`` draws from stream ``(seed, i)`` of :mod:`deeplimits.rng`
  unless ``use_dW``, in which case increments are read from ``dW[i, k, :]``;
* ``status[i]`` -- 0 on success, ``k + 1`` if the state became non-finite at
  step ``k``, ``-(k + 1)`` if the Newton iteration of step ``k`` failed.

Because a path's random numbers depend only on ``(seed, i)``, results are
bit-identical whatever the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from ..rng import normal_pair, stream_state

# The user's drift/diffusion reach the kernels as first-class function values of
# fixed signatures.  The kernels are therefore compiled once, with explicit
# signatures, and cached on disk for every SDE: passing the functions as
# Dispatcher-typed arguments would specialise (and recompile) every kernel for
# every SDE in every process.  The indirect call costs a few nanoseconds per
# evaluation, measured to be negligible next to the random-number generation.
_f64 = types.float64
_vec = types.float64[::1]
_mat = types.float64[:, ::1]
_i64 = types.int64
_bool = types.boolean
#: ``f(t, y, p, out)`` with a vector output (drift, diffusion derivative).
VECTOR_FN = types.FunctionType(types.void(_f64, _vec, _vec, _vec))
#: ``f(t, y, p, out)`` with a matrix output (diffusion, drift Jacobian).
MATRIX_FN = types.FunctionType(types.void(_f64, _vec, _vec, _mat))
_COMMON = (_bool, _i64, _vec, types.int64[::1], _mat, _vec, _i64, types.float64[:, :, ::1], _bool,
           types.float64[:, :, ::1], types.int64[::1])

# --------------------------------------------------------------------------------------
# shared inline pieces


@nb.njit(cache=True, inline="always")
def _increments(dw, sqrt_h, s, spare, have, use_dW, dW, i, k):
    """Fill ``dw`` with N(0, h) increments; returns the updated RNG carry."""
    m = dw.size
    if use_dW:
        for j in range(m):
            dw[j] = dW[i, k, j]
        return s, spare, have
    for j in range(m):
        if have:
            dw[j] = spare * sqrt_h
            have = False
        else:
            z0, z1, s = normal_pair(s)
            dw[j] = z0 * sqrt_h
            spare = z1
            have = True
    return s, spare, have


@nb.njit(cache=True, inline="always")
def _add_noise(y, g, dw, diag):
    dim = y.size
    if diag:
        for a in range(dim):
            y[a] += g[a, a] * dw[a]
    else:
        m = dw.size
        for a in range(dim):
            acc = 0.0
            for j in range(m):
                acc += g[a, j] * dw[j]
            y[a] += acc


@nb.njit(cache=True, inline="always")
def _all_finite(y):
    for a in range(y.size):
        if not np.isfinite(y[a]):
            return False
    return True


@nb.njit(cache=True, inline="always")
def _eval_diffusion(diffusion, t, y, p, g):
    g[:, :] = 0.0
    diffusion(t, y, p, g)


@nb.njit(cache=True)
def _solve_inplace(A, b):
    """Solve ``A x = b`` by Gaussian elimination with partial pivoting; ``b`` <- x.

    Returns False if ``A`` is numerically singular.  Small dense systems only.
    """
    n = b.size
    for c in range(n):
        piv = c
        best = abs(A[c, c])
        for r in range(c + 1, n):
            if abs(A[r, c]) > best:
                best = abs(A[r, c])
                piv = r
        if best == 0.0 or not np.isfinite(best):
            return False
        if piv != c:
            for q in range(n):
                tmp = A[c, q]
                A[c, q] = A[piv, q]
                A[piv, q] = tmp
            tmp = b[c]
            b[c] = b[piv]
            b[piv] = tmp
        for r in range(c + 1, n):
            fac = A[r, c] / A[c, c]
            if fac != 0.0:
                for q in range(c, n):
                    A[r, q] -= fac * A[c, q]
                b[r] -= fac * b[c]
    for c in range(n - 1, -1, -1):
        acc = b[c]
        for q in range(c + 1, n):
            acc -= A[c, q] * b[q]
        b[c] = acc / A[c, c]
    return True


@nb.njit(types.void(VECTOR_FN, _f64, _vec, _vec, _mat, _vec, _vec, _vec), cache=True)
def fd_jacobian(drift, t, y, p, J, f_plus, f_minus, ytmp):
    """Central finite-difference Jacobian ``J[a, b] = df_a/dy_b`` at ``(t, y)``."""
    dim = y.size
    for b in range(dim):
        d = 1e-6 * max(1.0, abs(y[b]))
        for a in range(dim):
            ytmp[a] = y[a]
        ytmp[b] = y[b] + d
        drift(t, ytmp, p, f_plus)
        ytmp[b] = y[b] - d
        drift(t, ytmp, p, f_minus)
        for a in range(dim):
            J[a, b] = (f_plus[a] - f_minus[a]) / (2.0 * d)


@nb.njit(cache=True)
def no_vector_function(t, y, p, out):
    """Placeholder for an optional vector-valued user function that is not given (never called)."""
    out[:] = 0.0


@nb.njit(cache=True)
def no_matrix_function(t, y, p, out):
    """Placeholder for an optional matrix-valued user function that is not given (never called)."""
    out[:, :] = 0.0


# --------------------------------------------------------------------------------------
# Euler--Maruyama


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, *_COMMON), cache=True, parallel=True)
def euler_kernel(drift, diffusion, diag, m, grid, save_idx, y0, p, seed, dW, use_dW, ys, status):
    """Euler--Maruyama: ``y += f h + g dW`` (strong order 1/2, weak order 1)."""
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    n_save = save_idx.size
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(dim)
        g = np.zeros((dim, m))
        dw = np.empty(m)
        s = stream_state(seed, i)
        spare = 0.0
        have = False
        js = 0
        if save_idx[0] == 0:
            ys[i, 0, :] = y
            js = 1
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            s, spare, have = _increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
            drift(t, y, p, f)
            _eval_diffusion(diffusion, t, y, p, g)
            for a in range(dim):
                y[a] += f[a] * h
            _add_noise(y, g, dw, diag)
            if not _all_finite(y):
                status[i] = k + 1
                break
            if js < n_save and save_idx[js] == k + 1:
                ys[i, js, :] = y
                js += 1


# --------------------------------------------------------------------------------------
# Milstein (diagonal noise)


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, VECTOR_FN, _bool, *_COMMON), cache=True, parallel=True)
def milstein_kernel(drift, diffusion, dgdy, has_dgdy, diag, m, grid, save_idx, y0, p, seed, dW, use_dW,
                    ys, status):
    """Milstein for diagonal noise: ``y_a += f_a h + g_aa dW_a + g_aa g'_aa (dW_a^2 - h) / 2``.

    Strong order 1, weak order 1.  ``g'_aa = dg_aa/dy_a`` comes from ``dgdy``
    when ``has_dgdy``, else from central finite differences.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    n_save = save_idx.size
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(dim)
        g = np.zeros((dim, m))
        gtmp = np.zeros((dim, m))
        dg = np.empty(dim)
        ytmp = np.empty(dim)
        dw = np.empty(m)
        s = stream_state(seed, i)
        spare = 0.0
        have = False
        js = 0
        if save_idx[0] == 0:
            ys[i, 0, :] = y
            js = 1
        for k in range(n_steps):
            t = grid[k]
            h = grid[k + 1] - t
            s, spare, have = _increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
            drift(t, y, p, f)
            _eval_diffusion(diffusion, t, y, p, g)
            if has_dgdy:
                dgdy(t, y, p, dg)
            else:
                for a in range(dim):
                    d = 1e-6 * max(1.0, abs(y[a]))
                    for b in range(dim):
                        ytmp[b] = y[b]
                    ytmp[a] = y[a] + d
                    _eval_diffusion(diffusion, t, ytmp, p, gtmp)
                    gp = gtmp[a, a]
                    ytmp[a] = y[a] - d
                    _eval_diffusion(diffusion, t, ytmp, p, gtmp)
                    dg[a] = (gp - gtmp[a, a]) / (2.0 * d)
            for a in range(dim):
                y[a] += f[a] * h + g[a, a] * dw[a] + 0.5 * g[a, a] * dg[a] * (dw[a] * dw[a] - h)
            if not _all_finite(y):
                status[i] = k + 1
                break
            if js < n_save and save_idx[js] == k + 1:
                ys[i, js, :] = y
                js += 1


# --------------------------------------------------------------------------------------
# drift-implicit theta method


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, MATRIX_FN, _bool, _f64, _f64, _i64, *_COMMON), cache=True,
         parallel=True)
def theta_kernel(drift, diffusion, jac, has_jac, theta, tol, maxiter, diag, m, grid, save_idx, y0, p, seed,
                 dW, use_dW, ys, status):
    """Drift-implicit theta method (Newton iteration on the implicit drift).

    ``y1 = y0 + h [theta f(t1, y1) + (1 - theta) f(t0, y0)] + g(t0, y0) dW``.
    Strong order 1/2, weak order 1 (strong 1 for additive noise).  With
    ``theta = 1`` the drift is never evaluated at the first grid time, so the
    SDE may be singular there.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    n_save = save_idx.size
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
        s = stream_state(seed, i)
        spare = 0.0
        have = False
        js = 0
        if save_idx[0] == 0:
            ys[i, 0, :] = y
            js = 1
        for k in range(n_steps):
            t = grid[k]
            t1 = grid[k + 1]
            h = t1 - t
            s, spare, have = _increments(dw, np.sqrt(h), s, spare, have, use_dW, dW, i, k)
            for a in range(dim):
                rhs[a] = y[a]
            if theta < 1.0:
                drift(t, y, p, f)
                for a in range(dim):
                    rhs[a] += (1.0 - theta) * h * f[a]
            _eval_diffusion(diffusion, t, y, p, g)
            _add_noise(rhs, g, dw, diag)
            # Newton on F(z) = z - theta h f(t1, z) - rhs, started from the explicit part.
            for a in range(dim):
                z[a] = rhs[a]
            converged = False
            for it in range(maxiter):
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
                if not _solve_inplace(J, r):
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
                status[i] = -(k + 1)
                break
            for a in range(dim):
                y[a] = z[a]
            if not _all_finite(y):
                status[i] = k + 1
                break
            if js < n_save and save_idx[js] == k + 1:
                ys[i, js, :] = y
                js += 1


# --------------------------------------------------------------------------------------
# explicit weak order 2 (scalar)


@nb.njit(types.void(VECTOR_FN, MATRIX_FN, *_COMMON), cache=True, parallel=True)
def weak2_kernel(drift, diffusion, diag, m, grid, save_idx, y0, p, seed, dW, use_dW, ys, status):
    """Platen's explicit weak order 2.0 scheme for scalar SDEs (Kloeden & Platen 1992, eq. 15.1.1).

    With supporting values ``ybar = y + a h + b dW`` and ``y± = y + a h ± b sqrt(h)``::

        y1 = y + (a(ybar) + a) h / 2 + (b(y+) + b(y-) + 2 b) dW / 4
               + (b(y+) - b(y-)) (dW^2 - h) / (4 sqrt(h))

    the supporting values being evaluated at ``t + h``.  Derivative free.
    """
    n_paths, dim = y0.shape
    n_steps = grid.size - 1
    n_save = save_idx.size
    for i in nb.prange(n_paths):
        y = y0[i].copy()
        f = np.empty(1)
        g = np.zeros((1, 1))
        ysup = np.empty(1)
        dw = np.empty(1)
        s = stream_state(seed, i)
        spare = 0.0
        have = False
        js = 0
        if save_idx[0] == 0:
            ys[i, 0, :] = y
            js = 1
        for k in range(n_steps):
            t = grid[k]
            t1 = grid[k + 1]
            h = t1 - t
            sh = np.sqrt(h)
            s, spare, have = _increments(dw, sh, s, spare, have, use_dW, dW, i, k)
            drift(t, y, p, f)
            a0 = f[0]
            _eval_diffusion(diffusion, t, y, p, g)
            b0 = g[0, 0]
            ysup[0] = y[0] + a0 * h + b0 * dw[0]
            drift(t1, ysup, p, f)
            abar = f[0]
            ysup[0] = y[0] + a0 * h + b0 * sh
            _eval_diffusion(diffusion, t1, ysup, p, g)
            bp = g[0, 0]
            ysup[0] = y[0] + a0 * h - b0 * sh
            _eval_diffusion(diffusion, t1, ysup, p, g)
            bm = g[0, 0]
            y[0] += (0.5 * (abar + a0) * h + 0.25 * (bp + bm + 2.0 * b0) * dw[0]
                     + 0.25 * (bp - bm) * (dw[0] * dw[0] - h) / sh)
            if not _all_finite(y):
                status[i] = k + 1
                break
            if js < n_save and save_idx[js] == k + 1:
                ys[i, js, :] = y
                js += 1


# --------------------------------------------------------------------------------------
# helpers for the Python layer


@nb.njit(types.Tuple((_f64, _i64))(VECTOR_FN, MATRIX_FN, _bool, _vec, _vec, _vec), cache=True)
def explicit_stiffness(drift, jac, has_jac, grid, y, p):
    """Largest ``h_k |J_aa(t_k, y)|`` over the grid at the fixed state ``y``, and its step.

    The explicit schemes' linear-stability condition for ``dy = -lambda y dt``
    is ``h lambda < 2``; this evaluates it on the diagonal of the drift
    Jacobian at the initial state (a check for stiff or singular drifts such as
    ``a / t``, not a proof of stability).
    """
    dim = y.size
    J = np.empty((dim, dim))
    fp = np.empty(dim)
    fm = np.empty(dim)
    ytmp = np.empty(dim)
    worst = 0.0
    kworst = 0
    for k in range(grid.size - 1):
        h = grid[k + 1] - grid[k]
        if has_jac:
            jac(grid[k], y, p, J)
        else:
            fd_jacobian(drift, grid[k], y, p, J, fp, fm, ytmp)
        for a in range(dim):
            v = h * abs(J[a, a])
            if not np.isfinite(v):
                return np.inf, k
            if v > worst:
                worst = v
                kworst = k
    return worst, kworst


@nb.njit(types.void(VECTOR_FN, _f64, _mat, _vec, _mat), cache=True, parallel=True)
def eval_drift_batch(drift, t, Y, p, out):
    """``out[i] = f(t, Y[i])`` for a batch of states (used by the torchsde backend)."""
    for i in nb.prange(Y.shape[0]):
        drift(t, Y[i], p, out[i])


@nb.njit(types.void(MATRIX_FN, _f64, _mat, _vec, types.float64[:, :, ::1]), cache=True, parallel=True)
def eval_diffusion_batch(diffusion, t, Y, p, out):
    """``out[i] = g(t, Y[i])`` (``out`` of shape ``(batch, dim, m)``, zeroed first)."""
    for i in nb.prange(Y.shape[0]):
        out[i, :, :] = 0.0
        diffusion(t, Y[i], p, out[i])
