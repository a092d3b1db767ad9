"""Validation harness: experiments that compare limits with finite systems.

Experiments live in the top-level ``validation/`` folder of the repository
(shipped in the wheel as ``deeplimits._experiments``).  Each one is a function
decorated with :func:`experiment`; ``deeplimits validate`` discovers
(:mod:`.discovery`), runs (:mod:`.runner`) and reports (:mod:`.report`) them.
"""

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
    "load_experiments",
    "find_experiments_dir",
    "select_ids",
]


def __getattr__(name):
    # Lazy: keep ``from deeplimits.validation import experiment`` light for experiment files.
    if name in ("run_experiments", "RunSummary", "ExperimentResult"):
        from . import runner

        return getattr(runner, name)
    if name in ("load_experiments", "find_experiments_dir", "select_ids"):
        from . import discovery

        return getattr(discovery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
