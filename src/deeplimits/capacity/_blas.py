"""Run numpy's bundled OpenBLAS on one thread (small products on a loaded machine)."""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Iterator

import numpy as np

__all__ = ["single_thread_blas"]


def _openblas_thread_api():
    """``(get, set)`` of numpy's bundled OpenBLAS thread count, or ``None`` if not found."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (
            ("scipy_openblas", "64_"),
            ("scipy_openblas", ""),
            ("openblas", "64_"),
            ("openblas", ""),
        ):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return None


_BLAS_API = _openblas_thread_api()


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run numpy's (bundled OpenBLAS) matrix products on one thread inside the block.

    The products here are small (``C x C`` by ``C x batch*sites``); on a shared, loaded
    machine OpenBLAS worker threads spin-wait and were measured 40x slower than one thread.
    Best effort: a no-op where the library cannot be found.  Results do not change.

    Yields
    ------
    None
    """
    if _BLAS_API is None:
        yield
        return
    get, set_ = _BLAS_API
    old = int(get())
    set_(1)
    try:
        yield
    finally:
        set_(old)
