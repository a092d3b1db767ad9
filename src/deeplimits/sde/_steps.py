"""Inline building blocks shared by the SDE kernels: types, path set-up, increments, checks, saving.

The user's drift/diffusion reach the kernels as first-class function values of
fixed signatures (:data:`VECTOR_FN`, :data:`MATRIX_FN`), so each kernel has one
explicit signature, is compiled on first use and is cached on disk for every SDE.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from .._linalg import solve_inplace
from ..rng import stream_state
from .domain import enforce_box
from .noise import draw_increments, new_carry

# The user's drift/diffusion reach the kernels as first-class function values of
# fixed signatures.  The kernels are therefore compiled once, with explicit
# signatures, and cached on disk for every SDE: passing the functions as
# Dispatcher-typed arguments would specialise (and recompile) every kernel for
# every SDE in every process.  The indirect call costs a few nanoseconds per
# evaluation, measured to be negligible next to the random-number generation.
F64 = types.float64
VEC = types.float64[::1]
MAT = types.float64[:, ::1]
I64 = types.int64
BOOL = types.boolean
#: ``f(t, y, p, out)`` with a vector output (drift, diffusion derivative).
VECTOR_FN = types.FunctionType(types.void(F64, VEC, VEC, VEC))
#: ``f(t, y, p, out)`` with a matrix output (diffusion, drift Jacobian).
MATRIX_FN = types.FunctionType(types.void(F64, VEC, VEC, MAT))
#: The domain ``(lo, hi, closed, code)`` of :func:`~deeplimits.sde.domain.enforce_box`.
BOX = types.Tuple((F64, F64, BOOL, I64))
#: The outputs ``(ys, fail, exits)``.
OUTPUTS = types.Tuple((types.float64[:, :, ::1], types.int64[:, ::1], types.int64[::1]))
#: The arguments every kernel takes after its scheme's own (see :mod:`deeplimits.sde.kernels`).
COMMON = (BOOL, I64, VEC, types.int64[::1], MAT, VEC, I64, I64, types.float64[:, :, ::1], BOOL, BOX, OUTPUTS)

#: ``fail[i, 1]`` codes: why path ``i`` stopped.
FAIL_DRIFT, FAIL_DIFFUSION, FAIL_STATE, FAIL_NEWTON, FAIL_DOMAIN = 1, 2, 3, 4, 5

# --------------------------------------------------------------------------------------
# shared inline pieces


@nb.njit(cache=True, inline="always")
def start_path(y0, i, m, seed, first_path, ys, save_idx, n_draws):
    """Path ``i``'s working arrays, RNG carry and first output slot.

    Returns ``(y, f, g, dw, rng, js)``: the state (a copy of ``y0[i]``), drift
    ``(dim,)``, diffusion ``(dim, m)`` and increment ``(m,)`` buffers, the carry
    (:func:`~deeplimits.sde.noise.new_carry`) of stream ``(seed, first_path + i)``, which
    will draw ``n_draws`` normals, and the next output slot after saving the initial state.
    """
    y = y0[i].copy()
    dim = y.size
    rng = new_carry(stream_state(seed, first_path + i), n_draws)
    return y, np.empty(dim), np.zeros((dim, m)), np.empty(m), rng, save_initial(ys, i, save_idx, y)


@nb.njit(cache=True, inline="always")
def increments(dw, sqrt_h, rng, use_dW, dW, i, k):
    """Fill ``dw`` with the step's increments (given, or drawn); returns the updated RNG carry."""
    if use_dW:
        for j in range(dw.size):
            dw[j] = dW[i, k, j]
        return rng
    s, block, pos, left = rng
    return draw_increments(dw, sqrt_h, s, block, pos, left)


@nb.njit(cache=True, inline="always")
def begin_step(drift, diffusion, grid, k, y, p, f, g, dw, rng, use_dW, dW, fail, i):
    """Start step ``k``: its time and size, its increments, and ``f``, ``g`` at ``(t, y)``.

    Returns ``(t, h, rng, ok)``; ``ok`` is False (and ``fail`` set) when the
    drift or the diffusion is not finite there.
    """
    t = grid[k]
    h = grid[k + 1] - t
    rng = increments(dw, np.sqrt(h), rng, use_dW, dW, i, k)
    ok = eval_drift(drift, t, y, p, f, fail, i, k) and eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k)
    return t, h, rng, ok


@nb.njit(cache=True, inline="always")
def finish_step(y, box, ys, fail, exits, save_idx, i, k, js):
    """End step ``k``: check the new state (:func:`end_step`), then save it if it is an output.

    Returns ``(stop, js)``: whether the path stops here, and the next output slot.
    """
    stopped = end_step(y, box, fail, exits, i, k)
    if not stopped:
        js = save_step(ys, i, js, save_idx, k, y)
    return stopped, js


@nb.njit(cache=True, inline="always")
def stop(fail, i, k, cause):
    fail[i, 0] = k + 1
    fail[i, 1] = cause


@nb.njit(cache=True, inline="always")
def end_step(y, box, fail, exits, i, k):
    """Check the new state: finite, inside the domain (applying its rule).  True = stop this path."""
    lo, hi, closed, code = box
    if not all_finite(y):
        stop(fail, i, k, FAIL_STATE)
        return True
    if enforce_box(y, lo, hi, closed, code):
        exits[i] += 1
        if code == 1:
            stop(fail, i, k, FAIL_DOMAIN)
            return True
    return False


@nb.njit(cache=True, inline="always")
def eval_drift(drift, t, y, p, f, fail, i, k):
    """Evaluate the drift; False (and ``fail`` set) if it returned a non-finite value."""
    drift(t, y, p, f)
    if not all_finite(f):
        stop(fail, i, k, FAIL_DRIFT)
        return False
    return True


@nb.njit(cache=True, inline="always")
def eval_diffusion_checked(diffusion, t, y, p, g, fail, i, k):
    eval_diffusion(diffusion, t, y, p, g)
    for a in range(g.shape[0]):
        for j in range(g.shape[1]):
            if not np.isfinite(g[a, j]):
                stop(fail, i, k, FAIL_DIFFUSION)
                return False
    return True


@nb.njit(cache=True, inline="always")
def add_noise(y, g, dw, diag):
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
def all_finite(y):
    for a in range(y.size):
        if not np.isfinite(y[a]):
            return False
    return True


@nb.njit(cache=True, inline="always")
def save_initial(ys, i, save_idx, y):
    """Store the initial state if grid index 0 is an output; return the next output slot."""
    if save_idx[0] == 0:
        ys[i, 0, :] = y
        return 1
    return 0


@nb.njit(cache=True, inline="always")
def save_step(ys, i, js, save_idx, k, y):
    """Store the state after step ``k`` if grid index ``k + 1`` is the next output."""
    if js < save_idx.size and save_idx[js] == k + 1:
        ys[i, js, :] = y
        return js + 1
    return js


@nb.njit(cache=True, inline="always")
def eval_diffusion(diffusion, t, y, p, g):
    g[:, :] = 0.0
    diffusion(t, y, p, g)


@nb.njit(cache=True, inline="always")
def fd_point(y, b, sign, ytmp):
    """``ytmp = y + sign d e_b``, the central-difference point along coordinate ``b``; returns ``d``."""
    d = 1e-6 * max(1.0, abs(y[b]))
    for a in range(y.size):
        ytmp[a] = y[a]
    ytmp[b] = y[b] + sign * d
    return d


@nb.njit(cache=True)
def fd_jacobian(drift, t, y, p, J, f_plus, f_minus, ytmp):
    """Central finite-difference Jacobian ``J[a, b] = df_a/dy_b`` at ``(t, y)``."""
    for b in range(y.size):
        d = fd_point(y, b, 1.0, ytmp)
        drift(t, ytmp, p, f_plus)
        fd_point(y, b, -1.0, ytmp)
        drift(t, ytmp, p, f_minus)
        for a in range(y.size):
            J[a, b] = (f_plus[a] - f_minus[a]) / (2.0 * d)


@nb.njit(cache=True, inline="always")
def diagonal_derivative(dgdy, has_dgdy, diffusion, t, y, p, dg, gtmp, ytmp):
    """``dg[a] = dg_aa/dy_a`` at ``(t, y)``: from ``dgdy`` when ``has_dgdy``, else central finite differences."""
    if has_dgdy:
        dgdy(t, y, p, dg)
    else:
        for a in range(y.size):
            d = fd_point(y, a, 1.0, ytmp)
            eval_diffusion(diffusion, t, ytmp, p, gtmp)
            gp = gtmp[a, a]
            fd_point(y, a, -1.0, ytmp)
            eval_diffusion(diffusion, t, ytmp, p, gtmp)
            dg[a] = (gp - gtmp[a, a]) / (2.0 * d)


@nb.njit(cache=True, inline="always")
def stiffness_on_diagonal(J, h):
    """``max_a h |J[a, a]|``, the explicit schemes' stability number at one step; ``inf`` if one is not finite.

    The one step of :func:`~deeplimits.sde.evaluate.explicit_stiffness` and its batched and interpreted forms
    (the last calls ``stiffness_on_diagonal.py_func``, so it needs no compilation).
    """
    worst = 0.0
    for a in range(J.shape[0]):
        v = h * abs(J[a, a])
        if not np.isfinite(v):
            return np.inf
        worst = max(worst, v)
    return worst


@nb.njit(cache=True, inline="always")
def newton_theta(drift, jac, has_jac, t1, th, rhs, p, tol, maxiter, z, f, r, J, fp, fm, ytmp):
    """Solve ``z - th f(t1, z) = rhs`` by Newton's method started from ``z = rhs``; True when it converged.

    The Jacobian comes from ``jac`` when ``has_jac``, else from central finite differences.
    """
    dim = z.size
    for a in range(dim):
        z[a] = rhs[a]
    for _it in range(maxiter):
        drift(t1, z, p, f)
        if has_jac:
            jac(t1, z, p, J)
        else:
            fd_jacobian(drift, t1, z, p, J, fp, fm, ytmp)
        for a in range(dim):
            r[a] = -(z[a] - th * f[a] - rhs[a])
            for b in range(dim):
                J[a, b] = -th * J[a, b]
            J[a, a] += 1.0
        if not solve_inplace(J, r):
            return False
        step = 0.0
        size = 0.0
        for a in range(dim):
            z[a] += r[a]
            step = max(step, abs(r[a]))
            size = max(size, abs(z[a]))
        if not np.isfinite(step):
            return False
        if step <= tol * (1.0 + size):
            return True
    return False


@nb.njit(cache=True)
def no_vector_function(t, y, p, out):
    """Placeholder for an optional vector-valued user function that is not given (never called)."""
    out[:] = 0.0


@nb.njit(cache=True)
def no_matrix_function(t, y, p, out):
    """Placeholder for an optional matrix-valued user function that is not given (never called)."""
    out[:, :] = 0.0
