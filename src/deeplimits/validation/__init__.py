"""Validation harness: experiments that compare limits with finite systems.

The package's experiments are the modules of :mod:`deeplimits.experiments`.  Each one
is a function decorated with :func:`experiment`; ``deeplimits validate`` discovers
(:mod:`.discovery`), runs (:mod:`.runner`) and reports (:mod:`.report`) them.  A run
holds its output folder with a lock file (:mod:`._lock`) and writes every file
atomically (:mod:`._atomic`), so no result is ever lost or half-written.
"""

from typing import Any

from .figures import save_figure
from .registry import Check, Experiment, Outcome, experiment, isolated_registry, registry

__all__ = [
    "Check",
    "Experiment",
    "Outcome",
    "experiment",
    "isolated_registry",
    "registry",
    "save_figure",
    "run_experiments",
    "RunSummary",
    "ExperimentResult",
    "OutputDirError",
    "OutputDirInUseError",
    "load_experiments",
    "find_experiments_dir",
    "select_ids",
]

# Lazy: keep ``from deeplimits.validation import experiment`` light for experiment files.
_LAZY = {
    "run_experiments": "runner",
    "RunSummary": "records",
    "ExperimentResult": "records",
    "OutputDirError": "_atomic",
    "OutputDirInUseError": "_lock",
    "load_experiments": "discovery",
    "find_experiments_dir": "discovery",
    "select_ids": "discovery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
