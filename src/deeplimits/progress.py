"""Progress bars for long Monte-Carlo calls, and one notice while the first call compiles its kernels.

:func:`with_progress` gives a Monte-Carlo entry point (one with ``first_path``, e.g. a
:func:`~deeplimits.parallel.chunkable` one) a ``progress=`` keyword.  With a progress bar
the run is split into about :data:`N_UPDATES` consecutive chunks of paths, run one after
the other here; the package's entry points give the same paths for any split,
so the results are those of the call without a bar.
``progress=None`` (the default) shows the bar only when stderr is a terminal.

Apply it under :func:`~deeplimits.parallel.chunkable` (closer to the function), so that the
function sent to an executor is still the module's own; a run given ``executor`` or
``chunk_size`` draws no bar (its chunks run with ``progress=False``).
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import numpy as np

from .parallel.docs import add_parameter_entries

__all__ = ["N_UPDATES", "NOTICE_AFTER_S", "PROGRESS_PARAMETER", "progress_wanted", "with_progress"]

P = ParamSpec("P")
R = TypeVar("R")

PROGRESS_PARAMETER = (
    "progress : bool, optional\n"
    "    Show a progress bar on stderr; default: only when stderr is a terminal.  The results\n"
    "    do not depend on it."
)
"""The docstring entry :func:`with_progress` adds, unindented."""

#: Number of updates of a progress bar (chunks of paths).
N_UPDATES = 20
#: Seconds the first call of the process may take before the compile notice is printed.
NOTICE_AFTER_S = 2.0

_noticed = threading.Event()


def progress_wanted(progress: bool | None) -> bool:
    """True or False as given; None: True iff stderr is a terminal.

    Examples
    --------
    >>> progress_wanted(True), progress_wanted(False)
    (True, False)
    """
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty())
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None, got {type(progress).__name__} {progress!r}")
    return bool(progress)


def _notice() -> None:
    if not _noticed.is_set():
        _noticed.set()
        print(
            "deeplimits: the first call in this Python process compiles (or loads from the cache) its Numba "
            "kernels; this can take a few seconds, later calls start at once.",
            file=sys.stderr,
        )


def with_progress(count: str, *, rows: Mapping[str, int] | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator giving a Monte-Carlo entry point its ``progress=`` keyword (see the module).

    Parameters
    ----------
    count : str
        Name of the path-count argument (``"n_paths"``, ``"n_nets"``, ``"n_walkers"``).
    rows : mapping of str to int, optional
        ``{argument: ndim}`` for arguments with one row per path (as for ``chunkable``).

    Returns
    -------
    callable
        The decorator.  The function must accept ``progress`` and ``first_path``.  Under
        :func:`~deeplimits.parallel.chunkable` (applied outside this decorator), a run given
        ``executor`` or ``chunk_size`` draws no bar.

    Examples
    --------
    >>> from deeplimits.rng import normal_array
    >>> @with_progress("n_paths")
    ... def draw(n_paths, seed=0, *, first_path=0, executor=None, chunk_size=None, progress=None):
    ...     return normal_array(seed, (n_paths, 2), first_path)
    >>> bool((draw(50, progress=True) == draw(50, progress=False)).all())
    True
    """
    per_path = dict(rows or {})

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        missing = [p for p in (count, "progress", "first_path") if p not in sig.parameters]
        if missing:
            raise TypeError(f"{func.__qualname__} lacks the parameter(s) {missing} needed by with_progress")

        @functools.wraps(func)
        def entry(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            shown = progress_wanted(bound.arguments.get("progress"))
            timer = None
            if shown and not _noticed.is_set():
                timer = threading.Timer(NOTICE_AFTER_S, _notice)
                timer.daemon = True
                timer.start()
            try:
                if not shown or bound.arguments.get("executor") is not None or bound.arguments.get("chunk_size"):
                    return func(*args, **kwargs)
                return _run_with_bar(func, bound, count, per_path)
            finally:
                if timer is not None:
                    timer.cancel()
                    _noticed.set()  # one notice per process at most, and only for the first call

        return add_parameter_entries(entry, PROGRESS_PARAMETER, "progress")

    return decorate


def _run_with_bar(func: Callable[..., Any], bound: inspect.BoundArguments, count: str, rows: dict[str, int]) -> Any:
    from tqdm.auto import tqdm

    from .parallel import run_in_chunks

    bound.apply_defaults()
    call = dict(bound.arguments)
    for name in ("executor", "chunk_size"):
        call.pop(name, None)
    n, first_path = call.pop(count), call.pop("first_path")
    sliced = {name: call.pop(name) for name, ndim in rows.items() if np.ndim(call[name]) == ndim}
    if n is None:
        n = np.shape(next(iter(sliced.values())))[0] if sliced else 1
    if not isinstance(n, (int, np.integer)) or n < 2:
        return func(**bound.arguments)
    call["progress"] = False
    with tqdm(total=int(n), desc=func.__name__, unit=count.removeprefix("n_"), file=sys.stderr, leave=False) as bar:

        def chunk(**kw: Any) -> Any:
            out = func(**kw)
            bar.update(kw[count])
            return out

        chunk.__name__ = func.__name__
        size = max(1, math.ceil(int(n) / N_UPDATES))
        return run_in_chunks(
            chunk, n_paths=int(n), chunk_size=size, first_path=first_path, count_arg=count, rows=sliced, **call
        )
