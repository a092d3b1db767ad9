"""Stacks of conv layers: validation and packing into flat arrays for the Numba kernels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .lattice import BOUNDARY_CODES, check_span
from .layers import ConvLayer, Transition

__all__ = ["check_stack", "transitions", "pack_stack"]


def check_stack(layers: Iterable[Any], grid_shape: Sequence[int] | None = None) -> tuple[ConvLayer, ...]:
    """Validate a stack of layers (and a grid) and return it as a tuple.

    Parameters
    ----------
    layers : sequence of ConvLayer
        Ordered from the input to the output; all of one dimension.
    grid_shape : tuple of int, optional
        Lattice shape; every axis must be at least the kernel's span (for a periodic
        boundary a smaller lattice would alias distinct taps onto one site).

    Returns
    -------
    tuple of ConvLayer
        The layers.

    Raises
    ------
    ValueError
        On a non-layer entry, mixed dimensions, or a grid too small for a kernel.
    """
    layers = tuple(layers)
    for i, lay in enumerate(layers):
        if not isinstance(lay, ConvLayer):
            raise ValueError(f"layers[{i}] must be a ConvLayer, got {type(lay).__name__}")
    dims = {lay.ndim for lay in layers}
    if len(dims) > 1:
        raise ValueError(f"all layers must have the same dimension, got {sorted(dims)}")
    if grid_shape is not None:
        grid_shape = tuple(int(n) for n in grid_shape)
        if any(n < 1 for n in grid_shape):
            raise ValueError(f"grid_shape must have positive entries, got {grid_shape}")
        seen = set()
        for i, lay in enumerate(layers):
            if id(lay) in seen:  # stacks often repeat one layer object
                continue
            seen.add(id(lay))
            if lay.ndim != len(grid_shape):
                raise ValueError(f"layers[{i}] is {lay.ndim}-D but the grid is {len(grid_shape)}-D")
            check_span(lay.offsets, grid_shape, f"the kernel of layers[{i}]")
    return layers


def transitions(layers: Sequence[ConvLayer]) -> list[Transition]:
    """Transitions of a stack, computed once per distinct layer object (stacks often repeat one layer).

    Parameters
    ----------
    layers : sequence of ConvLayer

    Returns
    -------
    list of Transition
        One per layer, in order; repeated layer objects share one :class:`Transition`.
    """
    cache: dict[int, Transition] = {}
    out = []
    for lay in layers:
        t = cache.get(id(lay))
        if t is None:
            t = cache[id(lay)] = lay.transition()
        out.append(t)
    return out


def pack_stack(
    layers: Sequence[ConvLayer],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Pack the transitions of a stack into flat arrays for Numba kernels.

    Parameters
    ----------
    layers : sequence of ConvLayer
        From input to output.

    Returns
    -------
    offs : int64 (L, Kmax, 2)
        Jump vectors (1-D stacks get a zero second component).
    probs : float64 (L, Kmax)
        Jump probabilities (zero-padded).
    nk : int64 (L,)
        Number of jumps of each layer.
    bcode : int64 (L,)
        Boundary code: 0 periodic, 1 reflecting, 2 absorbing.
    """
    trans = transitions(layers)
    L = len(trans)
    kmax = max([len(t.probs) for t in trans], default=1)
    offs = np.zeros((L, kmax, 2), np.int64)
    probs = np.zeros((L, kmax))
    nk = np.zeros(L, np.int64)
    bcode = np.zeros(L, np.int64)
    for i, t in enumerate(trans):
        k = len(t.probs)
        offs[i, :k, : t.ndim] = t.offsets
        probs[i, :k] = t.probs
        nk[i] = k
        bcode[i] = BOUNDARY_CODES[t.boundary]
    return offs, probs, nk, bcode
