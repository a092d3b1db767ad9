"""Inline building blocks shared by the SDE kernels: types, increments, checks, saving.

The user's drift/diffusion reach the kernels as first-class function values of
fixed signatures (:data:`VECTOR_FN`, :data:`MATRIX_FN`), so each kernel is
compiled once, with explicit signatures, and cached on disk for every SDE.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from .domain import enforce_box
from .noise import draw_increments

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
COMMON = (
    BOOL,
    I64,
    VEC,
    types.int64[::1],
    MAT,
    VEC,
    I64,
    I64,
    types.float64[:, :, ::1],
    BOOL,
    F64,
    F64,
    BOOL,
    I64,
    types.float64[:, :, ::1],
    types.int64[:, ::1],
    types.int64[::1],
)

#: ``fail[i, 1]`` codes: why path ``i`` stopped.
FAIL_DRIFT, FAIL_DIFFUSION, FAIL_STATE, FAIL_NEWTON, FAIL_DOMAIN = 1, 2, 3, 4, 5

# --------------------------------------------------------------------------------------
# shared inline pieces


@nb.njit(cache=True, inline="always")
def increments(dw, sqrt_h, s, spare, have, use_dW, dW, i, k):
    """Fill ``dw`` with the step's increments (given, or drawn); returns the updated RNG carry."""
    if use_dW:
        for j in range(dw.size):
            dw[j] = dW[i, k, j]
        return s, spare, have
    return draw_increments(dw, sqrt_h, s, spare, have)


@nb.njit(cache=True, inline="always")
def stop(fail, i, k, cause):
    fail[i, 0] = k + 1
    fail[i, 1] = cause


@nb.njit(cache=True, inline="always")
def end_step(y, lo, hi, closed, code, fail, exits, i, k):
    """Check the new state: finite, inside the domain (applying its rule).  True = stop this path."""
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


@nb.njit(types.void(VECTOR_FN, F64, VEC, VEC, MAT, VEC, VEC, VEC), cache=True)
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
