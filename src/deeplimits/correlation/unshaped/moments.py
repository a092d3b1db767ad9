"""Closed-form moments of the unshaped q-SDE and exact moments of its linear schemes."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_bool, check_choice, check_float
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
    """Times ``t`` and a start time ``t0`` with ``0 < t0 <= t`` (finite), as an array and a float.

    Examples
    --------
    >>> check_start([0.5], 0.1)
    (array([0.5]), 0.1)
    """
    ta = check_times(t, allow_zero=False)
    t0 = check_float(t0, "t0", minimum=0.0, strict_min=True)
    if np.any(ta < t0):
        raise ValueError(f"t must be >= t0={t0}, got min(t)={ta.min()}")
    return ta, t0


def mean_J(t: ArrayLike) -> NDArray[np.float64]:
    """``E[J_t] = (e^{2t} - 1) / 2``, in ``expm1`` form (accurate as ``t -> 0``, where it is ``~ t``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0`` (a ValueError names ``t`` otherwise, as in every closed form here).

    Returns
    -------
    numpy.ndarray
        ``E[J_t]``, the shape of ``t``.

    Examples
    --------
    >>> abs(float(mean_J(0.5)) - (np.e - 1) / 2) < 1e-15  # (e - 1) / 2 up to rounding
    True
    """
    return 0.5 * np.expm1(2.0 * check_times(t))


def second_moment_J(t: ArrayLike) -> NDArray[np.float64]:
    """``E[J_t^2] = e^{6t}/12 - e^{2t}/4 + 1/6``, which solves ``m' = 2 E[J] + 6 m``, ``m(0) = 0``.

    Written as ``expm1(6t)/12 - expm1(2t)/4`` so that it stays accurate as ``t -> 0``
    (where it behaves like ``t^2``); ``t`` as in :func:`mean_J`.

    Examples
    --------
    >>> round(float(second_moment_J(1e-4) / 1e-8), 3)
    1.0
    """
    ta = check_times(t)
    return np.expm1(6.0 * ta) / 12.0 - np.expm1(2.0 * ta) / 4.0


def mean_y(t: ArrayLike) -> NDArray[np.float64]:
    """``E[q_t^{-1/2}] = E[y_t] = Y_STAR (e^{2t} - 1) / (2t)`` (``Y_STAR`` at ``t = 0``); ``t`` as in :func:`mean_J`.

    Examples
    --------
    >>> round(float(mean_y(0.0)), 6), round(float(mean_y(0.5)), 6)
    (0.150053, 0.257833)
    """
    ta = check_times(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ta > 0, 0.5 * np.expm1(2.0 * ta) / np.where(ta > 0, ta, 1.0), 1.0)
    return Y_STAR * r


def mean_inv_q(t: ArrayLike) -> NDArray[np.float64]:
    """``E[q_t^{-1}] = E[J_t^2] / (Q_STAR t^2)`` at times ``t > 0`` (a ValueError names ``t`` otherwise).

    Examples
    --------
    >>> round(float(mean_inv_q(1e-6) * Q_STAR), 5)
    1.0
    """
    ta = check_times(t, allow_zero=False)
    return second_moment_J(ta) / (Q_STAR * ta**2)


def var_q_small_t(t: ArrayLike) -> NDArray[np.float64]:
    """Leading small-t variance ``Var q_t ~ (8/3) Q_STAR^2 t`` (relative correction ``O(t)``).

    ``t`` as in :func:`mean_J`.

    Examples
    --------
    >>> float(var_q_small_t(0.0))
    0.0
    """
    return 8.0 / 3.0 * Q_STAR**2 * check_times(t)


def mean_y_from_t0(t: ArrayLike, t0: float, y0: float = Y_STAR) -> NDArray[np.float64]:
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
        ``E[y_t]``, the shape of ``t``.

    Raises
    ------
    ValueError
        Unless ``0 < t0 <= t`` (naming ``t0`` or ``t``).

    Examples
    --------
    >>> bias = float(mean_y_from_t0(0.5, 1e-3) - mean_y(0.5))
    >>> round(bias / (-Y_STAR * np.e * 1e-6 / 0.5), 2)
    1.0
    """
    ta, t0 = check_start(t, t0)
    return ((t0 * y0 + 0.5 * Y_STAR) * np.exp(2.0 * (ta - t0)) - 0.5 * Y_STAR) / ta


def second_moment_y_from_t0(t: ArrayLike, t0: float, y0: float = Y_STAR) -> NDArray[np.float64]:
    """``E[y_t^2] = E[q_t^{-1}]`` for the y-equation started at ``y(t0) = y0``; arguments as :func:`mean_y_from_t0`.

    ``P = t^2 E[y^2]`` solves ``P' = 6 P + 2 Y_STAR (t E[y])``; with
    ``t E[y] = A e^{2t} - Y_STAR/2``, ``A = (t0 y0 + Y_STAR/2) e^{-2 t0}``:
    ``P = B e^{6t} - (Y_STAR A / 2) e^{2t} + Y_STAR^2 / 6``, ``B`` from ``P(t0) = t0^2 y0^2``.
    The bias against :func:`mean_inv_q` is ``O(t0^2)``, not ``O(t0)``: the missing
    variance ``O(t0)`` of ``y_{t0}`` is damped by ``(t0/t)^2`` by the drift ``-y/t``.

    Examples
    --------
    >>> round(float(second_moment_y_from_t0(0.2, 0.2, y0=2.0)), 12)  # E[y^2] = y0^2 at the start
    4.0
    """
    ta, t0 = check_start(t, t0)
    A = (t0 * y0 + 0.5 * Y_STAR) * math.exp(-2.0 * t0)
    C = -0.5 * Y_STAR * A
    D = Y_STAR**2 / 6.0
    B = math.exp(-6.0 * t0) * (t0**2 * y0**2 - C * math.exp(2.0 * t0) - D)
    return (B * np.exp(6.0 * ta) + C * np.exp(2.0 * ta) + D) / ta**2


def _linear_scheme_moments(
    g: NDArray[np.float64], x0: float, milstein: bool, singular: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``E[x_k]``, ``E[x_k^2]`` of ``x_{k+1} = A_k x_k + b_k`` with ``A_k`` independent of ``x_k``.

    J-schemes: ``A = 1 + 2h - sqrt(2) dB [+ dB^2 - h]``, ``b = h``, so ``E[A] = 1 + 2h`` and
    ``E[A^2] = (1 + 2h)^2 + 2h`` (Euler) or ``(1 + h)^2 + 2 (1 + h) h + 3 h^2 + 2h`` (Milstein).
    The y-schemes (``singular``) divide ``A`` and ``b = h Y_STAR / t_{k+1}`` by ``1 + h / t_{k+1}``.
    """
    m1 = np.empty(g.size)
    m2 = np.empty(g.size)
    m1[0] = x0
    m2[0] = x0**2
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        ea = 1.0 + 2.0 * h
        if milstein:
            ea2 = (1.0 + h) ** 2 + 2.0 * (1.0 + h) * h + 3.0 * h * h + 2.0 * h
        else:
            ea2 = ea * ea + 2.0 * h
        b = h
        if singular:
            den = 1.0 + h / g[k + 1]
            b = h * Y_STAR / g[k + 1] / den
            ea, ea2 = ea / den, ea2 / den**2
        m1[k + 1] = ea * m1[k] + b
        m2[k + 1] = ea2 * m2[k] + 2.0 * b * ea * m1[k] + b * b
    return m1, m2


def y_implicit_scheme_moments(
    grid: ArrayLike, y0: float = Y_STAR, milstein: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact first and second moments of the drift-implicit y-schemes at every grid point.

    The schemes ``solve(y_sde(), ..., scheme="implicit_euler" | "implicit_milstein")`` are
    linear, ``y_{k+1} = A_k y_k + b_k`` with ``A_k`` independent of ``y_k``:
    ``A = (1 + 2h - sqrt(2) dB [+ dB^2 - h]) / (1 + h/t_{k+1})``, ``b = (h Y_STAR/t_{k+1}) / (1 + h/t_{k+1})``,
    so ``E[y]`` and ``E[y^2]`` follow deterministic recursions.  Used as exact control
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
        On an invalid grid or start value.

    Examples
    --------
    >>> m1, m2 = y_implicit_scheme_moments([0.0, 0.25, 0.5], milstein=True)
    >>> bool(m1[0] == Y_STAR), m2.shape
    (True, (3,))
    """
    g = check_grid(grid)
    y0 = check_float(y0, "y0")
    return _linear_scheme_moments(g, y0, check_bool(milstein, "milstein"), singular=True)


def y_implicit_scheme_mean(grid: ArrayLike, y0: float = Y_STAR) -> NDArray[np.float64]:
    """``E[y_k]`` of the drift-implicit y-schemes, the same for both variants (the Milstein term has mean 0).

    Arguments as :func:`y_implicit_scheme_moments`.

    Examples
    --------
    >>> y_implicit_scheme_mean([0.0, 0.5]).shape
    (2,)
    """
    return y_implicit_scheme_moments(grid, y0)[0]


def J_scheme_moments(grid: ArrayLike, scheme: str = "milstein") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact first and second moments of the J-schemes ``solve(J_sde(), [0.0], grid, scheme=scheme)``.

    Both J-schemes are linear, ``J_{k+1} = A_k J_k + h_k`` with ``A_k`` independent
    of ``J_k``: ``A = 1 + 2h - sqrt(2) dB`` (Euler) or ``A = 1 + h + dB^2 - sqrt(2) dB``
    (Milstein), so ``E[J]`` and ``E[J^2]`` follow deterministic recursions.  Used as an
    exact control variate for weak errors of schemes driven by the same increments.

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

    Examples
    --------
    >>> m1, _ = J_scheme_moments([0.0, 0.5, 1.0], "euler")
    >>> m1.tolist()
    [0.0, 0.5, 1.5]
    """
    g = check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (J_0 = 0)")
    check_choice(scheme, "scheme", ("euler", "milstein"))
    return _linear_scheme_moments(g, 0.0, scheme == "milstein", singular=False)
