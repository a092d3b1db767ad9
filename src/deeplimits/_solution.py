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

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["Solution"]


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
