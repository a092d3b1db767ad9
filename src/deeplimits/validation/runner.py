"""Running validation experiments and recording their outcomes.

:func:`run_experiments` is what ``deeplimits validate`` calls.  It imports the experiment
files (:mod:`.discovery`), selects experiments by id, glob or area, runs each one with the
``quick`` or ``full`` parameter set in its own folder ``OUTDIR/<id>/``, and writes
``OUTDIR/results.json``, ``OUTDIR/report.md`` and ``OUTDIR/report.html`` (:mod:`.report`) after every experiment,
so a long run that is interrupted still leaves a valid report of what finished.

An exception inside an experiment does not stop the run: the experiment is recorded with
status ``"error"`` (``passed = false``) and its traceback, and the next one starts.  An
experiment that needs a missing optional dependency (:data:`OPTIONAL_EXTRAS`) is recorded as
``"skipped"`` with the command that installs it.  The run passes iff every selected
experiment that was not skipped passed.  With ``executor=`` (a Dask client)
the experiments run as tasks on a cluster (:mod:`.remote`).
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from .._checks import check_bool, check_choice, check_int, check_seed
from ..parallel.cluster import check_executor
from ._atomic import OutputDirError, prepare_outdir
from ._lock import RunLock
from .discovery import (
    ImportFailure,
    failure_selected,
    find_experiments_dir,
    format_user_traceback,
    load_experiments,
    select_ids,
)
from .figures import collect_figures
from .records import ExperimentResult, RunSummary, results_document
from .registry import Experiment, Outcome, registry
from .report import to_jsonable, write_report_html, write_report_md, write_results_json

__all__ = ["OPTIONAL_EXTRAS", "run_experiments", "run_one"]

_MAX_WARNINGS = 20

#: Optional dependencies -> the extra that installs them.  An experiment that raises
#: ``ModuleNotFoundError`` for one of them is recorded as skipped, not as an error.
OPTIONAL_EXTRAS = {"torch": "torch", "torchsde": "torch", "xarray": "xarray", "dask": "distributed"}


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


def blank_record(exp: Experiment, mode: str) -> ExperimentResult:
    """The record of ``exp`` before it runs: status ``"error"`` until an outcome fills it."""
    return ExperimentResult(
        id=exp.id,
        area=exp.area,
        checks=exp.checks,
        criterion=exp.criterion,
        mode=mode,
        params=dict(exp.quick if mode == "quick" else exp.full),
        status="error",
        passed=False,
        seconds=0.0,
        source=exp.source,
        resolution=exp.resolution.get(mode),
    )


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

    Raises
    ------
    OutputDirError
        The experiment's folder cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> from deeplimits.validation import Check, Outcome, experiment, isolated_registry, registry
    >>> with isolated_registry():
    ...     @experiment(id="toy.one", checks="0 < 1", criterion="0 < 1", quick={}, full={})
    ...     def one(params, *, seed, outdir):
    ...         return Outcome(checks=[Check("zero", 0.0, "<", 1.0)])
    ...     rec = run_one(registry["toy.one"], "quick", 0, tempfile.mkdtemp())
    >>> rec.status, rec.metrics
    ('passed', {'zero': 0.0})
    """
    if not isinstance(exp, Experiment):
        raise TypeError(f"exp must be an Experiment (registry[id]), got {type(exp).__name__}")
    mode = check_choice(mode, "mode", ("quick", "full"))
    check_seed(seed)
    outdir = Path(outdir).resolve()
    exp_dir = outdir / exp.id
    try:
        exp_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"outdir: cannot create {str(exp_dir)!r}: {exc.strerror or exc}") from None
    rec = blank_record(exp, mode)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = exp.run(mode, seed=seed, outdir=exp_dir)
        except ModuleNotFoundError as exc:
            out = None
            extra = OPTIONAL_EXTRAS.get((exc.name or "").partition(".")[0])
            if extra is None:
                rec.error = format_user_traceback(exc)
            else:
                rec.status = "skipped"
                rec.error = f'needs the optional dependency {exc.name}: pip install "deeplimits[{extra}]"'
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
        if k not in rec.metrics:
            rec.metrics[k] = v
        elif to_jsonable(v) != to_jsonable(rec.metrics[k]):  # the same value twice is no conflict
            rec.warnings.append(f"metric {k!r} = {v!r} differs from the check of that name; the check's is reported")
    rec.summary = out.summary
    rec.figures, rec.missing_figures = collect_figures(list(out.figures), exp_dir, outdir)
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


def run_experiments(
    ids_or_globs: list[str] | tuple[str, ...] | str | None = None,
    mode: str = "quick",
    seed: int = 0,
    outdir: str | Path = "validation-report",
    progress: bool = True,
    *,
    experiments_dir: str | Path | None = None,
    discover: bool = True,
    executor: Any = None,
) -> RunSummary:
    """Run validation experiments and write ``results.json``, ``report.md`` and ``report.html``.

    The output folder is created and checked (writable, not in use by another run) before
    any experiment runs.  The run then holds it with a lock file
    (``OUTDIR/.deeplimits-validate.lock``) until it ends, and rewrites ``results.json`` and
    ``report.md`` atomically after every experiment: a reader, or a run that is killed,
    never leaves a partial file.

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
    executor : distributed.Client or concurrent.futures.Executor, optional
        Run each experiment as a task there (:mod:`.remote`); their files come back to ``outdir``
        and the results keep the selection's order.  None: one after the other in this process.

    Returns
    -------
    RunSummary
        ``summary.passed`` is True iff every selected experiment passed.

    Raises
    ------
    ValueError, TypeError
        Bad ``mode``/``seed``/``progress``/``discover``/``experiments_dir``/``ids_or_globs``.
    SelectionError
        A pattern matched no experiment (subclass of ValueError).
    LookupError
        No experiment exists at all.
    OutputDirError
        ``outdir`` cannot be created or written (before any experiment runs, or when a
        result cannot be saved); :class:`OutputDirInUseError` (a subclass) when another run
        is writing into it.

    Examples
    --------
    >>> import tempfile
    >>> from deeplimits.validation import Check, Outcome, experiment, isolated_registry
    >>> out = tempfile.mkdtemp()
    >>> with isolated_registry():
    ...     @experiment(id="toy.one", checks="0 < 1", criterion="0 < 1", quick={}, full={})
    ...     def one(params, *, seed, outdir):
    ...         return Outcome(checks=[Check("zero", 0.0, "<", 1.0)])
    ...     summary = run_experiments(None, outdir=out, progress=False, discover=False)
    >>> summary.passed, [r.id for r in summary.results], summary.results_json.name
    (True, ['toy.one'], 'results.json')
    """
    mode = check_choice(mode, "mode", ("quick", "full"))
    check_seed(seed)
    # check_seed folds seeds >= 2**64 for the kernels; the run records and passes on the user's own value.
    seed = check_int(seed, "seed")
    progress = check_bool(progress, "progress")
    discover = check_bool(discover, "discover")
    executor = None if executor is None else check_executor(executor)
    if isinstance(ids_or_globs, str):
        ids_or_globs = [ids_or_globs]
    if ids_or_globs is not None and not isinstance(ids_or_globs, (list, tuple)):
        raise TypeError(f"ids_or_globs must be a str, a list of str or None, got {type(ids_or_globs).__name__}")
    patterns = list(ids_or_globs or [])
    if not all(isinstance(p, str) for p in patterns):
        raise TypeError(f"ids_or_globs must hold strings only, got {patterns!r}")

    exp_dir = None
    failures: list[ImportFailure] = []
    available = list(registry)
    if discover:
        exp_dir = find_experiments_dir(experiments_dir)
        load = load_experiments(exp_dir)
        failures = load.failures
        loaded = {eid for ids in load.ids_by_file.values() for eid in ids}
        available = [eid for eid in registry if eid in loaded]
    if not available and not failures:
        where = f" in {exp_dir}" if exp_dir else " (none registered)"
        raise LookupError(f"no validation experiments found{where}")

    chosen_failures = [f for f in failures if failure_selected(f, patterns)]
    tolerate = [p for p in patterns if any(failure_selected(f, [p]) for f in failures)]
    ids = select_ids(patterns, available, tolerate=tolerate)
    # Before anything runs: a bad or busy output folder costs nothing.
    files = ("results.json", "report.md", "report.html")
    out = prepare_outdir(outdir, files=files, folders=tuple(ids))
    with RunLock(out):
        # Temporary files of a run that was killed while writing its report: ours now that we hold the lock.
        for stale in (p for name in files for p in out.glob(f".{name}.*.tmp{Path(name).suffix}")):
            stale.unlink(missing_ok=True)
        for f in failures:
            print(
                f"deeplimits: ERROR: {f.path} failed to import; its experiments cannot run"
                + ("" if f in chosen_failures else " (not selected; listed here as a warning)")
                + f"\n{f.traceback}",
                file=sys.stderr,
            )
        results = [_import_failure_record(f, mode) for f in chosen_failures]
        return _run(
            ids, results, out, executor, mode=mode, seed=seed, progress=progress, exp_dir=exp_dir, patterns=patterns
        )


def _run(
    ids: list[str],
    results: list[ExperimentResult],
    outdir: Path,
    executor: Any,
    *,
    mode: str,
    seed: int,
    progress: bool,
    exp_dir: Path | None,
    patterns: list[str],
) -> RunSummary:
    results_json, report_md, report_html = outdir / "results.json", outdir / "report.md", outdir / "report.html"
    started = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.perf_counter()

    run: dict[str, Any] = dict(mode=mode, seed=seed, experiments_dir=exp_dir)

    def write(complete: bool) -> None:
        seconds = time.perf_counter() - t0
        doc = results_document(results, started=started, seconds=seconds, selection=patterns, complete=complete, **run)
        write_results_json(doc, results_json)
        write_report_md(doc, report_md)
        write_report_html(doc, report_html)

    from tqdm.auto import tqdm

    from .remote import finished_records

    head, done = list(results), {}
    bar = tqdm(
        total=len(ids), desc=f"validate ({mode})", unit="exp", disable=not progress, file=sys.stderr, dynamic_ncols=True
    )
    finished = finished_records(executor, [registry[eid] for eid in ids], mode, seed, outdir, exp_dir, bar)
    try:
        for i, rec in finished:
            done[i] = rec
            # Finished experiments in the selection's order, whatever order they finish in.
            results[:] = head + [done[k] for k in sorted(done)]
            bar.update(1)
            if progress:
                why = f": {rec.error}" if rec.status == "skipped" else ""
                bar.write(f"  {rec.status.upper():6s} {rec.id} ({rec.seconds:.1f} s){why}", file=sys.stderr)
            write(complete=False)
    except KeyboardInterrupt:
        write(complete=False)
        raise
    finally:
        finished.close()
        bar.close()
    write(complete=True)
    seconds = time.perf_counter() - t0
    return RunSummary(results, outdir=outdir, seconds=seconds, results_json=results_json, report_md=report_md, **run)
