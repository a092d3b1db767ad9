"""The capacity Kolmogorov forward equations: the lattice master equation and its drift--diffusion PDE.

Equations are data: a grid, coefficients (constants or callables of depth ``t``) and,
for the PDE, the face value of the advective flux.  Their discrete operators live in
:mod:`.operators`, the depth solvers in :mod:`.pde1d`, :mod:`.pde2d` and :mod:`.master`.

* :class:`MasterEquation` -- ``dc/dt = lambda sum_k q_k [c(x - k) - c(x)] - kappa c`` on a lattice
  (Donier 2019 deep limit with ``alpha = a / sqrt(L)``, reconstructed [D] in
  ``docs/theory/capacity-kfe.md``).  Capacity at site ``y`` jumps to ``y + k`` at rate
  ``lambda q_k``; boundaries: periodic (wrap), reflecting (a jump that would leave is
  rejected), absorbing (a jump that would leave removes its capacity); along several axes an
  absorbing exit takes precedence over a reflecting one.
* :class:`DriftDiffusion1D`, :class:`DriftDiffusion2D` -- ``dc/dt = -div(v c) + div(D grad c) - kappa c``,
  the second-order (Kramers--Moyal) approximation of the master equation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..lattice import check_span
from ._coef import check_nonnegative, evaluate
from .grid import Grid1D, Grid2D

__all__ = ["DriftDiffusion1D", "DriftDiffusion2D", "MasterEquation", "ADVECTIONS", "diffusion_tensor"]

Coef = float | Callable[[float], float]

#: Face values of the advective flux.
ADVECTIONS = ("central", "upwind")


@dataclass
class _DriftDiffusion:
    # the fields and checks that the 1-D and 2-D equations share; GRID is the grid class they need

    GRID: ClassVar[type] = object
    grid: Any
    v: Any
    D: Any
    kappa: Coef = 0.0
    advection: str = "central"

    def __post_init__(self):
        if not isinstance(self.grid, self.GRID):
            raise ValueError(f"grid must be a {self.GRID.__name__}, got {type(self.grid).__name__}")
        if self.advection not in ADVECTIONS:
            raise ValueError(f"advection must be one of {ADVECTIONS}, got {self.advection!r}")
        self.coefficients(np.zeros(1))  # validate constants now (callables: at solve time)

    def coefficients(self, ts: ArrayLike) -> np.ndarray:
        raise NotImplementedError


@dataclass
class DriftDiffusion1D(_DriftDiffusion):
    """``dc/dt = -v c_x + D c_xx - kappa c`` on a :class:`Grid1D`.

    Parameters
    ----------
    grid : Grid1D
        Spatial grid and boundary condition.
    v, D, kappa : float or callable of t
        Drift, diffusion coefficient (``>= 0``) and sink rate (``>= 0``).
    advection : {"central", "upwind"}
        Face value of the advective flux.  Central is second order and keeps
        the M-matrix property (hence positivity) only while the cell Peclet
        number ``|v| h / (2 D) <= 1``; upwind is first order and always M-matrix.

    Examples
    --------
    >>> from deeplimits.capacity import DriftDiffusion1D, Grid1D
    >>> eq = DriftDiffusion1D(Grid1D(0.0, 1.0, 10), v=0.5, D=lambda t: 0.1 + t)
    >>> eq.coefficients([0.0, 1.0]).tolist()
    [[0.5, 0.1, 0.0], [0.5, 1.1, 0.0]]
    """

    GRID: ClassVar[type] = Grid1D
    grid: Grid1D
    v: Coef = 0.0
    D: Coef = 1.0

    def coefficients(self, ts: ArrayLike) -> np.ndarray:
        """The coefficients at a set of depths, validated.

        Parameters
        ----------
        ts : array_like
            Depths.

        Returns
        -------
        ndarray, shape ``(len(ts), 3)``
            Columns ``[v, D, kappa]``.

        Raises
        ------
        ValueError
            Non-finite values, ``D < 0`` or ``kappa < 0`` (naming the depth).
        """
        ts = np.asarray(ts, dtype=float)
        v = evaluate(self.v, ts, "v")
        D = evaluate(self.D, ts, "D")
        k = evaluate(self.kappa, ts, "kappa")
        check_nonnegative(D, ts, "D")
        check_nonnegative(k, ts, "kappa")
        return np.stack([v, D, k], axis=1)


def diffusion_tensor(Dval: ArrayLike) -> NDArray[np.float64]:
    """``(Dxx, Dyy, Dxy)`` of a scalar, diagonal ``(Dxx, Dyy)`` or symmetric 2x2 diffusion tensor.

    Examples
    --------
    >>> diffusion_tensor([[2.0, 0.5], [0.5, 1.0]]).tolist()
    [2.0, 1.0, 0.5]
    """
    d = np.asarray(Dval, dtype=float)
    if d.shape == ():
        return np.array([d, d, 0.0])
    if d.shape == (2,):
        return np.array([d[0], d[1], 0.0])
    if d.shape == (2, 2):
        if d[0, 1] != d[1, 0]:
            raise ValueError(f"D must be symmetric, got {d.tolist()}")
        return np.array([d[0, 0], d[1, 1], d[0, 1]])
    raise ValueError(f"D must be a scalar, (Dxx, Dyy) or a 2x2 matrix, got shape {d.shape}")


@dataclass
class DriftDiffusion2D(_DriftDiffusion):
    """``dc/dt = -div(v c) + div(D grad c) - kappa c`` on a :class:`Grid2D`.

    Parameters
    ----------
    grid : Grid2D
        Spatial grid; each axis carries its boundary condition.
    v : (vx, vy) or callable of t
        Drift vector.
    D : float, (Dxx, Dyy), 2x2 symmetric matrix, or callable of t returning one of these
        Diffusion tensor; must be positive semi-definite.
    kappa : float or callable of t
        Sink rate, ``>= 0``.
    advection : {"central", "upwind"}
        As in :class:`DriftDiffusion1D`, per axis.

    Notes
    -----
    The mixed term ``2 D_xy c_xy`` is discretised in flux form (face-averaged
    tangential differences), second order in the interior.  At reflecting
    boundaries the tangential difference uses the mirror ghost value, which is
    exact only for ``D_xy = 0``; full tensors are validated on periodic grids.

    Examples
    --------
    >>> from deeplimits.capacity import DriftDiffusion2D, Grid2D
    >>> eq = DriftDiffusion2D(Grid2D.square(0.0, 1.0, 8), v=(0.1, 0.0), D=[[0.2, 0.05], [0.05, 0.1]])
    >>> eq.coefficients([0.0]).round(3).tolist()
    [[0.1, 0.0, 0.2, 0.1, 0.05, 0.0]]
    """

    GRID: ClassVar[type] = Grid2D
    grid: Grid2D
    v: Any = (0.0, 0.0)
    D: Any = 1.0

    def coefficients(self, ts: ArrayLike) -> np.ndarray:
        """Evaluate and validate the drift vector, diffusion tensor and sink at the depths ``ts``.

        Parameters
        ----------
        ts : array_like
            Depths at which callables are evaluated (constants are broadcast).

        Returns
        -------
        ndarray, shape ``(len(ts), 6)``
            Columns ``[vx, vy, Dxx, Dyy, Dxy, kappa]``.

        Raises
        ------
        ValueError
            Non-finite values, ``D`` not positive semi-definite, ``kappa < 0`` (naming the depth).
        """
        ts = np.asarray(ts, dtype=float)
        v = evaluate(self.v, ts, "v", (2,))
        if callable(self.D):
            Dt = np.array([diffusion_tensor(self.D(float(t))) for t in ts]).reshape(len(ts), 3)
        else:
            Dt = np.broadcast_to(diffusion_tensor(self.D), (len(ts), 3)).copy()
        if not np.isfinite(Dt).all():
            k = int(np.argmax(~np.isfinite(Dt).all(axis=1)))
            raise ValueError(f"D must be finite; got {Dt[k]} at t={ts[k]}")
        check_nonnegative(Dt[:, :2], ts, "D (diagonal)")
        if (Dt[:, 2] ** 2 > Dt[:, 0] * Dt[:, 1] * (1 + 1e-12)).any():
            k = int(np.argmax(Dt[:, 2] ** 2 > Dt[:, 0] * Dt[:, 1] * (1 + 1e-12)))
            raise ValueError(f"D must be positive semi-definite (Dxy^2 <= Dxx Dyy); got {Dt[k]} at t={ts[k]}")
        kap = evaluate(self.kappa, ts, "kappa")
        check_nonnegative(kap, ts, "kappa")
        return np.column_stack([v, Dt, kap])


@dataclass
class MasterEquation:
    """Lattice master equation ``dc/dt = lambda sum_k q_k [c(x-k) - c(x)] - kappa c``.

    Parameters
    ----------
    grid : Grid1D or Grid2D
        The lattice (one site per cell) and its boundary conditions.
    offsets : array_like of int, shape (m,) in 1-D or (m, 2) in 2-D
        Jump offsets ``k`` (in cells).
    weights : array_like, shape (m,), or callable of t
        Jump probabilities ``q_k >= 0`` summing to 1.
    rate : float or callable of t
        Jump rate ``lambda >= 0``.
    kappa : float or callable of t
        Sink rate ``>= 0`` (bias weights).

    Examples
    --------
    >>> from deeplimits.capacity import MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(8), offsets=[-1, 0, 1], weights=[0.25, 0.5, 0.25], rate=2.0)
    >>> eq.m, eq.periodic
    (3, True)
    """

    grid: Any
    offsets: Any
    weights: Any
    rate: Any = 1.0
    kappa: Any = 0.0

    def __post_init__(self):
        if isinstance(self.grid, Grid1D):
            dims = 1
        elif isinstance(self.grid, Grid2D):
            dims = 2
        else:
            raise ValueError(f"grid must be a Grid1D or Grid2D, got {type(self.grid).__name__}")
        off = np.asarray(self.offsets)
        if off.size == 0:
            raise ValueError("offsets must not be empty")
        if not np.issubdtype(off.dtype, np.integer):
            if not np.all(np.isfinite(off)) or np.any(off != np.round(off)):
                raise ValueError(f"offsets must be integers, got {off.tolist()}")
        off = off.astype(np.int64)
        if dims == 1:
            if off.ndim != 1:
                raise ValueError(f"offsets must have shape (m,) on a Grid1D, got {off.shape}")
            off2 = np.column_stack([off, np.zeros_like(off)])
            sizes = (self.grid.n, 1)
        else:
            if off.ndim != 2 or off.shape[1] != 2:
                raise ValueError(f"offsets must have shape (m, 2) on a Grid2D, got {off.shape}")
            off2 = off
            sizes = self.grid.shape
        check_span(off2, sizes)
        self._off2 = np.ascontiguousarray(off2)
        self._dims = dims
        self.coefficients(np.zeros(1))

    @property
    def m(self) -> int:
        """Number of jump offsets."""
        return self._off2.shape[0]

    def coefficients(self, ts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Evaluate and validate the jump law, jump rate and sink at the depths ``ts``.

        Parameters
        ----------
        ts : array_like
            Depths; a callable coefficient is called once at each.

        Returns
        -------
        q : ndarray (len(ts), m)
            Jump probabilities (non-negative, summing to 1).
        lam : ndarray (len(ts),)
            Jump rates (non-negative).
        kappa : ndarray (len(ts),)
            Sink rates (non-negative).

        Raises
        ------
        ValueError
            Naming the coefficient and the depth where it is invalid.
        """
        ts = np.asarray(ts, dtype=float)
        q = evaluate(self.weights, ts, "weights", (self.m,))
        check_nonnegative(q, ts, "weights")
        s = q.sum(axis=1)
        if np.any(np.abs(s - 1.0) > 1e-12):
            k = int(np.argmax(np.abs(s - 1.0)))
            raise ValueError(f"weights must sum to 1; got sum {s[k]!r} at t={ts[k]}")
        lam = evaluate(self.rate, ts, "rate")
        check_nonnegative(lam, ts, "rate")
        kap = evaluate(self.kappa, ts, "kappa")
        check_nonnegative(kap, ts, "kappa")
        return q, lam, kap

    def explicit_limit(self, q: NDArray[np.float64], lam: NDArray[np.float64], kap: NDArray[np.float64]) -> float:
        """Explicit-Euler step limit (positivity and L1 contraction).

        Parameters
        ----------
        q, lam, kap : ndarray
            Coefficients at the step depths, from :meth:`coefficients`.

        Returns
        -------
        float
            ``1 / max_t (lambda (1 - q_0) + kappa)`` (``inf`` when nothing moves).
        """
        stay = (self._off2 == 0).all(axis=1)
        out = lam * q[:, ~stay].sum(axis=1) + kap
        mx = float(out.max())
        return math.inf if mx == 0 else 1.0 / mx

    @property
    def jumps(self) -> NDArray[np.int64]:
        """Jump offsets as an ``(m, 2)`` int64 array (zero second component in 1-D)."""
        return self._off2

    @property
    def boundary_codes(self) -> tuple[int, int]:
        """Kernel boundary codes ``(bcx, bcy)`` (``bcy = 0`` in 1-D)."""
        if self._dims == 1:
            return self.grid.bc, 0
        return self.grid.gx.bc, self.grid.gy.bc

    def symbol(self, q: NDArray[np.float64], lam: float, kap: float) -> np.ndarray:
        """Fourier symbol of the generator on a periodic lattice.

        Parameters
        ----------
        q : ndarray (m,)
            Jump weights (probabilities, or integrated rates with ``lam = 1``).
        lam, kap : float
            Jump rate and sink rate.

        Returns
        -------
        ndarray, complex, shape ``(nx, ny)`` (``ny = 1`` in 1-D)
            ``lam sum_k q_k (exp(-i xi.k) - 1) - kap`` on the FFT frequencies.
        """
        nx, ny = self.shape2
        xi = 2 * np.pi * np.fft.fftfreq(nx)[:, None]
        eta = 2 * np.pi * np.fft.fftfreq(ny)[None, :]
        g = np.zeros((nx, ny), dtype=complex)
        for (k1, k2), qk in zip(self._off2, q, strict=True):
            g += qk * (np.exp(-1j * (xi * k1 + eta * k2)) - 1.0)
        return lam * g - kap

    @property
    def shape2(self) -> tuple[int, int]:
        """Field shape as 2-D, ``(n, 1)`` in 1-D (the kernels work on 2-D arrays)."""
        return (self.grid.n, 1) if self._dims == 1 else self.grid.shape

    @property
    def periodic(self) -> bool:
        """True when every axis is periodic."""
        return self.boundary_codes == (0, 0)
