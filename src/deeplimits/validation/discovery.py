"""Finding, importing and selecting validation experiments.

The package's own experiments are the modules of the subpackage
:mod:`deeplimits.experiments` (one per area: ``sde``, ``corr``, ``cap``, ``resnet``, ...),
imported normally; importing one registers its experiments in
:data:`deeplimits.validation.registry`.  A user's own experiments live in files
``<area>_experiments.py`` of a folder given explicitly
(``deeplimits validate --experiments DIR``).

A file that raises while being imported is **not** skipped silently: it is returned as an
:class:`ImportFailure`, which the runner records as a failed pseudo-experiment with id
``<file name>:import`` (e.g. ``corr_experiments.py:import``) and the traceback.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .registry import registry

__all__ = [
    "EXPERIMENT_FILE_GLOB",
    "ImportFailure",
    "LoadResult",
    "SelectionError",
    "find_experiments_dir",
    "load_experiments",
    "select_ids",
]

#: Files in the experiments folder that are imported.
EXPERIMENT_FILE_GLOB = "*_experiments.py"


@dataclass
class ImportFailure:
    """An experiment file that raised while being imported.

    Attributes
    ----------
    path : Path
        The file.
    traceback : str
        The formatted traceback.
    """

    path: Path
    traceback: str

    @property
    def pseudo_id(self) -> str:
        """Id under which the failure is reported, ``"<file name>:import"``."""
        return f"{self.path.name}:import"

    @property
    def area(self) -> str:
        """Area named by the file, ``corr`` for ``corr_experiments.py`` or ``corr.py``."""
        stem = self.path.stem
        return stem[: -len("_experiments")] if stem.endswith("_experiments") else stem


@dataclass
class LoadResult:
    """What :func:`load_experiments` found.

    Attributes
    ----------
    directory : Path
        The folder searched.
    files : list of Path
        The experiment files, in import order (sorted by name).
    ids_by_file : dict
        Experiment ids registered by each file that imported cleanly.
    failures : list of ImportFailure
        Files that raised on import.
    """

    directory: Path
    files: list[Path] = field(default_factory=list)
    ids_by_file: dict[Path, list[str]] = field(default_factory=dict)
    failures: list[ImportFailure] = field(default_factory=list)


class SelectionError(ValueError):
    """An ``--only`` pattern matched no experiment (a usage error)."""


def _packaged_dir() -> Path:
    from .. import experiments

    return Path(experiments.__file__).resolve().parent


def find_experiments_dir(explicit: str | Path | None = None) -> Path:
    """Locate the folder of experiment files.

    Parameters
    ----------
    explicit : str or Path, optional
        A folder given by the user; it must exist.

    Returns
    -------
    Path
        ``explicit`` if given, else the folder of :mod:`deeplimits.experiments`.

    Raises
    ------
    ValueError
        If ``explicit`` is given but is not a folder.
    TypeError
        If ``explicit`` is not a path.

    Examples
    --------
    >>> find_experiments_dir().name
    'experiments'
    >>> find_experiments_dir("/no/such/folder")
    Traceback (most recent call last):
    ...
    ValueError: experiments folder '/no/such/folder' does not exist or is not a folder
    """
    if explicit is not None:
        p = _as_path(explicit, "experiments folder").expanduser()
        if not p.is_dir():
            raise ValueError(f"experiments folder {str(explicit)!r} does not exist or is not a folder")
        return p.resolve()
    return _packaged_dir()


def _as_path(value: object, what: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {type(value).__name__} {value!r}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{what} must be a path, got the empty string")
    return Path(value)


def _import_file(path: Path, name: str) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-.py paths
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and pickling look the module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise


def load_experiments(directory: str | Path) -> LoadResult:
    """Import every ``*_experiments.py`` file of a folder, registering its experiments.

    Files are imported in name order, each executed afresh (so experiments reappear in a
    registry that was reset, e.g. by :func:`~deeplimits.validation.isolated_registry`).
    The folder is put on ``sys.path`` so that experiment files may import helper modules
    placed next to them.

    Parameters
    ----------
    directory : str or Path
        Folder holding the experiment files.

    Returns
    -------
    LoadResult
        Files found, ids registered per file, and import failures (with tracebacks).
        An exception raised by a file is caught and recorded, never dropped.

    Raises
    ------
    ValueError
        If ``directory`` is not a folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from deeplimits.validation import isolated_registry
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "toy_experiments.py").write_text(
    ...     "from deeplimits.validation import Check, Outcome, experiment\\n"
    ...     "@experiment(id='toy.a', checks='c', criterion='k', quick={}, full={})\\n"
    ...     "def a(params, *, seed, outdir):\\n"
    ...     "    return Outcome(checks=[Check('x', 0, '<', 1)])\\n")
    >>> with isolated_registry():
    ...     load = load_experiments(d)
    >>> [p.name for p in load.files], list(load.ids_by_file.values()), load.failures
    (['toy_experiments.py'], [['toy.a']], [])
    """
    directory = _as_path(directory, "experiments folder")
    if not directory.is_dir():
        raise ValueError(f"experiments folder {str(directory)!r} does not exist or is not a folder")
    directory = directory.resolve()
    result = LoadResult(directory=directory)
    if directory == _packaged_dir():
        # The package's own modules, under their package names (as a user imports them).
        paths = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
        names = [f"deeplimits.experiments.{p.stem}" for p in paths]
    else:
        # A user's folder goes on sys.path so that its files may import helpers beside them.
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
        paths = sorted(directory.glob(EXPERIMENT_FILE_GLOB))
        names = [p.stem for p in paths]
    for path, name in zip(paths, names, strict=True):
        result.files.append(path)
        try:
            _import_file(path, name)
        except Exception as exc:
            result.failures.append(ImportFailure(path=path, traceback=format_user_traceback(exc)))
            continue
        result.ids_by_file[path] = [
            eid for eid, exp in registry.items() if exp.source and _resolves_to(exp.source, path)
        ]
    return result


def format_user_traceback(exc: BaseException) -> str:
    """Format an exception's traceback without the harness's own frames.

    Frames of ``deeplimits.validation`` (discovery, runner, registry) and of the import
    machinery are dropped, so the report shows the experiment's code first.

    Examples
    --------
    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as exc:
    ...     print(format_user_traceback(exc).splitlines()[-1])
    ZeroDivisionError: division by zero
    """
    te = traceback.TracebackException.from_exception(exc)
    harness = Path(__file__).resolve().parent
    keep = [
        f for f in te.stack if not f.filename.startswith("<frozen") and Path(f.filename).resolve().parent != harness
    ]
    if keep:  # an error inside the harness itself keeps its full traceback
        te.stack = traceback.StackSummary.from_list(keep)
    return "".join(te.format())


def _resolves_to(source: str, path: Path) -> bool:
    try:
        return Path(source).resolve() == path
    except OSError:  # pragma: no cover
        return False


def _matches(pattern: str, eid: str, area: str) -> bool:
    return fnmatch.fnmatchcase(eid, pattern) or fnmatch.fnmatchcase(area, pattern)


def select_ids(
    patterns: list[str] | tuple[str, ...] | str | None,
    available: list[str],
    *,
    tolerate: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """Select experiment ids by exact id, shell-style glob, or area name.

    Parameters
    ----------
    patterns : list of str, str or None
        Each entry is an id (``sde.gbm_strong``), a glob (``sde.*``, ``*strong*``) or an
        area (``sde``).  None or empty selects everything.
    available : list of str
        Ids to choose from, in run order.
    tolerate : list of str, optional
        Patterns allowed to match nothing (the runner passes those that select a file
        that failed to import, whose failure is reported instead).

    Returns
    -------
    list of str
        The selected ids, in the order of ``available``, without duplicates.

    Raises
    ------
    SelectionError
        If some pattern matches no id; the message lists the available ids.

    Examples
    --------
    >>> select_ids(["sde", "*weak"], ["sde.gbm_strong", "corr.weak", "cap.x"])
    ['sde.gbm_strong', 'corr.weak']
    """
    if patterns is None:
        return list(available)
    if isinstance(patterns, str):
        patterns = [patterns]
    patterns = list(patterns)
    if not patterns:
        return list(available)
    unmatched = []
    chosen: set[str] = set()
    for pat in patterns:
        if not isinstance(pat, str) or not pat.strip():
            raise SelectionError(f"empty experiment pattern {pat!r}")
        hits = [eid for eid in available if _matches(pat, eid, eid.split(".", 1)[0])]
        if not hits and pat not in tolerate:
            unmatched.append(pat)
        chosen.update(hits)
    if unmatched:
        listing = "\n  ".join(available) if available else "(none found)"
        raise SelectionError(
            f"no experiment matches {', '.join(repr(p) for p in unmatched)}. Available experiment ids:\n  {listing}"
        )
    return [eid for eid in available if eid in chosen]


def failure_selected(failure: ImportFailure, patterns: list[str] | tuple[str, ...] | str | None) -> bool:
    """Whether an import failure belongs to a selection.

    Always when nothing is selected explicitly; otherwise when a pattern matches the
    pseudo-id ``<file>:import``, or the area part of a pattern (text before the first
    ``.``) matches the file's area: ``corr.*`` or ``corr`` select a broken
    ``corr_experiments.py``, ``sde.*`` does not (the failure is still printed as a warning).

    Examples
    --------
    >>> from pathlib import Path
    >>> f = ImportFailure(Path("corr_experiments.py"), "Traceback ...")
    >>> failure_selected(f, ["corr.*"]), failure_selected(f, ["sde.*"])
    (True, False)
    """
    if not patterns:
        return True
    if isinstance(patterns, str):
        patterns = [patterns]
    for pat in patterns:
        if fnmatch.fnmatchcase(failure.pseudo_id, pat):
            return True
        if fnmatch.fnmatchcase(failure.area, pat.split(".", 1)[0]):
            return True
    return False
