"""The lattice conventions shared by the capacity chain, its walkers and the KFE solvers.

One place defines the boundary conditions, the integer codes the Numba kernels use, where
a jump from a site lands, and when a lattice is too small for a kernel, so that the
exact chain (:mod:`.chain`), the Monte-Carlo walkers (:mod:`.walkers`) and the master
equation (:mod:`.kfe`) cannot drift apart.

Boundaries
----------
``"periodic"``
    the lattice wraps around (circular padding);
``"reflecting"``
    a jump that would leave the lattice is refused: the capacity stays on its site;
``"absorbing"``
    a jump that would leave the lattice removes its capacity (zero padding, see
    ``docs/theory/capacity.md``).

Along several axes an absorbing exit takes precedence over a refused one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BOUNDARIES", "BOUNDARY_CODES", "INSIDE", "REFUSED", "LOST", "jump_target", "check_span"]

#: Boundary conditions of the capacity chain and of its forward equations.
BOUNDARIES = ("periodic", "reflecting", "absorbing")

#: Integer code of each boundary in the Numba kernels (periodic 0, reflecting 1, absorbing 2).
BOUNDARY_CODES = {b: i for i, b in enumerate(BOUNDARIES)}

#: Outcomes of :func:`jump_target`.
INSIDE, REFUSED, LOST = 0, 1, 2


@nb.njit(cache=True)
def jump_target(i: int, k: int, n: int, bc: int) -> tuple[int, int]:
    """Where a jump of ``k`` sites from site ``i`` of an ``n``-site axis lands.

    Parameters
    ----------
    i : int
        Source site, ``0 <= i < n``.
    k : int
        Jump (offset in sites).
    n : int
        Number of sites of the axis.
    bc : int
        Boundary code (:data:`BOUNDARY_CODES`).

    Returns
    -------
    target : int
        Target site (``i`` itself when the jump is refused or lost).
    status : int
        :data:`INSIDE` (landed, wrapping if periodic), :data:`REFUSED` (reflecting
        boundary) or :data:`LOST` (absorbing boundary).
    """
    t = i + k
    if 0 <= t < n:
        return t, INSIDE
    if bc == 0:
        return t % n, INSIDE
    if bc == 1:
        return i, REFUSED
    return i, LOST


def check_span(offsets: ArrayLike, shape: Sequence[int], what: str = "the kernel") -> None:
    """Raise ``ValueError`` if a lattice is too small for a set of jump offsets.

    Every axis must hold at least the span ``max(o) - min(o) + 1`` of the offsets together
    with the null jump: on a periodic lattice a smaller axis would alias distinct jumps onto
    one site, and on a bounded one no jump of the kernel could be taken from every site.

    Parameters
    ----------
    offsets : array_like of int, shape (K, ndim)
        Jump vectors.
    shape : tuple of int
        Lattice shape (``ndim`` entries).
    what : str
        How the error message names the kernel.

    Raises
    ------
    ValueError
        Naming the axis, its number of sites and the span needed.
    """
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, len(shape))
    for ax, n in enumerate(shape):
        col = np.concatenate([off[:, ax], [0]])
        span = int(col.max() - col.min() + 1)
        if int(n) < span:
            raise ValueError(
                f"grid too small for {what}: axis {ax} has {int(n)} sites but the kernel spans {span} sites"
            )
