"""Regime map over (beta, H): explosion, non-trivial limit, or identity.

Weights are fractional Gaussian noise of Hurst index ``H`` in the layer index (``H = 1/2``: i.i.d.;
``H -> 1``: smooth) and ``alpha_L = L^-beta``.  For each cell we measure the relative displacement
``||h_L - h_0|| / ||h_0||`` at two depths and its growth exponent
``g = d log(median ratio) / d log L``.

Derived, then corrected by simulation (``resnet.regime_map``): for linear ``res1``,
``h_L = prod_k (I + alpha_L V_k) h_0`` expands in iterated sums ``sum_{j_1 < ... < j_m} V_{j_m} ... V_{j_1}``
in which every layer appears at most once (no Itô-type ``V_k^2`` terms).  By self-similarity of fBm the
``m``-th iterated sum of fGn scales like ``L^{m H}``, so the ``m``-th term is ``(L^{H - beta})^m``: the critical
exponent is ``beta*(H) = H``, with growth exponent ``g = H - beta`` for ``beta > H`` (identity in the limit)
and explosion for ``beta < H``.  (Our first guess ``max(H, 1/2)``, from the ``alpha^2 sum_k V_k^2`` terms of
``E||h_L||^2`` for i.i.d. weights, is wrong for ``H < 1/2``: the simulation gives ``g = H - beta`` there too.)
The line depends on the branch: for ``res3`` the Hermite expansion of ``sigma`` changes the effective Hurst index
(``max(H, 1/2)`` for ReLU, ``max(1/2, 2H - 1)`` for tanh; ReLU tested, tanh measured; see
``docs/theory/resnet.md`` Sec. 6); :func:`critical_beta` is the linear ``res1`` line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array, check_int, check_seed
from ._kernels import activation_code, variant_code
from .finite import simulate_resnets
from .spec import check_beta, initial_state
from .weights import fgn_weights

__all__ = ["RegimeMap", "regime_map", "critical_beta"]


@dataclass(repr=False)
class RegimeMap:
    """Result of :func:`regime_map`.

    Attributes
    ----------
    betas, hursts : ndarray
        Grid axes.
    depths : tuple of int
        The two depths ``(L_lo, L_hi)``.
    log10_ratio : ndarray, shape (len(hursts), len(betas), 2)
        ``log10`` of the median of ``||h_L - h_0|| / ||h_0||`` at each depth (``inf`` where it overflowed).
    growth : ndarray, shape (len(hursts), len(betas))
        ``d log(median ratio) / d log L`` between the two depths.
    """

    betas: np.ndarray
    hursts: np.ndarray
    depths: tuple
    log10_ratio: np.ndarray
    growth: np.ndarray

    def __repr__(self) -> str:
        return (
            f"RegimeMap(betas: {self.betas.size} in [{self.betas.min():.3g}, {self.betas.max():.3g}], "
            f"hursts: {self.hursts.size} in [{self.hursts.min():.3g}, {self.hursts.max():.3g}], depths={self.depths})"
        )


def critical_beta(hurst: ArrayLike) -> NDArray[np.float64]:
    """Critical exponent ``beta*(H) = H`` of the linear ``res1`` ResNet with fGn weights.

    Derived (module docstring) and confirmed by simulation (``resnet.regime_map``): for ``beta > H`` the
    network tends to the identity with ``||h_L - h_0|| ~ L^{H - beta}``, for ``beta < H`` it explodes.

    Parameters
    ----------
    hurst : float or array_like
        Hurst index(es) in (0, 1).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from deeplimits.resnet import critical_beta
    >>> critical_beta([0.3, 0.7])
    array([0.3, 0.7])
    """
    h = check_array(hurst, "hurst")
    if np.any((h <= 0) | (h >= 1)):
        raise ValueError(f"hurst must lie in the open interval (0, 1), got {hurst!r}")
    return h


def regime_map(
    betas: ArrayLike,
    hursts: ArrayLike,
    *,
    depths: tuple[int, int] = (64, 512),
    width: int = 10,
    n_nets: int = 16,
    variant: str = "res1",
    activation: str = "linear",
    seed: int = 0,
) -> RegimeMap:
    """Median ``log10 ||h_L - h_0|| / ||h_0||`` on a grid of ``(beta, H)`` at two depths.

    Parameters
    ----------
    betas : sequence of float
        Branch exponents (>= 0).
    hursts : sequence of float
        Hurst indices in (0, 1).
    depths : (int, int)
        Two depths ``L_lo < L_hi``.
    width, n_nets : int
        Width and networks per cell (>= 1).
    variant, activation : str
        See :func:`~deeplimits.resnet.finite.random_resnets`.
    seed : int
        The same weights (per ``H`` and depth) are reused for every ``beta``.

    Returns
    -------
    RegimeMap

    Examples
    --------
    >>> from deeplimits.resnet import regime_map
    >>> m = regime_map([0.2, 1.0], [0.5], depths=(8, 32), width=3, n_nets=4)
    >>> m.log10_ratio.shape, m.growth.shape
    ((1, 2, 2), (1, 2))
    """
    variant_code(variant)
    activation_code(activation)
    betas = np.array([check_beta(b, "betas") for b in np.atleast_1d(betas)])
    hursts = np.atleast_1d(check_array(hursts, "hursts"))
    seed = check_seed(seed)
    critical_beta(hursts)  # validates H
    if np.ndim(depths) != 1 or len(depths) != 2:
        raise ValueError(f"depths must be two increasing depths (L_lo, L_hi), got {depths}")
    lo, hi = (check_int(L, "depths", minimum=1) for L in depths)
    if not lo < hi:
        raise ValueError(f"depths must be two increasing depths, got {depths}")
    width, n_nets = check_int(width, "width", minimum=1), check_int(n_nets, "n_nets", minimum=1)
    out = np.empty((hursts.size, betas.size, 2))
    h0 = initial_state(None, n_nets, width)
    sv = 1.0 / np.sqrt(width)
    for ih, H in enumerate(hursts):
        for il, L in enumerate((lo, hi)):
            s = seed * 1000 + 10 * ih + il
            V = fgn_weights(n_nets, L, (width, width), H, s, sv) if variant != "cohen" else None
            W = fgn_weights(n_nets, L, (width, width), H, s + 500, sv) if variant != "res1" else None
            for ib, beta in enumerate(betas):
                with np.errstate(over="ignore", invalid="ignore"):
                    res = simulate_resnets(h0, variant, float(L) ** (-beta), activation, V=V, W=W)
                    r = np.linalg.norm(res.final - h0, axis=1) / np.linalg.norm(h0, axis=1)
                r = np.where(np.isfinite(r), r, np.inf)
                out[ih, ib, il] = np.log10(np.median(r))
    with np.errstate(invalid="ignore"):
        growth = (out[..., 1] - out[..., 0]) * np.log(10.0) / np.log(hi / lo)
    # overflow at the larger depth is explosion, even where the smaller depth overflowed too (inf - inf)
    growth = np.where(np.isposinf(out[..., 1]), np.inf, growth)
    return RegimeMap(betas=betas, hursts=hursts, depths=(lo, hi), log10_ratio=out, growth=growth)
