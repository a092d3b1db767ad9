"""Neural covariance SDE of shaped ReLU MLPs (Li, Nica & Roy 2022, arXiv 2206.02768).

Shaped ReLU ``phi(x) = s+ max(x,0) + s- min(x,0)``, ``s_pm = 1 + c_pm / sqrt(n)``,
width ``n``, depth ``d``, ``d / n -> T``.  The covariance of ``m`` inputs at
layer ``floor(tau n)`` converges to the solution of::

    dV = b(V) dtau + L dH L^T,    L L^T = V,
    b^{ab} = nu(rho^{ab}) sqrt(V^{aa} V^{bb}),   rho^{ab} = V^{ab} / sqrt(V^{aa} V^{bb}),
    nu(rho) = (kappa / (2 pi)) (sqrt(1 - rho^2) - rho arccos rho),   kappa = (c+ - c-)^2,

with ``H`` a symmetric matrix Brownian motion (``Var dH_ii = 2 dt``,
``Var dH_ij = dt``), which realises ``Cov(dV^{ab}, dV^{cd}) = (V^{ac} V^{bd} +
V^{ad} V^{bc}) dt``.

PSD-preserving integration (factor form)
----------------------------------------
Write ``V = L L^T`` with ``L`` any square factor and let ``L`` solve::

    dL = L (D dt + dH / 2),    D = M / 2 - (m + 1) / 8 I,    M = L^{-1} b(V) L^{-T}.

By Ito, ``d(L L^T) = L (D + D^T) L^T dt + L dH L^T + (1/4) L E[dH dH] L^T
= b dt + L dH L^T`` because ``E[dH^2] = (m + 1) I dt``.  Any scheme for ``L``
returns ``V = L L^T``, positive semi-definite by construction.
:func:`covariance_factor_sde` builds this ``L``-equation as an engine ``SDE``
(state ``vec(L)``, general noise of dimension ``m (m + 1) / 2``); Euler on it
has strong order 1/2 and weak order 1 (measured in ``tests/test_corr_shaped.py``).

Correlation marginal (Fisher z-form)
------------------------------------
For two inputs ``rho`` is itself Markov (Ito)::

    d rho = [nu(rho) - rho (1 - rho^2) / 2] dt + (1 - rho^2) dW,

and ``zeta = artanh(rho)`` has *additive* noise::

    d zeta = [nu(rho) / (1 - rho^2) + rho / 2] dt + dW,     rho = tanh(zeta),

so ``rho`` stays in ``(-1, 1)`` without reflection or clipping, and
Euler--Maruyama has strong order 1 (additive noise).  In the angle
``theta = arccos rho``: ``d theta = -(kappa/(2 pi)) (1 - theta cot theta) dt - sin(theta) dW``.

Public API
----------
``nu(rho, kappa)``                                     drift function
``correlation_sde(kappa)`` / ``sample_correlation(...)``   Fisher-z SDE and sampler
``covariance_factor_sde(m, kappa)`` / ``sample_covariance(...)``  factor SDE and sampler
``covariance_drift(V, kappa)``                         b(V)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_float, check_int
from .maps import check_rho, g_scalar
from .sampling import ShapedSampling, shaped_sampler

if TYPE_CHECKING:
    from ..sde import SDE

__all__ = [
    "kappa_from_shaping",
    "nu",
    "covariance_drift",
    "correlation_sde",
    "sample_correlation",
    "theta_martingale_mean",
]

_SQRT2 = math.sqrt(2.0)


def kappa_from_shaping(c_plus: float, c_minus: float) -> float:
    """``kappa = (c+ - c-)^2``, the only combination of the shaping constants that enters the limits.

    Parameters
    ----------
    c_plus, c_minus : float
        Shaping constants of ``s_pm = 1 + c_pm / sqrt(n)``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a constant is non-finite.

    Examples
    --------
    >>> kappa_from_shaping(1.0, -1.0)
    4.0
    """
    return (check_float(c_plus, "c_plus") - check_float(c_minus, "c_minus")) ** 2


@nb.njit(cache=True)
def nu_scalar(rho: float, kappa: float) -> float:
    """Float :func:`nu` for one ``rho`` (clipped to ``[-1, 1]``), Numba-compiled and unchecked (for kernels).

    Examples
    --------
    >>> nu_scalar(1.0, 1.0), round(nu_scalar(0.0, 2 * math.pi), 12)   # g(pi/2) = 1
    (0.0, 1.0)
    """
    theta = math.acos(min(1.0, max(-1.0, rho)))
    return kappa / (2.0 * math.pi) * g_scalar(theta)


def nu(rho: ArrayLike, kappa: float) -> NDArray[np.float64]:
    """Correlation drift ``nu(rho) = (kappa/(2 pi)) (sqrt(1 - rho^2) - rho arccos rho)``.

    Parameters
    ----------
    rho : array_like
        Correlations in ``[-1, 1]``.
    kappa : float
        ``(c+ - c-)^2 >= 0``.

    Returns
    -------
    numpy.ndarray
        ``nu(rho)``, accurate near ``rho = 1`` (series for ``g``).

    Raises
    ------
    ValueError
        If ``rho`` is non-finite or outside ``[-1, 1]``, or ``kappa`` is negative or non-finite.

    Examples
    --------
    >>> (nu([1.0, 0.0], 2 * np.pi)).round(12).tolist()
    [0.0, 1.0]
    """
    r = check_rho(rho)
    kappa = check_kappa(kappa)
    out = np.array([nu_scalar(x, kappa) for x in r.ravel()])
    return out.reshape(r.shape)


def check_kappa(kappa: float) -> float:
    """Return ``kappa`` as a float; ValueError unless it is finite and ``>= 0``.

    Examples
    --------
    >>> check_kappa(1)
    1.0
    """
    return check_float(kappa, "kappa", minimum=0.0)


def covariance_drift(V: ArrayLike, kappa: float) -> NDArray[np.float64]:
    """Drift ``b(V)`` of the covariance SDE (zero on the diagonal since ``nu(1) = 0``).

    Parameters
    ----------
    V : array_like, shape (m, m)
        Symmetric positive-definite covariance.
    kappa : float
        ``(c+ - c-)^2``.

    Returns
    -------
    numpy.ndarray, shape (m, m)

    Raises
    ------
    ValueError
        If ``V`` is not a finite symmetric PSD matrix, or ``kappa`` is invalid.

    Examples
    --------
    >>> covariance_drift([[1.0, 0.0], [0.0, 4.0]], 2 * np.pi).round(12).tolist()   # nu(0) sqrt(1 * 4) off the diagonal
    [[0.0, 2.0], [2.0, 0.0]]
    """
    V = check_cov(V, require_pd=False, name="V")
    kappa = check_kappa(kappa)
    d = np.sqrt(np.diag(V))
    rho = np.clip(V / np.outer(d, d), -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)  # exactly: the ratio V_aa / V_aa may round below 1
    return nu(rho, kappa) * np.outer(d, d)


def check_cov(V: ArrayLike, require_pd: bool = True, name: str = "V0") -> NDArray[np.float64]:
    """Return the covariance ``V`` as a float64 array; ValueError naming ``name`` unless it is square, finite,
    symmetric and positive semi-definite (positive definite if ``require_pd``).

    Examples
    --------
    >>> check_cov(np.ones((2, 2)))
    Traceback (most recent call last):
    ...
    ValueError: V0 must be positive definite: a singular covariance (identical or linearly dependent inputs) \
stays singular, and the factor form needs L^{-1}; drop the duplicate inputs
    """
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or V.shape[0] != V.shape[1] or V.shape[0] < 1:
        raise ValueError(f"{name} must be a square (m, m) matrix, got shape {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError(f"{name} must be finite")
    if not np.allclose(V, V.T, rtol=1e-12, atol=1e-14 * np.abs(V).max()):
        raise ValueError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(V)
    if ev.min() < -1e-12 * max(ev.max(), 1e-300):
        raise ValueError(f"{name} must be positive semi-definite (smallest eigenvalue {ev.min():.3g})")
    if require_pd and ev.min() <= 1e-12 * ev.max():
        raise ValueError(
            f"{name} must be positive definite: a singular covariance (identical or linearly dependent inputs) "
            "stays singular, and the factor form needs L^{-1}; drop the duplicate inputs"
        )
    return V


# ----------------------------------------------------------------------------- correlation (Fisher z)


@nb.njit(cache=True)
def _z_drift(t, y, p, out):
    zeta = y[0]
    rho = math.tanh(zeta)
    # theta = arccos(tanh zeta) = 2 arctan(e^{-zeta}); sin(theta) = sech(zeta)
    theta = 2.0 * math.atan(math.exp(-zeta))
    c = math.cosh(zeta)
    out[0] = p[0] / (2.0 * math.pi) * g_scalar(theta) * c * c + 0.5 * rho


@nb.njit(cache=True)
def _z_diffusion(t, y, p, out):
    out[0, 0] = 1.0


@nb.njit(cache=True)
def _z_dgdy(t, y, p, out):
    out[0] = 0.0


def correlation_sde(kappa: float) -> SDE:
    """Correlation marginal in Fisher-z form as an engine ``SDE``.

    ``d zeta = [nu(tanh zeta) cosh^2(zeta) + tanh(zeta)/2] dt + dW``; recover
    ``rho = tanh(zeta)``.

    Parameters
    ----------
    kappa : float
        ``(c+ - c-)^2 >= 0``.

    Returns
    -------
    deeplimits.sde.SDE

    Examples
    --------
    >>> correlation_sde(1.0).dim
    1
    """
    from ..sde import SDE

    return SDE(
        _z_drift,
        _z_diffusion,
        dim=1,
        params=[check_kappa(kappa)],
        diffusion_derivative=_z_dgdy,
        name="shaped ReLU correlation (Fisher z)",
    )


def _check_rho0(rho0):
    r = np.asarray(rho0, dtype=float)
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) >= 1.0):
        raise ValueError(
            "rho0 must lie in the open interval (-1, 1) (rho = +-1 is absorbing; the Fisher "
            "transform maps it to infinity)"
        )
    return r


def check_T(T: float) -> float:
    """Return the final time ``T = d / n`` as a float; ValueError unless it is finite and ``> 0``.

    Examples
    --------
    >>> check_T(1)
    1.0
    """
    return check_float(T, "T", minimum=0.0, strict_min=True)


@shaped_sampler()
def sample_correlation(rho0: float, shared: ShapedSampling, scheme: str = "euler") -> NDArray[np.float64]:
    """Samples of the limiting correlation ``rho_tau`` of a shaped ReLU MLP.

    Parameters
    ----------
    rho0 : float
        Input correlation in ``(-1, 1)``.
    T : float
        Final time ``d / n > 0``.
    c_plus, c_minus : float
        Shaping constants (``s_pm = 1 + c_pm / sqrt(n)``); only ``(c+ - c-)^2`` enters.
    n_paths, seed : int
        Number of samples; seed of the per-path streams.
    first_path : int
        Global index of the first sample (sample ``i`` draws from stream
        ``(seed, first_path + i)``).
    n_steps : int
        Uniform steps on ``[0, T]``.  Euler on the Fisher-z form has strong
        order 1, so the error is ``O(T / n_steps)``.
    saveat : array_like, optional
        Output times (grid points); default ``[T]``.
    scheme : str
        Engine scheme (``"euler"``, ``"milstein"`` (identical here), ``"weak2"``, ``"theta"``).

    Returns
    -------
    numpy.ndarray
        ``(n_paths,)`` if ``saveat`` is None, else ``(n_paths, len(saveat))``; values in ``(-1, 1)``.

    Examples
    --------
    >>> from deeplimits.correlation import sample_correlation
    >>> rho = sample_correlation(0.5, 1.0, n_paths=5, seed=0, n_steps=10)
    >>> rho.shape, bool(abs(rho).max() < 1)
    ((5,), True)
    """
    from ..sde import solve

    r0 = float(_check_rho0(rho0))
    T, _, kappa, grid = shared.grid()
    sol = solve(
        correlation_sde(kappa),
        [math.atanh(r0)],
        grid,
        saveat=[T] if shared.saveat is None else shared.saveat,
        n_paths=check_int(shared.n_paths, "n_paths", minimum=1),
        seed=shared.seed,
        first_path=shared.first_path,
        scheme=scheme,
    )
    rho = np.tanh(sol.ys[:, :, 0])
    return rho[:, 0] if shared.saveat is None else rho


def theta_martingale_mean(rho0: float) -> float:
    """Mean angle for ``kappa = 0``: the angle is then a martingale, ``E[arccos rho_t] = arccos rho0``.

    Parameters
    ----------
    rho0 : float
        Initial correlation in ``(-1, 1)``.

    Returns
    -------
    float
        ``arccos(rho0)`` for every ``t``.

    Raises
    ------
    ValueError
        If ``rho0`` is not in the open interval ``(-1, 1)``.

    Examples
    --------
    >>> theta_martingale_mean(0.0) == np.pi / 2
    True
    """
    return float(np.arccos(_check_rho0(rho0)))
