"""Exact solutions of the discretised capacity KFE (no depth error), for validation.

* :func:`master_exact_periodic`: the lattice master equation on a periodic lattice, by FFT.
* :func:`semidiscrete_exact`: the exact depth-solution of the *spatially discretised*
  system ``dc/dt = A(t) c`` when the ``A(t)`` commute (periodic grids: circulant; or
  ``v = 0``), by FFT or dense ``expm``.  Depth orders are measured against it so that the
  spatial error does not pollute them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from ._linalg import tri_matvec
from ._stepping import check_field
from .equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation, diffusion_tensor
from .exact import integral
from .grid import Grid1D
from .operators import apply_full, bands_1d

__all__ = ["semidiscrete_exact", "master_exact_periodic"]


def _dense_1d(grid: Grid1D, v, D, kappa, upwind) -> np.ndarray:
    n = grid.n
    lo, di, up = np.empty(n), np.empty(n), np.empty(n)
    bands_1d(n, grid.h, float(v), float(D), float(kappa), grid.bc, upwind, lo, di, up)
    A = np.diag(di) + np.diag(up[:-1], 1) + np.diag(lo[1:], -1)
    if grid.bc == 0:
        A[0, n - 1] += lo[0]
        A[n - 1, 0] += up[n - 1]
    return A


def semidiscrete_exact(
    eq: DriftDiffusion1D | DriftDiffusion2D, c0: ArrayLike, t_end: float, t0: float = 0.0
) -> np.ndarray:
    """Exact depth-solution at ``t_end`` of the finite-volume system of ``eq`` (no depth error).

    The finite-volume operator is linear in the coefficients, ``A(t) = A[v(t), D(t), kappa(t)]``;
    when the ``A(t)`` commute (periodic grids, or zero drift) the solution is
    ``exp(A[int v, int D, int kappa]) c0``.  Periodic grids use the FFT of the
    circulant stencil; other 1-D grids a dense ``expm``.

    Parameters
    ----------
    eq : DriftDiffusion1D or DriftDiffusion2D
        The equation (2-D: periodic grid only).
    c0 : ndarray
        Field at ``t0``.
    t_end : float
        Final depth.
    t0 : float
        Initial depth.

    Returns
    -------
    ndarray, shape of ``c0``

    Raises
    ------
    ValueError
        If the operators need not commute (non-periodic grid with non-zero drift
        that varies with depth), or for upwind advection with a drift changing sign.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import DriftDiffusion1D, Grid1D
    >>> from deeplimits.capacity.kfe import semidiscrete_exact
    >>> g = Grid1D(0.0, 1.0, 16)
    >>> c = semidiscrete_exact(DriftDiffusion1D(g, v=0.2, D=0.1), np.ones(16), 1.0)
    >>> bool(np.allclose(c, 1.0))
    True
    """
    c0 = np.asarray(c0, dtype=float)
    if isinstance(eq, DriftDiffusion1D):
        vI, DI, kI = (float(integral(f, t0, t_end)) for f in (eq.v, eq.D, eq.kappa))
        if eq.advection == "upwind":
            vs = eq.coefficients(np.linspace(t0, t_end, 101))[:, 0]
            if vs.min() < 0 < vs.max():
                raise ValueError("upwind operator is not linear in v when v changes sign")
        g = eq.grid
        if g.bc == 0:
            lo, di, up = np.empty(g.n), np.empty(g.n), np.empty(g.n)
            bands_1d(g.n, g.h, vI, DI, kI, 0, eq.advection == "upwind", lo, di, up)
            delta = np.zeros(g.n)
            delta[0] = 1.0
            col = np.empty(g.n)
            tri_matvec(lo, di, up, True, delta, col)
            return np.fft.ifft(np.fft.fft(c0) * np.exp(np.fft.fft(col))).real
        if callable(eq.v) and vI != 0:
            raise ValueError("semidiscrete_exact on a non-periodic grid needs a constant drift")
        if callable(eq.v) or callable(eq.D) or callable(eq.kappa):
            vs = eq.coefficients(np.linspace(t0, t_end, 11))
            if np.any(vs[:, 0] != 0) and (callable(eq.D) or callable(eq.kappa)):
                raise ValueError("semidiscrete_exact on a non-periodic grid needs v = 0 or constant coefficients")
        return scipy.linalg.expm(_dense_1d(g, vI, DI, kI, eq.advection == "upwind")) @ c0
    if isinstance(eq, DriftDiffusion2D):
        g2: Any = eq.grid
        if (g2.gx.bc, g2.gy.bc) != (0, 0):
            raise ValueError("semidiscrete_exact in 2-D needs a periodic grid")
        v2 = integral(eq.v, t0, t_end, (2,))
        D2 = integral(eq.D, t0, t_end, np.shape(eq.D(t0)) if callable(eq.D) else np.shape(eq.D))
        Dt = diffusion_tensor(D2)
        k2 = float(integral(eq.kappa, t0, t_end))
        cf = np.array([v2[0], v2[1], Dt[0], Dt[1], Dt[2], k2])
        delta = np.zeros(g2.shape)
        delta[0, 0] = 1.0
        col = np.zeros(g2.shape)
        apply_full(delta, cf, g2.gx.h, g2.gy.h, 0, 0, eq.advection == "upwind", 1.0, col)
        return np.fft.ifft2(np.fft.fft2(c0) * np.exp(np.fft.fft2(col))).real
    raise TypeError(f"eq must be a DriftDiffusion1D or DriftDiffusion2D, got {type(eq).__name__}")


def master_exact_periodic(eq: MasterEquation, c0: ArrayLike, t_end: float, t0: float = 0.0) -> np.ndarray:
    """Exact solution at ``t_end`` on a periodic lattice, by FFT.

    On a periodic lattice the generators at different depths are circulant and
    commute, so ``c(t) = F^{-1}[exp(int_{t0}^{t} G_hat(s) ds) F c0]`` with the
    symbol ``G_hat = sum_k (int lambda q_k)(e^{-i xi.k} - 1) - int kappa``.  The
    depth integrals are computed by adaptive quadrature (``scipy.integrate.quad``,
    absolute error ~1e-14) when the coefficients are callables, exactly otherwise.

    Parameters
    ----------
    eq : MasterEquation
        On a lattice periodic along every axis.
    c0 : ndarray
        Field at ``t0``, shape ``eq.grid.shape``.
    t_end : float
        Final depth, ``>= t0``.
    t0 : float
        Initial depth.

    Returns
    -------
    ndarray, shape ``eq.grid.shape``

    Raises
    ------
    ValueError
        Non-periodic lattice, bad field, or ``t_end < t0``.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import MasterEquation, lattice_1d, master_exact_periodic
    >>> eq = MasterEquation(lattice_1d(8), offsets=[-1, 1], weights=[0.5, 0.5], rate=1.0)
    >>> c = master_exact_periodic(eq, np.eye(8)[0], 1.0)
    >>> round(float(c.sum()), 12), round(float(c[0]), 6)
    (1.0, 0.46576)
    """
    if not eq.periodic:
        raise ValueError("master_exact_periodic needs periodic boundaries on every axis")
    c0 = check_field(c0, eq.grid)

    t0, t_end = float(t0), float(t_end)
    if not (math.isfinite(t0) and math.isfinite(t_end)) or t_end < t0:
        raise ValueError(f"need finite t0 <= t_end (depth runs forward), got t0={t0}, t_end={t_end}")

    def rates(t):
        q, lam, _ = eq.coefficients([t])
        return lam[0] * q[0]

    # integrated jump rates int lambda q_k dt (a product of two callables is integrated as one)
    lq = integral(rates if callable(eq.weights) or callable(eq.rate) else rates(t0), t0, t_end, (eq.m,))
    K = float(integral(eq.kappa, t0, t_end))
    # symbol() is linear in (lam * q, kappa): pass lam = 1, q = integrated rates (sum need not be 1)
    g = eq.symbol(lq, 1.0, K)
    ch = np.fft.fft2(c0.reshape(eq.shape2)) * np.exp(g)
    return np.fft.ifft2(ch).real.reshape(eq.grid.shape)
