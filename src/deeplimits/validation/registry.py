"""Declaration of validation experiments.

An experiment states, *before it runs*, what it checks, its quick and full
parameter sets and its pass criterion; when run it returns an :class:`Outcome`
holding the measured metrics, the thresholds they were compared with, whether
each check passed, and the figures it wrote.

Example
-------
>>> from deeplimits.validation import experiment, Outcome, Check
>>> @experiment(
...     id="demo.mean",
...     checks="sample mean of N(0,1) is within 4 standard errors of 0",
...     criterion="|mean| < 4 / sqrt(n)",
...     quick=dict(n=1000), full=dict(n=100000))
... def demo(params, *, seed, outdir):
...     import numpy as np
...     x = np.random.default_rng(seed).standard_normal(params["n"])
...     thr = 4 / np.sqrt(params["n"])
...     return Outcome(checks=[Check("abs_mean", abs(x.mean()), "<", thr)])
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Check", "Outcome", "Experiment", "experiment", "registry", "isolated_registry"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class Check:
    """One metric compared with a threshold fixed in advance.

    Parameters
    ----------
    name : str
        Metric name (used as key in ``results.json``).
    value : float
        Measured value.
    op : {"<", "<=", ">", ">=", "in"}
        Comparison; ``"in"`` means ``threshold[0] <= value <= threshold[1]``.
    threshold : float or tuple of float
        The bound(s).
    note : str, optional
        How the threshold was derived (e.g. "4 standard errors, n = 1e4").
    """

    name: str
    value: float
    op: str
    threshold: Any
    note: str = ""

    def __post_init__(self):
        if self.op not in _OPS and self.op != "in":
            raise ValueError(
                f"Check {self.name!r}: unknown comparison op={self.op!r}; use one of {sorted(_OPS) + ['in']}"
            )
        if self.op == "in":
            try:
                lo, hi = self.threshold
            except (TypeError, ValueError):
                raise ValueError(
                    f"Check {self.name!r}: op='in' needs threshold=(low, high), got {self.threshold!r}"
                ) from None

    @property
    def passed(self) -> bool:
        v = float(self.value)
        if v != v:  # NaN never passes
            return False
        if self.op == "in":
            lo, hi = self.threshold
            return float(lo) <= v <= float(hi)
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison {self.op!r}; use one of {sorted(_OPS) + ['in']}")
        return bool(_OPS[self.op](v, float(self.threshold)))

    def as_dict(self) -> dict:
        thr = list(self.threshold) if self.op == "in" else self.threshold
        return dict(value=float(self.value), op=self.op, threshold=thr, passed=self.passed, note=self.note)


@dataclass
class Outcome:
    """What an experiment returns.

    Parameters
    ----------
    checks : list of Check
        The pass/fail comparisons; the experiment passes iff all pass.
    metrics : dict, optional
        Further measured numbers reported without a threshold.
    figures : list of path, optional
        PNG files written under ``outdir``.
    summary : str, optional
        A few sentences for the report.
    """

    checks: list[Check]
    metrics: dict[str, Any] = field(default_factory=dict)
    figures: list[Path | str] = field(default_factory=list)
    summary: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


@dataclass
class Experiment:
    """A registered validation experiment (see :func:`experiment`)."""

    id: str
    checks: str
    criterion: str
    quick: dict
    full: dict
    func: Callable[..., Outcome]
    area: str = ""
    #: File that defines the experiment (``func.__code__.co_filename``); used to detect duplicate ids.
    source: str = ""

    def run(self, mode: str = "quick", *, seed: int = 0, outdir: Path | str = ".") -> Outcome:
        """Run with the ``"quick"`` or ``"full"`` parameter set."""
        if mode not in ("quick", "full"):
            raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
        params = dict(self.quick if mode == "quick" else self.full)
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        out = self.func(params, seed=int(seed), outdir=outdir)
        if not isinstance(out, Outcome):
            raise TypeError(f"experiment {self.id} returned {type(out).__name__}, expected Outcome")
        return out


#: All registered experiments, by id, in registration order.
registry: dict[str, Experiment] = {}


def experiment(*, id: str, checks: str, criterion: str, quick: dict, full: dict):
    """Register a validation experiment.

    Parameters
    ----------
    id : str
        Dotted identifier, ``"<area>.<name>"`` (e.g. ``"sde.gbm_strong"``).
    checks : str
        One sentence: what the experiment checks.
    criterion : str
        The pass criterion, fixed in advance, in words/formulas.
    quick, full : dict
        Parameter sets; ``quick`` must run in a few seconds to tens of seconds on 2 cores.
    """
    if not isinstance(id, str) or "." not in id or any(ch.isspace() for ch in id) or ":" in id:
        raise ValueError(f"experiment id must look like 'area.name' (no spaces or ':'), got {id!r}")

    def decorate(func):
        source = getattr(getattr(func, "__code__", None), "co_filename", "")
        old = registry.get(id)
        # Re-importing the same file (or re-running a notebook cell) replaces the entry;
        # the same id declared in two different files is a mistake that would hide one of them.
        if old is not None and old.source and source and _same_file(old.source, source) is False:
            raise ValueError(f"duplicate experiment id {id!r}: declared in {old.source} and in {source}")
        exp = Experiment(
            id=id,
            checks=checks,
            criterion=criterion,
            quick=dict(quick),
            full=dict(full),
            func=func,
            area=id.split(".", 1)[0],
            source=source,
        )
        registry[id] = exp
        func.experiment = exp
        return func

    return decorate


def _same_file(a: str, b: str) -> bool | None:
    """True/False if both look like file paths, None if either is a pseudo-file like ``<stdin>``."""
    if a.startswith("<") or b.startswith("<"):
        return None
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


@contextmanager
def isolated_registry(empty: bool = True):
    """Temporarily replace the contents of :data:`registry`; restore them on exit.

    Experiments registered inside the ``with`` block disappear afterwards, so tests
    (or notebooks) can declare toy experiments without affecting anything else.
    The dictionary object itself is kept (other modules hold references to it).

    Parameters
    ----------
    empty : bool, default True
        Start from an empty registry (True) or from a copy of the current one (False).

    Yields
    ------
    dict
        The (temporarily modified) :data:`registry`.

    Examples
    --------
    >>> with isolated_registry():
    ...     @experiment(id="toy.one", checks="c", criterion="k", quick={}, full={})
    ...     def one(params, *, seed, outdir):
    ...         return Outcome(checks=[Check("x", 0.0, "<", 1.0)])
    ...     "toy.one" in registry
    True
    >>> "toy.one" in registry
    False
    """
    saved = dict(registry)
    if empty:
        registry.clear()
    try:
        yield registry
    finally:
        registry.clear()
        registry.update(saved)
