"""Public entry points whose shared parameters are declared once: :func:`entry_point`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["entry_point", "keyword", "positional"]

R = TypeVar("R")


def positional(name: str, annotation: str, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """A positional-or-keyword parameter (``annotation`` as written in a signature).

    Examples
    --------
    >>> positional("width", "int").kind
    <_ParameterKind.POSITIONAL_OR_KEYWORD: 1>
    """
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


def keyword(name: str, default: Any, annotation: str) -> inspect.Parameter:
    """A keyword-only parameter with its default (``annotation`` as written in a signature).

    Examples
    --------
    >>> keyword("seed", 0, "int").default
    0
    """
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def entry_point(
    like: Callable[..., Any], parameters: Sequence[inspect.Parameter], call: Callable[[dict[str, Any]], R]
) -> Callable[..., R]:
    """A function with the signature ``parameters`` that calls ``call(arguments)``, every argument bound.

    Several public functions that share parameters are written as an inner function of their own
    arguments and a record of the shared ones; this makes each of them a plain public function:
    ``inspect.signature``, ``help()`` and the API reference show ``parameters`` in order, and the
    name and docstring are those of ``like``.

    Parameters
    ----------
    like : callable
        Gives the name, module and docstring.
    parameters : sequence of inspect.Parameter
        The public signature, in order.
    call : callable
        Receives the arguments as a dict (defaults applied) and returns the result.

    Returns
    -------
    callable
        The public function; a bad call raises TypeError as for a plain function.

    Examples
    --------
    >>> def area(width, height=1.0):
    ...     '''Area of a rectangle.'''
    >>> f = entry_point(area, [positional("width", "float"), keyword("height", 1.0, "float")],
    ...                 lambda a: a["width"] * a["height"])
    >>> f(2.0, height=3.0), list(inspect.signature(f).parameters), f.__doc__
    (6.0, ['width', 'height'], 'Area of a rectangle.')
    """
    sig = inspect.Signature(list(parameters), return_annotation=inspect.signature(like).return_annotation)

    @functools.wraps(like)
    def public(*args: Any, **kwargs: Any) -> R:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return call(bound.arguments)

    public.__signature__ = sig  # type: ignore[attr-defined]
    del public.__wrapped__  # tools that unwrap (the API reference) would show ``like``'s signature
    return public
