"""Grids in space and depth for the capacity Kolmogorov forward equation (KFE).

Space is discretised by *cell-centred finite volumes*: ``n`` cells of width
``h`` cover ``[x_min, x_max]`` and the unknown ``c[i]`` is the capacity density
at the centre ``x_min + (i + 1/2) h``.  The same object serves as the lattice of
the master equation (jump process): :func:`lattice_1d` builds a grid whose
centres are the integers ``0 .. n-1``, so that jump offsets are counted in
cells.  Total capacity is ``h * sum(c)`` (``hx * hy * sum(c)`` in 2-D).

Boundaries (per axis):

``"periodic"``
    cells wrap around (circular padding);
``"reflecting"``
    no capacity crosses the boundary faces (zero flux; zero padding, to
    leading order); in the master equation a jump that would leave is rejected;
``"absorbing"``
    capacity reaching the boundary is lost (``c = 0`` on the boundary face;
    in the master equation a jump that would leave removes its mass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..._checks import check_choice, check_float, check_int
from ..lattice import BOUNDARIES, BOUNDARY_CODES

__all__ = [
    "BOUNDARIES",
    "Grid1D",
    "Grid2D",
    "lattice_1d",
    "lattice_2d",
]


@dataclass(frozen=True)
class Grid1D:
    """Uniform cell-centred grid on ``[x_min, x_max]``.

    Parameters
    ----------
    x_min, x_max : float
        Domain ends, ``x_min < x_max``, finite.
    n : int
        Number of cells, at least 3.
    boundary : {"periodic", "reflecting", "absorbing"}
        Boundary condition at both ends.

    Examples
    --------
    >>> g = Grid1D(0.0, 1.0, 4)
    >>> g.h, g.x.tolist()
    (0.25, [0.125, 0.375, 0.625, 0.875])
    """

    x_min: float
    x_max: float
    n: int
    boundary: str = "periodic"

    def __post_init__(self):
        x_min = check_float(self.x_min, "x_min")
        x_max = check_float(self.x_max, "x_max")
        if not x_max > x_min:
            raise ValueError(f"x_max must exceed x_min, got x_min={x_min}, x_max={x_max}")
        object.__setattr__(self, "x_min", x_min)
        object.__setattr__(self, "x_max", x_max)
        object.__setattr__(self, "n", check_int(self.n, "n (number of cells)", minimum=3))
        check_choice(self.boundary, "boundary", BOUNDARIES)

    @property
    def h(self) -> float:
        """Cell width."""
        return (self.x_max - self.x_min) / self.n

    @property
    def x(self) -> np.ndarray:
        """Cell centres, shape ``(n,)``."""
        return self.x_min + (np.arange(self.n) + 0.5) * self.h

    @property
    def shape(self) -> tuple[int]:
        """Array shape of a field on this grid."""
        return (self.n,)

    @property
    def cell_volume(self) -> float:
        """Cell width (the 1-D cell volume)."""
        return self.h

    @property
    def bc(self) -> int:
        """Integer boundary code used by the kernels."""
        return BOUNDARY_CODES[self.boundary]

    def total(self, c: ArrayLike) -> np.ndarray:
        """Total capacity of a field, or of every field of a stack.

        Parameters
        ----------
        c : array_like, shape ``(..., n)``
            Field(s) on this grid.

        Returns
        -------
        ndarray, shape ``(...)``
            ``h * sum(c)`` over the last axis.
        """
        c = np.asarray(c)
        return self.h * c.sum(axis=-1)


@dataclass(frozen=True)
class Grid2D:
    """Tensor product of two :class:`Grid1D` (axis 0 = ``x``, axis 1 = ``y``).

    Fields have shape ``(gx.n, gy.n)``; each axis carries its own boundary.

    Examples
    --------
    >>> from deeplimits.capacity import Grid2D
    >>> g = Grid2D.square(0.0, 1.0, 4, "reflecting")
    >>> g.shape, g.cell_volume
    ((4, 4), 0.0625)
    """

    gx: Grid1D
    gy: Grid1D

    def __post_init__(self):
        if not isinstance(self.gx, Grid1D) or not isinstance(self.gy, Grid1D):
            raise ValueError("gx and gy must be Grid1D instances")

    @classmethod
    def square(cls, x_min: float, x_max: float, n: int, boundary: str = "periodic") -> Grid2D:
        """Square grid ``[x_min, x_max]^2`` with ``n x n`` cells and the same boundary on both axes.

        Parameters
        ----------
        x_min, x_max : float
            Domain ends on both axes.
        n : int
            Cells per axis, at least 3.
        boundary : {"periodic", "reflecting", "absorbing"}
            Boundary on both axes.

        Returns
        -------
        Grid2D
        """
        g = Grid1D(x_min, x_max, n, boundary)
        return cls(g, g)

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape of a field on this grid."""
        return (self.gx.n, self.gy.n)

    @property
    def cell_volume(self) -> float:
        """Cell area ``hx * hy``."""
        return self.gx.h * self.gy.h

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates.

        Returns
        -------
        X, Y : ndarray
            Each of shape :attr:`shape` (``indexing="ij"``).
        """
        return np.meshgrid(self.gx.x, self.gy.x, indexing="ij")

    def total(self, c: ArrayLike) -> np.ndarray:
        """Total capacity of a field, or of every field of a stack.

        Parameters
        ----------
        c : array_like, shape ``(..., nx, ny)``
            Field(s) on this grid.

        Returns
        -------
        ndarray, shape ``(...)``
            ``hx * hy * sum(c)`` over the last two axes.
        """
        c = np.asarray(c)
        return self.cell_volume * c.sum(axis=(-2, -1))


def lattice_1d(n: int, boundary: str = "periodic", spacing: float = 1.0, origin: float = 0.0) -> Grid1D:
    """Lattice of ``n`` sites ``origin + spacing * j``, ``j = 0..n-1``, as a :class:`Grid1D`.

    With ``spacing = 1`` the field is the capacity per site and ``total = sum(c)``.

    Parameters
    ----------
    n : int
        Number of sites, at least 3.
    boundary : {"periodic", "reflecting", "absorbing"}
        Boundary condition.
    spacing : float
        Distance between sites (the cell width).
    origin : float
        Position of site 0.

    Returns
    -------
    Grid1D
        One cell centred on each site.

    Examples
    --------
    >>> from deeplimits.capacity import lattice_1d
    >>> g = lattice_1d(5)
    >>> g.x.tolist(), g.h
    ([0.0, 1.0, 2.0, 3.0, 4.0], 1.0)
    """
    return Grid1D(origin - 0.5 * spacing, origin + (n - 0.5) * spacing, n, boundary)


def lattice_2d(nx: int, ny: int, boundary: str = "periodic", spacing: float = 1.0) -> Grid2D:
    """2-D lattice with sites at integer multiples of ``spacing`` (see :func:`lattice_1d`).

    Parameters
    ----------
    nx, ny : int
        Sites per axis, at least 3.
    boundary : {"periodic", "reflecting", "absorbing"}
        Boundary condition on both axes.
    spacing : float
        Distance between sites.

    Returns
    -------
    Grid2D

    Examples
    --------
    >>> from deeplimits.capacity import lattice_2d
    >>> lattice_2d(4, 6, "absorbing").shape
    (4, 6)
    """
    return Grid2D(lattice_1d(nx, boundary, spacing), lattice_1d(ny, boundary, spacing))
