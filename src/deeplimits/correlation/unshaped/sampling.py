"""Samples of ``q_t``, the limit law of ``l^2 (1 - rho_l)`` at ``t = l / n``: :func:`sample_q`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_bool, check_int
from ...parallel import chunkable
from ...rng import kernel_seed
from ...sde import solve
from ..maps import Q_STAR
from .engine import J_sde
from .equation import Y_STAR, check_times, q_from_J, y_from_J

__all__ = ["sample_q"]


@chunkable("n_paths")
def sample_q(
    ts: ArrayLike,
    n_paths: int = 10_000,
    seed: int = 0,
    n_steps_per_unit: int = 1024,
    return_y: bool = False,
    *,
    first_path: int = 0,
) -> NDArray[np.float64]:
    """Samples of ``q_t`` (law of ``l^2 (1 - rho_l)`` at ``t = l/n``, ``n -> infinity``).

    Integrates the regular J-equation (:func:`~deeplimits.correlation.unshaped.J_sde`)
    with Milstein on a uniform grid of step ``1 / n_steps_per_unit`` that contains every
    requested time, and returns ``q = Q_STAR t^2 / J^2``.  The strong error in
    ``y = q^{-1/2}`` is of order ``h`` (measured in ``tests/test_corr_unshaped.py``);
    with the default ``h = 1/1024`` it is below 1e-3 relative at ``t <= 1``.

    Parameters
    ----------
    ts : array_like
        Times ``>= 0`` (strictly increasing).
    n_paths : int
        Number of samples.
    seed : int
        Seed (per-path streams: reproducible for any thread count).
    n_steps_per_unit : int
        Grid resolution; each ``t`` is rounded to the grid and must lie on it
        to within 1e-12.
    return_y : bool
        Return ``y = q^{-1/2}`` instead of ``q`` (light-tailed, preferred for
        distances between distributions).
    first_path : int
        Global index of the first sample (sample ``i`` draws from stream
        ``(seed, first_path + i)``).

    Returns
    -------
    numpy.ndarray
        ``(n_paths, len(ts))``.

    Raises
    ------
    ValueError
        If a time is negative, not on the grid, or not increasing.

    Examples
    --------
    >>> from deeplimits.correlation import sample_q
    >>> sample_q([0.25, 0.5], n_paths=4, seed=0, n_steps_per_unit=64).shape
    (4, 2)
    """
    ta = np.atleast_1d(check_times(ts))
    if np.any(np.diff(ta) <= 0):
        raise ValueError("ts must be strictly increasing")
    m = check_int(n_steps_per_unit, "n_steps_per_unit", minimum=1)
    n_paths = check_int(n_paths, "n_paths", minimum=1)
    first_path = check_int(first_path, "first_path", minimum=0)
    return_y = check_bool(return_y, "return_y")
    kernel_seed(seed)  # validate the seed even when no step is taken
    # grid membership is checked before the t = 0 shortcut, so that a time between grid
    # points (e.g. 1e-4 with 1024 steps per unit) raises instead of returning Q_STAR
    k = np.rint(ta * m)
    if np.any(np.abs(k / m - ta) > 1e-12 * max(1.0, ta[-1])):
        raise ValueError(f"ts: every t must be a multiple of 1/n_steps_per_unit = {1.0 / m}, got {ts!r}")
    n_total = int(k[-1])
    if n_total < 1:
        return np.full((n_paths, ta.size), (Y_STAR if return_y else Q_STAR))
    grid = np.arange(n_total + 1) / m
    grid[k.astype(int)] = ta  # exact requested times
    sol = solve(J_sde(), [0.0], grid, n_paths=n_paths, seed=seed, scheme="milstein", saveat=ta, first_path=first_path)
    J = sol.ys[:, :, 0]
    return y_from_J(ta[None, :], J) if return_y else q_from_J(ta[None, :], J)
