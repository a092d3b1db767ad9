"""The unshaped q-SDE and its regular forms (y = q^{-1/2}, J): coefficients and conversions.

See :mod:`deeplimits.correlation.unshaped` for the equations; :mod:`.engine` builds
them as ``deeplimits.sde.SDE`` objects.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..maps import Q_STAR

__all__ = ["Q_STAR", "Y_STAR", "A_COEF", "q_drift", "q_diffusion", "q_from_J", "y_from_J"]

#: ``y_0 = Q_STAR^{-1/2} = sqrt(2) / (3 pi)``.
Y_STAR = math.sqrt(2.0) / (3.0 * math.pi)
#: Coefficient ``a = 2 sqrt(2) / (3 pi)`` of ``q^{3/2} / t`` in the drift of ``q``.
A_COEF = 2.0 * math.sqrt(2.0) / (3.0 * math.pi)
SQRT2 = math.sqrt(2.0)


# ----------------------------------------------------------------------------- coefficients


@nb.njit(cache=True, inline="always")
def q_drift_value(t, q, a):
    """The q drift ``(2 q - a q^{3/2}) / t + 2 q``: the one definition, used by the engine's drift,
    the explicit kernel and (through ``py_func``, on arrays) :func:`q_drift`."""
    return (2.0 * q - a * q * np.sqrt(np.abs(q))) / t + 2.0 * q


def q_drift(t: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    """Drift of the q-SDE, ``(2 q - a q^{3/2}) / t + 2 q`` (vectorised).

    Parameters
    ----------
    t : array_like
        Times ``> 0`` (the drift is singular at ``t = 0``).
    q : array_like
        States ``q >= 0``, broadcast against ``t``.

    Returns
    -------
    numpy.ndarray
        The drift, broadcast shape of ``t`` and ``q``; its singular part ``(2 q - a q^{3/2}) / t``
        vanishes at ``q = Q_STAR``.

    Raises
    ------
    ValueError
        If a time is ``<= 0``, or a state is negative or not finite.

    Examples
    --------
    >>> round(float(q_drift(1.0, Q_STAR) / Q_STAR), 9)
    2.0
    """
    ta = np.asarray(t, dtype=float)
    if np.any(ta <= 0.0):
        raise ValueError("t must be > 0: the q-drift is singular at t = 0")
    qa = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(qa)) or np.any(qa < 0.0):
        raise ValueError("q must be finite and >= 0 (q = l^2 (1 - rho) >= 0)")
    return np.asarray(q_drift_value.py_func(ta, qa, A_COEF), dtype=np.float64)


def q_diffusion(q: ArrayLike) -> NDArray[np.float64]:
    """Diffusion coefficient of the q-SDE, ``2 sqrt(2) q``.

    Parameters
    ----------
    q : array_like
        States.

    Returns
    -------
    numpy.ndarray
        ``2 sqrt(2) q``, the shape of ``q``.

    Examples
    --------
    >>> q_diffusion([0.0, 1.0]) / np.sqrt(8.0)
    array([0., 1.])
    """
    return 2.0 * SQRT2 * np.asarray(q, dtype=float)


def check_times(t: ArrayLike, allow_zero: bool = True) -> NDArray[np.float64]:
    """Times as a float array: finite and ``>= 0`` (``> 0`` unless ``allow_zero``).

    Raises
    ------
    ValueError
        Naming ``t``, for a non-finite or out-of-range time.

    Examples
    --------
    >>> check_times([0.0, 0.5])
    array([0. , 0.5])
    """
    ta = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(ta)):
        raise ValueError("t must be finite")
    if np.any(ta < 0.0) or (not allow_zero and np.any(ta == 0.0)):
        raise ValueError(f"t must be {'>= 0' if allow_zero else '> 0'}")
    return ta


# ----------------------------------------------------------------------------- conversions


def q_from_J(t: ArrayLike, J: ArrayLike) -> NDArray[np.float64]:
    """``q = Q_STAR t^2 / J^2 = y^{-2}`` (``Q_STAR`` where ``t = 0``); arguments as :func:`y_from_J`.

    Examples
    --------
    >>> float(q_from_J(0.0, 0.0)) == Q_STAR
    True
    """
    ta = check_times(t)
    with np.errstate(divide="ignore"):
        return np.where(ta > 0, y_from_J(ta, J) ** -2.0, Q_STAR)


def y_from_J(t: ArrayLike, J: ArrayLike) -> NDArray[np.float64]:
    """``y = q^{-1/2} = Y_STAR J / t`` (``Y_STAR`` where ``t = 0``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0`` (broadcast against ``J``).
    J : array_like
        Values of the regular J-process.

    Returns
    -------
    numpy.ndarray
        ``y``, broadcast shape of ``t`` and ``J``.

    Examples
    --------
    >>> float(y_from_J(0.5, 0.5)) == Y_STAR
    True
    """
    ta = check_times(t)
    Ja = np.asarray(J, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ta > 0, Y_STAR * Ja / np.where(ta > 0, ta, 1.0), Y_STAR)
