"""Numpydoc entries written once and added to each function that takes them: :func:`document_chunking`."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import TypeVar

from .chunks import DEFAULT_TASKS

__all__ = ["CHUNK_PARAMETERS", "add_parameter_entries", "document_chunking"]

F = TypeVar("F", bound=Callable[..., object])

CHUNK_PARAMETERS = (
    "executor : concurrent.futures.Executor or distributed.Client, optional\n"
    "    Run the paths in chunks there (:mod:`deeplimits.parallel`), bit-identical to one run.\n"
    "chunk_size : int, optional\n"
    f"    Paths per chunk (default with an executor: {DEFAULT_TASKS} chunks); without one, chunks run here in turn."
)
"""The entries :func:`document_chunking` adds, unindented."""

_HEADER = re.compile(r"^( *)Parameters\n\1-{3,}\n", re.MULTILINE)
_SECTION = re.compile(r"^ *[A-Z][A-Za-z ]*\n *-{3,}$", re.MULTILINE)


def _entry_names(line: str) -> set[str]:
    return {name.strip().lstrip("*") for name in line.split(" : ")[0].split(",")}


def add_parameter_entries(func: F, block: str, after: str, note: str = "") -> F:
    """Add numpydoc Parameters entries (``block``, unindented) to ``func``'s docstring, once.

    The entries go before the first documented parameter that follows ``after`` in the signature,
    else at the end of the section.  A docstring that already names the first parameter of
    ``block`` (``"..., executor, chunk_size  As in :func:`f`"``), or has no Parameters section, is
    left as it is.

    Parameters
    ----------
    func : callable
        Function whose ``__doc__`` is rewritten in place.
    block : str
        The entries, unindented, as in :data:`CHUNK_PARAMETERS`.
    after : str
        The last parameter of the signature that the entries describe.
    note : str
        More about the last entry, appended to it.

    Returns
    -------
    callable
        ``func`` itself.
    """
    doc = func.__doc__
    head = _HEADER.search(doc or "")
    if doc is None or head is None:
        return func
    indent = head.group(1)
    start = head.end()
    nxt = _SECTION.search(doc, start)
    stop = nxt.start() if nxt else len(doc)
    lines = doc[start:stop].split("\n")
    entries = [i for i, line in enumerate(lines) if line.startswith(indent) and line[len(indent) :][:1].strip()]
    first = block.split(" : ")[0].strip()
    if any(first in _entry_names(lines[i]) for i in entries):
        return func
    order = list(inspect.signature(func).parameters)
    later = set(order[order.index(after) + 1 :]) if after in order else set()
    at = next((i for i in entries if _entry_names(lines[i]) & later), None)
    if at is None:
        at = max(i for i, line in enumerate(lines) if line.strip()) + 1 if entries else 0
    new = [indent + line for line in block.split("\n")]
    new += [f"{indent}    {line}" for line in note.split("\n") if note]
    func.__doc__ = doc[:start] + "\n".join(lines[:at] + new + lines[at:]) + doc[stop:]
    return func


def document_chunking(func: F, note: str = "") -> F:
    """Add the standard ``executor`` and ``chunk_size`` entries to ``func``'s numpydoc Parameters.

    The entries go before the first documented parameter that follows ``chunk_size`` in the
    signature (``**solve_kw``), else at the end of the section.  A docstring that already names
    ``executor`` in its Parameters (``"..., executor, chunk_size  As in :func:`f`"``), or has no
    Parameters section, is left as it is.

    Parameters
    ----------
    func : callable
        Function taking ``executor`` and ``chunk_size``; its ``__doc__`` is rewritten in place.
    note : str
        More about ``chunk_size`` for this function, appended to its entry.

    Returns
    -------
    callable
        ``func`` itself.

    Examples
    --------
    >>> def f(n_paths, *, executor=None, chunk_size=None):
    ...     '''Paths.
    ...
    ...     Parameters
    ...     ----------
    ...     n_paths : int
    ...         How many.
    ...     '''
    >>> doc = document_chunking(f, note="Any size.").__doc__
    >>> [line.split(" : ")[0].strip() for line in doc.splitlines() if " : " in line]
    ['n_paths', 'executor', 'chunk_size']
    >>> doc.splitlines()[-2].strip()
    'Any size.'
    """
    return add_parameter_entries(func, CHUNK_PARAMETERS, "chunk_size", note)
