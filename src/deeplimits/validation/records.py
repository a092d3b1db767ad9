"""The records of a validation run: one :class:`ExperimentResult` per experiment, a :class:`RunSummary`.

:func:`results_document` turns the records into the ``results.json`` document
(layout version :data:`~deeplimits.validation.report.RESULTS_SCHEMA_VERSION`).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .report import RESULTS_SCHEMA_VERSION, to_jsonable

__all__ = ["ExperimentResult", "RunSummary", "environment", "results_document"]


@dataclass
class ExperimentResult:
    """The record of one experiment in a run (one entry of ``results.json``).

    Attributes
    ----------
    id, area, checks, criterion : str
        From the declaration; ``checks`` is the one-line text of what is checked.
    mode : {"quick", "full"}
    params : dict
        The parameter set used.
    status : {"passed", "failed", "error", "skipped"}
        ``"error"``: the experiment raised, returned no :class:`Outcome`, declared no
        check, wrote no figure file it listed, or its file failed to import.
        ``"skipped"``: it needs an optional dependency that is not installed (``error``
        names it and the install command); a skipped experiment does not fail the run.
    passed : bool
    seconds : float
        Wall time of the experiment.
    metrics : dict
        Check values (by check name) and the experiment's other metrics.
    thresholds : dict
        Per check: ``op``, ``threshold``, ``passed``, ``note``.
    figures : list of str
        PNG paths relative to the run's output folder.
    summary : str
    error : str or None
        Traceback or message when ``status == "error"``.
    warnings : list of str
        Distinct warnings raised while running (first 20).
    source : str
        File declaring the experiment.
    missing_figures : list of str
        Figure paths the experiment listed but did not write.
    resolution : str or None
        The declared resolution of the experiment in this mode (the smallest error in the limit it detects),
        None when it declares none.

    Examples
    --------
    >>> rec = ExperimentResult(id="toy.a", area="toy", checks="c", criterion="k", mode="quick", params={},
    ...                        status="failed", passed=False, seconds=0.1, metrics={"err": float("nan")})
    >>> d = rec.as_dict()
    >>> d["metrics"], d["nonfinite"]
    ({'err': None}, {'metrics.err': 'nan'})
    """

    id: str
    area: str
    checks: str
    criterion: str
    mode: str
    params: dict[str, Any]
    status: str
    passed: bool
    seconds: float
    metrics: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    summary: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    missing_figures: list[str] = field(default_factory=list)
    resolution: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON dict of this record (non-finite numbers -> None, listed in ``nonfinite``)."""
        nonfinite: dict[str, str] = {}
        raw = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d = to_jsonable(raw, nonfinite=nonfinite)
        d["nonfinite"] = nonfinite
        return d


@dataclass
class RunSummary:
    """What :func:`run_experiments` returns.

    Attributes
    ----------
    results : list of ExperimentResult
        In run order (import failures first).
    mode : str
    seed : int
    outdir : Path
    seconds : float
        Total wall time.
    results_json, report_md : Path
        The files written.
    experiments_dir : Path or None
        Where experiments were imported from.

    Examples
    --------
    >>> from pathlib import Path
    >>> s = RunSummary(results=[], mode="quick", seed=0, outdir=Path("rep"), seconds=0.0,
    ...                results_json=Path("rep/results.json"), report_md=Path("rep/report.md"))
    >>> s.passed, s.failed_ids  # a run of nothing does not pass
    (False, [])
    """

    results: list[ExperimentResult]
    mode: str
    seed: int
    outdir: Path
    seconds: float
    results_json: Path
    report_md: Path
    experiments_dir: Path | None = None

    @property
    def passed(self) -> bool:
        """True iff at least one experiment ran and all that were not skipped passed."""
        ran = [r for r in self.results if r.status != "skipped"]
        return bool(ran) and all(r.passed for r in ran)

    @property
    def failed_ids(self) -> list[str]:
        """Ids of experiments that failed or raised."""
        return [r.id for r in self.results if not r.passed and r.status != "skipped"]

    @property
    def skipped_ids(self) -> list[str]:
        """Ids of experiments skipped for a missing optional dependency."""
        return [r.id for r in self.results if r.status == "skipped"]

    def __str__(self) -> str:
        n_ok = sum(r.passed for r in self.results)
        head = f"{'PASSED' if self.passed else 'FAILED'}: {n_ok}/{len(self.results)} experiments passed"
        head += f", {len(self.skipped_ids)} skipped" if self.skipped_ids else ""
        return f"{head} ({self.seconds:.1f} s); report: {self.report_md}"


def environment() -> dict[str, Any]:
    """Versions and machine facts recorded in ``results.json`` (Python, NumPy, Numba, threads, CPUs)."""
    import numba
    import numpy

    try:
        threads = numba.get_num_threads()
    except Exception:  # pragma: no cover
        threads = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_threads": threads,
        "cpu_count": os.cpu_count(),
    }


def results_document(
    results: list[ExperimentResult],
    *,
    mode: str,
    seed: int,
    started: str,
    seconds: float,
    experiments_dir: Path | None,
    selection: list[str] | None,
    complete: bool,
) -> dict[str, Any]:
    """The ``results.json`` document of a run (plain JSON types only).

    Parameters
    ----------
    results : list of ExperimentResult
        The records so far, in run order.
    mode, seed, started, seconds, experiments_dir, selection
        Run facts; ``started`` is an ISO-8601 UTC time stamp.
    complete : bool
        False while the run is going on or after it was interrupted.

    Returns
    -------
    dict
        Ready for :func:`~deeplimits.validation.report.write_results_json`.

    Examples
    --------
    >>> doc = results_document([], mode="quick", seed=0, started="2026-01-01T00:00:00Z", seconds=0.0,
    ...                        experiments_dir=None, selection=None, complete=True)
    >>> doc["passed"], doc["n_experiments"], doc["schema_version"]
    (False, 0, 1)
    """
    from .. import __version__

    recs = [r.as_dict() for r in results]
    ran = [r for r in recs if r["status"] != "skipped"]
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "deeplimits_version": __version__,
        "mode": mode,
        "seed": seed,
        "started": started,
        "seconds": seconds,
        "complete": complete,
        "experiments_dir": str(experiments_dir) if experiments_dir else None,
        "selection": list(selection) if selection else None,
        "environment": to_jsonable(environment()),
        "passed": bool(ran) and all(r["passed"] for r in ran) and complete,
        "n_experiments": len(recs),
        "n_passed": sum(r["passed"] for r in recs),
        "n_failed": sum(not r["passed"] for r in ran),
        "n_skipped": len(recs) - len(ran),
        "nonfinite_values": any(r["nonfinite"] for r in recs),
        "experiments": recs,
    }
