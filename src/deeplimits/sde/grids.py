"""Time grids for SDE solvers, and the mapping of output times onto them."""

from __future__ import annotations

import numpy as np

__all__ = ["uniform_grid", "geometric_grid", "check_grid", "save_indices"]


def uniform_grid(t0: float, t1: float, n_steps: int) -> np.ndarray:
    """``n_steps`` equal steps from ``t0`` to ``t1`` (``n_steps + 1`` points).

    Raises
    ------
    ValueError
        If ``n_steps < 1`` or ``t1 <= t0`` or a bound is not finite.
    """
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not (np.isfinite(t0) and np.isfinite(t1)) or t1 <= t0:
        raise ValueError(f"need finite t0 < t1, got t0={t0}, t1={t1}")
    return np.linspace(float(t0), float(t1), n_steps + 1)


def geometric_grid(t0: float, t1: float, n_steps: int, t_first: float) -> np.ndarray:
    """Grid refined geometrically toward ``t0`` (e.g. a singularity at ``t0 = 0``).

    Points are ``t0, t_first, t_first r, ..., t1`` with the constant ratio
    ``r = (t1 / t_first) ** (1 / (n_steps - 1))``, so the step relative to the
    time, ``h_k / t_k``, is the same for every step after the first.

    Parameters
    ----------
    t0 : float
        Start time (``>= 0``, typically ``0``).
    t1 : float
        End time.
    n_steps : int
        Number of steps, ``>= 2``.
    t_first : float
        First point after ``t0``, with ``t0 < t_first < t1``.
    """
    n_steps = int(n_steps)
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2 for a geometric grid, got {n_steps}")
    if not (0 <= t0 < t_first < t1) or not np.isfinite(t1):
        raise ValueError(f"need 0 <= t0 < t_first < t1 < inf, got t0={t0}, t_first={t_first}, t1={t1}")
    tail = np.geomspace(float(t_first), float(t1), n_steps)
    tail[-1] = float(t1)
    return np.concatenate([[float(t0)], tail])


def check_grid(grid) -> np.ndarray:
    """Return ``grid`` as a float64 array after checking it is a valid step grid.

    Raises
    ------
    ValueError
        If the grid has fewer than 2 points, non-finite entries, or a step
        that is zero or negative.
    """
    g = np.ascontiguousarray(np.asarray(grid, dtype=np.float64))
    if g.ndim != 1 or g.size < 2:
        raise ValueError(f"grid must be a 1-D array of at least 2 times, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grid contains non-finite times")
    h = np.diff(g)
    if np.any(h <= 0):
        k = int(np.argmax(h <= 0))
        raise ValueError(f"grid steps must be positive: step {k} from t={g[k]} to t={g[k + 1]} has h={h[k]}")
    return g


def save_indices(grid: np.ndarray, saveat) -> np.ndarray:
    """Indices into ``grid`` of the output times ``saveat``.

    ``saveat=None`` saves every grid point.  Output times must be strictly
    increasing and coincide with grid points (relative tolerance 1e-12).
    """
    if saveat is None:
        return np.arange(grid.size, dtype=np.int64)
    s = np.atleast_1d(np.asarray(saveat, dtype=np.float64))
    if s.ndim != 1 or s.size == 0:
        raise ValueError("saveat must be a non-empty 1-D sequence of times")
    if not np.all(np.isfinite(s)):
        raise ValueError("saveat contains non-finite times")
    if np.any(np.diff(s) <= 0):
        raise ValueError(f"saveat must be strictly increasing, got {s}")
    if s[0] < grid[0] or s[-1] > grid[-1] * (1 + 1e-12) + 1e-300:
        raise ValueError(f"saveat times must lie in the grid [{grid[0]}, {grid[-1]}], got [{s[0]}, {s[-1]}]")
    idx = np.clip(np.searchsorted(grid, s), 0, grid.size - 1)
    # pick the nearer of the two neighbouring grid points
    left = np.clip(idx - 1, 0, grid.size - 1)
    idx = np.where(np.abs(grid[left] - s) < np.abs(grid[idx] - s), left, idx)
    off = np.abs(grid[idx] - s) > 1e-12 * np.maximum(1.0, np.abs(s))
    if np.any(off):
        bad = s[off][0]
        raise ValueError(f"saveat time {bad} is not a point of the grid; add it to the grid")
    return idx.astype(np.int64)
