"""Discrete operators of the capacity KFE (Numba kernels and a sparse matrix).

* Drift--diffusion--sink PDE, conservative cell-centred finite volumes: the face flux
  between cells ``i`` and ``i+1`` is ``F = v c_face - D (c_{i+1} - c_i) / h`` with ``c_face``
  the mean of the two cells (``advection="central"``, second order) or the upwind cell
  (``"upwind"``, first order, M-matrix for every step); the cell update is the flux difference
  ``(F_{i-1/2} - F_{i+1/2}) / h``.  Every flux leaves one cell and enters its neighbour, so
  the total changes only through boundary faces and the sink.  :func:`bands_1d` gives the
  1-D tridiagonal operator; in 2-D :func:`apply_full` applies ``A = A_x + A_y + A_xy``.
* Master equation: :func:`apply_master` (scatter form: every jump removes capacity from its
  source and adds the same amount to its target, so the total is conserved to round-off)
  and :func:`generator_matrix` (sparse, for the implicit solvers).
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..lattice import LOST, REFUSED, jump_target
from ._linalg import Floats
from .equations import MasterEquation

__all__ = [
    "bands_1d",
    "axis_bands",
    "axpy_x",
    "axpy_y",
    "axpy_cross",
    "apply_full",
    "apply_master",
    "generator_matrix",
]


@nb.njit(cache=True)
def bands_1d(
    n: int,
    h: float,
    v: float,
    D: float,
    kappa: float,
    bc: int,
    upwind: bool,
    lower: Floats,
    diag: Floats,
    upper: Floats,
) -> None:
    """Bands of the finite-volume operator ``A`` (``dc/dt = A c``) in 1-D.

    Face flux ``F_{i+1/2} = a c_i + b c_{i+1}``; the cell update is
    ``(F_{i-1/2} - F_{i+1/2}) / h - kappa c_i``.

    Parameters
    ----------
    n : int
        Number of cells.
    h : float
        Cell width.
    v, D, kappa : float
        Drift, diffusion and sink at one depth.
    bc : int
        0 periodic (corners in ``lower[0]``, ``upper[n-1]``), 1 reflecting (boundary
        fluxes zero), 2 absorbing (``c = 0`` on the boundary face: ghost value ``-c``).
    upwind : bool
        Upwind instead of central face values for the advective flux.
    lower, diag, upper : ndarray (n,)
        Output bands, overwritten.
    """
    if upwind:
        a = max(v, 0.0) + D / h
        b = min(v, 0.0) - D / h
    else:
        a = 0.5 * v + D / h
        b = 0.5 * v - D / h
    for i in range(n):
        lower[i] = a / h
        upper[i] = -b / h
        diag[i] = (b - a) / h - kappa
    if bc == 1:
        lower[0] = 0.0
        diag[0] = -a / h - kappa
        upper[n - 1] = 0.0
        diag[n - 1] = b / h - kappa
    elif bc == 2:
        if upwind:
            aL = min(v, 0.0) - 2.0 * D / h
            aR = max(v, 0.0) + 2.0 * D / h
        else:
            aL = -2.0 * D / h
            aR = 2.0 * D / h
        lower[0] = 0.0
        diag[0] = (aL - a) / h - kappa
        upper[n - 1] = 0.0
        diag[n - 1] = (b - aR) / h - kappa


@nb.njit(cache=True)
def _neighbours(i, n, lower, upper, periodic):
    # (i-1, lower coefficient, i+1, upper coefficient) of row i of a (cyclic) tridiagonal matrix,
    # as tri_matvec reads them: outside a non-periodic matrix the coefficient is 0
    lo = lower[i]
    up = upper[i]
    im = i - 1
    ip = i + 1
    if i == 0:
        if periodic:
            im = n - 1
        else:
            im = 0
            lo = 0.0
    if i == n - 1:
        if periodic:
            ip = 0
        else:
            ip = i
            up = 0.0
    return im, lo, ip, up


@nb.njit(cache=True)
def axpy_x(c: Floats, lower: Floats, diag: Floats, upper: Floats, periodic: bool, s: float, out: Floats) -> None:
    # out += s * A_x c, A_x acting along axis 0 (rows stay contiguous in the inner loop)
    nx, ny = c.shape
    for i in range(nx):
        im, lo, ip, up = _neighbours(i, nx, lower, upper, periodic)
        d = diag[i]
        for j in range(ny):
            out[i, j] += s * (lo * c[im, j] + d * c[i, j] + up * c[ip, j])


@nb.njit(cache=True)
def axpy_y(c: Floats, lower: Floats, diag: Floats, upper: Floats, periodic: bool, s: float, out: Floats) -> None:
    # out += s * A_y c, A_y acting along axis 1: A_x on the transposed views
    axpy_x(c.T, lower, diag, upper, periodic, s, out.T)


@nb.njit(cache=True, inline="always")
def _fold(i, n, bc):
    # (cell, sign) whose value times sign is the (ghost) value at index i, at most one cell outside;
    # inlined: as a call it makes the mixed-derivative loop of axpy_cross about 3x slower
    if 0 <= i < n:
        return i, 1.0
    if bc == 0:
        return i % n, 1.0
    return (0 if i < 0 else n - 1), (-1.0 if bc == 2 else 1.0)


@nb.njit(cache=True)
def _ghost(c, i, j, bcx, bcy):
    # value at (i, j) where at most one index is outside the grid (so at most one sign is -1)
    nx, ny = c.shape
    i, si = _fold(i, nx, bcx)
    j, sj = _fold(j, ny, bcy)
    return si * sj * c[i, j]


@nb.njit(cache=True)
def axpy_cross(c: Floats, dxy: float, hx: float, hy: float, bcx: int, bcy: int, s: float, out: Floats) -> None:
    # out += s * [d/dx (Dxy dc/dy) + d/dy (Dxy dc/dx)] in flux form; boundary-face cross fluxes vanish
    nx, ny = c.shape
    if dxy == 0.0:
        return
    nfx = nx if bcx == 0 else nx - 1
    nfy = ny if bcy == 0 else ny - 1
    for j in range(ny):
        for f in range(nfx):
            i0 = f
            i1 = (f + 1) % nx
            dcy = (
                _ghost(c, i0, j + 1, bcx, bcy)
                + _ghost(c, i1, j + 1, bcx, bcy)
                - _ghost(c, i0, j - 1, bcx, bcy)
                - _ghost(c, i1, j - 1, bcx, bcy)
            ) / (4.0 * hy)
            flux = -dxy * dcy
            out[i0, j] -= s * flux / hx
            out[i1, j] += s * flux / hx
    for i in range(nx):
        for f in range(nfy):
            j0 = f
            j1 = (f + 1) % ny
            dcx = (
                _ghost(c, i + 1, j0, bcx, bcy)
                + _ghost(c, i + 1, j1, bcx, bcy)
                - _ghost(c, i - 1, j0, bcx, bcy)
                - _ghost(c, i - 1, j1, bcx, bcy)
            ) / (4.0 * hx)
            flux = -dxy * dcx
            out[i, j0] -= s * flux / hy
            out[i, j1] += s * flux / hy


@nb.njit(cache=True)
def axis_bands(coef: Floats, axis: int, n: int, h: float, bc: int, upwind: bool) -> tuple[Floats, Floats, Floats]:
    # bands of A_x (axis 0) or A_y (axis 1); each carries half of the sink
    lo = np.empty(n)
    di = np.empty(n)
    up = np.empty(n)
    bands_1d(n, h, coef[axis], coef[2 + axis], 0.5 * coef[5], bc, upwind, lo, di, up)
    return lo, di, up


@nb.njit(cache=True)
def apply_full(
    c: Floats, cf: Floats, hx: float, hy: float, bcx: int, bcy: int, upwind: bool, s: float, out: Floats
) -> None:
    # out += s * A(t) c, A = A_x + A_y + A_0
    nx, ny = c.shape
    lx, dx_, ux = axis_bands(cf, 0, nx, hx, bcx, upwind)
    ly, dy_, uy = axis_bands(cf, 1, ny, hy, bcy, upwind)
    axpy_x(c, lx, dx_, ux, bcx == 0, s, out)
    axpy_y(c, ly, dy_, uy, bcy == 0, s, out)
    axpy_cross(c, cf[4], hx, hy, bcx, bcy, s, out)


@nb.njit(cache=True)
def apply_master(
    c: Floats, offs: NDArray[np.int64], q: Floats, lam: float, kappa: float, bcx: int, bcy: int, s: float, out: Floats
) -> None:
    # out += s * G c in scatter form: each jump moves capacity from its source to its target
    nx, ny = c.shape
    for m in range(q.shape[0]):
        k1 = offs[m, 0]
        k2 = offs[m, 1]
        if (k1 == 0 and k2 == 0) or q[m] == 0.0:
            continue
        r = s * lam * q[m]
        for i in range(nx):
            ti, sx = jump_target(i, k1, nx, bcx)
            for j in range(ny):
                tj, sy = jump_target(j, k2, ny, bcy)
                if sx == LOST or sy == LOST:
                    out[i, j] -= r * c[i, j]
                elif sx != REFUSED and sy != REFUSED:
                    f = r * c[i, j]
                    out[i, j] -= f
                    out[ti, tj] += f
    if kappa != 0.0:
        for i in range(nx):
            for j in range(ny):
                out[i, j] -= s * kappa * c[i, j]


def generator_matrix(eq: MasterEquation, q: Any, lam: float, kap: float) -> sp.csr_matrix:
    """Sparse generator of a master equation at fixed coefficients.

    Parameters
    ----------
    eq : MasterEquation
        The equation (lattice, offsets, boundaries).
    q : ndarray (m,)
        Jump probabilities.
    lam, kap : float
        Jump rate and sink rate.

    Returns
    -------
    scipy.sparse.csr_matrix (N, N)
        ``G`` with ``dc/dt = G c`` on the flattened field (C order); its columns sum to
        ``-kap`` minus the rate of jumps lost through absorbing boundaries.

    Examples
    --------
    >>> from deeplimits.capacity import MasterEquation, lattice_1d
    >>> from deeplimits.capacity.kfe import generator_matrix
    >>> eq = MasterEquation(lattice_1d(4, "reflecting"), offsets=[-1, 1], weights=[0.5, 0.5])
    >>> generator_matrix(eq, [0.5, 0.5], 1.0, 0.0).toarray().sum(axis=0).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    nx, ny = eq.shape2
    bcx, bcy = eq.boundary_codes
    N = nx * ny
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    src = (ii * ny + jj).ravel()
    rows, cols, vals = [], [], []
    diag = np.full(N, -kap, dtype=float)

    def tgt(idx, k, n, bc):
        t = idx + k
        inside = (t >= 0) & (t < n)
        if bc == 0:
            return t % n, np.zeros_like(inside), np.zeros_like(inside)
        return np.where(inside, t, idx), (~inside) & (bc == 1), (~inside) & (bc == 2)

    for (k1, k2), qk in zip(eq.jumps, q, strict=True):
        if (k1 == 0 and k2 == 0) or qk == 0:
            continue
        r = lam * qk
        ti, rx, lx = tgt(ii.ravel(), k1, nx, bcx)
        tj, ry, ly = tgt(jj.ravel(), k2, ny, bcy)
        lost = lx | ly
        moved = ~lost & ~(rx | ry)
        diag -= r * (lost | moved)
        rows.append((ti * ny + tj)[moved])
        cols.append(src[moved])
        vals.append(np.full(int(moved.sum()), r))
    rows.append(np.arange(N))
    cols.append(np.arange(N))
    vals.append(diag)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))
