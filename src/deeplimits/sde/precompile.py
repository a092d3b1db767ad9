"""Compile the engine's kernels ahead of use, in a background process.

The generic SDE kernels (:mod:`deeplimits.sde.kernels`, :mod:`deeplimits.sde.evaluate`) have one explicit
signature each, so they can be compiled before anything calls them. Compiling is single-threaded: on a
cold cache, a long run (the validation campaign) spends a large part of its time compiling on one core.
:func:`start_precompile` compiles the engine's kernels in a second process, on the other cores, into
Numba's on-disk cache, from which the running process then loads them. Numba writes each cache file
under a temporary name and renames it, so a process that compiles the same kernel at the same time,
or a precompile process that is stopped, never leaves a damaged cache.

Examples
--------
>>> from deeplimits.sde.precompile import ENGINE_KERNELS
>>> ENGINE_KERNELS[0]
'kernels.euler_kernel'
"""

from __future__ import annotations

import importlib
import multiprocessing
import signal
from collections.abc import Sequence
from multiprocessing.process import BaseProcess

from .lazy import LazyKernel

__all__ = ["ENGINE_KERNELS", "compile_kernels", "start_precompile"]

#: The lazily compiled kernels of :mod:`deeplimits.sde`, as ``module.name``, in the order they are compiled
#: (the order in which the validation campaign first needs them).
ENGINE_KERNELS: tuple[str, ...] = (
    "kernels.euler_kernel",
    "kernels.milstein_kernel",
    "kernels.weak2_kernel",
    "kernels.theta_kernel",
    "evaluate.eval_drift_batch",
    "evaluate.eval_diffusion_batch",
)


def _kernel(name: str) -> LazyKernel:
    if not isinstance(name, str) or name not in ENGINE_KERNELS:
        raise ValueError(f"names must be taken from ENGINE_KERNELS {ENGINE_KERNELS}, got {name!r}")
    module, attr = name.split(".")
    kernel: LazyKernel = getattr(importlib.import_module(f"deeplimits.sde.{module}"), attr)
    return kernel


def compile_kernels(names: Sequence[str] = ENGINE_KERNELS) -> None:
    """Compile (or load from Numba's cache) the named engine kernels, in order.

    Parameters
    ----------
    names : sequence of str
        Entries of :data:`ENGINE_KERNELS`.

    Raises
    ------
    ValueError
        If a name is not in :data:`ENGINE_KERNELS`.

    Examples
    --------
    >>> compile_kernels(["kernels.euler_kernel"])  # a cached kernel loads in milliseconds
    """
    kernels = [_kernel(n) for n in names]  # every name checked before anything compiles
    for k in kernels:
        if not k.is_compiled:
            _ = k.dispatcher  # building the dispatcher compiles the kernel or loads it from the cache


def _compile_quietly(names: list[str]) -> None:
    # Ctrl-C reaches the whole process group; the caller stops this process itself, without a traceback here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    compile_kernels(names)


def start_precompile(names: Sequence[str] = ENGINE_KERNELS) -> BaseProcess:
    """Start a daemon process that runs :func:`compile_kernels` and return it.

    The caller may stop it at any time (``terminate()``); it also ends with the calling process.

    Parameters
    ----------
    names : sequence of str
        Entries of :data:`ENGINE_KERNELS`.

    Returns
    -------
    multiprocessing.process.BaseProcess
        The started process (``spawn`` start method: it shares no state with the caller).

    Raises
    ------
    ValueError
        If a name is not in :data:`ENGINE_KERNELS`.

    Examples
    --------
    >>> p = start_precompile([])  # nothing to compile: the process ends at once
    >>> p.join(60); p.exitcode
    0
    """
    names = list(names)
    for n in names:
        _kernel(n)
    proc = multiprocessing.get_context("spawn").Process(
        target=_compile_quietly, args=(names,), name="deeplimits-precompile", daemon=True
    )
    proc.start()
    return proc
