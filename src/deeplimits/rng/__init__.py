"""Counter-based random streams for reproducible parallel Numba kernels.

Every Monte-Carlo path (or walker, or network) owns one independent stream,
identified by ``(seed, stream)``; the numbers a path draws depend only on
``(seed, stream, position)``, never on the thread that runs it, so results are
bit-identical whatever the number of Numba threads.  See
:mod:`deeplimits.rng.streams` for the generator and
:mod:`deeplimits.rng.elementary` for the vectorisable ``log``/``sin``/``cos`` of
its Box--Muller transform.

Examples
--------
>>> from deeplimits.rng import normal_array
>>> normal_array(1, (2, 3)).shape
(2, 3)
"""

from __future__ import annotations

from .streams import (
    NORMAL_BLOCK,
    fill_normals,
    kernel_seed,
    next_uint64,
    normal,
    normal_array,
    normal_pair,
    pair_at,
    pairs_across,
    stream_state,
    uniform,
    uniform_array,
)

__all__ = [
    "stream_state",
    "next_uint64",
    "uniform",
    "normal_pair",
    "pair_at",
    "pairs_across",
    "normal",
    "fill_normals",
    "normal_array",
    "uniform_array",
    "kernel_seed",
    "NORMAL_BLOCK",
]
