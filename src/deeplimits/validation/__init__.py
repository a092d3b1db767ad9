"""Validation harness: experiments that compare limits with finite systems.

Experiments live in the top-level ``validation/`` folder of the repository
(shipped in the wheel as ``deeplimits._experiments``).  Each one is a function
decorated with :func:`experiment`; ``deeplimits validate`` discovers, runs and
reports them.
"""

from .registry import Check, Experiment, Outcome, experiment, registry

__all__ = ["Check", "Experiment", "Outcome", "experiment", "registry"]
