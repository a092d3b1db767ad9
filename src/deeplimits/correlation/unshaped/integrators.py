"""Integrators of the unshaped q-SDE from the singular start, and the sampler :func:`sample_q`.

All draw path ``i`` from stream ``(seed, first_path + i)`` with the package's noise model
(the increments of :func:`deeplimits.sde.brownian_increments`), or take coupled increments
``dW`` of shape ``(n_paths, n_steps, 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_bool, check_choice, check_float, check_int
from ...rng import kernel_seed
from ...sde.grids import check_grid, save_indices
from ...sde.noise import check_increments
from ..maps import Q_STAR
from ._kernels import J_SCHEME, Q_EXPLICIT, Q_IMPLICIT, Y_IMPLICIT, path_kernel
from .equation import A_COEF, Y_STAR, check_times, q_from_J, y_from_J

__all__ = ["simulate_J", "simulate_y_implicit", "simulate_q_implicit", "simulate_q_em", "sample_q"]


def _check_grid(grid):
    g = check_grid(grid)
    if g[0] < 0.0:
        raise ValueError(f"grid must start at t >= 0, got {g[0]}")
    return g


def _run_paths(kind, g, n_paths, seed, dW, saveat, milstein, x0, p, first_path=0):
    """Validate the common arguments, run ``path_kernel``; returns (ts, out, n_reflected)."""
    check_bool(milstein, "milstein")
    seed_bits = kernel_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    idx = np.asarray(save_indices(g, saveat), dtype=np.int64)
    if dW is None:
        n_paths = check_int(n_paths, "n_paths", minimum=1)
        dWa, use_dW = np.zeros((1, 1, 1)), False
    else:
        # one shape for increments everywhere (n_paths, n_steps, 1), finite entries only
        dWa, use_dW = check_increments(dW, n_steps=g.size - 1, n_noise=1), True
        n_paths = dWa.shape[0]
    out = np.empty((n_paths, idx.size))
    n_refl = np.zeros(n_paths, dtype=np.int64)
    path_kernel(
        kind, g, idx, n_paths, seed_bits, first_path, dWa, use_dW, bool(milstein), float(x0), float(p), out, n_refl
    )
    return g[idx].copy(), out, int(n_refl.sum())


def simulate_J(
    grid: ArrayLike,
    n_paths: int = 1000,
    seed: int = 0,
    scheme: str = "milstein",
    dW: ArrayLike | None = None,
    saveat: ArrayLike | None = None,
    *,
    first_path: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Integrate the regular J-equation ``dJ = (1 + 2J) dt - sqrt(2) J dB``, ``J_0 = 0``.

    Parameters
    ----------
    grid : array_like
        Step times ``0 = t_0 < t_1 < ... < t_N`` (must start at 0).
    n_paths : int
        Number of paths (ignored when ``dW`` is given).
    seed : int
        Seed of the per-path streams.
    scheme : {"euler", "milstein"}
        Euler--Maruyama (strong order 0.5) or Milstein (strong order 1).  Both
        have weak order 1.
    dW : array_like, optional
        Brownian increments ``(n_paths, N, 1)`` for coupled runs.
    saveat : array_like, optional
        Output times (points of ``grid``); default every grid point.

    Returns
    -------
    ts : numpy.ndarray
        Output times.
    J : numpy.ndarray
        ``(n_paths, len(ts))``.  Use :func:`q_from_J` / :func:`y_from_J`.

    Raises
    ------
    ValueError
        On an invalid grid (not starting at 0, not increasing), scheme, seed,
        ``n_paths < 1`` or ``dW`` of the wrong shape.

    Examples
    --------
    >>> from deeplimits.sde import uniform_grid
    >>> ts, J = simulate_J(uniform_grid(0.0, 1.0, 8), n_paths=3, seed=1)
    >>> J.shape
    (3, 9)
    """
    g = _check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (J_0 = 0)")
    check_choice(scheme, "scheme", ("euler", "milstein"))
    ts, out, _ = _run_paths(J_SCHEME, g, n_paths, seed, dW, saveat, scheme == "milstein", 0.0, 0.0, first_path)
    return ts, out


def simulate_y_implicit(
    grid: ArrayLike,
    n_paths: int = 1000,
    seed: int = 0,
    milstein: bool = True,
    dW: ArrayLike | None = None,
    saveat: ArrayLike | None = None,
    y0: float = Y_STAR,
    *,
    first_path: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Drift-implicit scheme for ``y = q^{-1/2}`` from ``t = 0`` exactly.

    One step ``t_k -> t_{k+1}``::

        y_{k+1} (1 + h / t_{k+1}) = y_k (1 + 2h) + h Y_STAR / t_{k+1} - sqrt(2) y_k dB
                                    [+ y_k (dB^2 - h)   (Milstein)]

    The singular drift ``(Y_STAR - y)/t`` is only evaluated at ``t_{k+1} > 0``
    and is treated implicitly (unconditionally stable for any ``h``).

    Parameters
    ----------
    grid : array_like
        Step times starting at ``t_0 = 0`` (or at ``t_0 > 0`` with a chosen ``y0``).
    n_paths, seed, dW, saveat
        As in :func:`simulate_J`.  With the same ``seed`` and ``grid`` every
        kernel of this module draws the same Brownian increments.
    milstein : bool
        Add the Milstein correction (strong order 1 instead of 0.5).
    y0 : float
        Initial value; must be ``Y_STAR`` when ``grid[0] = 0``.

    Returns
    -------
    ts, y : numpy.ndarray
        Output times and ``(n_paths, len(ts))`` values of ``y``; ``q = y^{-2}``.
    """
    g = _check_grid(grid)
    y0 = check_float(y0, "y0", minimum=0.0, strict_min=True)
    if g[0] == 0.0 and y0 != Y_STAR:
        raise ValueError("y0 must be Y_STAR when the grid starts at t = 0 (the start is pinned)")
    ts, out, _ = _run_paths(Y_IMPLICIT, g, n_paths, seed, dW, saveat, milstein, y0, Y_STAR, first_path)
    return ts, out


def simulate_q_implicit(
    grid: ArrayLike,
    n_paths: int = 1000,
    seed: int = 0,
    milstein: bool = True,
    dW: ArrayLike | None = None,
    saveat: ArrayLike | None = None,
    return_stats: bool = False,
    *,
    first_path: int = 0,
) -> tuple[Any, ...]:
    """Drift-implicit (theta = 1) Euler or Milstein scheme on ``q`` itself, from ``t = 0`` exactly.

    One step ``t_k -> t_{k+1}``::

        q_{k+1} - h f(t_{k+1}, q_{k+1}) = q_k + 2 sqrt(2) q_k dB  [+ 4 q_k (dB^2 - h)   (Milstein)],
        f(t, q) = (2 q - a q^{3/2}) / t + 2 q.

    The singular drift is only evaluated at ``t_{k+1} > 0``, so the scheme starts at
    ``q_0 = Q_STAR``, ``t_0 = 0``.  In ``x = sqrt(q_{k+1})`` the step is the cubic
    ``(a h/t_{k+1}) x^3 + (1 - 2h/t_{k+1} - 2h) x^2 = rhs``, which has exactly one
    positive root for ``rhs > 0``; it is found by monotone Newton iteration.
    With the Milstein term ``rhs >= q_k (1/2 - 4h) > 0`` for ``h < 1/8``, so the
    scheme keeps ``q > 0`` without any fix; plain Euler can produce ``rhs <= 0``
    (probability ``P(Z < -1/(2 sqrt(2h)))`` per step), which is reflected and counted.

    Parameters
    ----------
    grid : array_like
        Step times starting at ``t_0 = 0``, strictly increasing.
    n_paths : int
        Number of paths (ignored when ``dW`` is given).
    seed : int
        Seed of the per-path streams (the same increments as :func:`simulate_J`
        for the same ``grid`` and ``seed``).
    milstein : bool
        Add the Milstein term (strong order 1 instead of 1/2; keeps ``q > 0``).
    dW : array_like, optional
        Brownian increments ``(n_paths, N, 1)`` for coupled runs.
    saveat : array_like, optional
        Output times (points of ``grid``); default every grid point.
    return_stats : bool
        Also return the number of reflected steps, summed over paths.

    Returns
    -------
    ts : numpy.ndarray
        Output times.
    q : numpy.ndarray
        ``(n_paths, len(ts))``.
    n_reflected : int
        Only if ``return_stats``.

    Raises
    ------
    ValueError
        If the grid does not start at 0 or is not strictly increasing, if
        ``milstein`` and a step is ``>= 1/8``, or on invalid counts, seed or ``dW``.
    """
    g = _check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (q_0 = Q_STAR is pinned there)")
    if milstein and np.max(np.diff(g)) >= 0.125:
        raise ValueError("grid steps must be < 1/8 for the Milstein variant (positivity of the right-hand side)")
    ts, out, n_refl = _run_paths(Q_IMPLICIT, g, n_paths, seed, dW, saveat, milstein, Q_STAR, A_COEF, first_path)
    return (ts, out, n_refl) if return_stats else (ts, out)


def simulate_q_em(
    grid: ArrayLike,
    n_paths: int = 1000,
    seed: int = 0,
    q0: float = Q_STAR,
    milstein: bool = False,
    dW: ArrayLike | None = None,
    saveat: ArrayLike | None = None,
    return_stats: bool = False,
    *,
    first_path: int = 0,
) -> tuple[Any, ...]:
    """Euler--Maruyama (or Milstein) on ``q`` itself, from ``t0 = grid[0] > 0``.

    The q-drift is singular at ``t = 0``, so this explicit scheme must start at
    ``t0 > 0`` from an approximate initial value, by default the asymptote
    ``q(t0) = Q_STAR``.  Two errors result: the start bias (the true ``q_{t0}``
    has spread ``~ Q_STAR sqrt(8 t0 / 3)``; bias ``O(t0^2)`` in ``E[q^{-1/2}]`` and
    also ``O(t0^2)`` in ``E[q^{-1}]``: the deterministic start misses the mean shift
    ``Y_STAR t0`` and the variance ``O(t0)`` of ``y_{t0}``, but the drift ``-y/t``
    damps a perturbation at ``t0`` by ``t0 / t``; see :func:`second_moment_y_from_t0`) and the
    step bias ``O(h)`` (measured ``~ 2.6 h`` in ``E[q_T^{-1/2}]`` at ``T = 0.5``,
    essentially independent of ``t0``; the drift's stiffness ``-1/t`` at
    ``q = Q_STAR`` only limits stability: ``h < 2 t0``).  Steps with
    ``h >~ 0.005`` send ``q`` below 0 with visible probability (reflected and counted).

    Parameters
    ----------
    grid : array_like
        Step times ``t0 = grid[0] > 0 < ...``.
    n_paths, seed, dW, saveat
        As in :func:`simulate_J`.
    q0 : float
        Initial value at ``t0`` (> 0).
    milstein : bool
        Add the Milstein term ``4 q (dB^2 - h)``.
    return_stats : bool
        Also return the number of steps, summed over paths, that overshot
        below 0 and were reflected (should be 0 for sensible steps).

    Returns
    -------
    ts, q : numpy.ndarray
        Output times and ``(n_paths, len(ts))`` values.
    n_reflected : int
        Only if ``return_stats``.
    """
    g = _check_grid(grid)
    if g[0] <= 0.0:
        raise ValueError(
            "grid must start at t0 > 0: the q-drift is singular at t = 0 "
            "(use simulate_J or simulate_y_implicit to start at 0)"
        )
    q0 = check_float(q0, "q0", minimum=0.0, strict_min=True)
    ts, out, n_refl = _run_paths(Q_EXPLICIT, g, n_paths, seed, dW, saveat, milstein, q0, A_COEF, first_path)
    return (ts, out, n_refl) if return_stats else (ts, out)


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

    Integrates the regular J-equation with Milstein on a uniform grid of step
    ``1 / n_steps_per_unit`` that contains every requested time, and returns
    ``q = Q_STAR t^2 / J^2``.  The strong error in ``y = q^{-1/2}`` is of
    order ``h`` (measured in ``tests/test_corr_unshaped.py``); with the default
    ``h = 1/1024`` it is below 1e-3 relative at ``t <= 1``.

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
    _, J = simulate_J(grid, n_paths=n_paths, seed=seed, scheme="milstein", saveat=ta, first_path=first_path)
    return y_from_J(ta[None, :], J) if return_y else q_from_J(ta[None, :], J)
