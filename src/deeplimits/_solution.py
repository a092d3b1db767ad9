"""The one result type: :class:`Solution`, with ``ts``, ``ys`` and ``stats``.

Every time- or depth-stepped result of the package (SDE paths, KFE profiles,
per-layer network statistics, ResNet trajectories) is a :class:`Solution` or a
subclass of it.

Axis order (the same everywhere)
--------------------------------
``ys`` has the sample axis first when there is one (paths, networks, walkers),
then the time/depth axis, then the state axes::

    ys[sample, save, *state]      Monte-Carlo results
    ys[save, *state]              deterministic results (KFE profiles, ODEs)

``ts[j]`` is the time (or depth) of ``ys[..., j, ...]``.  ``stats`` holds the run
metadata: the scheme, step counts, seeds, wall time, and counts of events such as
reflections at a domain boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

__all__ = ["Solution", "SUMMED_STATS"]

#: Stats that add up when runs over consecutive paths are concatenated (counts and seconds).
SUMMED_STATS = frozenset(
    {"n_paths", "n_nets", "n_walkers", "n_inputs", "n_samples", "n_failed", "n_exits", "n_reflected", "wall_time"}
)


@dataclass(repr=False)
class Solution:
    """Result of a time- or depth-stepped computation.

    Attributes
    ----------
    ts : numpy.ndarray, shape (n_save,)
        Output times (or depths), increasing.
    ys : numpy.ndarray
        ``(n_samples, n_save, *state)`` for Monte-Carlo results,
        ``(n_save, *state)`` for deterministic ones (class attribute
        ``has_samples`` says which).
    stats : dict
        Run metadata: ``scheme``, step counts, ``seed``, ``wall_time`` (seconds)
        and event counts (e.g. ``n_reflected``).

    Examples
    --------
    >>> import numpy as np
    >>> sol = Solution(ts=np.array([0.0, 1.0]), ys=np.zeros((5, 2, 1)), stats={"scheme": "euler"})
    >>> sol.at(1.0).shape
    (5, 1)
    >>> sol
    Solution(ts: 2 in [0, 1], ys: (5, 2, 1) float64, stats: scheme='euler')
    """

    ts: NDArray[np.float64]
    ys: NDArray[Any]
    stats: dict[str, Any] = field(default_factory=dict)

    #: Whether ``ys`` has a leading sample axis; subclasses for deterministic results set it to False.
    has_samples: ClassVar[bool] = True
    #: Fields of a subclass with one entry per sample on axis 0 (concatenated by :meth:`concat`);
    #: its other fields must agree between the parts.
    per_sample_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def concat(cls, parts: Sequence[Solution]) -> Self:
        """Join results over consecutive path ranges into one, as if computed in one run.

        ``ys`` and the :attr:`per_sample_fields` are concatenated on the sample axis; ``ts`` and the
        other fields must agree.  In ``stats``, counts and ``wall_time`` (:data:`SUMMED_STATS`) are
        summed, ``*_per_second`` rates recomputed from the summed wall time, ``first_path`` is the
        first part's, ``n_chunks`` counts the parts, and every other entry must agree.

        Parameters
        ----------
        parts : sequence of Solution
            Results of the same type for paths ``[k_0, k_1), [k_1, k_2), ...`` (each part's
            ``stats["first_path"]``, when present, must follow the previous part).

        Returns
        -------
        Solution
            Of the parts' type.

        Raises
        ------
        ValueError
            If there are no parts, the results are deterministic (``has_samples`` False), or the
            parts disagree on ``ts``, a shared field or a shared stat, or are not consecutive.
        TypeError
            If a part is not of this type.

        Examples
        --------
        >>> import numpy as np
        >>> a = Solution(np.array([0.0, 1.0]), np.zeros((2, 2, 1)), {"n_paths": 2, "first_path": 0})
        >>> b = Solution(np.array([0.0, 1.0]), np.ones((3, 2, 1)), {"n_paths": 3, "first_path": 2})
        >>> c = Solution.concat([a, b])
        >>> c.ys.shape, c.stats
        ((5, 2, 1), {'n_paths': 5, 'first_path': 0, 'n_chunks': 2})
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one result")
        if not cls.has_samples:
            raise ValueError(f"{cls.__name__} is a deterministic result (no sample axis): it cannot be chunked")
        for p in parts:
            if type(p) is not cls:
                raise TypeError(f"parts must all be {cls.__name__}, got {type(p).__name__}")
        first = parts[0]
        for p in parts[1:]:
            if not _same(first.ts, p.ts):
                raise ValueError("parts have different output times ts")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("ys", *cls.per_sample_fields):
                values[f.name] = np.concatenate([getattr(p, f.name) for p in parts], axis=0)
            elif f.name == "stats":
                values[f.name] = _merge_stats([p.stats for p in parts], [len(p.ys) for p in parts])
            else:
                shared = getattr(first, f.name)
                if not all(_same(shared, getattr(p, f.name)) for p in parts[1:]):
                    raise ValueError(f"parts have different {f.name}")
                values[f.name] = shared
        return cls(**values)

    def index(self, t: float) -> int:
        """Index of output time ``t`` in :attr:`ts` (relative tolerance 1e-12).

        Raises
        ------
        ValueError
            If ``t`` is not an output time.
        """
        ts = np.asarray(self.ts, dtype=np.float64)
        j = int(np.argmin(np.abs(ts - t)))
        if abs(ts[j] - t) > 1e-12 * max(1.0, abs(float(t))):
            raise ValueError(f"t={t} is not an output time; output times are {ts}")
        return j

    def at(self, t: float) -> NDArray[Any]:
        """States at output time ``t``: ``ys[:, j]`` for Monte-Carlo results, ``ys[j]`` otherwise."""
        j = self.index(t)
        return self.ys[:, j] if self.has_samples else self.ys[j]

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        ts = np.asarray(self.ts)
        span = f"{ts.size} in [{ts.min():.6g}, {ts.max():.6g}]" if ts.size else "0"
        ys = np.asarray(self.ys)
        keys = ", ".join(
            f"{k}={v!r}" for k, v in self.stats.items() if isinstance(v, (str, int, float, bool)) and len(repr(v)) < 30
        )
        extra = self._extra_repr()
        return (
            f"{type(self).__name__}(ts: {span}, ys: {ys.shape} {ys.dtype}"
            f"{', ' + extra if extra else ''}, stats: {keys})"
        )


def _same(a: Any, b: Any) -> bool:
    """Equality of run metadata: arrays element by element, NaN equal to NaN, containers recursively."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        nan_ok = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return bool(np.array_equal(a, b, equal_nan=nan_ok))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _merge_stats(stats: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    keys = list(stats[0])
    for s in stats[1:]:
        if list(s) != keys:
            raise ValueError(f"parts have different stats keys: {keys} and {list(s)}")
    if "first_path" in keys:
        for prev, s, n in zip(stats, stats[1:], sizes, strict=False):
            if s["first_path"] != prev["first_path"] + n:
                raise ValueError(
                    f"parts are not consecutive: a part of {n} paths from path {prev['first_path']} "
                    f"is followed by one from path {s['first_path']}"
                )
    wall = sum(s["wall_time"] for s in stats) if "wall_time" in keys else None
    out: dict[str, Any] = {}
    for k in keys:
        if k in SUMMED_STATS:
            out[k] = sum(s[k] for s in stats)
        elif k == "first_path":
            out[k] = stats[0][k]
        elif k == "n_chunks":
            continue
        elif k.endswith("_per_second") and wall is not None:
            out[k] = sum(s[k] * s["wall_time"] for s in stats) / max(wall, 1e-12)
        elif all(_same(stats[0][k], s[k]) for s in stats[1:]):
            out[k] = stats[0][k]
        else:
            raise ValueError(f"parts have different stats[{k!r}]: {[s[k] for s in stats]}")
    out["n_chunks"] = sum(int(s.get("n_chunks", 1)) for s in stats)
    return out
