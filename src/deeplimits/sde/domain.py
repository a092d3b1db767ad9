"""State domains: where an SDE's state lives, and what happens when a step leaves it.

An :class:`~deeplimits.sde.SDE` may declare a domain.  The engine then checks
every step and applies the domain's rule ``on_exit``:

``"raise"``
    stop and raise :class:`DomainError` naming the path, the step and the time;
``"reflect"``
    reflect the state back into the domain and count the event;
``"report"``
    keep the value, count the event and warn.

In every case ``Solution.stats["n_exits"]`` is the number of steps (over all
paths) that left the domain, so no state outside its domain is ever returned
without being reported.

Examples
--------
>>> Box(lower=0.0, on_exit="reflect").contains(0.5)
True
>>> PSD(2).contains([[1.0, 2.0], [2.0, 1.0]])
False
>>> Box(-1.0, 1.0, closed=True).contains(1.0)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_choice, check_float, check_int

__all__ = ["Domain", "Box", "PSD", "DomainError", "ON_EXIT"]

#: The boundary rules, in the order of their kernel codes 1, 2, 3 (0 = no domain).
ON_EXIT = ("raise", "reflect", "report")


class DomainError(ValueError):
    """A state left its declared domain under the rule ``on_exit="raise"``."""


@dataclass(frozen=True)
class Domain:
    """Base class of state domains (see the module documentation)."""

    # keyword-only so that subclasses keep their own fields first: Box(-1.0, 1.0) sets the bounds
    on_exit: str = field(default="raise", kw_only=True)
    #: rules a domain of this kind supports
    rules: ClassVar[tuple[str, ...]] = ON_EXIT

    def __post_init__(self) -> None:
        check_choice(self.on_exit, "on_exit", self.rules)

    @property
    def code(self) -> int:
        """Kernel code of the rule: 1 raise, 2 reflect, 3 report."""
        return ON_EXIT.index(self.on_exit) + 1

    def outside(self, ys: NDArray[Any]) -> NDArray[np.bool_]:  # pragma: no cover - abstract
        """Boolean mask over the leading axes: True where a state is outside the domain."""
        raise NotImplementedError

    def contains(self, y: ArrayLike) -> bool:
        """Whether the single state ``y`` lies in the domain."""
        arr = np.asarray(y, dtype=np.float64)
        return not bool(self.outside(arr[None])[0])

    def describe(self) -> str:  # pragma: no cover - abstract
        """Short human-readable description, used in messages."""
        raise NotImplementedError


@dataclass(frozen=True)
class Box(Domain):
    """Every component in ``(lower, upper)`` (or ``[lower, upper]`` when ``closed``).

    Parameters
    ----------
    lower, upper : float
        Bounds (``-inf``/``inf`` for none); ``lower < upper``.
    closed : bool
        Whether the bounds themselves belong to the domain.  ``Box(lower=0.0)``
        is ``y > 0``; ``Box(-1.0, 1.0, closed=True)`` is ``|y| <= 1``.
    on_exit : {"raise", "reflect", "report"}
        The rule applied when a step leaves the box.
    """

    lower: float = -math.inf
    upper: float = math.inf
    closed: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        lo = -math.inf if self.lower == -math.inf else check_float(self.lower, "lower")
        hi = math.inf if self.upper == math.inf else check_float(self.upper, "upper")
        if not lo < hi:
            raise ValueError(f"lower must be < upper, got lower={lo}, upper={hi}")
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    def outside(self, ys: NDArray[Any]) -> NDArray[np.bool_]:
        arr = np.asarray(ys, dtype=np.float64)
        if self.closed:
            bad = (arr < self.lower) | (arr > self.upper)
        else:
            bad = (arr <= self.lower) | (arr >= self.upper)
        bad = np.asarray(bad | np.isnan(arr))
        return np.asarray(bad.reshape(arr.shape[0], -1).any(axis=1))

    def describe(self) -> str:
        lo, hi = ("[", "]") if self.closed else ("(", ")")
        return f"{lo}{self.lower:g}, {self.upper:g}{hi}"


@dataclass(frozen=True)
class PSD(Domain):
    """States that are ``m x m`` symmetric positive semi-definite matrices (flattened row-major).

    Checked on the returned states with an eigenvalue test relative to the
    largest diagonal entry (``tol``); ``on_exit`` is ``"raise"`` or ``"report"``.
    """

    m: int = 1
    tol: float = 1e-10
    rules: ClassVar[tuple[str, ...]] = ("raise", "report")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "m", check_int(self.m, "m", minimum=1))
        check_float(self.tol, "tol", minimum=0.0)

    def outside(self, ys: NDArray[Any]) -> NDArray[np.bool_]:
        arr = np.asarray(ys, dtype=np.float64)
        lead = arr.shape[0]
        mats = arr.reshape(-1, self.m, self.m)
        finite = np.asarray(np.isfinite(mats).all(axis=(1, 2)))
        safe = np.where(finite[:, None, None], mats, 0.0)
        diag = np.diagonal(safe, axis1=1, axis2=2)
        scale = np.maximum(np.abs(diag).max(axis=1), np.finfo(float).tiny)
        unit = safe / scale[:, None, None]
        asym = np.abs(unit - np.swapaxes(unit, 1, 2)).max(axis=(1, 2)) > 1e-8
        low = np.linalg.eigvalsh((unit + np.swapaxes(unit, 1, 2)) / 2)[:, 0] < -self.tol
        bad = np.asarray(~finite | asym | low)
        return np.asarray(bad.reshape(lead, -1).any(axis=1))

    def describe(self) -> str:
        return f"{self.m}x{self.m} positive semi-definite matrices"


# ----------------------------------------------------------------------------- kernel side


@nb.njit(cache=True, inline="always")
def enforce_box(y, lo, hi, closed, code):
    """Apply a :class:`Box` rule to ``y`` in place; return True if the step left the box.

    ``code`` 0 (no domain) returns False at once.  Reflection folds the state
    back across the violated bound (repeatedly for a two-sided box); a state
    landing exactly on an open bound is moved to the nearest representable
    inside value.
    """
    if code == 0:
        return False
    left = False
    for a in range(y.size):
        v = y[a]
        out = (v < lo or v > hi) if closed else (v <= lo or v >= hi)
        if not out and not np.isnan(v):
            continue
        left = True
        if code != 2 or np.isnan(v):
            continue
        for _ in range(64):
            if v < lo:
                v = 2.0 * lo - v
            elif v > hi:
                v = 2.0 * hi - v
            else:
                break
        if not closed:
            if v <= lo:
                v = np.nextafter(lo, hi)
            elif v >= hi:
                v = np.nextafter(hi, lo)
        y[a] = v
    return left
