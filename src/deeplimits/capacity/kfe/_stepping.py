"""Depth stepping shared by the KFE solvers: the uniform depth grid, output depths, checks.

Depth ``t`` runs from the output (``t = 0``) to the input (``t = 1``); depth grids are
uniform, ``t_k = t0 + k dt``.  Output depths (``saveat``) are points of that grid.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_array, check_bool, check_float, check_int

__all__ = ["depth_steps", "save_mask", "check_field", "check_positivity", "explicit_substeps", "theta_of"]


def depth_steps(t0: Any, t1: Any, dt: Any, n_steps: Any) -> tuple[int, float]:
    """Number of uniform depth steps and their size for ``[t0, t1]``.

    Exactly one of ``dt`` / ``n_steps`` is given.  With ``dt`` the number of
    steps is ``ceil((t1 - t0) / dt)`` (to 1e-9 relative) and the step is shrunk
    to divide the interval exactly.

    Parameters
    ----------
    t0, t1 : float
        Initial and final depth, ``t0 < t1``.
    dt : float or None
        Requested step, ``> 0``.
    n_steps : int or None
        Requested number of steps, ``>= 1``.

    Returns
    -------
    n : int
        Number of steps.
    step : float
        Their size ``(t1 - t0) / n``.

    Raises
    ------
    ValueError
        For a non-finite or empty (``t1 <= t0``: negative depth) interval, or a bad ``dt`` / ``n_steps``.

    Examples
    --------
    >>> depth_steps(0.0, 1.0, 0.3, None)
    (4, 0.25)
    """
    t0 = check_float(t0, "t0")
    t1 = check_float(t1, "t_end")
    if not t1 > t0:
        raise ValueError(f"t_end must exceed t0 (depth runs forward), got t0={t0}, t_end={t1}")
    if (dt is None) == (n_steps is None):
        raise ValueError("give exactly one of dt and n_steps")
    if n_steps is not None:
        n = check_int(n_steps, "n_steps", minimum=1)
    else:
        dt = check_float(dt, "dt", minimum=0.0, strict_min=True)
        n = max(1, math.ceil((t1 - t0) / dt * (1 - 1e-9)))
    return n, (t1 - t0) / n


def save_mask(t0: float, step: float, n_steps: int, saveat: ArrayLike | None) -> NDArray[np.bool_]:
    """Boolean mask over the depths ``t0 + k step``, ``k = 0..n_steps``, of the output depths.

    Parameters
    ----------
    t0, step, n_steps
        The uniform depth grid.
    saveat : array_like or None
        Increasing output depths, each a grid point (relative tolerance 1e-9);
        ``None`` saves the first and the last depth.

    Returns
    -------
    ndarray of bool, shape ``(n_steps + 1,)``

    Examples
    --------
    >>> save_mask(0.0, 0.25, 4, [0.5, 1.0]).tolist()
    [False, False, True, False, True]
    """
    mask = np.zeros(n_steps + 1, dtype=np.bool_)
    if saveat is None:
        mask[0] = mask[-1] = True
        return mask
    s = check_array(saveat, "saveat", ndim=(0, 1), min_size=1).ravel()
    if np.any(np.diff(s) <= 0):
        raise ValueError(f"saveat must be strictly increasing, got {s}")
    t1 = t0 + step * n_steps
    k = np.rint((s - t0) / step)
    tol = 1e-9 * np.maximum(1.0, np.abs(s))
    bad = (k < 0) | (k > n_steps) | (np.abs(t0 + k * step - s) > tol)
    if np.any(bad):
        raise ValueError(
            f"saveat must hold depths of the step grid t0 + k dt in [{t0}, {t1}] (dt={step:.6g}); "
            f"{s[bad][0]} is not one"
        )
    mask[k.astype(np.int64)] = True
    return mask


def check_field(c0: ArrayLike, grid: Any, name: str = "c0") -> NDArray[np.float64]:
    """``c0`` as a contiguous finite float array of the grid's shape.

    Examples
    --------
    >>> from deeplimits.capacity.kfe import lattice_1d
    >>> check_field([0, 1, 0], lattice_1d(3)).tolist()
    [0.0, 1.0, 0.0]
    """
    arr = check_array(c0, name)
    if arr.shape != grid.shape:
        raise ValueError(f"{name} must have the grid shape {grid.shape}, got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=float)


def check_positivity(worst: float, advection: str) -> None:
    """Raise when an explicit step has a negative off-diagonal coefficient (cell Peclet number > 1)."""
    if worst < -1e-12:
        raise ValueError(
            "explicit scheme is not positive: an off-diagonal coefficient is negative "
            f"(relative value {worst:.3g}); the cell Peclet number |v| h / (2 D) exceeds 1 "
            f"with advection={advection!r}; use advection='upwind', a finer grid, or an implicit scheme"
        )


def explicit_substeps(limit: float, dt: float, substeps: Any, formula: str) -> int:
    """Sub-steps per step that respect the explicit limit ``dt <= limit``; raise if not allowed.

    Examples
    --------
    >>> explicit_substeps(0.1, 0.25, True, "1 / rate")
    3
    """
    substeps = check_bool(substeps, "substeps")
    if dt <= limit * (1 + 1e-12):
        return 1
    if not substeps:
        raise ValueError(
            f"explicit step dt={dt:.6g} exceeds the stability limit dt_max={limit:.6g} "
            f"({formula}); pass substeps=True, a smaller dt, or use an implicit scheme"
        )
    return math.ceil(dt / limit * (1 - 1e-12))


def theta_of(scheme: str, theta: Any, table: dict[str, float | None]) -> float:
    """Implicitness of a theta-method scheme: fixed by its name, or ``theta`` for ``scheme="theta"``.

    Examples
    --------
    >>> theta_of("crank_nicolson", None, {"crank_nicolson": 0.5, "theta": None})
    0.5
    >>> theta_of("theta", 0.75, {"crank_nicolson": 0.5, "theta": None})
    0.75
    """
    fixed = table[scheme]
    if fixed is not None:
        if theta is not None:
            raise ValueError(f"theta applies to scheme='theta' only, not {scheme!r} (its theta is {fixed})")
        return fixed
    if theta is None:
        raise ValueError("scheme='theta' needs theta=, a number in [0.5, 1]")
    # below 1/2 the theta method is only conditionally stable and its limit is not checked
    return check_float(theta, "theta", minimum=0.5, maximum=1.0)
