"""Kernels compiled on first use: :func:`lazy_njit`.

``numba.njit(signature, cache=True)`` compiles (or loads from the on-disk cache)
when the module is imported, so importing the engine would pay for every
scheme.  A :class:`LazyKernel` builds the same dispatcher, with the same single
explicit signature and ``cache=True``, the first time it is called: a run pays
only for the kernels it uses, once per machine (later processes load them from
the cache).

Examples
--------
>>> from numba import types
>>> @lazy_njit(types.float64(types.float64), cache=False)  # a doctest cannot be cached
... def twice(x):
...     return 2.0 * x
>>> twice.is_compiled
False
>>> twice(1.5), twice.is_compiled
(3.0, True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numba as nb

__all__ = ["LazyKernel", "lazy_njit"]


class LazyKernel:
    """A Numba function compiled for one explicit signature on its first call.

    Parameters
    ----------
    py_func : callable
        The module-level Python function (so that Numba's cache can locate it).
    signature : numba signature
        The one signature it is compiled for; arguments are converted to it
        (first-class function types included), so it never compiles twice.
    options
        Further ``numba.njit`` options (``parallel=True``, ...); ``cache`` defaults to True.
    """

    def __init__(self, py_func: Callable[..., Any], signature: Any, options: dict[str, Any]) -> None:
        self.py_func = py_func
        self.signature = signature
        self.options = {"cache": True, **options}
        self.__doc__ = py_func.__doc__
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self._dispatcher: Any = None
        self._lock = threading.Lock()

    @property
    def is_compiled(self) -> bool:
        """Whether the dispatcher exists (compiled here, or loaded from the cache)."""
        return self._dispatcher is not None

    @property
    def dispatcher(self) -> Any:
        """The compiled Numba dispatcher (built on first access)."""
        if self._dispatcher is None:
            with self._lock:
                if self._dispatcher is None:
                    self._dispatcher = nb.njit(self.signature, **self.options)(self.py_func)
        return self._dispatcher

    def __call__(self, *args: Any) -> Any:
        return self.dispatcher(*args)

    def __getattr__(self, name: str) -> Any:
        # stats, signatures, inspect_types, ... of the dispatcher
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)


def lazy_njit(signature: Any, **options: Any) -> Callable[[Callable[..., Any]], LazyKernel]:
    """Decorator: ``numba.njit(signature, cache=True, **options)``, compiled on the first call.

    Parameters
    ----------
    signature : numba signature
        The single signature of the kernel.
    **options
        Other ``numba.njit`` options, e.g. ``parallel=True``.

    Returns
    -------
    callable
        Decorator turning a module-level function into a :class:`LazyKernel`.
    """

    def decorate(py_func: Callable[..., Any]) -> LazyKernel:
        return LazyKernel(py_func, signature, options)

    return decorate
