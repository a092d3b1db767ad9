"""Streaming summaries of SDE paths: moments, histograms, quantiles or the user's own reductions.

``solve(..., summary=Moments(order=4))`` (or a list of specifications, e.g.
``[Moments(), Histogram(edges)]``) integrates the paths in batches and keeps only
reductions of the saved states, so memory does not grow with the number of paths.

Exactness.  The reductions are defined over fixed blocks of :data:`BLOCK_PATHS`
global path indices (block ``b`` holds paths ``[b B, (b + 1) B)`` of the run):
each block is reduced from its states in one fixed order, and the blocks are
merged along a fixed binary tree of the global block indices (pairwise, as in
pairwise summation: O(log) reductions in memory).  A chunk of paths (``chunk_size=``, an
``executor=``) keeps the states of the blocks it holds only in part; joining the
chunks (:meth:`SummarySolution.concat`) completes those blocks first.  The result
is therefore bit-identical for every chunk size, number of workers or threads.
Moments merge blocks with the pairwise update formulas of Chan, Golub & LeVeque
(1983) and Pébay (2008); histogram and quantile-sketch counts are integers; a
:class:`~deeplimits.sde.sketches.Reducer` merges with the user's function in the same
fixed order.  Non-finite states (paths kept with ``nonfinite="keep"``) are left out of
the moments and quantiles and counted apart.

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

from .._solution import SUMMED_STATS
from .reductions import Histogram, HistogramResult, Moments, MomentsResult
from .sketches import Quantiles, QuantilesResult, Reducer

__all__ = ["BLOCK_PATHS", "SummarySolution", "SummarySpec", "check_summary", "reduce_paths", "summarise"]

#: Paths per reduction block (global path indices ``[b B, (b + 1) B)``); also the batch size of ``solve``.
BLOCK_PATHS = 1 << 16


Spec = Moments | Histogram | Quantiles | Reducer
#: What ``solve(summary=...)`` accepts: one specification or a sequence of them.
SummarySpec = Spec | Sequence[Spec]


def check_summary(summary: Any) -> tuple[Spec, ...]:
    """``summary`` as a tuple of specifications (one, or a non-empty sequence of them)."""
    specs = tuple(summary) if isinstance(summary, (list, tuple)) else (summary,)
    if not specs or not all(isinstance(s, (Moments, Histogram, Quantiles, Reducer)) for s in specs):
        raise TypeError(
            f"summary must be a Moments, Histogram, Quantiles or Reducer, or a list of them, got {summary!r}"
        )
    return specs


# ----------------------------------------------------------------------------- blocks

# A segment is (block, start, stop, payload) for global paths [start, stop) of block `block`:
# payload is either their states (a block held only in part) or the tuple of the specs' reductions.
# A reduced segment is the node (level, index) of a binary tree over the global blocks: it covers
# blocks [index 2^level, (index + 1) 2^level), and two complete sibling nodes are merged into their
# parent as soon as both exist (_push), so a run keeps O(log(blocks)) segments, and every chunking
# of the run builds the same tree: the same merges of the same operands, the same floats.
Segment = tuple[int, int, int, int, Any]


def _reduce_block(specs: tuple[Spec, ...], v: NDArray[np.float64]) -> tuple[Any, ...]:
    v = np.ascontiguousarray(v, dtype=np.float64)  # one layout, so one summation order, for a block
    return tuple(s.reduce(v) for s in specs)


def _merge(specs: tuple[Spec, ...], a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(s.merge(x, y) for s, x, y in zip(specs, a, b, strict=True))


def _push(specs: tuple[Spec, ...], out: list[Segment], seg: Segment) -> None:
    """Append ``seg`` to ``out`` and merge complete sibling nodes at its end (a binary counter)."""
    out.append(seg)
    while len(out) >= 2:
        (la, ia, start, _, pa), (lb, ib, _, stop, pb) = out[-2], out[-1]
        if la != lb or ia % 2 or ib != ia + 1 or isinstance(pa, np.ndarray) or isinstance(pb, np.ndarray):
            break
        out[-2:] = [(la + 1, ia // 2, start, stop, _merge(specs, pa, pb))]


def reduce_paths(
    ys: NDArray[np.float64], first_path: int, specs: tuple[Spec, ...], block_paths: int | None = None
) -> list[Segment]:
    """Segments of the paths ``ys`` (``(n, n_save, dim)``, global paths from ``first_path``).

    Whole blocks (of ``block_paths``, default :data:`BLOCK_PATHS`) are reduced and merged along
    the tree of blocks; the states of blocks held in part are kept.
    """
    size = BLOCK_PATHS if block_paths is None else block_paths
    out: list[Segment] = []
    i, n = 0, ys.shape[0]
    while i < n:
        start = first_path + i
        block = start // size
        end = min(n, (block + 1) * size - first_path)
        part = ys[i:end]
        payload = _reduce_block(specs, part) if end - i == size else np.array(part, dtype=np.float64)
        _push(specs, out, (0, block, start, first_path + end, payload))
        i = end
    return out


def summarise(
    run_batch: Callable[[int, int], NDArray[np.float64]],
    n_paths: int,
    first_path: int,
    specs: tuple[Spec, ...],
    block_paths: int | None = None,
) -> list[Segment]:
    """Run paths ``[0, n_paths)`` of a call in batches of one block each and reduce them.

    ``run_batch(lo, hi)`` returns the states ``(hi - lo, n_save, dim)`` of the call's paths
    ``lo`` to ``hi`` (global paths ``first_path + lo`` to ``first_path + hi``); batches
    follow the block boundaries of the global path indices (blocks of ``block_paths``, default
    :data:`BLOCK_PATHS`).  Memory: one batch of states and ``O(log(n_paths / block_paths))`` reductions.
    """
    size = BLOCK_PATHS if block_paths is None else block_paths
    segments: list[Segment] = []
    lo = 0
    while lo < n_paths:
        hi = min(n_paths, ((first_path + lo) // size + 1) * size - first_path)
        for seg in reduce_paths(run_batch(lo, hi), first_path + lo, specs, size):
            _push(specs, segments, seg)
        lo = hi
    return segments


def _join(specs: tuple[Spec, ...], segments: list[Segment], size: int) -> list[Segment]:
    """Consecutive segments with the states of one block joined (and reduced once the block is whole)."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1][3] != seg[2]:
            raise ValueError(f"parts are not consecutive: paths up to {out[-1][3]} are followed by {seg[2]}")
        if out and out[-1][:2] == (0, seg[1]) and seg[0] == 0 and isinstance(out[-1][4], np.ndarray):
            _, block, start, _, states = out.pop()
            states = np.concatenate([states, seg[4]], axis=0)
            stop = seg[3]
            seg = (0, block, start, stop, _reduce_block(specs, states) if stop - start == size else states)
        _push(specs, out, seg)
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
        The summary specifications (:class:`Moments`, :class:`Histogram`, :class:`Quantiles`, :class:`Reducer`),
        in the order given.
    segments : list
        The reductions per block of global paths (see the module documentation).
    stats : dict
        As ``Solution.stats``.
    block_paths : int
        Paths per reduction block (:data:`BLOCK_PATHS` unless the producer chose another).
    """

    ts: NDArray[np.float64]
    specs: tuple[Spec, ...]
    segments: list[Segment]
    stats: dict[str, Any] = field(default_factory=dict)
    block_paths: int = field(default_factory=lambda: BLOCK_PATHS)

    @property
    def summaries(self) -> tuple[Any, ...]:
        """The results (:class:`MomentsResult`, :class:`HistogramResult`, :class:`QuantilesResult`, a
        :class:`Reducer`'s ``finish``), in the order of :attr:`specs`."""
        total: tuple[Any, ...] | None = None
        for seg in self.segments:
            payload = seg[4]
            state = _reduce_block(self.specs, payload) if isinstance(payload, np.ndarray) else payload
            total = state if total is None else _merge(self.specs, total, state)
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

    @property
    def quantiles(self) -> QuantilesResult:
        """The result of the first :class:`Quantiles` specification."""
        result: QuantilesResult = self._first(Quantiles)
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
        if any(p.block_paths != first.block_paths for p in parts):
            raise ValueError("parts have different reduction blocks")
        segments = _join(first.specs, [seg for p in parts for seg in p.segments], first.block_paths)
        stats = dict(first.stats)
        for key in SUMMED_STATS & stats.keys():
            stats[key] = sum(p.stats[key] for p in parts)
        if "wall_time" in stats and "n_paths" in stats and "n_steps" in stats:
            stats["path_steps_per_second"] = stats["n_paths"] * stats["n_steps"] / max(stats["wall_time"], 1e-12)
        stats["n_chunks"] = sum(p.stats.get("n_chunks", 1) for p in parts)
        return cls(ts=first.ts, specs=first.specs, segments=segments, stats=stats, block_paths=first.block_paths)

    def __repr__(self) -> str:
        kinds = ", ".join(type(s).__name__ for s in self.specs)
        return f"SummarySolution(ts: {self.ts.size}, summaries: {kinds}, n_paths: {self.stats.get('n_paths')})"
