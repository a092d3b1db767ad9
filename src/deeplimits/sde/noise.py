"""The one noise model: Brownian increments drawn from per-path counter-based streams.

Path ``first_path + i`` of a run with seed ``seed`` draws its increments from
stream ``(seed, first_path + i)`` of :mod:`deeplimits.rng`, in the order
``step 0 noise 0, step 0 noise 1, ..., step 1 noise 0, ...``, with normals made
in Box--Muller pairs and drawn in blocks of :data:`~deeplimits.rng.NORMAL_BLOCK`
(a SIMD-vectorised loop).  A path's increments therefore depend only on
``(seed, global path index, grid)``: never on the number of threads, the batch
the path runs in, or the machine.  :func:`brownian_increments` returns exactly
the increments the kernels of :func:`deeplimits.sde.solve` draw, so they can be
passed back as ``dW`` to couple schemes and step sizes.

Shape convention: ``dW[path, step, noise]``, i.e. ``(n_paths, n_steps, n_noise)``.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_array, check_int, check_seed
from ..rng import NORMAL_BLOCK, fill_normals, normal_array
from .grids import check_grid

__all__ = ["brownian_increments", "coarsen_increments", "check_increments"]


def brownian_increments(
    grid: ArrayLike, *, n_paths: int, seed: int, n_noise: int = 1, first_path: int = 0
) -> NDArray[np.float64]:
    """Brownian increments on ``grid``, one stream per path.

    Parameters
    ----------
    grid : array_like, shape (n_steps + 1,)
        Strictly increasing times.
    n_paths : int
        Number of paths (>= 1).
    seed : int
        Non-negative seed.
    n_noise : int
        Number of independent Brownian motions (>= 1).
    first_path : int
        Global index of the first path: row ``i`` draws from stream ``first_path + i``,
        so a run split into batches reproduces the run in one piece.

    Returns
    -------
    numpy.ndarray, shape (n_paths, n_steps, n_noise)
        ``dW[i, k, j] = sqrt(h_k) Z``: the increments :func:`deeplimits.sde.solve`
        draws for path ``first_path + i`` with the same seed.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.sde import brownian_increments, uniform_grid
    >>> dW = brownian_increments(uniform_grid(0.0, 1.0, 4), n_paths=6, seed=1)
    >>> dW.shape
    (6, 4, 1)
    >>> part = brownian_increments(uniform_grid(0.0, 1.0, 4), n_paths=2, seed=1, first_path=4)
    >>> bool(np.array_equal(dW[4:], part))
    True
    """
    g = check_grid(grid)
    n_paths = check_int(n_paths, "n_paths", minimum=1)
    n_noise = check_int(n_noise, "n_noise", minimum=1)
    first_path = check_int(first_path, "first_path", minimum=0)
    seed = check_seed(seed)
    h = np.diff(g)
    check_allocation((n_paths, h.size, n_noise), "dW")
    z = normal_array(seed, (n_paths, h.size * n_noise), first_stream=first_path)
    return z.reshape(n_paths, h.size, n_noise) * np.sqrt(h)[None, :, None]


def coarsen_increments(dW: ArrayLike, factor: int) -> NDArray[np.float64]:
    """Sum consecutive groups of ``factor`` steps: the same Brownian path on the grid ``grid[::factor]``.

    Parameters
    ----------
    dW : array_like, shape (n_paths, n_steps, n_noise)
    factor : int
        Positive divisor of ``n_steps``.

    Returns
    -------
    numpy.ndarray, shape (n_paths, n_steps // factor, n_noise)

    Examples
    --------
    >>> import numpy as np
    >>> coarsen_increments(np.ones((1, 4, 1)), 2)[0, :, 0]
    array([2., 2.])
    """
    arr = check_array(dW, "dW", ndim=3)
    factor = check_int(factor, "factor", minimum=1)
    if arr.shape[1] % factor:
        raise ValueError(f"factor must divide n_steps={arr.shape[1]}, got {factor}")
    return arr.reshape(arr.shape[0], arr.shape[1] // factor, factor, arr.shape[2]).sum(axis=2)


def check_increments(dW: ArrayLike, *, n_steps: int, n_noise: int, n_paths: int | None = None) -> NDArray[np.float64]:
    """Validate user-given increments: shape ``(n_paths, n_steps, n_noise)`` and finite entries."""
    arr = check_array(dW, "dW", shape=(n_paths, n_steps, n_noise))
    if arr.shape[0] < 1:
        raise ValueError("dW must hold at least one path")
    return arr


@nb.njit(cache=True, inline="always")
def new_carry(s, n_draws):
    """The RNG carry ``(state, block, position, left)`` of a path whose stream starts at state ``s``.

    ``block`` holds up to :data:`~deeplimits.rng.NORMAL_BLOCK` normals drawn ahead
    with :func:`~deeplimits.rng.fill_normals` (a SIMD-vectorised loop), stored at
    its end: ``block[position:]`` are the unused ones.  ``left`` counts the
    normals the path will still draw beyond the block (``n_draws`` in all, e.g.
    ``n_steps * n_noise``), so the last refill draws no more than needed.
    """
    return s, np.empty(NORMAL_BLOCK), NORMAL_BLOCK, n_draws


@nb.njit(cache=True, inline="always")
def draw_increments(dw, sqrt_h, s, block, pos, left):
    """Fill ``dw`` with ``N(0, h)`` increments from the carry ``(s, block, pos, left)`` of :func:`new_carry`.

    Normals are taken in order from ``block``; when it is used up, the next
    ``min(NORMAL_BLOCK, left)`` normals of the stream (rounded up to even) are
    drawn into its end.  As every refill has even length, the sequence equals
    :func:`deeplimits.rng.fill_normals` over the whole path, whatever
    ``n_draws``.  Returns the updated carry.
    """
    nb_ = block.size
    for j in range(dw.size):
        if pos == nb_:
            n = min(nb_, left + (left & 1))
            if n < 2:
                n = 2  # more draws than announced: continue the stream all the same
            pos = nb_ - n
            s = fill_normals(s, block[pos:])
            left -= n
        dw[j] = block[pos] * sqrt_h
        pos += 1
    return s, block, pos, left
