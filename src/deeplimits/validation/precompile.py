"""Compile the validation campaign's kernels ahead of use, in a background process.

Compiling is single-threaded: on a cold Numba cache, the quick campaign spends about half of its time compiling
on one core. :func:`start_precompile` compiles the campaign's largest kernels in a second process, on the
other core, into Numba's on-disk cache, from which the running process then loads them. Numba writes each
cache file under a temporary name and renames it, so a process that compiles the same kernel at the same
time, or a precompile process that is stopped, never leaves a damaged cache.

A kernel is named by its module and name. The SDE engine's kernels carry their one signature
(:func:`deeplimits.sde.lazy.lazy_njit`); the others are compiled for the argument types with which the
campaign calls them, listed in :data:`CAMPAIGN_KERNELS`. A call with other types compiles as before.

Examples
--------
>>> from deeplimits.validation.precompile import CAMPAIGN_KERNELS
>>> next(iter(CAMPAIGN_KERNELS))
'deeplimits.correlation.depth._one_layer_kernel'
"""

from __future__ import annotations

import importlib
import multiprocessing
import signal
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from numba import types

__all__ = ["CAMPAIGN_KERNELS", "compile_kernels", "start_precompile"]

_F, _I, _B = types.float64, types.int64, types.boolean
_F1, _F2, _F3, _F4 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1], types.float64[:, :, :, ::1]
_I1, _I2 = types.int64[::1], types.int64[:, ::1]

#: The kernels compiled ahead, in the order in which the quick campaign first needs them, with the argument
#: types of its calls (``None``: an SDE engine kernel, which has its own signature).
CAMPAIGN_KERNELS: dict[str, tuple[Any, ...] | None] = {
    "deeplimits.correlation.depth._one_layer_kernel": (_F, _I, _I, _I, _I, _F, _F, _F1, _F1),
    "deeplimits.sde.kernels.euler_kernel": None,
    "deeplimits.correlation.unshaped._kernels.path_kernel": (
        *(_I, _B, _F, _F1, _I1, _F2, _I, _I, _F3, _B, _F, _F, _B, _I, _F3, _I2, _I1),
    ),
    "deeplimits.networks._gram_kernels.mlp_gram_kernel": (_F1, _F2, _I, _I, _I, _I, _I1, _F3, _F4, _F, _F, _F),
    "deeplimits.correlation.shaped_covariance._cov_factor_kernel": (_F2, _F, _F1, _I1, _I, _I, _F3, _B, _I, _F4),
    "deeplimits.networks._gram_kernels.resnet_gram_kernel": (_F1, _F2, _I, _I, _I, _I, _I1, _F3, _F4, _F),
    "deeplimits.resnet.exact._run_exact": (_F2, _I, _I, _I, _I, _F, _B, _F3, _F2, _F, _F),
    "deeplimits.resnet._kernels.run_iid": (_F2, _I, _I, _I, _I, _F, _B, _F3, _F2, _F, _F, _F),
    "deeplimits.resnet._kernels.run_given": (_F2, _F4, _F4, _F3, _I, _I, _F, _B, _F3, _F2),
    "deeplimits.sde.kernels.milstein_kernel": None,
    "deeplimits.sde.kernels.weak2_kernel": None,
    "deeplimits.sde.kernels.theta_kernel": None,
    "deeplimits.sde.evaluate.eval_drift_batch": None,
    "deeplimits.sde.evaluate.eval_diffusion_batch": None,
}


def _kernel(name: str) -> Any:
    if not isinstance(name, str) or name not in CAMPAIGN_KERNELS:
        raise ValueError(f"names must be keys of CAMPAIGN_KERNELS, got {name!r}")
    module, attr = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def compile_kernels(names: Sequence[str] = tuple(CAMPAIGN_KERNELS)) -> None:
    """Compile (or load from Numba's cache) the named kernels, in order.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`CAMPAIGN_KERNELS`.

    Raises
    ------
    ValueError
        If a name is not a key of :data:`CAMPAIGN_KERNELS`.

    Examples
    --------
    >>> compile_kernels(["deeplimits.sde.kernels.euler_kernel"])  # a cached kernel loads in milliseconds
    """
    kernels = [(_kernel(n), CAMPAIGN_KERNELS[n]) for n in names]  # every name checked before anything compiles
    for kernel, signature in kernels:
        if signature is None:
            _ = kernel.dispatcher  # a lazy kernel compiles (or loads) when its dispatcher is built
        else:
            kernel.compile(signature)  # compiles, or loads from the cache, this one specialisation


def _compile_quietly(names: list[str]) -> None:
    # Ctrl-C reaches the whole process group; the caller stops this process itself, without a traceback here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    compile_kernels(names)


def start_precompile(names: Sequence[str] = tuple(CAMPAIGN_KERNELS)) -> BaseProcess:
    """Start a daemon process that runs :func:`compile_kernels` and return it.

    The caller may stop it at any time (``terminate()``); it also ends with the calling process.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`CAMPAIGN_KERNELS`.

    Returns
    -------
    multiprocessing.process.BaseProcess
        The started process (``spawn`` start method: it shares no state with the caller).

    Raises
    ------
    ValueError
        If a name is not a key of :data:`CAMPAIGN_KERNELS`.

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
