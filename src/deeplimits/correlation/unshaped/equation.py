"""The unshaped q-SDE, its regular forms (y = q^{-1/2}, J) and their engine ``SDE`` objects.

See :mod:`deeplimits.correlation.unshaped` for the equations.
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from ..maps import Q_STAR

__all__ = [
    "Q_STAR",
    "Y_STAR",
    "A_COEF",
    "q_drift",
    "q_diffusion",
    "q_from_J",
    "y_from_J",
    "q_sde",
    "y_sde",
    "J_sde",
    "check_times",
]

#: ``y_0 = Q_STAR^{-1/2} = sqrt(2) / (3 pi)``.
Y_STAR = math.sqrt(2.0) / (3.0 * math.pi)
#: Coefficient ``a = 2 sqrt(2) / (3 pi)`` of ``q^{3/2} / t`` in the drift of ``q``.
A_COEF = 2.0 * math.sqrt(2.0) / (3.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


# ----------------------------------------------------------------------------- coefficients


@nb.njit(cache=True, inline="always")
def q_drift_value(t, q, a):
    """The q drift ``(2 q - a q^{3/2}) / t + 2 q``: the one definition, used by the engine's drift,
    the explicit kernel and (through ``py_func``, on arrays) :func:`q_drift`."""
    return (2.0 * q - a * q * np.sqrt(np.abs(q))) / t + 2.0 * q


def q_drift(t, q):
    """Drift of the q-SDE, ``(2 q - a q^{3/2}) / t + 2 q`` (vectorised).

    Parameters
    ----------
    t : array_like
        Times ``> 0`` (the drift is singular at ``t = 0``).
    q : array_like
        States ``q >= 0``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If a time is ``<= 0``.
    """
    t = np.asarray(t, dtype=float)
    if np.any(t <= 0.0):
        raise ValueError("t must be > 0: the q-drift is singular at t = 0")
    q = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(q)) or np.any(q < 0.0):
        raise ValueError("q must be finite and >= 0 (q = l^2 (1 - rho) >= 0)")
    return q_drift_value.py_func(t, q, A_COEF)


def q_diffusion(q):
    """Diffusion coefficient of the q-SDE, ``2 sqrt(2) q``.

    Parameters
    ----------
    q : array_like
        States.

    Returns
    -------
    numpy.ndarray
    """
    return 2.0 * _SQRT2 * np.asarray(q, dtype=float)


def check_times(t, allow_zero=True):
    """Times as a float array: finite and ``>= 0`` (``> 0`` unless ``allow_zero``)."""
    ta = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(ta)):
        raise ValueError("t must be finite")
    if np.any(ta < 0.0) or (not allow_zero and np.any(ta == 0.0)):
        raise ValueError(f"t must be {'>= 0' if allow_zero else '> 0'}")
    return ta


# ----------------------------------------------------------------------------- conversions


def q_from_J(t, J):
    """``q = Q_STAR t^2 / J^2 = y^{-2}`` (``Q_STAR`` where ``t = 0``); arguments as :func:`y_from_J`."""
    t = check_times(t)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, y_from_J(t, J) ** -2.0, Q_STAR)


def y_from_J(t, J):
    """``y = q^{-1/2} = Y_STAR J / t`` (``Y_STAR`` where ``t = 0``).

    Parameters
    ----------
    t : array_like
        Times (broadcast against ``J``).
    J : array_like
        Values of the regular J-process.

    Returns
    -------
    numpy.ndarray
        ``y``, broadcast shape of ``t`` and ``J``.
    """
    t = check_times(t)
    J = np.asarray(J, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(t > 0, Y_STAR * J / np.where(t > 0, t, 1.0), Y_STAR)


# ----------------------------------------------------------------------------- engine objects


@nb.njit(cache=True)
def _q_drift_nb(t, y, p, out):
    out[0] = q_drift_value(t, y[0], p[0])


@nb.njit(cache=True)
def _q_diffusion_nb(t, y, p, out):
    out[0, 0] = 2.0 * _SQRT2 * y[0]


@nb.njit(cache=True)
def _q_dgdy_nb(t, y, p, out):
    out[0] = 2.0 * _SQRT2


@nb.njit(cache=True)
def _q_jac_nb(t, y, p, out):
    out[0, 0] = (2.0 - 1.5 * p[0] * math.sqrt(abs(y[0]))) / t + 2.0


@nb.njit(cache=True)
def _y_drift_nb(t, y, p, out):
    out[0] = (p[0] - y[0]) / t + 2.0 * y[0]


@nb.njit(cache=True)
def _y_diffusion_nb(t, y, p, out):
    out[0, 0] = -_SQRT2 * y[0]


@nb.njit(cache=True)
def _y_dgdy_nb(t, y, p, out):
    out[0] = -_SQRT2


@nb.njit(cache=True)
def _y_jac_nb(t, y, p, out):
    out[0, 0] = -1.0 / t + 2.0


@nb.njit(cache=True)
def _J_drift_nb(t, y, p, out):
    out[0] = 1.0 + 2.0 * y[0]


@nb.njit(cache=True)
def _J_jac_nb(t, y, p, out):
    out[0, 0] = 2.0


def _q_drift_torch(t, y, p):
    return (2.0 * y - p[0] * y * y.abs().sqrt()) / t + 2.0 * y


def _q_diffusion_torch(t, y, p):
    return 2.0 * _SQRT2 * y


def q_sde() -> Any:
    """The singular q-SDE as a ``deeplimits.sde.SDE`` (state ``q``, diagonal noise).

    ``dq = [(2q - a q^{3/2})/t + 2q] dt + 2 sqrt(2) q dB``.  Start it with
    ``scheme="theta", theta=1`` from ``t = 0`` (drift never evaluated at 0) or
    with an explicit scheme from ``t0 > 0`` (``y0 = Q_STAR``).  Torch versions of
    the coefficients are attached, so ``backend="torchsde"`` runs natively in
    torch (CPU or GPU).

    Returns
    -------
    deeplimits.sde.SDE

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.correlation import q_sde
    >>> from deeplimits.correlation.unshaped import Q_STAR
    >>> from deeplimits.sde import solve, uniform_grid
    >>> sol = solve(q_sde(), [Q_STAR], uniform_grid(0.0, 1.0, 100), n_paths=200, seed=0, scheme="theta")
    >>> sol.stats["on_exit"], bool(np.all(sol.ys > 0))
    ('reflect', True)
    """
    from ...sde import SDE, Box

    return SDE(
        _q_drift_nb,
        _q_diffusion_nb,
        dim=1,
        params=[A_COEF],
        drift_jacobian=_q_jac_nb,
        diffusion_derivative=_q_dgdy_nb,
        name="unshaped ReLU q-SDE",
        # q = l^2 (1 - rho) > 0: a step of a generic scheme that overshoots below 0 (Euler noise,
        # theta = 1 on coarse grids) is reflected and counted in stats["n_exits"], never returned silently
        domain=Box(lower=0.0, on_exit="reflect"),
        torch_drift=_q_drift_torch,
        torch_diffusion=_q_diffusion_torch,
    )


def y_sde() -> Any:
    """``y = q^{-1/2}``: ``dy = [(Y_STAR - y)/t + 2y] dt - sqrt(2) y dB`` as an engine ``SDE``.

    Returns
    -------
    deeplimits.sde.SDE
        Linear, diagonal noise; start with ``scheme="theta"`` at ``t = 0`` (``y0 = Y_STAR``).
    """
    from ...sde import SDE, Box

    return SDE(
        _y_drift_nb,
        _y_diffusion_nb,
        dim=1,
        params=[Y_STAR],
        drift_jacobian=_y_jac_nb,
        diffusion_derivative=_y_dgdy_nb,
        name="unshaped ReLU y = q^-1/2",
        # y = q^{-1/2} > 0; a step below 0 is kept (the scheme's own law) but counted and warned about
        domain=Box(lower=0.0, on_exit="report"),
    )


def J_sde() -> Any:
    """Regular transformed equation ``dJ = (1 + 2J) dt - sqrt(2) J dB``, ``J_0 = 0``, as an engine ``SDE``.

    Returns
    -------
    deeplimits.sde.SDE
        No singularity: any scheme starts at ``t = 0``; ``q = Q_STAR t^2 / J^2``.
    """
    from ...sde import SDE, Box

    return SDE(
        _J_drift_nb,
        _y_diffusion_nb,
        dim=1,
        drift_jacobian=_J_jac_nb,
        diffusion_derivative=_y_dgdy_nb,
        name="unshaped ReLU J (regular)",
        # J = t sqrt(Q_STAR / q) >= 0 (J_0 = 0); a step below 0 is kept but counted and warned about
        domain=Box(lower=0.0, closed=True, on_exit="report"),
    )
