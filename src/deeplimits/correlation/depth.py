"""Depth recursion of the infinite-width correlation map, its ``9 pi^2 / (2 l^2)`` asymptote, and the
finite-width one-layer sampler whose limit the map is.

The maps themselves are in :mod:`deeplimits.correlation.maps`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_int
from ..networks.activations import check_slopes
from ..parallel import chunkable
from ..rng import kernel_seed, normal_pair, stream_state
from .maps import Q_STAR, as_float_array, check_u, shaping_coefficient, u_map_scalar

# The random numbers are inlined into the cached kernels of this module, and Numba's on-disk cache does
# not see changes to imported functions: the normals changed with the vectorised Box--Muller blocks of
# deeplimits.rng (2026-12), and this note changes this file so that stale cached kernels are recompiled.

__all__ = ["depth_recursion_u", "depth_recursion_reference", "relu_asymptote", "sample_one_layer"]


@nb.njit(cache=True)
def _recursion_kernel(u0, depth, k, stride, out):
    u = u0
    out[0] = u
    j = 1
    for l in range(1, depth + 1):
        u = u_map_scalar(u, k)
        if l % stride == 0:
            out[j] = u
            j += 1
    return u


def _check_recursion(u0: float, depth: int, stride: int) -> tuple[float, int, int]:
    """``(u0, depth, stride)`` checked: ``u0`` in ``(0, 2]``, ``depth >= 1`` a multiple of ``stride >= 1``."""
    depth = check_int(depth, "depth", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    if depth % stride:
        raise ValueError(f"stride must be a positive divisor of depth, got {stride}")
    u0 = float(check_u(u0))
    if u0 <= 0.0:
        raise ValueError("u0 must be > 0 (identical inputs stay identical)")
    return u0, depth, stride


def depth_recursion_u(
    u0: float, depth: int, s_plus: float = 1.0, s_minus: float = 0.0, stride: int = 1
) -> NDArray[np.float64]:
    """Iterate the infinite-width map in ``u = 1 - rho`` for ``depth`` layers.

    Parameters
    ----------
    u0 : float
        ``1 - rho_0`` in ``(0, 2]``.
    depth : int
        Number of layers, >= 1 (``1e6`` takes ~0.1 s).
    s_plus, s_minus : float, optional
        Leaky-ReLU slopes (default ReLU).
    stride : int, optional
        Keep every ``stride``-th layer (``depth`` must be a multiple).

    Returns
    -------
    numpy.ndarray
        ``u_l`` for ``l = 0, stride, 2 stride, ..., depth``.  No subtraction
        ``1 - rho`` is ever formed, so ``u_l`` keeps ~1e-13 relative accuracy at
        ``l = 1e6`` (where ``u ~ 4e-11``, far below what ``rho`` can resolve).

    Raises
    ------
    ValueError
        If ``depth < 1``, ``stride`` does not divide ``depth``, or ``u0`` is
        outside ``(0, 2]``.

    Examples
    --------
    >>> u = depth_recursion_u(0.5, 10**4, stride=10**4)
    >>> u.shape, round(float(u[-1] * 1e8 / Q_STAR), 2)   # l^2 u_l / Q_STAR -> 1 (slowly: -3 log(l) / l)
    ((2,), 1.0)
    """
    u0, depth, stride = _check_recursion(u0, depth, stride)
    k = shaping_coefficient(s_plus, s_minus)
    out = np.empty(depth // stride + 1)
    _recursion_kernel(u0, depth, k, stride, out)
    return out


def depth_recursion_reference(
    u0: float, depth: int, s_plus: float = 1.0, s_minus: float = 0.0, stride: int = 1
) -> NDArray[np.longdouble]:
    """Slow extended-precision reference for :func:`depth_recursion_u`.

    The same recursion ``u_{l+1} = u_l - k g(theta(u_l))`` evaluated in
    ``numpy.longdouble`` (64-bit significand, ``eps ~ 1.1e-19`` on x86-64 Linux) in a
    plain Python loop: about 8 us per layer.  Used to measure the accumulated
    rounding error of the float64 recursion.

    Parameters and errors as in :func:`depth_recursion_u`; also raises ``ValueError`` if
    ``longdouble`` has no more precision than float64 on this platform.

    Returns
    -------
    numpy.ndarray
        ``u_l`` (dtype ``longdouble``) for ``l = 0, stride, ..., depth``.

    Examples
    --------
    >>> if np.finfo(np.longdouble).eps < 1e-18:   # x86-64: 64-bit significand
    ...     ref = depth_recursion_reference(0.5, 100)
    ...     print(abs(float(ref[-1]) / depth_recursion_u(0.5, 100)[-1] - 1) < 1e-14)
    ... else:
    ...     print(True)
    True
    """
    L = np.longdouble
    if np.finfo(L).eps > 1e-18:
        raise ValueError("numpy.longdouble is not an extended-precision type on this platform")
    u0, depth, stride = _check_recursion(u0, depth, stride)
    u = L(u0)
    s_plus, s_minus = check_slopes(s_plus, s_minus)
    pi = L("3.14159265358979323846264338327950288")
    k = (L(s_plus) - L(s_minus)) ** 2 / (pi * (L(s_plus) ** 2 + L(s_minus) ** 2))
    two, half = L(2), L("0.5")
    out = np.empty(depth // stride + 1, dtype=L)
    out[0] = u
    for l in range(1, depth + 1):
        th = two * np.arcsin(np.sqrt(u / two))
        if th < half:  # series: 11 terms reach theta^23/23! < 1e-20 relative for theta < 0.5
            t2 = th * th
            term = th * t2 / 3
            g = term
            for j in range(2, 12):
                term *= -t2 / ((2 * j - 2) * (2 * j + 1))
                g += term
        else:
            g = np.sin(th) - th * np.cos(th)
        u = u - k * g
        if l % stride == 0:
            out[l // stride] = u
    return out


def relu_asymptote(l: ArrayLike, order: int = 1) -> NDArray[np.float64]:
    """Large-depth asymptote of ``1 - rho_l`` for the ReLU recursion.

    Parameters
    ----------
    l : array_like
        Layer indices (> 1 for ``order=1``).
    order : {0, 1}
        ``0``: ``9 pi^2 / (2 l^2)``; ``1``: times ``(1 - 3 log(l) / l)``.

    Returns
    -------
    numpy.ndarray
        The asymptote.  The remaining relative error is ``O(1/l)`` and depends
        on ``rho_0`` (it is the constant of integration of ``1/theta_l``).

    Raises
    ------
    ValueError
        If an ``l`` is below 1 or not finite, or ``order`` is not 0 or 1.

    Examples
    --------
    >>> l = 10.0**4
    >>> round(float(relu_asymptote(l, order=0) * l**2 / Q_STAR), 12), round(float(relu_asymptote(l) * l**2 / Q_STAR), 6)
    (1.0, 0.997237)
    """
    la = as_float_array(l, "l")
    if np.any(la < 1.0):
        raise ValueError("l must be >= 1")
    base = Q_STAR / la**2
    if order == 0:
        return base
    if order == 1:
        return base * (1.0 - 3.0 * np.log(la) / la)
    raise ValueError(f"order must be 0 or 1, got {order}")


@nb.njit(cache=True, parallel=True)
def _one_layer_kernel(u, n, n_samples, seed, first_path, s_plus, s_minus, out_u, out_rho):
    rho = 1.0 - u
    perp = math.sqrt(u * (2.0 - u))  # sqrt(1 - rho^2) without cancellation
    for r in nb.prange(n_samples):
        s = stream_state(seed, first_path + r)
        saa = 0.0
        sbb = 0.0
        sab = 0.0
        a = np.empty(n)
        b = np.empty(n)
        for i in range(n):
            z0, z1, s = normal_pair(s)
            x = z0
            y = rho * z0 + perp * z1
            a[i] = s_plus * x if x > 0.0 else s_minus * x
            b[i] = s_plus * y if y > 0.0 else s_minus * y
            saa += a[i] * a[i]
            sbb += b[i] * b[i]
            sab += a[i] * b[i]
        if saa == 0.0 or sbb == 0.0:
            out_u[r] = np.nan  # all units inactive: correlation undefined (probability 2^-n)
            out_rho[r] = np.nan
            continue
        na = math.sqrt(saa)
        nb_ = math.sqrt(sbb)
        d2 = 0.0
        for i in range(n):
            d = a[i] / na - b[i] / nb_
            d2 += d * d
        out_u[r] = 0.5 * d2  # 1 - cos, from |a/|a| - b/|b||^2 / 2: no cancellation
        out_rho[r] = sab / (na * nb_)


@chunkable("n_samples")
def sample_one_layer(
    u: float,
    n: int,
    n_samples: int,
    seed: int = 0,
    s_plus: float = 1.0,
    s_minus: float = 0.0,
    *,
    first_path: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Correlation after one finite-width (leaky) ReLU layer: the system the maps are the limit of.

    Draws ``n`` iid pairs ``(x_i, y_i)`` of unit-variance Gaussians with
    correlation ``rho = 1 - u`` and returns the correlation of
    ``(phi(x), phi(y))`` in R^n, i.e. of the next layer's Gram matrix
    ``Phi = (c/n) phi(h)^T phi(h)``.  (Given the Gram matrix of layer ``l`` the
    pre-activations of layer ``l + 1`` are exactly such Gaussian pairs, so
    this is one exact step of the correlation Markov chain of a width-``n`` MLP.)

    Parameters
    ----------
    u : float
        ``1 - rho`` in ``[0, 2]``.
    n : int
        Width (>= 1).
    n_samples : int
        Number of independent layers (>= 1).
    seed : int
        Seed; sample ``r`` uses stream ``r`` (thread-count independent).
    s_plus, s_minus : float
        Leaky-ReLU slopes.
    first_path : int
        Index of the first sample's stream (to split one run into chunks).

    Returns
    -------
    u_next, rho_next : numpy.ndarray
        ``1 - rho'`` (accurate for tiny ``u``) and ``rho'``; NaN for the
        probability-``2^{-n}`` event that a vector is all zero.

    Examples
    --------
    >>> u_next, rho_next = sample_one_layer(0.5, n=64, n_samples=3, seed=0)
    >>> u_next.shape, bool(np.allclose(u_next, 1 - rho_next))
    ((3,), True)
    """
    u = float(check_u(u))
    n = check_int(n, "n", minimum=1)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    s_plus, s_minus = check_slopes(s_plus, s_minus)
    out_u = np.empty(n_samples)
    out_rho = np.empty(n_samples)
    first_path = check_int(first_path, "first_path", minimum=0)
    _one_layer_kernel(u, n, n_samples, kernel_seed(seed), first_path, s_plus, s_minus, out_u, out_rho)
    return out_u, out_rho
