"""Running validation experiments and recording their outcomes.

:func:`run_experiments` is what ``deeplimits validate`` calls.  It imports the experiment
files (:mod:`.discovery`), selects experiments by id, glob or area, runs each one with the
``quick`` or ``full`` parameter set in its own folder ``OUTDIR/<id>/``, and writes
``OUTDIR/results.json`` and ``OUTDIR/report.md`` (:mod:`.report`) after every experiment,
so a long run that is interrupted still leaves a valid report of what finished.

An exception inside an experiment does not stop the run: the experiment is recorded with
status ``"error"`` (``passed = false``) and its traceback, and the next one starts.
The run passes iff every selected experiment passed.
"""

from __future__ import annotations

import datetime as _dt
import operator
import os
import platform
import shutil
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discovery import (
    ImportFailure,
    SelectionError,
    failure_selected,
    find_experiments_dir,
    format_user_traceback,
    load_experiments,
    select_ids,
)
from .registry import Experiment, Outcome, registry
from .report import RESULTS_SCHEMA_VERSION, to_jsonable, write_report_md, write_results_json

__all__ = ["ExperimentResult", "RunSummary", "run_experiments", "run_one", "SelectionError"]

_MAX_WARNINGS = 20


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
    status : {"passed", "failed", "error"}
        ``"error"``: the experiment raised, returned no :class:`Outcome`, declared no
        check, wrote no figure file it listed, or its file failed to import.
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
    """

    id: str
    area: str
    checks: str
    criterion: str
    mode: str
    params: dict
    status: str
    passed: bool
    seconds: float
    metrics: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    summary: str = ""
    error: str | None = None
    warnings: list = field(default_factory=list)
    source: str = ""
    missing_figures: list = field(default_factory=list)

    def as_dict(self) -> dict:
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
        """True iff at least one experiment ran and all passed."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failed_ids(self) -> list[str]:
        """Ids of experiments that failed or raised."""
        return [r.id for r in self.results if not r.passed]

    def __str__(self) -> str:
        n_ok = sum(r.passed for r in self.results)
        head = f"{'PASSED' if self.passed else 'FAILED'}: {n_ok}/{len(self.results)} experiments passed"
        return f"{head} ({self.seconds:.1f} s); report: {self.report_md}"


def _environment() -> dict:
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


def _resolve_figure(fig: Any, exp_dir: Path) -> Path:
    p = Path(fig)
    if p.is_absolute():
        return p
    # Relative paths: relative to the experiment's folder first, then to the working directory.
    return exp_dir / p if (exp_dir / p).exists() or not p.exists() else p.resolve()


def _collect_figures(figs: list, exp_dir: Path, outdir: Path) -> tuple[list[str], list[str]]:
    rel, missing = [], []
    for fig in figs:
        p = _resolve_figure(fig, exp_dir)
        if not p.is_file():
            missing.append(str(fig))
            continue
        p = p.resolve()
        try:
            rel.append(p.relative_to(outdir).as_posix())
        except ValueError:  # written outside the report folder: copy it in so links stay relative
            target = exp_dir / p.name
            shutil.copy2(p, target)
            rel.append(target.relative_to(outdir).as_posix())
    return rel, missing


def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def _record_warnings(caught: list) -> list[str]:
    seen: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
        if len(seen) >= _MAX_WARNINGS:
            break
    return seen


def run_one(exp: Experiment, mode: str, seed: int, outdir: str | Path) -> ExperimentResult:
    """Run one experiment in ``outdir/<id>/`` and record its outcome; never raises for experiment errors.

    Parameters
    ----------
    exp : Experiment
    mode : {"quick", "full"}
    seed : int
    outdir : str or Path
        The run's output folder (the experiment writes into its subfolder ``<id>``).

    Returns
    -------
    ExperimentResult
    """
    outdir = Path(outdir).resolve()
    exp_dir = outdir / exp.id
    exp_dir.mkdir(parents=True, exist_ok=True)
    params = dict(exp.quick if mode == "quick" else exp.full)
    rec = ExperimentResult(
        id=exp.id,
        area=exp.area,
        checks=exp.checks,
        criterion=exp.criterion,
        mode=mode,
        params=params,
        status="error",
        passed=False,
        seconds=0.0,
        source=exp.source,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = exp.run(mode, seed=seed, outdir=exp_dir)
        except Exception as exc:
            out = None
            rec.error = format_user_traceback(exc)
    rec.seconds = time.perf_counter() - t0
    rec.warnings = _record_warnings(caught)
    _close_figures()
    if out is None:
        return rec
    try:
        return _fill_from_outcome(rec, out, exp_dir, outdir)
    except Exception as exc:  # e.g. a figure that cannot be copied: still a record, never a crash
        rec.status, rec.passed = "error", False
        rec.error = "recording the outcome failed:\n" + "".join(traceback.format_exception(exc))
        return rec


def _fill_from_outcome(rec: ExperimentResult, out: Outcome, exp_dir: Path, outdir: Path) -> ExperimentResult:
    problems = []
    try:
        for c in out.checks:
            d = c.as_dict()
            rec.metrics[c.name] = d["value"]
            rec.thresholds[c.name] = {k: d[k] for k in ("op", "threshold", "passed", "note")}
    except Exception:
        rec.error = "a Check could not be evaluated:\n" + traceback.format_exc()
        return rec
    for k, v in out.metrics.items():
        if k in rec.metrics:
            rec.warnings.append(f"metric {k!r} is also a check name; the check's value is reported")
        else:
            rec.metrics[k] = v
    rec.summary = out.summary
    rec.figures, rec.missing_figures = _collect_figures(list(out.figures), exp_dir, outdir)
    if not out.checks:
        problems.append("the experiment returned no Check: nothing was compared with a threshold")
    if rec.missing_figures:
        problems.append("figure file(s) listed but not written: " + ", ".join(rec.missing_figures))
    if problems:
        rec.status, rec.passed, rec.error = "error", False, "\n".join(problems)
    else:
        rec.passed = all(t["passed"] for t in rec.thresholds.values())
        rec.status = "passed" if rec.passed else "failed"
    return rec


def _import_failure_record(f: ImportFailure, mode: str) -> ExperimentResult:
    return ExperimentResult(
        id=f.pseudo_id,
        area=f.area,
        checks=f"the experiment file {f.path.name} imports without error",
        criterion="importing the file raises no exception",
        mode=mode,
        params={},
        status="error",
        passed=False,
        seconds=0.0,
        error=f.traceback,
        source=str(f.path),
    )


def _document(results, *, mode, seed, started, seconds, experiments_dir, selection, complete) -> dict:
    from .. import __version__

    recs = [r.as_dict() for r in results]
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
        "environment": to_jsonable(_environment()),
        "passed": bool(recs) and all(r["passed"] for r in recs) and complete,
        "n_experiments": len(recs),
        "n_passed": sum(r["passed"] for r in recs),
        "n_failed": sum(not r["passed"] for r in recs),
        "nonfinite_values": any(r["nonfinite"] for r in recs),
        "experiments": recs,
    }


def run_experiments(
    ids_or_globs: list[str] | str | None = None,
    mode: str = "quick",
    seed: int = 0,
    outdir: str | Path = "validation-report",
    progress: bool = True,
    *,
    experiments_dir: str | Path | None = None,
    discover: bool = True,
) -> RunSummary:
    """Run validation experiments and write ``results.json`` and ``report.md``.

    Parameters
    ----------
    ids_or_globs : list of str, str or None
        Experiments to run: ids (``sde.gbm_strong``), shell globs (``sde.*``) or area
        names (``sde``).  None runs all.
    mode : {"quick", "full"}
        Parameter set: ``quick`` (minutes in total on 2 cores) or ``full`` (publication-size).
    seed : int
        Non-negative seed passed to every experiment.
    outdir : str or Path
        Output folder (created).  Each experiment writes its figures to ``outdir/<id>/``.
    progress : bool
        Show a tqdm progress bar and one line per finished experiment (on stderr).
    experiments_dir : str or Path, optional
        Folder of ``*_experiments.py`` files; default: see
        :func:`~deeplimits.validation.discovery.find_experiments_dir`.
    discover : bool
        True: import the experiment files of the folder and choose among *their* experiments.
        False: choose among the experiments already in the registry (e.g. declared in a notebook).

    Returns
    -------
    RunSummary
        ``summary.passed`` is True iff every selected experiment passed.

    Raises
    ------
    ValueError
        Bad ``mode``/``seed``/``experiments_dir``.
    SelectionError
        A pattern matched no experiment (subclass of ValueError).
    LookupError
        No experiment exists at all.
    """
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    try:
        if isinstance(seed, bool):
            raise TypeError
        seed = operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}") from None
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if isinstance(ids_or_globs, str):
        ids_or_globs = [ids_or_globs]
    patterns = list(ids_or_globs or [])

    exp_dir = None
    failures: list[ImportFailure] = []
    available = list(registry)
    if discover:
        exp_dir = find_experiments_dir(experiments_dir)
        available = []
        if exp_dir is not None:
            load = load_experiments(exp_dir)
            failures = load.failures
            loaded = {eid for ids in load.ids_by_file.values() for eid in ids}
            available = [eid for eid in registry if eid in loaded]
    if not available and not failures:
        where = f" in {exp_dir}" if exp_dir else " (no experiments folder found)"
        raise LookupError(f"no validation experiments found{where}")

    chosen_failures = [f for f in failures if failure_selected(f, patterns)]
    tolerate = [p for p in patterns if any(failure_selected(f, [p]) for f in failures)]
    ids = select_ids(patterns, available, tolerate=tolerate)
    for f in failures:
        print(
            f"deeplimits: ERROR: {f.path} failed to import; its experiments cannot run"
            + ("" if f in chosen_failures else " (not selected; listed here as a warning)")
            + f"\n{f.traceback}",
            file=sys.stderr,
        )

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    outdir = outdir.resolve()
    results_json, report_md = outdir / "results.json", outdir / "report.md"
    started = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.perf_counter()
    results = [_import_failure_record(f, mode) for f in chosen_failures]

    def write(complete: bool) -> None:
        doc = _document(
            results,
            mode=mode,
            seed=seed,
            started=started,
            seconds=time.perf_counter() - t0,
            experiments_dir=exp_dir,
            selection=patterns,
            complete=complete,
        )
        write_results_json(doc, results_json)
        write_report_md(doc, report_md)

    from tqdm.auto import tqdm

    bar = tqdm(ids, desc=f"validate ({mode})", unit="exp", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    try:
        for eid in bar:
            bar.set_postfix_str(eid)
            rec = run_one(registry[eid], mode, seed, outdir)
            results.append(rec)
            if progress:
                bar.write(f"  {rec.status.upper():6s} {eid} ({rec.seconds:.1f} s)", file=sys.stderr)
            write(complete=False)
    except KeyboardInterrupt:
        write(complete=False)
        raise
    finally:
        bar.close()
    write(complete=True)
    return RunSummary(
        results=results,
        mode=mode,
        seed=seed,
        outdir=outdir,
        seconds=time.perf_counter() - t0,
        results_json=results_json,
        report_md=report_md,
        experiments_dir=exp_dir,
    )
