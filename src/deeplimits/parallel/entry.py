"""The ``executor=`` and ``chunk_size=`` keywords of the Monte-Carlo entry points: :func:`chunkable`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

import numpy as np

from .chunks import run_in_chunks
from .docs import document_chunking

__all__ = ["chunkable"]

P = ParamSpec("P")
R = TypeVar("R")

_NEEDED = ("first_path", "executor", "chunk_size")


def chunkable(
    count: str = "n_paths", *, rows: Mapping[str, int] | None = None, note: str = ""
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator giving a Monte-Carlo entry point its ``executor=`` and ``chunk_size=`` keywords.

    The function must take ``count`` (its number of paths), ``first_path``, ``executor`` and
    ``chunk_size``.  When ``executor`` and ``chunk_size`` are both None it runs as written;
    otherwise the call becomes :func:`~deeplimits.parallel.run_in_chunks` over the same global
    paths, each chunk calling the function again with its own ``count`` and ``first_path`` and no
    executor.  The function's own ``first_path`` handling then makes the split run bit-identical.
    The standard ``executor`` and ``chunk_size`` entries are added to the docstring's Parameters
    (:func:`~deeplimits.parallel.document_chunking`).

    Parameters
    ----------
    count : str
        Name of the path-count argument.  If its default is None (``solve``'s ``n_paths``), a call
        without it has as many paths as the ``rows`` arrays, else 1.
    rows : mapping of str to int, optional
        ``{argument: ndim}``: the argument holds one row per path when it has ``ndim`` dimensions
        (``solve``'s ``y0`` of shape (n_paths, dim), ``dW`` of shape (n_paths, n_steps, n_noise));
        each chunk then receives its rows.  When ``count`` is not passed it is the number of rows.
    note : str
        More about ``chunk_size`` for this function, for its docstring.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> from deeplimits.rng import normal_array
    >>> @chunkable()
    ... def draw(n_paths, seed=0, *, first_path=0, executor=None, chunk_size=None):
    ...     return normal_array(seed, (n_paths, 2), first_path)
    >>> bool((draw(7, chunk_size=3) == draw(7)).all())
    True
    """
    per_path = dict(rows or {})

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        missing = [name for name in (count, *_NEEDED, *per_path) if name not in sig.parameters]
        if missing:
            raise TypeError(f"{func.__qualname__} lacks the parameter(s) {missing} needed by chunkable")
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in sig.parameters.values()):
            raise TypeError(f"{func.__qualname__}: chunkable needs parameters that can be passed by keyword")
        count_default_none = sig.parameters[count].default is None

        @functools.wraps(func)
        def entry(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            executor = bound.arguments.get("executor")
            chunk_size = bound.arguments.get("chunk_size")
            if executor is None and chunk_size is None:
                return func(*args, **kwargs)
            count_given = count in bound.arguments
            bound.apply_defaults()
            call = dict(bound.arguments)
            for name in _NEEDED:
                call.pop(name)
            n = call.pop(count)
            sliced = {name: call.pop(name) for name, ndim in per_path.items() if np.ndim(call[name]) == ndim}
            if sliced and not count_given:
                n = np.shape(next(iter(sliced.values())))[0]
            elif n is None and count_default_none:
                n = 1
            out: R = run_in_chunks(
                entry,
                n_paths=n,
                chunk_size=chunk_size,
                executor=executor,
                first_path=bound.arguments["first_path"],
                count_arg=count,
                rows=sliced,
                **call,
            )
            return out

        return document_chunking(entry, note)

    return decorate
