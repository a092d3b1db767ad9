"""Monte-Carlo walkers sampling the capacity chain.

Each walker starts at a position drawn from the output capacity and, layer by layer from
the output to the input, jumps by ``o_k`` with probability ``p_k`` or is absorbed by the
layer's bias (sink) with the remaining probability; boundaries are handled exactly as in
:func:`deeplimits.capacity.chain.propagate` (periodic wrap, refused jump for reflecting,
death for absorbing).  Walker ``i`` draws its uniforms from its own stream
``deeplimits.rng.stream_state(seed, first_path + i)``, so results are bit-identical whatever the
number of Numba threads, and a run split into batches (``first_path=0, k, 2k, ...``) reproduces
the walkers of one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_int
from ..parallel import chunkable
from ..progress import with_progress
from ..rng import kernel_seed, stream_state, uniform
from ._stack import check_stack, pack_stack
from ._validate import check_capacity
from .lattice import LOST, REFUSED, jump_target
from .layers import ConvLayer

__all__ = ["WalkerResult", "run_walkers", "walker_capacity"]

#: Walkers per block of :func:`walker_capacity`: its memory is that of one block, whatever ``n_walkers``.
BLOCK_WALKERS = 1 << 16


@dataclass(frozen=True, eq=False)
class WalkerResult:
    """Final state of the walkers.

    Attributes
    ----------
    positions : ndarray int64 (n, ndim)
        Position at the input (the last position reached for dead walkers).
    alive : ndarray bool (n,)
        False for walkers absorbed by a sink or an absorbing boundary.
    death_layer : ndarray int64 (n,)
        Index of the layer where the walker died (-1 if alive).
    grid_shape : tuple of int

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import residual_stack, run_walkers
    >>> res = run_walkers(residual_stack([1.0, 1.0], 4, a=1.0), np.eye(5)[2], 100, seed=0)
    >>> res.capacity().shape, float(res.capacity().sum())
    ((5,), 1.0)
    """

    positions: np.ndarray
    alive: np.ndarray
    death_layer: np.ndarray
    grid_shape: tuple

    def counts(self) -> NDArray[np.int64]:
        """Number of surviving walkers per lattice site, shape ``grid_shape``."""
        pos = self.positions[self.alive]
        flat = np.ravel_multi_index(tuple(pos.T), self.grid_shape) if len(pos) else np.zeros(0, np.int64)
        return np.bincount(flat, minlength=int(np.prod(self.grid_shape))).reshape(self.grid_shape)

    def capacity(self) -> np.ndarray:
        """Histogram of surviving walkers on the lattice, divided by the number of walkers.

        Returns
        -------
        ndarray, shape ``grid_shape``
            Monte-Carlo estimate of the normalised input capacity (its total is the surviving fraction).
        """
        return self.counts().astype(np.float64) / max(len(self.alive), 1)

    @classmethod
    def concat(cls, parts: Sequence[WalkerResult]) -> WalkerResult:
        """Join the walkers of consecutive runs (``first_path = 0, k, 2k, ...``) into one result.

        Raises
        ------
        ValueError
            If there are no parts or their lattices differ.

        Examples
        --------
        >>> import numpy as np
        >>> from deeplimits.capacity import residual_stack, run_walkers
        >>> stack, c = residual_stack([1.0, 1.0], 4, a=1.0), np.eye(5)[2]
        >>> both = WalkerResult.concat([run_walkers(stack, c, 3), run_walkers(stack, c, 2, first_path=3)])
        >>> bool((both.positions == run_walkers(stack, c, 5).positions).all())
        True
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one result")
        shape = parts[0].grid_shape
        if any(p.grid_shape != shape for p in parts):
            raise ValueError(f"parts have different lattices: {[p.grid_shape for p in parts]}")
        return cls(
            np.concatenate([p.positions for p in parts]),
            np.concatenate([p.alive for p in parts]),
            np.concatenate([p.death_layer for p in parts]),
            shape,
        )


@nb.njit(cache=True, parallel=True)
def _walk(seed, first, start_cdf, nx, ny, offs, probs, nk, bcode, pos, alive, death):
    n = pos.shape[0]
    L = offs.shape[0]
    nsite = start_cdf.shape[0]
    for i in nb.prange(n):
        s = stream_state(seed, first + i)
        u, s = uniform(s)
        # start site by inverse CDF (binary search)
        lo = 0
        hi = nsite - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if start_cdf[mid] < u:
                lo = mid + 1
            else:
                hi = mid
        x = lo // ny
        y = lo % ny
        ok = True
        dl = -1
        for l in range(L - 1, -1, -1):
            u, s = uniform(s)
            acc = 0.0
            k = -1
            for j in range(nk[l]):
                acc += probs[l, j]
                if u < acc:
                    k = j
                    break
            if k < 0:  # absorbed by the bias sink
                ok = False
                dl = l
                break
            tx, sx = jump_target(x, offs[l, k, 0], nx, bcode[l])
            ty, sy = jump_target(y, offs[l, k, 1], ny, bcode[l])
            if sx == LOST or sy == LOST:
                ok = False
                dl = l
                break
            if sx != REFUSED and sy != REFUSED:
                x = tx
                y = ty
        pos[i, 0] = x
        pos[i, 1] = y
        alive[i] = ok
        death[i] = dl


@chunkable("n_walkers")
@with_progress("n_walkers")
def run_walkers(
    layers: Sequence[ConvLayer],
    c_out: ArrayLike,
    n_walkers: int,
    seed: int = 0,
    *,
    first_path: int = 0,
    progress: bool | None = None,
) -> WalkerResult:
    """Sample ``n_walkers`` independent paths of the capacity chain.

    Parameters
    ----------
    layers : sequence of ConvLayer
        Ordered from the input to the output.
    c_out : array_like (N,) or (Nx, Ny)
        Output capacity (normalised internally to a start distribution); its shape is the
        lattice.
    n_walkers : int
        Number of walkers, ``>= 1``.
    seed : int
        Non-negative seed (any size).
    first_path : int
        Index of the first walker: walker ``i`` of this call uses stream ``(seed, first_path + i)``.

    Returns
    -------
    WalkerResult

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import residual_stack
    >>> stack = residual_stack([1.0, 2.0, 1.0], 16, a=1.0)
    >>> res = run_walkers(stack, np.eye(9)[4], 1000, seed=0)
    >>> res.positions.shape, int(res.alive.sum())
    ((1000, 1), 1000)
    """
    layers = check_stack(layers)
    if not layers:
        raise ValueError("layers must be non-empty")
    c = check_capacity(c_out, layers[0].ndim)
    layers = check_stack(layers, c.shape)
    if c.sum() <= 0:
        raise ValueError("c_out must have positive total mass")
    n_walkers = check_int(n_walkers, "n_walkers", minimum=1)
    seed_bits = kernel_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    check_allocation((n_walkers, 2), "the walker positions")
    c2 = c.reshape(c.shape[0], -1)
    cdf = np.cumsum(c2.ravel()) / c2.sum()
    cdf[-1] = 1.0
    offs, probs, nk, bcode = pack_stack(layers)
    pos = np.zeros((n_walkers, 2), np.int64)
    alive = np.zeros(n_walkers, np.bool_)
    death = np.zeros(n_walkers, np.int64)
    _walk(seed_bits, first_path, cdf, c2.shape[0], c2.shape[1], offs, probs, nk, bcode, pos, alive, death)
    return WalkerResult(pos[:, : c.ndim].copy(), alive, death, c.shape)


@dataclass(frozen=True, eq=False)
class _Counts:
    """Surviving walkers per site (``counts``) out of ``n_walkers``; chunks add up exactly (integers)."""

    counts: NDArray[np.int64]
    n_walkers: int

    @classmethod
    def concat(cls, parts: Sequence[_Counts]) -> _Counts:
        return cls(np.sum([p.counts for p in parts], axis=0, dtype=np.int64), sum(p.n_walkers for p in parts))


@chunkable("n_walkers")
@with_progress("n_walkers")
def _count_walkers(layers, c_out, n_walkers, seed, *, first_path=0, progress=None):
    # the walkers of run_walkers in blocks of BLOCK_WALKERS, each block's positions counted and dropped
    counts = None
    for lo in range(0, n_walkers, BLOCK_WALKERS):
        block = run_walkers(layers, c_out, min(BLOCK_WALKERS, n_walkers - lo), seed, first_path=first_path + lo)
        counts = block.counts() if counts is None else counts + block.counts()
    return _Counts(counts.astype(np.int64), n_walkers)


def walker_capacity(
    layers: Sequence[ConvLayer],
    c_out: ArrayLike,
    n_walkers: int,
    seed: int = 0,
    **options: Any,
) -> NDArray[np.float64]:
    """Monte-Carlo estimate of :func:`~deeplimits.capacity.chain.propagate`.

    The walkers run in blocks of :data:`BLOCK_WALKERS` whose positions are counted and dropped, so
    memory does not grow with ``n_walkers``; the counts are those of :func:`run_walkers` with the
    same arguments, bit for bit.

    Parameters
    ----------
    layers, c_out, n_walkers, seed
        As in :func:`run_walkers`.
    **options
        ``first_path``, ``executor``, ``chunk_size``, ``progress``, as in :func:`run_walkers`.

    Returns
    -------
    ndarray, shape of ``c_out``
        Histogram of surviving walkers per walker, times ``c_out.sum()``; its expectation is
        ``propagate(layers, c_out)`` and site ``j`` has standard deviation
        ``sqrt(p_j (1 - p_j) / n_walkers) * c_out.sum()``.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import residual_stack
    >>> est = walker_capacity(residual_stack([1.0, 2.0, 1.0], 16, a=1.0), np.eye(9)[4], 1000, seed=0)
    >>> est.shape, round(float(est.sum()), 12)
    ((9,), 1.0)
    """
    n_walkers = check_int(n_walkers, "n_walkers", minimum=1)
    unknown = sorted(options.keys() - {"first_path", "executor", "chunk_size", "progress"})
    if unknown:
        raise TypeError(f"walker_capacity got unexpected keyword(s) {unknown}")
    res = _count_walkers(layers, c_out, n_walkers, seed, **options)
    return np.asarray(res.counts / n_walkers * float(np.sum(c_out)), dtype=np.float64)
