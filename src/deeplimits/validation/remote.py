"""Running validation experiments one after the other, or as tasks on a Dask cluster.

Each experiment is one task: :func:`run_task` runs it on a worker with
:func:`~deeplimits.validation.runner.run_one` in a temporary folder there, and returns its
record together with the bytes of every file it wrote.  The client writes those files
into ``OUTDIR/<id>/`` (:func:`write_task_files`), so the workers need no shared file
system.  Experiment files of a user's folder travel with the tasks as source text
(:func:`experiment_sources`); the package's own are imported on the workers.  A task
whose worker dies is run again elsewhere by Dask; a task that cannot run at all (the
experiment cannot be sent to the worker, every worker that tried it died) is recorded as
an error, like an experiment that raised.
"""

from __future__ import annotations

import linecache
import os
import pickle
import shutil
import sys
import tempfile
import traceback
import types
from collections.abc import Generator
from pathlib import Path, PurePosixPath
from typing import Any

from ..parallel.cluster import as_completed, submit, with_numba_threads
from ._atomic import OutputDirError, atomic_write
from .discovery import find_experiments_dir
from .records import ExperimentResult
from .registry import Experiment
from .runner import blank_record, run_one

__all__ = [
    "experiment_sources",
    "finished_records",
    "load_sources",
    "run_on_executor",
    "run_task",
    "write_task_files",
]


def experiment_sources(exps: list[Experiment], directory: Path | None) -> dict[str, tuple[str, str]]:
    """The source of the experiment files of ``directory`` that ``exps`` come from.

    Returns ``{module name: (file path, source text)}``; the package's own experiments are
    imported on the workers by name and are never included.

    Examples
    --------
    >>> from deeplimits.validation import discovery, registry
    >>> exps = list(registry.values())
    >>> experiment_sources(exps, discovery.find_experiments_dir())
    {}
    """
    if directory is None or directory.resolve() == find_experiments_dir():
        return {}
    sources = {}
    for exp in exps:
        name = getattr(exp.func, "__module__", None) or ""
        path = getattr(sys.modules.get(name), "__file__", None)
        if path and name not in sources and Path(path).resolve().parent == directory.resolve():
            sources[name] = (path, Path(path).read_text(encoding="utf-8"))
    return sources


def load_sources(sources: dict[str, tuple[str, str]]) -> None:
    """Import experiment files from their source text, under their own names and paths.

    A worker calls this before it unpickles an experiment from such a file, so the file need
    not exist there; tracebacks still name the file and show its lines.
    """
    for name, (path, text) in sources.items():
        module = sys.modules.get(name)
        if module is not None and text in (getattr(module, "__deeplimits_source__", None), _text_of(module, path)):
            continue
        module = types.ModuleType(name)
        module.__file__ = path
        module.__deeplimits_source__ = text  # type: ignore[attr-defined]
        linecache.cache[path] = (len(text), None, text.splitlines(keepends=True), path)
        sys.modules[name] = module
        try:
            exec(compile(text, path, "exec"), module.__dict__)
        except BaseException:
            sys.modules.pop(name, None)
            raise


def _text_of(module: types.ModuleType, path: str) -> str | None:
    """The text of ``path`` if ``module`` was imported from it (same process or shared folder)."""
    if getattr(module, "__file__", None) != path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def run_task(
    exp: Experiment | bytes, mode: str, seed: int, sources: dict[str, tuple[str, str]] | None = None
) -> tuple[ExperimentResult, dict[str, bytes]]:
    """Run one experiment in a temporary folder; return its record and the files it wrote.

    This is the function a worker runs.  ``exp`` may be pickled (bytes): it is then unpickled
    after ``sources`` (:func:`experiment_sources`) are imported.  The files are keyed by their
    path relative to the run's output folder (``<id>/fig.png``), as the record's ``figures``.

    Examples
    --------
    >>> from deeplimits.validation import Check, Outcome, experiment, isolated_registry, registry
    >>> with isolated_registry():
    ...     @experiment(id="toy.file", checks="c", criterion="k", quick={}, full={})
    ...     def toy(params, *, seed, outdir):
    ...         (outdir / "a.txt").write_text("hi")
    ...         return Outcome(checks=[Check("x", 0.0, "<", 1.0)])
    ...     rec, files = run_task(registry["toy.file"], "quick", 0)
    >>> rec.status, files
    ('passed', {'toy.file/a.txt': b'hi'})
    """
    os.environ.setdefault("MPLBACKEND", "Agg")  # a worker has no display
    load_sources(sources or {})
    if isinstance(exp, bytes):
        exp = pickle.loads(exp)
    if not isinstance(exp, Experiment):
        raise TypeError(f"exp must be an Experiment, got {type(exp).__name__}")
    tmp = Path(tempfile.mkdtemp(prefix="deeplimits-task-"))
    try:
        rec = run_one(exp, mode, seed, tmp)
        files = {
            p.relative_to(tmp).as_posix(): p.read_bytes() for p in sorted((tmp / exp.id).rglob("*")) if p.is_file()
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rec, files


def write_task_files(outdir: Path, exp_id: str, files: dict[str, bytes]) -> None:
    """Write the files a task returned into ``outdir/<exp_id>/``, each atomically.

    Raises
    ------
    OutputDirError
        A file cannot be written, or a path points outside ``outdir/<exp_id>/``.
    """
    for rel, data in files.items():
        parts = PurePosixPath(rel).parts
        if len(parts) < 2 or parts[0] != exp_id or ".." in parts:
            raise OutputDirError(f"outdir: the task of {exp_id} returned a file outside its folder: {rel!r}")
        target = outdir.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputDirError(f"outdir: cannot create {str(target.parent)!r}: {exc.strerror or exc}") from None

        def write(tmp: Path, data: bytes = data) -> None:
            tmp.write_bytes(data)

        atomic_write(target, write)


def _task_failure(exp: Experiment, mode: str, exc: BaseException) -> ExperimentResult:
    rec = blank_record(exp, mode)
    rec.error = "the task could not run on the cluster:\n" + "".join(traceback.format_exception(exc))
    return rec


def run_on_executor(
    executor: Any, exps: list[Experiment], mode: str, seed: int, outdir: Path, directory: Path | None = None
) -> Generator[tuple[int, ExperimentResult], None, None]:
    """Submit every experiment at once; yield ``(index, record)`` as each one finishes.

    ``index`` is the experiment's position in ``exps``; ``directory`` is the folder of
    experiment files they come from, whose source goes with the tasks.  Each finished task's
    files are written into ``outdir/<id>/`` before its record is yielded.  Closing the
    iterator early (an interrupted run) cancels the tasks that have not finished.
    """
    try:  # closures and notebook functions need cloudpickle (installed with dask)
        import cloudpickle as pickler
    except ImportError:  # pragma: no cover - a concurrent.futures executor without dask
        pickler = pickle
    sources = experiment_sources(exps, directory)
    task = with_numba_threads(run_task)
    futures, unsent = {}, []
    for i, exp in enumerate(exps):
        try:
            payload = pickler.dumps(exp)
        except Exception as exc:
            unsent.append((i, _task_failure(exp, mode, exc)))
        else:
            futures[submit(executor, task, payload, mode, seed, sources)] = i
    pending = set(futures)
    try:
        yield from unsent
        for fut in as_completed(futures):
            pending.discard(fut)
            i = futures[fut]
            try:
                rec, files = fut.result()
            except Exception as exc:
                rec = _task_failure(exps[i], mode, exc)
            else:
                write_task_files(outdir, exps[i].id, files)
            yield i, rec
    finally:
        for fut in pending:
            fut.cancel()


def finished_records(
    executor: Any, exps: list[Experiment], mode: str, seed: int, outdir: Path, directory: Path | None, bar: Any
) -> Generator[tuple[int, ExperimentResult], None, None]:
    """Yield ``(index, record)`` of each experiment as it finishes: on ``executor``, or in order here if None.

    ``bar`` is the run's progress bar; run here, it shows the experiment under way.
    """
    if executor is not None:
        yield from run_on_executor(executor, exps, mode, seed, outdir, directory)
        return
    for i, exp in enumerate(exps):
        bar.set_postfix_str(exp.id)
        yield i, run_one(exp, mode, seed, outdir)
