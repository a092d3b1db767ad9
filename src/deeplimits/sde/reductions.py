"""Per-block reductions of SDE states: moments and histograms.

Each specification reduces one block of states ``(paths, n_save, dim)`` to a state
(:meth:`reduce`), merges two states (:meth:`merge`) and turns the final state into
its result (:meth:`finish`); :mod:`deeplimits.sde.summaries` runs them over fixed
blocks of global path indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_array, check_int

__all__ = ["Histogram", "HistogramResult", "Moments", "MomentsResult"]


# ----------------------------------------------------------------------------- moments


@dataclass(frozen=True)
class MomentsResult:
    """Moments of the saved states, each of shape ``(n_save, dim)``.

    Attributes
    ----------
    count : ndarray of int64
        Finite states that entered the moments.
    mean, var : ndarray
        Mean and unbiased variance (``ddof = 1``).
    skewness, kurtosis : ndarray or None
        Sample skewness and excess kurtosis (``order >= 3``, ``order >= 4``).
    """

    count: NDArray[np.int64]
    mean: NDArray[np.float64]
    var: NDArray[np.float64]
    skewness: NDArray[np.float64] | None = None
    kurtosis: NDArray[np.float64] | None = None

    @property
    def sem(self) -> NDArray[np.float64]:
        """Standard error of the mean, ``sqrt(var / count)``."""
        return np.asarray(np.sqrt(self.var / self.count), dtype=np.float64)


@dataclass(frozen=True)
class Moments:
    """Mean, variance and (``order`` 3, 4) skewness and kurtosis at every output time.

    Parameters
    ----------
    order : int
        Highest central moment, 2 to 4.
    """

    order: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check_int(self.order, "order", minimum=2, maximum=4))

    def reduce(self, v: NDArray[np.float64]) -> tuple[NDArray[Any], ...]:
        """``(n, mean, M2, M3, M4)`` of one block ``v`` of shape ``(paths, n_save, dim)``, finite states only."""
        finite = np.isfinite(v)
        n = finite.sum(axis=0)
        mean = np.where(finite, v, 0.0).sum(axis=0) / np.maximum(n, 1)
        d = np.where(finite, v - mean, 0.0)
        d2 = d * d
        m3 = (d2 * d).sum(axis=0) if self.order >= 3 else np.zeros_like(mean)
        m4 = (d2 * d2).sum(axis=0) if self.order >= 4 else np.zeros_like(mean)
        return n, mean, d2.sum(axis=0), m3, m4

    def merge(self, a: tuple[NDArray[Any], ...], b: tuple[NDArray[Any], ...]) -> tuple[NDArray[Any], ...]:
        """Pairwise update of ``(n, mean, M2, M3, M4)`` (Pébay 2008, eqs. 3.1-3.3)."""
        na, ma, m2a, m3a, m4a = a
        nb, mb, m2b, m3b, m4b = b
        n = na + nb
        fa, fb, fn = (np.asarray(x, dtype=np.float64) for x in (na, nb, np.maximum(n, 1)))
        d = mb - ma
        mean = ma + d * fb / fn
        m2 = m2a + m2b + d * d * fa * fb / fn
        m3 = m3a + m3b + d**3 * fa * fb * (fa - fb) / fn**2 + 3.0 * d * (fa * m2b - fb * m2a) / fn
        m4 = (
            m4a
            + m4b
            + d**4 * fa * fb * (fa * fa - fa * fb + fb * fb) / fn**3
            + 6.0 * d * d * (fa * fa * m2b + fb * fb * m2a) / fn**2
            + 4.0 * d * (fa * m3b - fb * m3a) / fn
        )
        # an empty side contributes nothing (and its mean 0 must not move the other's)
        merged = (n, mean, m2, m3, m4)
        return tuple(np.where(nb == 0, x, np.where(na == 0, y, z)) for x, y, z in zip(a, b, merged, strict=True))

    def finish(self, state: tuple[NDArray[Any], ...]) -> MomentsResult:
        n, mean, m2, m3, m4 = state
        with np.errstate(invalid="ignore", divide="ignore"):
            fn = n.astype(np.float64)
            var = np.where(n > 1, m2 / (fn - 1.0), np.nan)
            pop = m2 / fn
            skew = m3 / fn / pop**1.5 if self.order >= 3 else None
            kurt = m4 / fn / pop**2 - 3.0 if self.order >= 4 else None
            mean = np.where(n > 0, mean, np.nan)
        return MomentsResult(count=n, mean=mean, var=var, skewness=skew, kurtosis=kurt)


# ----------------------------------------------------------------------------- histograms


@dataclass(frozen=True)
class HistogramResult:
    """Counts of the saved states on a bin grid.

    Attributes
    ----------
    edges : ndarray, shape (n_bins + 1,)
    counts : ndarray of int64, shape (n_save, dim, n_bins)
        Bins ``[edges[k], edges[k + 1])``, the last one closed (as :func:`numpy.histogram`).
    outside : ndarray of int64, shape (n_save, dim, 3)
        States below the first edge, above the last, and non-finite.
    """

    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    outside: NDArray[np.int64]

    def density(self) -> NDArray[np.float64]:
        """``counts`` divided by the number of states and the bin widths (integrates to the fraction inside)."""
        total = self.counts.sum(axis=-1) + self.outside.sum(axis=-1)
        return np.asarray(self.counts / np.maximum(total, 1)[..., None] / np.diff(self.edges), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Histogram:
    """Histogram of every state component at every output time on fixed bin ``edges``.

    Parameters
    ----------
    edges : array_like, shape (n_bins + 1,)
        Strictly increasing, finite bin edges.
    """

    edges: Any = field(default=None)

    def __post_init__(self) -> None:
        e = check_array(self.edges, "edges", ndim=1)
        if e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError(f"edges must be at least 2 strictly increasing values, got {e}")
        object.__setattr__(self, "edges", e)

    def reduce(self, v: NDArray[np.float64]) -> NDArray[np.int64]:
        """Counts ``(n_save, dim, n_bins + 3)``: the bins, then below, above, non-finite."""
        n_bins = self.edges.size - 1
        k = np.searchsorted(self.edges, v, side="right") - 1
        k = np.where(v == self.edges[-1], n_bins - 1, k)  # the last bin is closed
        k = np.where(k < 0, n_bins, np.where(k >= n_bins, n_bins + 1, k))
        k = np.where(np.isfinite(v), k, n_bins + 2)
        n_cells = v.shape[1] * v.shape[2]
        flat = k.reshape(v.shape[0], n_cells) + (n_bins + 3) * np.arange(n_cells)
        counts = np.bincount(flat.ravel(), minlength=n_cells * (n_bins + 3))
        return counts.reshape(v.shape[1], v.shape[2], n_bins + 3).astype(np.int64)

    def merge(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
        return a + b

    def finish(self, state: NDArray[np.int64]) -> HistogramResult:
        n_bins = self.edges.size - 1
        return HistogramResult(edges=self.edges, counts=state[..., :n_bins], outside=state[..., n_bins:])
