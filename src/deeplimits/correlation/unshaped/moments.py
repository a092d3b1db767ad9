"""Closed-form moments of the unshaped q-SDE and exact moments of its linear schemes."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_float
from ...sde.grids import check_grid
from ..maps import Q_STAR
from .equation import Y_STAR, check_times

__all__ = [
    "mean_J",
    "second_moment_J",
    "mean_y",
    "mean_inv_q",
    "var_q_small_t",
    "mean_y_from_t0",
    "second_moment_y_from_t0",
    "J_scheme_moments",
    "y_implicit_scheme_moments",
    "y_implicit_scheme_mean",
]


def check_start(t: ArrayLike, t0: float) -> tuple[NDArray[np.float64], float]:
    """Times ``t`` and a start time ``t0`` with ``0 < t0 <= t`` (finite), as an array and a float."""
    ta = check_times(t, allow_zero=False)
    t0 = check_float(t0, "t0", minimum=0.0, strict_min=True)
    if np.any(ta < t0):
        raise ValueError(f"t must be >= t0={t0}, got min(t)={ta.min()}")
    return ta, t0


def mean_J(t):
    """``E[J_t] = (e^{2t} - 1) / 2`` (``expm1`` form, accurate as ``t -> 0``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[J_t]``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = check_times(t)
    return 0.5 * np.expm1(2.0 * ta)


def second_moment_J(t):
    """``E[J_t^2] = e^{6t}/12 - e^{2t}/4 + 1/6`` (solves ``m' = 2 E[J] + 6 m``, ``m(0) = 0``).

    Written as ``expm1(6t)/12 - expm1(2t)/4`` so that it stays accurate as ``t -> 0``
    (where it behaves like ``t^2``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[J_t^2]``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = check_times(t)
    return np.expm1(6.0 * ta) / 12.0 - np.expm1(2.0 * ta) / 4.0


def mean_y(t):
    """``E[q_t^{-1/2}] = Y_STAR (e^{2t} - 1) / (2t)`` (``Y_STAR`` at ``t = 0``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[y_t]``, ``y = q^{-1/2}``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.

    Examples
    --------
    >>> round(float(mean_y(0.0)), 6), round(float(mean_y(0.5)), 6)
    (0.150053, 0.257833)
    """
    ta = check_times(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ta > 0, 0.5 * np.expm1(2.0 * ta) / np.where(ta > 0, ta, 1.0), 1.0)
    return Y_STAR * r


def mean_inv_q(t):
    """``E[q_t^{-1}] = E[J_t^2] / (Q_STAR t^2)``.

    Parameters
    ----------
    t : array_like
        Times ``> 0``.

    Returns
    -------
    numpy.ndarray
        ``E[1/q_t]``.

    Raises
    ------
    ValueError
        If a time is non-finite or <= 0.
    """
    ta = check_times(t, allow_zero=False)
    return second_moment_J(ta) / (Q_STAR * ta**2)


def var_q_small_t(t):
    """Leading small-t variance ``Var q_t ~ (8/3) Q_STAR^2 t`` (relative correction ``O(t)``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        The leading term.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = check_times(t)
    return 8.0 / 3.0 * Q_STAR**2 * ta


def mean_y_from_t0(t, t0, y0=Y_STAR):
    """``E[y_t]`` for the y-equation started at ``y(t0) = y0`` (deterministic start).

    With ``m = E[y]``: ``(t m)' = Y_STAR + 2 t m``, so
    ``t m(t) = (t0 y0 + Y_STAR/2) e^{2(t - t0)} - Y_STAR / 2``.  For ``y0 = Y_STAR``
    the bias against :func:`mean_y` is ``-Y_STAR e^{2t} t0^2 / t + O(t0^3)``.

    Parameters
    ----------
    t : array_like
        Times ``>= t0``.
    t0 : float
        Start time ``> 0``.
    y0 : float, optional
        Start value (default ``Y_STAR``, the asymptotic start).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Unless ``0 < t0 <= t``.
    """
    ta, t0 = check_start(t, t0)
    return ((t0 * y0 + 0.5 * Y_STAR) * np.exp(2.0 * (ta - t0)) - 0.5 * Y_STAR) / ta


def second_moment_y_from_t0(t, t0, y0=Y_STAR):
    """``E[y_t^2] = E[q_t^{-1}]`` for the y-equation started at ``y(t0) = y0``.

    ``P = t^2 E[y^2]`` solves ``P' = 6 P + 2 Y_STAR (t E[y])``; with
    ``t E[y] = A e^{2t} - Y_STAR/2``, ``A = (t0 y0 + Y_STAR/2) e^{-2 t0}``:
    ``P = B e^{6t} - (Y_STAR A / 2) e^{2t} + Y_STAR^2 / 6``, ``B`` from ``P(t0) = t0^2 y0^2``.
    The bias against :func:`mean_inv_q` is ``O(t0^2)``, not ``O(t0)``: the missing
    variance ``O(t0)`` of ``y_{t0}`` is damped by ``(t0/t)^2`` by the drift ``-y/t``.

    Parameters
    ----------
    t : array_like
        Times ``>= t0``.
    t0 : float
        Start time ``> 0``.
    y0 : float, optional
        Start value (default ``Y_STAR``).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Unless ``0 < t0 <= t``.
    """
    ta, t0 = check_start(t, t0)
    A = (t0 * y0 + 0.5 * Y_STAR) * math.exp(-2.0 * t0)
    C = -0.5 * Y_STAR * A
    D = Y_STAR**2 / 6.0
    B = math.exp(-6.0 * t0) * (t0**2 * y0**2 - C * math.exp(2.0 * t0) - D)
    return (B * np.exp(6.0 * ta) + C * np.exp(2.0 * ta) + D) / ta**2


def y_implicit_scheme_moments(grid, y0=Y_STAR, milstein=False):
    """Exact first and second moments of :func:`simulate_y_implicit` at every grid point.

    The scheme is linear, ``y_{k+1} = A_k y_k + b_k`` with ``A_k`` independent of ``y_k``:
    ``A = (1 + 2h - sqrt(2) dB [+ dB^2 - h]) / (1 + h/t_{k+1})``, ``b = (h Y_STAR/t_{k+1}) / (1 + h/t_{k+1})``,
    so ``E[y]`` and ``E[y^2]`` follow deterministic recursions with ``E[A] = (1 + 2h)/(1 + h/t_{k+1})`` and
    ``E[A^2] = ((1 + 2h)^2 + 2h)/(1 + h/t_{k+1})^2`` (Euler) or
    ``((1 + h)^2 + 2 (1 + h) h + 3 h^2 + 2h)/(1 + h/t_{k+1})^2`` (Milstein).  Used as exact control
    variates for weak errors in ``E[q^{-1/2}]`` and ``E[q^{-1}]``.

    Parameters
    ----------
    grid : array_like
        Step times (strictly increasing; ``grid[0] = 0`` or ``> 0``).
    y0 : float, optional
        Start value (deterministic).
    milstein : bool, optional
        Moments of the Milstein variant.

    Returns
    -------
    m1, m2 : numpy.ndarray
        ``E[y_k]`` and ``E[y_k^2]`` for every grid point.

    Raises
    ------
    ValueError
        On an invalid grid.
    """
    g = check_grid(grid)
    m1 = np.empty(g.size)
    m2 = np.empty(g.size)
    m1[0] = float(y0)
    m2[0] = float(y0) ** 2
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        den = 1.0 + h / g[k + 1]
        b = h * Y_STAR / g[k + 1] / den
        ea = (1.0 + 2.0 * h) / den
        if milstein:
            ea2 = ((1.0 + h) ** 2 + 2.0 * (1.0 + h) * h + 3.0 * h * h + 2.0 * h) / den**2
        else:
            ea2 = ((1.0 + 2.0 * h) ** 2 + 2.0 * h) / den**2
        m1[k + 1] = ea * m1[k] + b
        m2[k + 1] = ea2 * m2[k] + 2.0 * b * ea * m1[k] + b * b
    return m1, m2


def y_implicit_scheme_mean(grid, y0=Y_STAR):
    """Exact expectation of :func:`simulate_y_implicit` at every grid point (see :func:`y_implicit_scheme_moments`).

    Parameters
    ----------
    grid : array_like
        Step times (strictly increasing).
    y0 : float, optional
        Start value.

    Returns
    -------
    numpy.ndarray
        ``E[y_k]`` for every grid point (the Milstein term has mean zero: the same for both variants).
    """
    return y_implicit_scheme_moments(grid, y0)[0]


def J_scheme_moments(grid, scheme="milstein"):
    """Exact first and second moments of :func:`simulate_J`'s discrete solution.

    Both J-schemes are linear, ``J_{k+1} = A_k J_k + h_k`` with ``A_k`` independent
    of ``J_k``: ``A = 1 + 2h - sqrt(2) dB`` (Euler) or ``A = 1 + h + dB^2 - sqrt(2) dB``
    (Milstein), so ``E[J]`` and ``E[J^2]`` follow deterministic recursions with
    ``E[A] = 1 + 2h`` and ``E[A^2] = (1 + 2h)^2 + 2h`` (Euler) or
    ``(1 + h)^2 + 2 (1 + h) h + 3 h^2 + 2 h`` (Milstein).  Used as an exact
    control variate for weak errors of schemes driven by the same increments.

    Parameters
    ----------
    grid : array_like
        Step times starting at 0, strictly increasing.
    scheme : {"euler", "milstein"}
        Which J-scheme.

    Returns
    -------
    m1, m2 : numpy.ndarray
        ``E[J_k]`` and ``E[J_k^2]`` at every grid point.

    Raises
    ------
    ValueError
        On an invalid grid or scheme.
    """
    g = check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (J_0 = 0)")
    if scheme not in ("euler", "milstein"):
        raise ValueError(f"scheme must be 'euler' or 'milstein', got {scheme!r}")
    m1 = np.zeros(g.size)
    m2 = np.zeros(g.size)
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        ea = 1.0 + 2.0 * h
        if scheme == "euler":
            ea2 = ea * ea + 2.0 * h
        else:
            ea2 = (1.0 + h) ** 2 + 2.0 * (1.0 + h) * h + 3.0 * h * h + 2.0 * h
        m1[k + 1] = ea * m1[k] + h
        m2[k + 1] = ea2 * m2[k] + 2.0 * h * ea * m1[k] + h * h
    return m1, m2
