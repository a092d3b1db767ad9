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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import check_bool, check_callable, check_choice, check_float, check_int, check_seed

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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise TypeError(f"Check name must be a non-empty str, got {self.name!r}")
        if self.op not in _OPS and self.op != "in":
            raise ValueError(
                f"Check {self.name!r}: unknown comparison op={self.op!r}; use one of {sorted(_OPS) + ['in']}"
            )
        _real(self.value, f"Check {self.name!r}: value")  # NaN is allowed: it never passes
        if not isinstance(self.note, str):
            raise TypeError(f"Check {self.name!r}: note must be a str, got {type(self.note).__name__}")
        if self.op == "in":
            try:
                lo, hi = self.threshold
            except (TypeError, ValueError):
                raise ValueError(
                    f"Check {self.name!r}: op='in' needs threshold=(low, high), got {self.threshold!r}"
                ) from None
            lo, hi = (_bound(x, self.name) for x in (lo, hi))
            if lo > hi:
                raise ValueError(
                    f"Check {self.name!r}: threshold=(low, high) needs low <= high, got {self.threshold!r}"
                )
        else:
            _bound(self.threshold, self.name)

    @property
    def passed(self) -> bool:
        """Whether ``value <op> threshold`` holds (a NaN value never passes)."""
        v = float(self.value)
        if v != v:  # NaN never passes
            return False
        if self.op == "in":
            lo, hi = self.threshold
            return float(lo) <= v <= float(hi)
        return bool(_OPS[self.op](v, float(self.threshold)))

    def as_dict(self) -> dict[str, Any]:
        """``value``, ``op``, ``threshold``, ``passed`` and ``note`` as plain values.

        Examples
        --------
        >>> Check("err", 0.01, "<", 0.05, note="4 se").as_dict()
        {'value': 0.01, 'op': '<', 'threshold': 0.05, 'passed': True, 'note': '4 se'}
        """
        thr = list(self.threshold) if self.op == "in" else self.threshold
        return dict(value=float(self.value), op=self.op, threshold=thr, passed=self.passed, note=self.note)


def _real(x: Any, what: str) -> float:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{what} must be a real number, got {x!r}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}") from None


def _bound(x: Any, name: str) -> float:
    value = _real(x, f"Check {name!r}: threshold")
    if value != value:
        raise ValueError(f"Check {name!r}: threshold must not be NaN (a comparison with NaN decides nothing)")
    return value


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

    def __post_init__(self) -> None:
        if not isinstance(self.checks, (list, tuple)) or not all(isinstance(c, Check) for c in self.checks):
            raise TypeError(f"Outcome checks must be a list of Check, got {self.checks!r}")
        if not isinstance(self.metrics, dict):
            raise TypeError(f"Outcome metrics must be a dict, got {type(self.metrics).__name__}")
        if isinstance(self.figures, (str, bytes)) or not isinstance(self.figures, (list, tuple)):
            raise TypeError(f"Outcome figures must be a list of paths, got {self.figures!r}")
        if not isinstance(self.summary, str):
            raise TypeError(f"Outcome summary must be a str, got {type(self.summary).__name__}")

    @property
    def passed(self) -> bool:
        """True iff there is at least one check and every check passed."""
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
    #: Smallest error in the limit the experiment detects, per mode (``{"quick": ..., "full": ...}``), or empty.
    resolution: dict[str, str] = field(default_factory=dict)
    #: Names of the limit's coefficients that :meth:`run` can perturb.
    perturbable: tuple[str, ...] = ()

    def run(
        self,
        mode: str = "quick",
        *,
        seed: int = 0,
        outdir: Path | str = ".",
        perturb: Mapping[str, float] | None = None,
    ) -> Outcome:
        """Run with the ``"quick"`` or ``"full"`` parameter set and return its :class:`Outcome`.

        ``perturb`` plants errors in the limit the experiment compares with: each named coefficient (of
        :attr:`perturbable`) is multiplied by its factor, e.g. ``{"drift": 1.1}`` (``params["perturb"]``).

        Raises
        ------
        ValueError, TypeError
            Bad ``mode`` or ``seed``, a ``perturb`` naming a coefficient that is not perturbable or with a
            factor that is not finite and > 0, or the function returned something else than an Outcome.

        Examples
        --------
        >>> import tempfile
        >>> with isolated_registry():
        ...     @experiment(id="toy.run", checks="c", criterion="k", quick={"n": 1}, full={"n": 2})
        ...     def toy(params, *, seed, outdir):
        ...         return Outcome(checks=[Check("n", params["n"], "<", 3)])
        ...     registry["toy.run"].run("full", seed=1, outdir=tempfile.mkdtemp()).passed
        True
        """
        mode = check_choice(mode, "mode", ("quick", "full"))
        check_seed(seed)
        params = dict(self.quick if mode == "quick" else self.full)
        if perturb:
            params["perturb"] = self._checked_perturb(perturb)
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        out = self.func(params, seed=check_int(seed, "seed"), outdir=outdir)
        if not isinstance(out, Outcome):
            raise TypeError(f"experiment {self.id} returned {type(out).__name__}, expected Outcome")
        return out

    def _checked_perturb(self, perturb: Mapping[str, float]) -> dict[str, float]:
        if not isinstance(perturb, Mapping):
            raise TypeError(f"perturb must be a dict of coefficient name -> factor, got {type(perturb).__name__}")
        if unknown := sorted(set(perturb) - set(self.perturbable)):
            raise ValueError(f"perturb: {self.id} cannot perturb {unknown}; it perturbs {list(self.perturbable)}")
        return {name: check_float(f, f"perturb[{name!r}]", minimum=0.0, strict_min=True) for name, f in perturb.items()}


#: All registered experiments, by id, in registration order.
registry: dict[str, Experiment] = {}


def experiment(
    *,
    id: str,
    checks: str,
    criterion: str,
    quick: dict[str, Any],
    full: dict[str, Any],
    resolution: dict[str, str] | None = None,
    perturbable: tuple[str, ...] = (),
) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
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
    resolution : dict, optional
        For an experiment that compares a limit with a finite system: the smallest error in the limit it
        detects, ``{"quick": "10 % in any drift or diffusion coefficient", "full": "2 %"}`` (printed in the
        report next to the verdict).
    perturbable : tuple of str, optional
        Coefficients of the limit the experiment can perturb (:meth:`Experiment.run`, ``perturb=``); the
        function reads the factors from ``params["perturb"]``.

    Returns
    -------
    callable
        The decorator; it registers the function (as ``func.experiment``) and returns it unchanged.

    Raises
    ------
    ValueError, TypeError
        A malformed ``id``, empty ``checks``/``criterion``, parameter sets that are not dicts, a
        decorated object that is not callable, a ``resolution`` with keys other than ``"quick"`` and
        ``"full"`` or values that are not strings, or an id already declared in another file.

    Examples
    --------
    >>> with isolated_registry():
    ...     @experiment(id="toy.demo", checks="1 > 0", criterion="1 > 0", quick={}, full={},
    ...                 resolution={"quick": "10 % in its drift", "full": "2 %"})
    ...     def demo(params, *, seed, outdir):
    ...         return Outcome(checks=[Check("one", 1, ">", 0)])
    ...     demo.experiment.area, demo.experiment.resolution["quick"]
    ('toy', '10 % in its drift')
    """
    if (
        not isinstance(id, str)
        or "." not in id.strip(".")
        or any(ch.isspace() for ch in id)
        or ":" in id
        or "/" in id
        or "\\" in id
    ):
        raise ValueError(f"experiment id must look like 'area.name' (no spaces, ':' or slashes), got {id!r}")
    for name, text in (("checks", checks), ("criterion", criterion)):
        if not isinstance(text, str):
            raise TypeError(f"experiment {id}: {name} must be a str (one sentence), got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"experiment {id}: {name} must not be empty (one sentence for the report), got {text!r}")
    for name, pset in (("quick", quick), ("full", full)):
        if not isinstance(pset, dict):
            raise TypeError(f"experiment {id}: {name} must be a dict of parameters, got {type(pset).__name__}")
    resolution = _checked_resolution(id, resolution)
    if not isinstance(perturbable, tuple) or not all(isinstance(p, str) and p for p in perturbable):
        raise TypeError(f"experiment {id}: perturbable must be a tuple of coefficient names, got {perturbable!r}")

    def decorate(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
        check_callable(func, f"experiment {id}: the decorated object")
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
            resolution=resolution,
            perturbable=perturbable,
        )
        registry[id] = exp
        func.experiment = exp  # type: ignore[attr-defined]
        return func

    return decorate


def _checked_resolution(id: str, resolution: dict[str, str] | None) -> dict[str, str]:
    if resolution is None:
        return {}
    if not isinstance(resolution, dict):
        raise TypeError(f"experiment {id}: resolution must be a dict {{'quick': str, 'full': str}}, got {resolution!r}")
    bad = sorted(set(resolution) - {"quick", "full"})
    if bad or not all(isinstance(v, str) and v.strip() for v in resolution.values()):
        raise ValueError(f"experiment {id}: resolution must map 'quick'/'full' to non-empty text, got {resolution!r}")
    return dict(resolution)


def _same_file(a: str, b: str) -> bool | None:
    """True/False if both look like file paths, None if either is a pseudo-file like ``<stdin>``."""
    if a.startswith("<") or b.startswith("<"):
        return None
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


@contextmanager
def isolated_registry(empty: bool = True) -> Iterator[dict[str, Experiment]]:
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
    empty = check_bool(empty, "empty")
    saved = dict(registry)
    if empty:
        registry.clear()
    try:
        yield registry
    finally:
        registry.clear()
        registry.update(saved)
