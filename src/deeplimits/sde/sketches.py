"""Quantile sketches and user-supplied reductions of SDE states.

:class:`Quantiles` is a DDSketch (Masson, Rim & Lee 2019, "DDSketch: a fast and fully-mergeable
quantile sketch with relative-error guarantees", PVLDB 12(12)): a finite state ``x != 0`` falls in
the bucket ``k = ceil(log_gamma |x|)`` of its sign, ``gamma = (1 + alpha) / (1 - alpha)``, so the
bucket ``(gamma^(k-1), gamma^k]`` is represented by ``2 gamma^k / (gamma + 1)``, within relative
error ``alpha`` of every value in it.  The sketch holds integer counts per bucket, so merging is
exact and the result does not depend on the order of the merges: bit-identical for every chunking.
The ``p`` quantile is the bucket value of the order statistic ``x_(r)``, ``r = floor(p (n - 1))``
(0-based, the ``"lower"`` quantile of :func:`numpy.quantile`), hence within ``alpha |x_(r)|`` of it.

:class:`Reducer` wraps the user's own ``reduce``/``merge``/``finish`` functions (plain Python,
NumPy or Numba-compiled), the counterpart, accumulated over paths, of diffrax's ``SaveAt(fn=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_float

__all__ = ["Quantiles", "QuantilesResult", "Reducer"]


@dataclass(frozen=True)
class QuantilesResult:
    """Quantiles of the saved states.

    Attributes
    ----------
    probs : ndarray, shape (n_probs,)
        The probabilities asked for.
    values : ndarray, shape (n_save, dim, n_probs)
        The quantiles, each within relative error ``relative_accuracy`` of the order statistic
        ``x_(floor(p (n - 1)))`` of the finite states (NaN where no state is finite).
    count : ndarray of int64, shape (n_save, dim)
        Finite states in the sketch.
    nonfinite : ndarray of int64, shape (n_save, dim)
        Non-finite states, left out.
    relative_accuracy : float
    """

    probs: NDArray[np.float64]
    values: NDArray[np.float64]
    count: NDArray[np.int64]
    nonfinite: NDArray[np.int64]
    relative_accuracy: float


@dataclass(frozen=True)
class Quantiles:
    """Quantiles of every state component at every output time, from a mergeable sketch.

    Memory is independent of the number of paths: ``2 log(max|x| / min|x|) / log(gamma)`` counts
    per component and output time (about 2,300 for ``relative_accuracy=0.01`` and states spanning
    ten orders of magnitude).

    Parameters
    ----------
    probs : sequence of float
        Probabilities in ``[0, 1]``.
    relative_accuracy : float
        ``alpha`` in ``(0, 0.5]``: each quantile is within ``alpha |x|`` of the order statistic it
        estimates.

    Examples
    --------
    >>> from deeplimits.sde import Quantiles, models, solve, uniform_grid
    >>> sol = solve(models.ornstein_uhlenbeck(), [1.0], uniform_grid(0.0, 1.0, 10), n_paths=2000, seed=0,
    ...             summary=Quantiles([0.1, 0.5, 0.9]))
    >>> sol.quantiles.values.shape
    (11, 1, 3)
    """

    probs: Sequence[float] = (0.5,)
    relative_accuracy: float = 0.01

    def __post_init__(self) -> None:
        p = np.atleast_1d(np.asarray(self.probs, dtype=np.float64))
        if p.ndim != 1 or p.size == 0 or not np.all((p >= 0.0) & (p <= 1.0)):
            raise ValueError(f"probs must be a non-empty sequence of probabilities in [0, 1], got {self.probs!r}")
        object.__setattr__(self, "probs", tuple(float(x) for x in p))  # a tuple: equal after pickling
        alpha = check_float(self.relative_accuracy, "relative_accuracy", minimum=0.0, maximum=0.5)
        if alpha == 0.0:
            raise ValueError("relative_accuracy must be > 0")
        object.__setattr__(self, "relative_accuracy", alpha)

    @property
    def _log_gamma(self) -> float:
        a = self.relative_accuracy
        return math.log1p(2.0 * a / (1.0 - a))

    def reduce(self, v: NDArray[np.float64]) -> tuple[Any, ...]:
        """``(k0, counts, zeros, nonfinite)``: ``counts[..., s, j]`` counts bucket ``k0 + j`` of sign ``s``."""
        finite = np.isfinite(v)
        mag = np.abs(np.where(finite, v, 0.0))
        nonzero = finite & (mag > 0.0)
        with np.errstate(divide="ignore"):
            keys = np.ceil(np.log(np.where(nonzero, mag, 1.0)) / self._log_gamma).astype(np.int64)
        k0 = int(keys[nonzero].min()) if nonzero.any() else 0
        width = int(keys[nonzero].max()) - k0 + 1 if nonzero.any() else 1
        n_cells = v.shape[1] * v.shape[2]
        sign = (v < 0).astype(np.int64)  # 0: positive, 1: negative
        slot = (np.arange(n_cells).reshape(v.shape[1], v.shape[2]) * 2 + sign) * width + keys - k0
        counts = np.bincount(slot[nonzero], minlength=n_cells * 2 * width)
        counts = counts.reshape(v.shape[1], v.shape[2], 2, width).astype(np.int64)
        zeros = (finite & ~nonzero).sum(axis=0).astype(np.int64)
        return k0, counts, zeros, (~finite).sum(axis=0).astype(np.int64)

    def merge(self, a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
        """Sum of two sketches (integer counts: exact and order-independent)."""
        k0 = min(a[0], b[0])
        end = max(a[0] + a[1].shape[-1], b[0] + b[1].shape[-1])
        counts = np.zeros(a[1].shape[:-1] + (end - k0,), dtype=np.int64)
        for start, c in ((a[0], a[1]), (b[0], b[1])):
            counts[..., start - k0 : start - k0 + c.shape[-1]] += c
        return k0, counts, a[2] + b[2], a[3] + b[3]

    def finish(self, state: tuple[Any, ...]) -> QuantilesResult:
        k0, counts, zeros, nonfinite = state
        gamma = math.exp(self._log_gamma)
        rep = 2.0 * np.exp((k0 + np.arange(counts.shape[-1])) * self._log_gamma) / (gamma + 1.0)
        # buckets in increasing value: negatives from the largest magnitude down, zero, positives up
        ordered = np.concatenate([counts[..., 1, ::-1], zeros[..., None], counts[..., 0, :]], axis=-1)
        values_of = np.concatenate([-rep[::-1], [0.0], rep])
        cum = np.cumsum(ordered, axis=-1)
        n = cum[..., -1]
        probs = np.asarray(self.probs)
        rank = np.floor(probs * np.maximum(n - 1, 0)[..., None]).astype(np.int64)  # (n_save, dim, n_probs)
        idx = np.empty_like(rank)
        for cell in np.ndindex(n.shape):
            idx[cell] = np.searchsorted(cum[cell], rank[cell], side="right")
        values = np.where(n[..., None] > 0, values_of[np.minimum(idx, values_of.size - 1)], np.nan)
        return QuantilesResult(
            probs=probs, values=values, count=n, nonfinite=nonfinite, relative_accuracy=self.relative_accuracy
        )


def _identity(state: Any) -> Any:
    return state


@dataclass(frozen=True)
class Reducer:
    """A user-supplied reduction of the saved states, accumulated over blocks of paths.

    ``solve`` calls ``reduce`` on every block of states (``(paths, n_save, dim)``, global paths
    ``[b B, (b + 1) B)``), merges the block results with ``merge`` in increasing block order and
    applies ``finish`` to the total, so the result is bit-identical for every chunk size and
    executor when the functions are deterministic.  With an executor the functions must be
    picklable (defined at module level).

    Parameters
    ----------
    reduce : callable
        ``reduce(states) -> state``.
    merge : callable
        ``merge(state_a, state_b) -> state``, where ``a`` holds the earlier paths.
    finish : callable, optional
        ``finish(state) -> result``; the identity by default.
    name : str
        Identifies the reducer: parts joined by ``SummarySolution.concat`` must carry the same name.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.sde import Reducer, models, solve, uniform_grid
    >>> running_max = Reducer(reduce=lambda v: v.max(axis=0), merge=np.maximum, name="max")
    >>> sol = solve(models.ornstein_uhlenbeck(), [1.0], uniform_grid(0.0, 1.0, 10), n_paths=500, seed=0,
    ...             summary=running_max)
    >>> sol.summaries[0].shape
    (11, 1)
    """

    reduce: Callable[[NDArray[np.float64]], Any]
    merge: Callable[[Any, Any], Any]
    finish: Callable[[Any], Any] = field(default=_identity)
    name: str = "reducer"

    def __post_init__(self) -> None:
        for arg in ("reduce", "merge", "finish"):
            if not callable(getattr(self, arg)):
                raise TypeError(f"{arg} must be callable, got {getattr(self, arg)!r}")
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")

    def __eq__(self, other: object) -> bool:
        # functions do not compare equal after pickling: the name identifies a reducer
        return isinstance(other, Reducer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Reducer", self.name))
