"""Deterministic depth limits (Li & Nica 2023, first result; arXiv 2310.12079).

Two architectures, both at infinite width (``d << n``), with ``t = l / d``:

* **Shaped MLP at rate d^{-1/2}**: ``s_pm = 1 + c_pm / sqrt(d)``, gain
  ``2 / (s+^2 + s-^2)``.  One layer moves ``rho`` by
  ``k_d g(theta)`` with ``k_d = (s+ - s-)^2 / (pi (s+^2 + s-^2)) = kappa / (2 pi d) (1 + O(d^{-1/2}))``,
  so ``rho_{floor(t d)} -> rho_t`` with::

      d rho / dt = nu(rho) = (kappa / (2 pi)) (sqrt(1 - rho^2) - rho arccos rho),   kappa = (c+ - c-)^2.

* **ResNet with a d^{-1/2} branch**: ``h_{l+1} = h_l + d^{-1/2} n^{-1/2} W_l relu(h_l)``,
  ``W_l`` iid ``N(0, sigma_r^2)``.  At infinite width
  ``V_{l+1} = V_l + (sigma_r^2 / d) sqrt(V^aa V^bb) J1(rho_l)`` (exact), hence::

      dV/dt = sigma_r^2 sqrt(V^aa V^bb) J1(rho),   J1(rho) = (sqrt(1 - rho^2) + rho (pi - arccos rho)) / (2 pi),
      V^aa_t = V^aa_0 exp(sigma_r^2 t / 2),
      d rho / dt = (sigma_r^2 / (2 pi)) (sqrt(1 - rho^2) - rho arccos rho).

  The two correlation ODEs coincide when ``(c+ - c-)^2 = sigma_r^2``.

Both ODEs are integrated in the angle ``theta = arccos rho``
(``d theta/dt = -(kappa/(2 pi)) g(theta)/sin(theta)``, ``g = sin - theta cos``)
with ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-12), which keeps full
relative accuracy in ``1 - rho`` as ``rho -> 1``.

Finite-depth counterparts (the discrete systems the ODEs approximate) are
:func:`shaped_mlp_recursion` and :func:`resnet_recursion`; their distance to the
ODE is measured in ``tests/test_corr_odes.py``: ``O(1/d)`` for the ResNet and for
the shaped MLP with ``c+ + c- = 0``, ``O(d^{-1/2})`` otherwise (the gain
normalisation ``s+^2 + s-^2 = 2 + 2 (c+ + c-)/sqrt(d) + ...`` enters at that order).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from .._checks import check_float, check_int
from ..networks.activations import shaped_slopes
from .depth import depth_recursion_u
from .maps import check_rho, g_angle, theta_from_u, u_from_theta
from .shaped_sde import check_cov, check_kappa, kappa_from_shaping

__all__ = [
    "J1",
    "correlation_ode",
    "shaped_mlp_correlation_ode",
    "resnet_correlation_ode",
    "resnet_covariance_ode",
    "shaped_mlp_recursion",
    "resnet_recursion",
]


def J1(rho: ArrayLike) -> NDArray[np.float64]:
    """Arc-cosine kernel ``E[relu(z_a) relu(z_b)]`` for unit-variance Gaussians with correlation ``rho``.

    Parameters
    ----------
    rho : array_like
        Correlations in ``[-1, 1]``.

    Returns
    -------
    numpy.ndarray
        ``(sqrt(1 - rho^2) + rho (pi - arccos rho)) / (2 pi)``; ``J1(1) = 1/2``.

    Raises
    ------
    ValueError
        If ``rho`` is outside ``[-1, 1]`` or non-finite.

    Examples
    --------
    >>> J1([1.0, 0.0]).round(6).tolist()   # 1/2 and 1/(2 pi)
    [0.5, 0.159155]
    """
    r = check_rho(rho)
    return (np.sqrt(1.0 - r**2) + r * (np.pi - np.arccos(r))) / (2.0 * np.pi)


def _check_sigma_r(sigma_r: float) -> float:
    return check_float(sigma_r, "sigma_r", minimum=0.0)


def _check_V0(V0: ArrayLike) -> NDArray[np.float64]:
    V = check_cov(V0, require_pd=False, name="V0")
    if np.any(np.diag(V) <= 0):
        raise ValueError("V0 must have a positive diagonal (every input a non-zero vector)")
    return V


def _check_times(t: ArrayLike) -> NDArray[np.float64]:
    ta = np.atleast_1d(np.asarray(t, dtype=float))
    if not np.all(np.isfinite(ta)) or np.any(ta < 0):
        raise ValueError("t must be finite and >= 0")
    if np.any(np.diff(ta) < 0):
        raise ValueError("t must be non-decreasing")
    return ta


def _check_depth(depth: int) -> int:
    return check_int(depth, "depth", minimum=1)


def _theta_rhs(_: float, th: NDArray[np.float64], kappa: float) -> list[float]:
    th0 = float(np.clip(th[0], 0.0, np.pi))
    if th0 == 0.0:
        return [0.0]
    return [-(kappa / (2.0 * np.pi)) * float(g_angle(th0)) / math.sin(th0)]


def correlation_ode(rho0: float, t: ArrayLike, kappa: float, return_u: bool = False) -> NDArray[np.float64]:
    """Solve ``d rho/dt = (kappa/(2 pi)) (sqrt(1 - rho^2) - rho arccos rho)``.

    Parameters
    ----------
    rho0 : float
        Initial correlation in ``[-1, 1]``.
    t : array_like
        Non-decreasing output times ``>= 0``.
    kappa : float
        ``(c+ - c-)^2`` (shaped MLP) or ``sigma_r^2`` (ResNet); ``>= 0``.
    return_u : bool
        Return ``1 - rho`` (accurate near ``rho = 1``) instead of ``rho``.

    Returns
    -------
    numpy.ndarray
        ``rho_t`` (or ``1 - rho_t``) at the requested times.

    Raises
    ------
    ValueError
        If ``rho0`` is outside ``[-1, 1]``, the times are negative or decreasing, or ``kappa < 0``.

    Examples
    --------
    >>> round(float(correlation_ode(0.0, [1.0], kappa=1.0)[0]), 6)
    0.141348
    """
    r0 = float(check_rho(rho0, "rho0"))
    ts = _check_times(t)
    kappa = check_kappa(kappa)
    th0 = float(theta_from_u(1.0 - r0))
    if th0 == 0.0 or kappa == 0.0 or ts[-1] == 0.0:
        th = np.full(ts.shape, th0)
    else:
        # the angle only decreases; at theta = pi the rhs is finite (g(pi)/sin -> +inf is excluded:
        # start slightly inside if rho0 = -1)
        if th0 >= np.pi:
            th0 = np.pi * (1 - 1e-15)
        sol = solve_ivp(
            _theta_rhs, (0.0, ts[-1]), [th0], method="DOP853", t_eval=ts, rtol=1e-12, atol=1e-14, args=(kappa,)
        )
        if not sol.success:  # pragma: no cover - solve_ivp failure is reported, never silent
            raise RuntimeError(f"correlation ODE failed: {sol.message}")
        th = np.clip(sol.y[0], 0.0, np.pi)
    u = u_from_theta(th)
    return u if return_u else 1.0 - u


def shaped_mlp_correlation_ode(
    rho0: float, t: ArrayLike, c_plus: float, c_minus: float, return_u: bool = False
) -> NDArray[np.float64]:
    """Correlation limit of the shaped MLP (``s_pm = 1 + c_pm/sqrt(d)``, ``d << n``) at ``t = l/d``.

    :func:`correlation_ode` with ``kappa = (c+ - c-)^2``.

    Parameters
    ----------
    rho0, t, return_u
        As in :func:`correlation_ode`.
    c_plus, c_minus : float
        Shaping constants (finite); the ODE depends on ``kappa = (c+ - c-)^2`` only.

    Examples
    --------
    >>> bool(shaped_mlp_correlation_ode(0.0, [1.0], 1.0, -1.0)[0] == correlation_ode(0.0, [1.0], 4.0)[0])
    True
    """
    return correlation_ode(rho0, t, kappa_from_shaping(c_plus, c_minus), return_u=return_u)


def resnet_correlation_ode(rho0: float, t: ArrayLike, sigma_r: float, return_u: bool = False) -> NDArray[np.float64]:
    """Correlation limit of the ResNet with a ``d^{-1/2}`` branch at ``t = l/d``.

    :func:`correlation_ode` with ``kappa = sigma_r^2``.

    Parameters
    ----------
    rho0, t, return_u
        As in :func:`correlation_ode`.
    sigma_r : float
        Standard deviation of the branch weights (finite, ``>= 0``).

    Examples
    --------
    >>> bool(resnet_correlation_ode(0.0, [1.0], 2.0)[0] == shaped_mlp_correlation_ode(0.0, [1.0], 1.0, -1.0)[0])
    True
    """
    sigma_r = _check_sigma_r(sigma_r)
    return correlation_ode(rho0, t, sigma_r**2, return_u=return_u)


def resnet_covariance_ode(V0: ArrayLike, t: ArrayLike, sigma_r: float) -> NDArray[np.float64]:
    """Covariance limit ``V_t`` of the ResNet (any number of inputs).

    Uses ``V^aa_t = V^aa_0 e^{sigma_r^2 t / 2}`` and the correlation ODE for each
    pair: ``V^ab_t = rho^ab_t sqrt(V^aa_t V^bb_t)``.

    Parameters
    ----------
    V0 : array_like, shape (m, m)
        Positive semi-definite initial covariance with positive diagonal.
    t : array_like
        Non-decreasing output times ``>= 0``.
    sigma_r : float
        Branch weight standard deviation (``>= 0``).

    Returns
    -------
    numpy.ndarray, shape (len(t), m, m)

    Raises
    ------
    ValueError
        If ``V0`` is not PSD with a positive diagonal, or on invalid times or ``sigma_r``.

    Examples
    --------
    >>> V = resnet_covariance_ode(np.eye(2), [0.0, 1.0], 1.0)
    >>> V.shape, round(float(V[1, 0, 0]), 6)   # e^{1/2}
    ((2, 2, 2), 1.648721)
    """
    V0 = _check_V0(V0)
    ts = _check_times(t)
    sigma_r = _check_sigma_r(sigma_r)
    m = V0.shape[0]
    d0 = np.sqrt(np.diag(V0))
    scale = np.exp(sigma_r**2 * ts / 2.0)
    out = np.empty((ts.size, m, m))
    for a in range(m):
        out[:, a, a] = V0[a, a] * scale
        for b in range(a + 1, m):
            r0 = float(np.clip(V0[a, b] / (d0[a] * d0[b]), -1.0, 1.0))
            rho = resnet_correlation_ode(r0, ts, sigma_r)
            out[:, a, b] = out[:, b, a] = rho * d0[a] * d0[b] * scale
    return out


def shaped_mlp_recursion(rho0: float, depth: int, c_plus: float, c_minus: float) -> NDArray[np.float64]:
    """Infinite-width shaped MLP of depth ``d``: ``rho_{l+1} = f_s(rho_l)``, ``s_pm = 1 + c_pm/sqrt(d)``.

    The finite-depth system whose ``d -> infinity`` limit is
    :func:`shaped_mlp_correlation_ode`; iterated in ``u = 1 - rho``.

    Parameters
    ----------
    rho0 : float
        Input correlation in ``[-1, 1]``.
    depth : int
        Depth ``d >= 1``.
    c_plus, c_minus : float
        Shaping constants.

    Returns
    -------
    numpy.ndarray
        ``1 - rho_l`` for ``l = 0..d`` (times ``t = l/d``).

    Raises
    ------
    ValueError
        If ``depth < 1`` or the slopes would be negative (non-monotone activation).

    Examples
    --------
    >>> shaped_mlp_recursion(0.0, 4, 1.0, -1.0).round(4).tolist()
    [1.0, 0.8727, 0.7698, 0.6851, 0.6144]
    """
    depth = _check_depth(depth)
    sp, sm = shaped_slopes(c_plus, c_minus, depth)
    r0 = float(check_rho(rho0, "rho0"))
    if r0 == 1.0:
        return np.zeros(depth + 1)
    return depth_recursion_u(1.0 - r0, depth, sp, sm)


def resnet_recursion(V0: ArrayLike, depth: int, sigma_r: float) -> NDArray[np.float64]:
    """Infinite-width ResNet: ``V_{l+1} = V_l + (sigma_r^2/d) sqrt(V^aa V^bb) J1(rho_l)``, ``l = 0..d``.

    The finite-depth system whose ``d -> infinity`` limit is :func:`resnet_covariance_ode`.

    Parameters
    ----------
    V0 : array_like, shape (m, m)
        Positive semi-definite input covariance with positive diagonal.
    depth : int
        Depth ``d >= 1``.
    sigma_r : float
        Branch weight standard deviation (``>= 0``).

    Returns
    -------
    numpy.ndarray, shape (depth + 1, m, m)

    Raises
    ------
    ValueError
        If ``depth < 1``, ``V0`` is not PSD with a positive diagonal, or ``sigma_r`` is invalid.

    Examples
    --------
    >>> V = resnet_recursion(np.eye(2), 4, 1.0)
    >>> V.shape, round(float(V[-1, 0, 0]), 4)   # (1 + 1/8)^4, against e^{1/2} = 1.6487 as d -> infinity
    ((5, 2, 2), 1.6018)
    """
    depth = _check_depth(depth)
    V = _check_V0(V0)
    c = _check_sigma_r(sigma_r) ** 2 / depth
    out = np.empty((depth + 1,) + V.shape)
    out[0] = V
    for l in range(depth):
        d = np.sqrt(np.diag(V))
        rho = np.clip(V / np.outer(d, d), -1.0, 1.0)
        np.fill_diagonal(rho, 1.0)
        V = V + c * np.outer(d, d) * J1(rho)
        out[l + 1] = V
    return out
