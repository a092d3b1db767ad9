"""Streaming summaries of SDE paths: moments and histograms instead of the paths themselves.

``solve(..., summary=Moments(order=4))`` (or a list of specifications, e.g.
``[Moments(), Histogram(edges)]``) integrates the paths in batches and keeps only
reductions of the saved states, so memory does not grow with the number of paths.

Exactness.  The reductions are defined over fixed blocks of :data:`BLOCK_PATHS`
global path indices (block ``b`` holds paths ``[b B, (b + 1) B)`` of the run):
each block is reduced from its states in one fixed order, and the blocks are
merged in increasing order.  A chunk of paths (``chunk_size=``, an
``executor=``) keeps the states of the blocks it holds only in part; joining the
chunks (:meth:`SummarySolution.concat`) completes those blocks first.  The result
is therefore bit-identical for every chunk size, number of workers or threads.
Moments merge blocks with the pairwise update formulas of Chan, Golub & LeVeque
(1983) and Pébay (2008); histogram counts are integers.  Non-finite states (paths
kept with ``nonfinite="keep"``) are left out of the moments and counted apart in
histograms.

Examples
--------
>>> import numpy as np
>>> from deeplimits.sde import models, solve, uniform_grid
>>> from deeplimits.sde.summaries import Histogram, Moments
>>> sol = solve(models.ornstein_uhlenbeck(), [1.0], uniform_grid(0.0, 1.0, 20), saveat=[0.5, 1.0],
...             n_paths=5000, seed=0, summary=[Moments(), Histogram(np.linspace(-3.0, 3.0, 13))])
>>> sol.moments.mean.shape, sol.histogram.counts.shape
((2, 1), (2, 1, 12))
>>> int(sol.histogram.counts[1].sum() + sol.histogram.outside[1].sum())
5000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_array, check_int
from .._solution import SUMMED_STATS

__all__ = [
    "BLOCK_PATHS",
    "Moments",
    "MomentsResult",
    "Histogram",
    "HistogramResult",
    "SummarySolution",
    "SummarySpec",
    "check_summary",
    "reduce_paths",
    "summarise",
]

#: Paths per reduction block (global path indices ``[b B, (b + 1) B)``); also the batch size of ``solve``.
BLOCK_PATHS = 1 << 16


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


Spec = Moments | Histogram
#: What ``solve(summary=...)`` accepts: one specification or a sequence of them.
SummarySpec = Moments | Histogram | Sequence[Moments | Histogram]


def check_summary(summary: Any) -> tuple[Spec, ...]:
    """``summary`` as a tuple of specifications (one, or a non-empty sequence of them)."""
    specs = tuple(summary) if isinstance(summary, (list, tuple)) else (summary,)
    if not specs or not all(isinstance(s, (Moments, Histogram)) for s in specs):
        raise TypeError(f"summary must be a Moments or Histogram, or a list of them, got {summary!r}")
    return specs


# ----------------------------------------------------------------------------- blocks

# A segment is (block, start, stop, payload) for global paths [start, stop) of block `block`:
# payload is either their states (a block held only in part) or the tuple of the specs' reductions.
Segment = tuple[int, int, int, Any]


def _reduce_block(specs: tuple[Spec, ...], v: NDArray[np.float64]) -> tuple[Any, ...]:
    v = np.ascontiguousarray(v, dtype=np.float64)  # one layout, so one summation order, for a block
    return tuple(s.reduce(v) for s in specs)


def reduce_paths(ys: NDArray[np.float64], first_path: int, specs: tuple[Spec, ...]) -> list[Segment]:
    """Segments of the paths ``ys`` (``(n, n_save, dim)``, global paths from ``first_path``).

    Whole blocks are reduced; the states of blocks held in part are kept.
    """
    out: list[Segment] = []
    i, n = 0, ys.shape[0]
    while i < n:
        start = first_path + i
        block = start // BLOCK_PATHS
        end = min(n, (block + 1) * BLOCK_PATHS - first_path)
        part = ys[i:end]
        if end - i == BLOCK_PATHS:
            out.append((block, start, first_path + end, _reduce_block(specs, part)))
        else:
            out.append((block, start, first_path + end, np.array(part, dtype=np.float64)))
        i = end
    return out


def summarise(
    run_batch: Callable[[int, int], NDArray[np.float64]], n_paths: int, first_path: int, specs: tuple[Spec, ...]
) -> list[Segment]:
    """Run paths ``[0, n_paths)`` of a call in batches of one block each and reduce them.

    ``run_batch(lo, hi)`` returns the states ``(hi - lo, n_save, dim)`` of the call's paths
    ``lo`` to ``hi`` (global paths ``first_path + lo`` to ``first_path + hi``); batches
    follow the block boundaries of the global path indices.
    """
    segments: list[Segment] = []
    lo = 0
    while lo < n_paths:
        hi = min(n_paths, ((first_path + lo) // BLOCK_PATHS + 1) * BLOCK_PATHS - first_path)
        segments += reduce_paths(run_batch(lo, hi), first_path + lo, specs)
        lo = hi
    return segments


def _join(specs: tuple[Spec, ...], segments: list[Segment]) -> list[Segment]:
    """Consecutive segments with the states of one block joined (and reduced once the block is whole)."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1][2] != seg[1]:
            raise ValueError(f"parts are not consecutive: paths up to {out[-1][2]} are followed by {seg[1]}")
        if out and out[-1][0] == seg[0] and isinstance(out[-1][3], np.ndarray):
            block, start, _, states = out.pop()
            states = np.concatenate([states, seg[3]], axis=0)
            stop = seg[2]
            whole = stop - start == BLOCK_PATHS
            seg = (block, start, stop, _reduce_block(specs, states) if whole else states)
        out.append(seg)
    return out


def _same_grid(a: Spec, b: Spec) -> bool:
    if isinstance(a, Histogram) and isinstance(b, Histogram):
        return bool(np.array_equal(a.edges, b.edges))
    return a == b


@dataclass(repr=False)
class SummarySolution:
    """What :func:`~deeplimits.sde.solve` returns with ``summary=``: reductions of the paths, not the paths.

    Attributes
    ----------
    ts : ndarray, shape (n_save,)
        Output times.
    specs : tuple
        The summary specifications (:class:`Moments`, :class:`Histogram`), in the order given.
    segments : list
        The reductions per block of global paths (see the module documentation).
    stats : dict
        As ``Solution.stats``.
    """

    ts: NDArray[np.float64]
    specs: tuple[Spec, ...]
    segments: list[Segment]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def summaries(self) -> tuple[Any, ...]:
        """The results (:class:`MomentsResult`, :class:`HistogramResult`), in the order of :attr:`specs`."""
        total: tuple[Any, ...] | None = None
        for seg in self.segments:
            payload = seg[3]
            state = _reduce_block(self.specs, payload) if isinstance(payload, np.ndarray) else payload
            total = (
                state
                if total is None
                else tuple(s.merge(a, b) for s, a, b in zip(self.specs, total, state, strict=True))
            )
        assert total is not None
        return tuple(s.finish(x) for s, x in zip(self.specs, total, strict=True))

    def _first(self, kind: type) -> Any:
        for spec, result in zip(self.specs, self.summaries, strict=True):
            if isinstance(spec, kind):
                return result
        raise AttributeError(f"no {kind.__name__} summary was requested")

    @property
    def moments(self) -> MomentsResult:
        """The result of the first :class:`Moments` specification."""
        result: MomentsResult = self._first(Moments)
        return result

    @property
    def histogram(self) -> HistogramResult:
        """The result of the first :class:`Histogram` specification."""
        result: HistogramResult = self._first(Histogram)
        return result

    @classmethod
    def concat(cls, parts: Sequence[SummarySolution]) -> SummarySolution:
        """Join the summaries of consecutive path ranges, bit-identical to one run over all of them.

        Raises
        ------
        ValueError
            If the parts are not consecutive or differ in output times or specifications.
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one result")
        first = parts[0]
        for p in parts[1:]:
            if not np.array_equal(p.ts, first.ts) or len(p.specs) != len(first.specs):
                raise ValueError("parts have different output times or summaries")
            if not all(_same_grid(a, b) for a, b in zip(p.specs, first.specs, strict=True)):
                raise ValueError("parts have different summaries")
        segments = _join(first.specs, [seg for p in parts for seg in p.segments])
        stats = dict(first.stats)
        for key in SUMMED_STATS & stats.keys():
            stats[key] = sum(p.stats[key] for p in parts)
        if "wall_time" in stats and "n_paths" in stats and "n_steps" in stats:
            stats["path_steps_per_second"] = stats["n_paths"] * stats["n_steps"] / max(stats["wall_time"], 1e-12)
        stats["n_chunks"] = sum(p.stats.get("n_chunks", 1) for p in parts)
        return cls(ts=first.ts, specs=first.specs, segments=segments, stats=stats)

    def __repr__(self) -> str:
        kinds = ", ".join(type(s).__name__ for s in self.specs)
        return f"SummarySolution(ts: {self.ts.size}, summaries: {kinds}, n_paths: {self.stats.get('n_paths')})"
