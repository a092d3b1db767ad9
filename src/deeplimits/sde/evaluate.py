"""Numba helpers of the Python layer: a stiffness check and batch evaluation of drift and diffusion.

:func:`explicit_stiffness` warns :func:`~deeplimits.sde.solve` about grids too coarse for an explicit
scheme; the batch evaluators let the torchsde backend call an SDE's Numba functions over a batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np
from numba import types
from numpy.typing import NDArray

from . import batched
from ._steps import (
    BOOL,
    F64,
    I64,
    MAT,
    MATRIX_FN,
    VEC,
    VECTOR_FN,
    fd_jacobian,
    no_matrix_function,
    stiffness_on_diagonal,
)
from .lazy import lazy_njit

if TYPE_CHECKING:
    from .problem import SDE

__all__ = ["check_explicit_stability", "explicit_stiffness", "eval_drift_batch", "eval_diffusion_batch"]


def check_explicit_stability(sde: SDE, grid: NDArray[np.float64], y0: NDArray[np.float64], scheme: str) -> None:
    """Raise if an explicit step is unstable somewhere on ``grid`` at the state ``y0``.

    The test is :func:`explicit_stiffness` ``> 2``; the message names the step and
    time and says how to proceed.  :func:`~deeplimits.sde.solve` calls it for the
    generic explicit schemes, and explicit specialised kernels call it when
    ``KernelCall.check_stability`` is set.

    Raises
    ------
    ValueError
        When the grid is too coarse for an explicit step, or the drift (or its
        Jacobian) is not finite on the grid at ``y0``.
    """
    has_jac = sde.drift_jacobian is not None
    y = np.ascontiguousarray(y0, dtype=np.float64)
    if sde.batched:
        jac = sde.drift_jacobian if has_jac else batched.no_batch_matrix_function
        worst, k = batched.batched_stiffness(sde.drift, jac, has_jac, grid, y, sde.params)
    else:
        jac = sde.drift_jacobian if has_jac else no_matrix_function
        # A short grid is checked by calling the user's compiled functions from Python (about 1 ms for 256
        # steps): compiling ``explicit_stiffness`` costs about a second, an eighth of a first run's cold start.
        small = (grid.size - 1) * y.size <= PYTHON_CHECK_EVALUATIONS
        check = _explicit_stiffness_python if small else explicit_stiffness
        worst, k = check(sde.drift, jac, has_jac, grid, y, sde.params)
    if not np.isfinite(worst):
        # a non-finite Jacobian is the drift's fault, not stiffness: say which
        sde.probe(grid[k], y0)
        raise ValueError(f"drift_jacobian returned a non-finite value at t={grid[k]:.6g}, y={y0}")
    if worst > 2.0:
        raise ValueError(
            f"explicit scheme {scheme!r} is unstable on this grid: at step {k} (t={grid[k]:.6g}, "
            f"h={grid[k + 1] - grid[k]:.3g}) h*|df/dy| = {worst:.3g} > 2. Refine the grid near that time "
            f"(e.g. geometric_grid), use scheme='theta', or pass check_stability=False to override."
        )


@lazy_njit(types.Tuple((F64, I64))(VECTOR_FN, MATRIX_FN, BOOL, VEC, VEC, VEC))
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
        v = stiffness_on_diagonal(J, h)
        if not np.isfinite(v):
            return np.inf, k
        if v > worst:
            worst = v
            kworst = k
    return worst, kworst


#: Grids with at most this many (step, coordinate) pairs are checked in Python, without compiling.
PYTHON_CHECK_EVALUATIONS = 4096


def _explicit_stiffness_python(drift, jac, has_jac, grid, y, p):
    """:func:`explicit_stiffness` evaluated by the interpreter: the same operations, so the same result."""
    dim = y.size
    J = np.empty((dim, dim))
    fp = np.empty(dim)
    fm = np.empty(dim)
    worst = 0.0
    kworst = 0
    for k in range(grid.size - 1):
        h = float(grid[k + 1] - grid[k])
        t = float(grid[k])
        if has_jac:
            jac(t, y, p, J)
        else:
            for b in range(dim):
                d = 1e-6 * max(1.0, abs(float(y[b])))
                ytmp = y.copy()
                ytmp[b] = y[b] + d
                drift(t, ytmp, p, fp)
                ytmp[b] = y[b] - d
                drift(t, ytmp, p, fm)
                J[:, b] = (fp - fm) / (2.0 * d)
        v = stiffness_on_diagonal.py_func(J, h)
        if not np.isfinite(v):
            return np.inf, k
        if v > worst:
            worst = v
            kworst = k
    return worst, kworst


@lazy_njit(types.void(VECTOR_FN, F64, MAT, VEC, MAT), parallel=True)
def eval_drift_batch(drift, t, Y, p, out):
    """``out[i] = f(t, Y[i])`` for a batch of states (used by the torchsde backend)."""
    for i in nb.prange(Y.shape[0]):
        drift(t, Y[i], p, out[i])


@lazy_njit(types.void(MATRIX_FN, F64, MAT, VEC, types.float64[:, :, ::1]), parallel=True)
def eval_diffusion_batch(diffusion, t, Y, p, out):
    """``out[i] = g(t, Y[i])`` (``out`` of shape ``(batch, dim, m)``, zeroed first)."""
    for i in nb.prange(Y.shape[0]):
        out[i, :, :] = 0.0
        diffusion(t, Y[i], p, out[i])
