"""Scaling regimes of residual conv stacks, ``alpha = a L^-beta``.

For ``L`` identical residual layers the capacity performs ``L`` independent jumps, each
non-zero with probability ``~ alpha^2 d ||w||^2``, so the variance of the capacity
distribution at the input (the squared effective receptive field) grows like

    Var_L = L (mu2 - mu1^2) ~ a^2 d m2 L^(1 - 2 beta),   m2 = sum_k o_k^2 w_k^2   (centred kernels),

which is exact as ``L -> inf`` (derived, ``docs/theory/capacity.md``).  Hence three regimes
(stated qualitatively in Donier 2019, arXiv 1903.04455, introduction):

* ``beta < 1/2``: growth exponent ``1 - 2 beta > 0`` -- capacity spreads without bound on the
  scale of a depth-fraction: **shattering**;
* ``beta = 1/2``: exponent 0 -- a non-degenerate continuous limit: **diffusive**;
* ``beta > 1/2``: exponent ``< 0`` -- no spatial propagation in the limit: **frozen**.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array, check_bool, check_int
from ._validate import check_scalar
from .chain import chain_moments, propagate
from .layers import residual_stack

__all__ = ["spread", "spread_vs_depth", "growth_exponent", "classify_regime", "REGIMES"]

REGIMES = ("shattering", "diffusive", "frozen")


def spread(c: ArrayLike) -> float:
    """Standard deviation of a capacity distribution on its lattice (no wrap-around).

    Parameters
    ----------
    c : array_like (N,) or (Nx, Ny)
        Non-negative, positive total mass.

    Returns
    -------
    float
        ``sqrt(Var)`` in 1-D, ``sqrt(trace Cov)`` in 2-D (lattice units).

    Raises
    ------
    ValueError
        For negative or non-finite entries, zero total mass, or a shape that is not 1-D or 2-D.

    Examples
    --------
    >>> spread([0.0, 1.0, 0.0, 1.0])
    1.0
    """
    c = check_array(c, "c", ndim=(1, 2), min_size=1, minimum=0.0)
    m = c.sum()
    if m <= 0:
        raise ValueError("c must have positive total mass")
    var = 0.0
    for ax in range(c.ndim):
        marg = c.sum(axis=tuple(a for a in range(c.ndim) if a != ax)) / m
        x = np.arange(c.shape[ax], dtype=np.float64)
        mu = marg @ x
        var += marg @ (x - mu) ** 2
    return float(np.sqrt(max(var, 0.0)))


def spread_vs_depth(
    taps: ArrayLike, depths: Sequence[int], a: float, beta: float, *, return_profiles: bool = False, **layer_kwargs: Any
) -> NDArray[np.float64] | tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """Spread of the input capacity of a single output unit, for stacks of increasing depth.

    Each stack is ``residual_stack(taps, L, a, beta, **layer_kwargs)`` on a periodic lattice
    wide enough that no capacity wraps around (checked: the mass within 2 sites of the
    edge must be below 1e-9, i.e. FFT roundoff of ~1e-16 per site); propagation by FFT is exact up to roundoff.

    Parameters
    ----------
    taps : array_like (K,) or (Kx, Ky)
    depths : sequence of int
        Depths ``L >= 1``.
    a, beta : float
        ``alpha = a L^-beta``.
    return_profiles : bool
        Also return the list of input capacity profiles (each centred on its lattice).
    **layer_kwargs
        Further layer arguments (dilation, causal, decoupling; padding is forced circular).

    Returns
    -------
    spreads : ndarray (len(depths),)
    profiles : list of ndarray, only if ``return_profiles``

    Examples
    --------
    >>> spread_vs_depth([1.0, 2.0, 1.0], [16, 64], a=1.0, beta=0.5).round(3)  # beta = 1/2: O(1) spread
    array([1.206, 1.352])
    """
    a = check_scalar(a, "a")
    beta = check_scalar(beta, "beta", allow_negative=True)
    return_profiles = check_bool(return_profiles, "return_profiles")
    depths = [check_int(L, "depths", minimum=1) for L in np.atleast_1d(np.asarray(depths, dtype=object))]
    if not depths:
        raise ValueError("depths must be a non-empty list of positive integers")
    layer_kwargs = dict(layer_kwargs)
    layer_kwargs["padding"] = "circular"
    spread_list: list[float] = []
    profiles: list[NDArray[np.float64]] = []
    for L in depths:
        layers = residual_stack(taps, L, a, beta, **layer_kwargs)
        lay = layers[0]
        mean, cov = chain_moments(layers)
        maxoff = np.abs(lay.offsets).max(axis=0)
        half = (np.abs(mean) + 40.0 * np.sqrt(np.diag(cov)) + 20 * maxoff + 4).astype(np.int64)
        half = np.minimum(half, L * maxoff + 2)
        shape = tuple(int(2 * h + 1) for h in half)
        c = np.zeros(shape)
        c[tuple(h for h in half)] = 1.0
        out = propagate(layers, c, method="fft")
        edge = 0.0
        for ax in range(out.ndim):
            edge += np.abs(np.take(out, [0, 1, -2, -1], axis=ax)).sum()
        if edge > 1e-9:
            raise RuntimeError(f"capacity reached the lattice edge at L={L} (mass {edge:.2e})")
        spread_list.append(spread(np.maximum(out, 0.0)))
        profiles.append(out)
    spreads = np.array(spread_list)
    return (spreads, profiles) if return_profiles else spreads


def growth_exponent(depths: ArrayLike, spreads: ArrayLike) -> float:
    """Least-squares slope of ``log(spread^2)`` against ``log L``.

    Parameters
    ----------
    depths, spreads : array_like
        At least two depths (distinct, positive) and positive spreads.

    Returns
    -------
    float
        The growth exponent of the variance, ``1 - 2 beta`` in theory.

    Examples
    --------
    >>> round(growth_exponent([4, 16, 64], [1.0, 2.0, 4.0]), 12)
    1.0
    """
    L = check_array(depths, "depths", ndim=1, min_size=2, minimum=0.0, strict_min=True)
    s = check_array(spreads, "spreads", ndim=1, minimum=0.0, strict_min=True)
    if L.shape != s.shape:
        raise ValueError(f"depths and spreads must have the same length, got {L.size} and {s.size}")
    if np.unique(L).size < 2:
        raise ValueError("depths must contain at least two distinct values")
    return float(np.polyfit(np.log(L), 2.0 * np.log(s), 1)[0])


def classify_regime(exponent: float, tol: float = 0.1) -> str:
    """Classify a measured growth exponent.

    Parameters
    ----------
    exponent : float
        Slope of ``log Var`` against ``log L``.
    tol : float
        Half-width of the band around 0 called diffusive.

    Returns
    -------
    {"shattering", "diffusive", "frozen"}

    Examples
    --------
    >>> classify_regime(0.02), classify_regime(0.8), classify_regime(-1.0)
    ('diffusive', 'shattering', 'frozen')
    """
    exponent = check_scalar(exponent, "exponent", allow_negative=True)
    tol = check_scalar(tol, "tol", allow_zero=False)
    if exponent > tol:
        return "shattering"
    if exponent < -tol:
        return "frozen"
    return "diffusive"
