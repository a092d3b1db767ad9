"""The ``executor=`` and ``chunk_size=`` keywords of the Monte-Carlo entry points: :func:`chunkable`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import numpy as np

from .chunks import run_in_chunks
from .docs import document_chunking

__all__ = ["chunkable"]

P = ParamSpec("P")
R = TypeVar("R")

_KEYWORDS = ("executor", "chunk_size")


def _with_keywords(func: Callable[..., object]) -> inspect.Signature:
    # the function's signature, ending in executor and chunk_size (keyword-only, default None)
    sig = inspect.signature(func)
    declared = [name for name in _KEYWORDS if name in sig.parameters]
    if declared == list(_KEYWORDS):
        return sig
    if declared:
        raise TypeError(f"{func.__qualname__} takes {declared[0]} without the other of {_KEYWORDS}")
    added = [
        inspect.Parameter("executor", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Any"),
        inspect.Parameter("chunk_size", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="int | None"),
    ]
    return sig.replace(parameters=[*sig.parameters.values(), *added])


def chunkable(
    count: str = "n_paths", *, rows: Mapping[str, int] | None = None
) -> Callable[[Callable[P, R]], Callable[..., R]]:
    """Decorator giving a Monte-Carlo entry point its ``executor=`` and ``chunk_size=`` keywords.

    The function must take ``count`` (its number of paths) and ``first_path``; the decorator adds
    the keyword-only ``executor`` and ``chunk_size`` (default None) to its signature, unless the
    function declares both itself.  When they are both None the function runs as written;
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

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> from deeplimits.rng import normal_array
    >>> @chunkable()
    ... def draw(n_paths, seed=0, *, first_path=0):
    ...     return normal_array(seed, (n_paths, 2), first_path)
    >>> bool((draw(7, chunk_size=3) == draw(7)).all())
    True
    """
    per_path = dict(rows or {})

    def decorate(func: Callable[P, R]) -> Callable[..., R]:
        own = inspect.signature(func).parameters
        missing = [name for name in (count, "first_path", *per_path) if name not in own]
        if missing:
            raise TypeError(f"{func.__qualname__} lacks the parameter(s) {missing} needed by chunkable")
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in own.values()):
            raise TypeError(f"{func.__qualname__}: chunkable needs parameters that can be passed by keyword")
        sig = _with_keywords(func)
        adds = "executor" not in own
        count_default_none = sig.parameters[count].default is None

        @functools.wraps(func)
        def entry(*args: Any, **kwargs: Any) -> R:
            bound = sig.bind(*args, **kwargs)
            executor = bound.arguments.get("executor")
            chunk_size = bound.arguments.get("chunk_size")
            if executor is None and chunk_size is None:
                if adds:
                    kwargs = {name: value for name, value in kwargs.items() if name not in _KEYWORDS}
                return func(*args, **kwargs)
            count_given = count in bound.arguments
            bound.apply_defaults()
            call = dict(bound.arguments)
            for name in ("first_path", *_KEYWORDS):
                call.pop(name)
            if "progress" in call:
                call["progress"] = False  # one bar per chunk would be noise, and workers have no terminal
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

        entry.__signature__ = sig  # type: ignore[attr-defined]
        # Tools that unwrap (the API reference's inspector) would otherwise show the function without
        # the keywords added here; inspect.signature and help() read __signature__ either way.
        del entry.__wrapped__
        return document_chunking(entry)

    return decorate
