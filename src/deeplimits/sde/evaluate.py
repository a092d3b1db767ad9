"""Numba helpers of the Python layer: a stiffness check and batch evaluation of drift and diffusion.

:func:`explicit_stiffness` warns :func:`~deeplimits.sde.solve` about grids too coarse for an explicit
scheme; the batch evaluators let the torchsde backend call an SDE's Numba functions over a batch.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types

from ._steps import BOOL, F64, I64, MAT, MATRIX_FN, VEC, VECTOR_FN, fd_jacobian

__all__ = ["explicit_stiffness", "eval_drift_batch", "eval_diffusion_batch"]


@nb.njit(types.Tuple((F64, I64))(VECTOR_FN, MATRIX_FN, BOOL, VEC, VEC, VEC), cache=True)
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


@nb.njit(types.void(VECTOR_FN, F64, MAT, VEC, MAT), cache=True, parallel=True)
def eval_drift_batch(drift, t, Y, p, out):
    """``out[i] = f(t, Y[i])`` for a batch of states (used by the torchsde backend)."""
    for i in nb.prange(Y.shape[0]):
        drift(t, Y[i], p, out[i])


@nb.njit(types.void(MATRIX_FN, F64, MAT, VEC, types.float64[:, :, ::1]), cache=True, parallel=True)
def eval_diffusion_batch(diffusion, t, Y, p, out):
    """``out[i] = g(t, Y[i])`` (``out`` of shape ``(batch, dim, m)``, zeroed first)."""
    for i in nb.prange(Y.shape[0]):
        out[i, :, :] = 0.0
        diffusion(t, Y[i], p, out[i])
