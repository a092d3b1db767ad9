"""Infinite-width correlation maps of ReLU and shaped (leaky) ReLU layers.

One layer of an infinitely wide network sends the correlation ``rho`` of two
inputs' pre-activations to ``f(rho)``.  For ``phi_s(x) = s+ max(x, 0) +
s- min(x, 0)`` with the variance-preserving gain ``c = 2 / (s+^2 + s-^2)``
(Cho & Saul 2009 arc-cosine kernel; the ReLU is ``s+ = 1, s- = 0``)::

    f(rho) = rho + k (sqrt(1 - rho^2) - rho arccos rho),
    k      = (s+ - s-)^2 / (pi (s+^2 + s-^2)).

In the angle ``theta = arccos rho`` the bracket is ``g(theta) = sin(theta) -
theta cos(theta)``.  Near ``rho = 1`` both terms of ``g`` are ``theta + O(theta^3)``
and ``1 - rho`` computed as a difference loses every digit below ``eps``; this
module therefore works in ``u = 1 - rho`` (exact input) and evaluates ``g`` by
its Taylor series for small angles, so that ``1 - f`` keeps full relative
accuracy down to ``u ~ 1e-300``::

    u' = 1 - f(1 - u) = u - k g(theta(u)),  theta(u) = 2 arcsin(sqrt(u / 2)).

The depth recursion ``u_{l+1} = u_l - k g(theta(u_l))`` is iterated in ``u``
(Numba), which is what makes ``l = 1e6`` layers accurate: for the ReLU
``l^2 u_l -> 9 pi^2 / 2`` with ``u_l = (9 pi^2 / (2 l^2)) (1 - 3 log(l) / l + O(1/l))``
(see :func:`relu_asymptote`; derivation in ``docs/theory/correlation.md``).

Public API
----------
``corr_map(rho, s_plus=1, s_minus=0)``            f(rho), vectorised
``corr_map_u(u, s_plus=1, s_minus=0)``            1 - f(1 - u), accurate near u = 0
``angle_map(theta, s_plus=1, s_minus=0)``         arccos f(cos theta), accurate near 0
``g_angle(theta)``                                sin(theta) - theta cos(theta), accurate
``theta_from_u(u)`` / ``u_from_theta(theta)``      the angle and ``u`` without cancellation
``shaping_coefficient(s_plus, s_minus)``          k above
``depth_recursion_u(u0, depth, ...)``             u_l, l = 0..depth
``depth_recursion_reference(u0, depth, ...)``     the same in long double (slow reference)
``relu_asymptote(l, order=1)``                    9 pi^2/(2 l^2) (1 - 3 log l / l)
``sample_one_layer(u, n, n_samples, seed, ...)``  the finite-width layer these maps are the limit of
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..networks.activations import check_slopes

__all__ = [
    "Q_STAR",
    "corr_map",
    "corr_map_u",
    "angle_map",
    "g_angle",
    "shaping_coefficient",
    "theta_from_u",
    "u_from_theta",
]

#: Limit of ``l^2 (1 - rho_l)`` for the ReLU recursion (and the start of the q-SDE).
Q_STAR: float = 9.0 * np.pi**2 / 2.0

# Below this angle g is summed from its Taylor series: the 8 terms kept reach
# theta^17 / 17!-scale, i.e. a relative truncation error < 1e-17 for theta < 0.5.
_SERIES_THETA = 0.5


@nb.njit(cache=True)
def g_scalar(theta: float) -> float:
    """Float ``g(theta)`` of :func:`g_angle` for one angle in ``[0, pi]``, Numba-compiled and unchecked (for kernels).

    Examples
    --------
    >>> round(g_scalar(1e-5) / 1e-15, 9)   # theta^3 / 3: the series below theta = 0.5
    0.333333333
    """
    # g(theta) = sum_{k>=1} (-1)^{k+1} 2k theta^{2k+1} / (2k+1)!
    if theta < _SERIES_THETA:
        t2 = theta * theta
        term = theta * t2 / 3.0  # k = 1
        s = term
        for k in range(2, 10):
            # ratio of consecutive terms: -(2k) / (2k-2) * t2 / ((2k)(2k+1))
            term *= -t2 / ((2.0 * k - 2.0) * (2.0 * k + 1.0))
            s += term
        return s
    return math.sin(theta) - theta * math.cos(theta)


@nb.njit(cache=True)
def _theta_from_u_scalar(u):
    # arccos(1 - u) without forming 1 - u: 1 - cos(theta) = 2 sin^2(theta/2).
    return 2.0 * math.asin(math.sqrt(0.5 * u))


@nb.njit(cache=True)
def u_map_scalar(u: float, k: float) -> float:
    """Float ``u - k g(theta(u))`` of :func:`corr_map_u` for one ``u`` in ``[0, 2]``, Numba-compiled and unchecked.

    ``k`` is the :func:`shaping_coefficient`.

    Examples
    --------
    >>> u_map_scalar(0.5, 0.0)   # k = 0: the identity activation
    0.5
    """
    return u - k * g_scalar(_theta_from_u_scalar(u))


@nb.njit(cache=True)
def _g_vec(theta, out):
    for i in range(theta.size):
        out[i] = g_scalar(theta[i])


@nb.njit(cache=True)
def _u_map_vec(u, k, out):
    for i in range(u.size):
        out[i] = u_map_scalar(u[i], k)


def as_float_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``x`` as a float64 array (no copy if it is one); ValueError naming ``name`` if an entry is not finite.

    Examples
    --------
    >>> as_float_array([1, 2], "l")
    array([1., 2.])
    """
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return a


def shaping_coefficient(s_plus: float = 1.0, s_minus: float = 0.0) -> float:
    """Coefficient ``k = (s+ - s-)^2 / (pi (s+^2 + s-^2))`` of the leaky-ReLU map.

    Parameters
    ----------
    s_plus, s_minus : float
        Slopes, checked by :func:`check_slopes` (both >= 0, not both zero).

    Returns
    -------
    float
        ``k``; ``1 / pi`` for the ReLU, ``0`` for the identity.

    Raises
    ------
    ValueError
        If a slope is negative, non-finite, or both are zero.

    Examples
    --------
    >>> shaping_coefficient() == 1 / math.pi, shaping_coefficient(0.7, 0.7)
    (True, 0.0)
    """
    s_plus, s_minus = check_slopes(s_plus, s_minus)
    top = max(s_plus, s_minus)
    if not 1e-150 < top < 1e150:
        # k is scale-invariant: rescale extreme slopes so that the squares neither underflow nor overflow
        s_plus, s_minus = s_plus / top, s_minus / top
    return (s_plus - s_minus) ** 2 / (np.pi * (s_plus**2 + s_minus**2))


def g_angle(theta: ArrayLike) -> NDArray[np.float64]:
    """``g(theta) = sin(theta) - theta cos(theta)`` with full relative accuracy.

    Parameters
    ----------
    theta : array_like
        Angles in ``[0, pi]``.

    Returns
    -------
    numpy.ndarray
        ``g(theta)``; uses the Taylor series ``theta^3/3 - theta^5/30 + ...`` for
        ``theta < 0.5`` where the direct formula cancels.

    Raises
    ------
    ValueError
        If an angle lies outside ``[0, pi]``.

    Examples
    --------
    >>> g_angle([0.0, np.pi]).round(12).tolist()
    [0.0, 3.14159265359]
    """
    th = check_theta(theta)
    out = np.empty(th.size)
    _g_vec(th.ravel(), out)
    return out.reshape(th.shape)


def theta_from_u(u: ArrayLike) -> NDArray[np.float64]:
    """Angle ``arccos(1 - u)`` computed without forming ``1 - u``.

    Parameters
    ----------
    u : array_like
        ``1 - rho`` in ``[0, 2]``.

    Returns
    -------
    numpy.ndarray
        ``2 arcsin(sqrt(u / 2))``.

    Raises
    ------
    ValueError
        If ``u`` is non-finite or outside ``[0, 2]``.

    Examples
    --------
    >>> round(float(theta_from_u(1.0)), 12), round(float(theta_from_u(1e-40)) / 1e-20, 12)   # pi/2, sqrt(2)
    (1.570796326795, 1.414213562373)
    """
    ua = check_u(u)
    return 2.0 * np.arcsin(np.sqrt(0.5 * ua))


def u_from_theta(theta: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`theta_from_u`: ``1 - cos(theta)`` computed as ``2 sin^2(theta / 2)`` (no cancellation).

    Parameters
    ----------
    theta : array_like
        Angles, checked by :func:`check_theta`.

    Returns
    -------
    u : numpy.ndarray
        ``1 - cos(theta)``, with full relative accuracy for small angles.

    Examples
    --------
    >>> float(u_from_theta(1e-20))
    5e-41
    """
    return 2.0 * np.sin(0.5 * check_theta(theta)) ** 2


def check_theta(theta: ArrayLike) -> NDArray[np.float64]:
    """Return the angles ``theta`` as a float64 array; ValueError unless all are finite and in ``[0, pi]``.

    Examples
    --------
    >>> check_theta(4.0)
    Traceback (most recent call last):
    ...
    ValueError: theta must lie in [0, pi]
    """
    th = as_float_array(theta, "theta")
    if np.any(th < 0.0) or np.any(th > np.pi):
        raise ValueError("theta must lie in [0, pi]")
    return th


def check_u(u: ArrayLike) -> NDArray[np.float64]:
    """Return ``u = 1 - rho`` as a float64 array; ValueError unless all entries are finite and in ``[0, 2]``.

    Examples
    --------
    >>> check_u([0.0, 2.0])
    array([0., 2.])
    """
    ua = as_float_array(u, "u")
    if np.any(ua < 0.0) or np.any(ua > 2.0):
        raise ValueError("u = 1 - rho must lie in [0, 2] (rho in [-1, 1])")
    return ua


def check_rho(rho: ArrayLike, name: str = "rho") -> NDArray[np.float64]:
    """Return ``rho`` as a float64 array; ValueError naming ``name`` unless all entries are finite and in ``[-1, 1]``.

    Examples
    --------
    >>> check_rho(1.5, "rho0")
    Traceback (most recent call last):
    ...
    ValueError: rho0 must lie in [-1, 1], got 1.5
    """
    r = as_float_array(rho, name)
    if np.any(r < -1.0) or np.any(r > 1.0):
        raise ValueError(f"{name} must lie in [-1, 1], got {rho!r}")
    return r


def corr_map_u(u: ArrayLike, s_plus: float = 1.0, s_minus: float = 0.0) -> NDArray[np.float64]:
    """One-layer map in ``u = 1 - rho``: returns ``1 - f(1 - u)``.

    Parameters
    ----------
    u : array_like
        ``1 - rho`` in ``[0, 2]``.
    s_plus, s_minus : float, optional
        Leaky-ReLU slopes (default: ReLU).

    Returns
    -------
    numpy.ndarray
        ``u - k g(theta(u))`` with relative error of a few ulp for all ``u``
        (including ``u`` far below machine epsilon).

    Raises
    ------
    ValueError
        If ``u`` is outside ``[0, 2]`` or the slopes are invalid.

    Examples
    --------
    >>> round(float(corr_map_u(1e-20)) / 1e-20, 12)   # 1 - (2 sqrt2/(3 pi)) sqrt(u) + ...
    0.99999999997
    """
    ua = check_u(u)
    k = shaping_coefficient(s_plus, s_minus)
    out = np.empty(ua.size)
    _u_map_vec(ua.ravel(), k, out)
    return out.reshape(ua.shape)


def corr_map(rho: ArrayLike, s_plus: float = 1.0, s_minus: float = 0.0) -> NDArray[np.float64]:
    """Infinite-width correlation map ``f(rho)`` of a (leaky) ReLU layer.

    Parameters
    ----------
    rho : array_like
        Correlations in ``[-1, 1]``.
    s_plus, s_minus : float, optional
        Leaky-ReLU slopes (default ``1, 0``: ReLU, the arc-cosine kernel of
        degree 1 normalised by ``c = 2``).

    Returns
    -------
    numpy.ndarray
        ``f(rho) = rho + k (sqrt(1 - rho^2) - rho arccos rho)``.  Near ``rho = 1``
        prefer :func:`corr_map_u`, whose input ``1 - rho`` is not rounded.

    Raises
    ------
    ValueError
        If ``rho`` is outside ``[-1, 1]`` or the slopes are invalid.

    Examples
    --------
    >>> float(corr_map(1.0)), round(float(corr_map(0.0)), 6)
    (1.0, 0.31831)
    """
    r = check_rho(rho)
    k = shaping_coefficient(s_plus, s_minus)
    theta = np.arccos(r)
    g = np.empty(theta.size)
    _g_vec(theta.ravel(), g)
    return np.minimum(r + k * g.reshape(r.shape), 1.0)


def angle_map(theta: ArrayLike, s_plus: float = 1.0, s_minus: float = 0.0) -> NDArray[np.float64]:
    """One-layer map in the angle: ``arccos f(cos theta)``, accurate near 0.

    Parameters
    ----------
    theta : array_like
        Angles in ``[0, pi]``.
    s_plus, s_minus : float, optional
        Leaky-ReLU slopes.

    Returns
    -------
    numpy.ndarray
        The next-layer angle; for the ReLU ``theta - theta^2/(3 pi) - theta^3/(18 pi^2) + O(theta^4)``.

    Raises
    ------
    ValueError
        If an angle lies outside ``[0, pi]`` or the slopes are invalid.

    Examples
    --------
    >>> th = 1e-6
    >>> round(float((th - angle_map(th)) / (th**2 / (3 * np.pi))), 6)
    1.0
    """
    u = u_from_theta(theta)
    return theta_from_u(np.minimum(corr_map_u(u, s_plus, s_minus), 2.0))
