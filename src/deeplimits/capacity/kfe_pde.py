"""Drift--diffusion--sink PDE for capacity: conservative finite volumes in 1-D and 2-D.

Equation (depth ``t`` from the output, ``t = 0``, to the input, ``t = 1``)::

    dc/dt = -div(v c) + div(D grad c) - kappa c

with coefficients constant in space and possibly depending on ``t``.  It is
the second-order (Kramers--Moyal) approximation of the lattice master equation
(:mod:`deeplimits.capacity.kfe_master`), see ``docs/theory/capacity-kfe.md``.

Space: cell-centred finite volumes.  The face flux between cells ``i`` and
``i+1`` is ``F = v c_face - D (c_{i+1} - c_i) / h`` with ``c_face`` the mean of
the two cells (``advection="central"``, second order) or the upwind cell
(``"upwind"``, first order, M-matrix for every step); the cell update is the
flux difference ``(F_{i-1/2} - F_{i+1/2}) / h``.  Every flux leaves one cell and
enters its neighbour, so the sum of ``c`` changes only through boundary faces
(none for periodic, zero flux for reflecting) and the sink: total capacity is
conserved to round-off.

Depth, 1-D: the theta scheme ``(I - theta dt A(t_{n+1})) c^{n+1} = (I + (1-theta) dt A(t_n)) c^n``
with ``theta = 0`` (explicit Euler), ``1`` (implicit Euler), ``1/2``
(Crank--Nicolson), each a tridiagonal (cyclic when periodic) Thomas solve.

Depth, 2-D: explicit Euler, Peaceman--Rachford ADI (diagonal ``D``) and the
Douglas and Hundsdorfer--Verwer ADI schemes (full tensor, mixed derivative
explicit), all built from 1-D line solves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import numba as nb
import numpy as np

from .kfe_coef import check_nonnegative, evaluate
from .kfe_grid import Grid1D, Grid2D, KFEResult, depth_steps
from .kfe_linalg import tri_factor, tri_matvec, tri_solve

__all__ = ["DriftDiffusion1D", "DriftDiffusion2D", "solve_pde", "bands_1d", "SCHEMES_1D", "SCHEMES_2D"]

Coef = Union[float, Callable[[float], float]]

SCHEMES_1D = {"explicit": 0.0, "implicit_euler": 1.0, "crank_nicolson": 0.5}
SCHEMES_2D = ("explicit", "implicit_euler", "crank_nicolson", "peaceman_rachford", "douglas", "hundsdorfer_verwer")
_ADVECTION = ("central", "upwind")


# ----------------------------------------------------------------------------- equations
def _check_equation(eq, grid_cls) -> None:
    if not isinstance(eq.grid, grid_cls):
        raise ValueError(f"grid must be a {grid_cls.__name__}, got {type(eq.grid).__name__}")
    if eq.advection not in _ADVECTION:
        raise ValueError(f"advection must be one of {_ADVECTION}, got {eq.advection!r}")
    eq.coefficients(np.zeros(1))  # validate constants now (callables: at solve time)


@dataclass
class DriftDiffusion1D:
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
    """

    grid: Grid1D
    v: Coef = 0.0
    D: Coef = 1.0
    kappa: Coef = 0.0
    advection: str = "central"

    def __post_init__(self):
        _check_equation(self, Grid1D)

    def coefficients(self, ts) -> np.ndarray:
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


def _tensor(Dval) -> np.ndarray:
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
class DriftDiffusion2D:
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
    """

    grid: Grid2D
    v: object = (0.0, 0.0)
    D: object = 1.0
    kappa: Coef = 0.0
    advection: str = "central"

    def __post_init__(self):
        _check_equation(self, Grid2D)

    def coefficients(self, ts) -> np.ndarray:
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
            Dt = np.array([_tensor(self.D(float(t))) for t in ts]).reshape(len(ts), 3)
        else:
            Dt = np.broadcast_to(_tensor(self.D), (len(ts), 3)).copy()
        if not np.isfinite(Dt).all():
            k = int(np.argmax(~np.isfinite(Dt).all(axis=1)))
            raise ValueError(f"D must be finite; got {Dt[k]} at t={ts[k]}")
        check_nonnegative(Dt[:, :2], ts, "D (diagonal)")
        if (Dt[:, 2] ** 2 > Dt[:, 0] * Dt[:, 1] * (1 + 1e-12)).any():
            k = int(np.argmax(Dt[:, 2] ** 2 > Dt[:, 0] * Dt[:, 1] * (1 + 1e-12)))
            raise ValueError(f"D must be positive semi-definite (Dxy^2 <= Dxx Dyy); got {Dt[k]} at t={ts[k]}")
        k = evaluate(self.kappa, ts, "kappa")
        check_nonnegative(k, ts, "kappa")
        return np.column_stack([v, Dt, k])


# ----------------------------------------------------------------------------- 1-D operator
@nb.njit(cache=True)
def bands_1d(n, h, v, D, kappa, bc, upwind, lower, diag, upper):
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
def _explicit_limit_1d(coefs, n, h, bc, upwind):
    # (dt limit = 1 / max(-diag), most negative off-diagonal relative to the diagonal) over all depths
    lower = np.empty(n)
    diag = np.empty(n)
    upper = np.empty(n)
    maxd = 0.0
    worst = 0.0
    for k in range(coefs.shape[0]):
        bands_1d(n, h, coefs[k, 0], coefs[k, 1], coefs[k, 2], bc, upwind, lower, diag, upper)
        scale = 1e-300
        for i in range(n):
            maxd = max(maxd, -diag[i])
            scale = max(scale, -diag[i])
        for i in range(n):
            if (i > 0 or bc == 0) and lower[i] / scale < worst:
                worst = lower[i] / scale
            if (i < n - 1 or bc == 0) and upper[i] / scale < worst:
                worst = upper[i] / scale
    lim = np.inf if maxd == 0.0 else 1.0 / maxd
    return lim, worst


@nb.njit(cache=True)
def _run_1d(c0, coefs, dt, h, bc, upwind, theta, save_mask, ys):
    n = c0.shape[0]
    periodic = bc == 0
    lower = np.empty(n)
    diag = np.empty(n)
    upper = np.empty(n)
    ml = np.empty(n)
    md = np.empty(n)
    mu = np.empty(n)
    c = c0.copy()
    rhs = np.empty(n)
    tmp = np.empty(n)
    ys[0] = c
    isave = 1
    cp = np.empty(n)
    inv = np.empty(n)
    z = np.empty(n)
    corr = np.empty(2)
    have_factor = False
    for k in range(coefs.shape[0] - 1):
        # right-hand side (I + (1 - theta) dt A(t_k)) c
        if theta < 1.0:
            bands_1d(n, h, coefs[k, 0], coefs[k, 1], coefs[k, 2], bc, upwind, lower, diag, upper)
            tri_matvec(lower, diag, upper, periodic, c, tmp)
            for i in range(n):
                rhs[i] = c[i] + (1.0 - theta) * dt * tmp[i]
        else:
            for i in range(n):
                rhs[i] = c[i]
        if theta > 0.0:
            same = (
                have_factor
                and coefs[k + 1, 0] == coefs[k, 0]
                and coefs[k + 1, 1] == coefs[k, 1]
                and coefs[k + 1, 2] == coefs[k, 2]
            )
            if not same:
                bands_1d(n, h, coefs[k + 1, 0], coefs[k + 1, 1], coefs[k + 1, 2], bc, upwind, lower, diag, upper)
                for i in range(n):
                    ml[i] = -theta * dt * lower[i]
                    md[i] = 1.0 - theta * dt * diag[i]
                    mu[i] = -theta * dt * upper[i]
                cp, inv, z, corr = tri_factor(ml, md, mu, periodic)
                have_factor = True
            tri_solve(ml, cp, inv, z, corr, periodic, rhs, c)
        else:
            for i in range(n):
                c[i] = rhs[i]
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1


# ----------------------------------------------------------------------------- 2-D operator
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
def _axpy_x(c, lower, diag, upper, periodic, s, out):
    # out += s * A_x c, A_x acting along axis 0 (rows stay contiguous in the inner loop)
    nx, ny = c.shape
    for i in range(nx):
        im, lo, ip, up = _neighbours(i, nx, lower, upper, periodic)
        d = diag[i]
        for j in range(ny):
            out[i, j] += s * (lo * c[im, j] + d * c[i, j] + up * c[ip, j])


@nb.njit(cache=True)
def _axpy_y(c, lower, diag, upper, periodic, s, out):
    # out += s * A_y c, A_y acting along axis 1
    nx, ny = c.shape
    for j in range(ny):
        jm, lo, jp, up = _neighbours(j, ny, lower, upper, periodic)
        d = diag[j]
        for i in range(nx):
            out[i, j] += s * (lo * c[i, jm] + d * c[i, j] + up * c[i, jp])


@nb.njit(cache=True)
def _ghost(c, i, j, bcx, bcy):
    # value at (i, j) where at most one index is one cell outside the grid
    nx, ny = c.shape
    sign = 1.0
    if i < 0 or i >= nx:
        if bcx == 0:
            i = i % nx
        else:
            i = 0 if i < 0 else nx - 1
            if bcx == 2:
                sign = -1.0
    if j < 0 or j >= ny:
        if bcy == 0:
            j = j % ny
        else:
            j = 0 if j < 0 else ny - 1
            if bcy == 2:
                sign = -1.0
    return sign * c[i, j]


@nb.njit(cache=True)
def _axpy_cross(c, dxy, hx, hy, bcx, bcy, s, out):
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
def _solve_x(rhs, ml, cp, inv, z, corr, periodic, out):
    # out[:, j] = A^{-1} rhs[:, j] for every column: the Thomas sweeps of tri_solve run over
    # all columns at once so that the inner loop is contiguous (same arithmetic per column)
    nx, ny = rhs.shape
    for j in range(ny):
        out[0, j] = rhs[0, j] * inv[0]
    for i in range(1, nx):
        a = ml[i]
        b = inv[i]
        for j in range(ny):
            out[i, j] = (rhs[i, j] - a * out[i - 1, j]) * b
    for i in range(nx - 2, -1, -1):
        a = cp[i]
        for j in range(ny):
            out[i, j] -= a * out[i + 1, j]
    if periodic:
        for j in range(ny):
            f = (out[0, j] + corr[0] * out[nx - 1, j]) * corr[1]
            for i in range(nx):
                out[i, j] -= f * z[i]


@nb.njit(cache=True)
def _solve_y(rhs, ml, cp, inv, z, corr, periodic, out):
    nx, ny = rhs.shape
    for i in range(nx):
        tri_solve(ml, cp, inv, z, corr, periodic, rhs[i], out[i])


@nb.njit(cache=True)
def _axis_bands(coef, axis, n, h, bc, upwind):
    # bands of A_x (axis 0) or A_y (axis 1); each carries half of the sink
    lo = np.empty(n)
    di = np.empty(n)
    up = np.empty(n)
    bands_1d(n, h, coef[axis], coef[2 + axis], 0.5 * coef[5], bc, upwind, lo, di, up)
    return lo, di, up


@nb.njit(cache=True)
def _implicit_factor(lo, di, up, w, periodic):
    # factors of I - w A
    ml = -w * lo
    md = 1.0 - w * di
    mu = -w * up
    cp, inv, z, corr = tri_factor(ml, md, mu, periodic)
    return ml, cp, inv, z, corr


@nb.njit(cache=True)
def _apply_full(c, cf, hx, hy, bcx, bcy, upwind, s, out):
    # out += s * A(t) c, A = A_x + A_y + A_0
    nx, ny = c.shape
    lx, dx_, ux = _axis_bands(cf, 0, nx, hx, bcx, upwind)
    ly, dy_, uy = _axis_bands(cf, 1, ny, hy, bcy, upwind)
    _axpy_x(c, lx, dx_, ux, bcx == 0, s, out)
    _axpy_y(c, ly, dy_, uy, bcy == 0, s, out)
    _axpy_cross(c, cf[4], hx, hy, bcx, bcy, s, out)


@nb.njit(cache=True)
def _explicit_limit_2d(coefs, nx, ny, hx, hy, bcx, bcy, upwind):
    worst = 0.0
    maxd = 0.0
    for k in range(coefs.shape[0]):
        lx, dx_, ux = _axis_bands(coefs[k], 0, nx, hx, bcx, upwind)
        ly, dy_, uy = _axis_bands(coefs[k], 1, ny, hy, bcy, upwind)
        dmax = 0.0
        for i in range(nx):
            dmax = max(dmax, -dx_[i])
        dmax2 = 0.0
        for j in range(ny):
            dmax2 = max(dmax2, -dy_[j])
        tot = dmax + dmax2 + abs(coefs[k, 4]) / (hx * hy)
        maxd = max(maxd, tot)
        sc = max(tot, 1e-300)
        for i in range(nx):
            if (i > 0 or bcx == 0) and lx[i] / sc < worst:
                worst = lx[i] / sc
            if (i < nx - 1 or bcx == 0) and ux[i] / sc < worst:
                worst = ux[i] / sc
        for j in range(ny):
            if (j > 0 or bcy == 0) and ly[j] / sc < worst:
                worst = ly[j] / sc
            if (j < ny - 1 or bcy == 0) and uy[j] / sc < worst:
                worst = uy[j] / sc
    lim = np.inf if maxd == 0.0 else 1.0 / maxd
    return lim, worst


@nb.njit(cache=True)
def _run_2d(c0, coefs, dt, hx, hy, bcx, bcy, upwind, scheme, theta, save_mask, ys):
    # coefs at half steps: row 2k = t_k, row 2k+1 = t_k + dt/2.
    # scheme: 0 explicit, 1 Peaceman-Rachford, 2 Douglas, 3 Hundsdorfer-Verwer
    nx, ny = c0.shape
    px = bcx == 0
    py = bcy == 0
    c = c0.copy()
    ys[0] = c
    isave = 1
    n_steps = (coefs.shape[0] - 1) // 2
    y0 = np.empty_like(c)
    y1 = np.empty_like(c)
    y2 = np.empty_like(c)
    for k in range(n_steps):
        cn = coefs[2 * k]
        ch = coefs[2 * k + 1]
        c1 = coefs[2 * k + 2]
        if scheme == 0:
            y0[:] = c
            _apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)
            c[:] = y0
        elif scheme == 1:
            lx, dx_, ux = _axis_bands(ch, 0, nx, hx, bcx, upwind)
            ly, dy_, uy = _axis_bands(cn, 1, ny, hy, bcy, upwind)
            y0[:] = c
            _axpy_y(c, ly, dy_, uy, py, 0.5 * dt, y0)
            ml, cp, inv, z, corr = _implicit_factor(lx, dx_, ux, 0.5 * dt, px)
            _solve_x(y0, ml, cp, inv, z, corr, px, y1)
            y0[:] = y1
            _axpy_x(y1, lx, dx_, ux, px, 0.5 * dt, y0)
            ly, dy_, uy = _axis_bands(c1, 1, ny, hy, bcy, upwind)
            ml, cp, inv, z, corr = _implicit_factor(ly, dy_, uy, 0.5 * dt, py)
            _solve_y(y0, ml, cp, inv, z, corr, py, c)
        else:
            w = theta * dt
            lxn, dxn, uxn = _axis_bands(cn, 0, nx, hx, bcx, upwind)
            lyn, dyn, uyn = _axis_bands(cn, 1, ny, hy, bcy, upwind)
            lx1, dx1, ux1 = _axis_bands(c1, 0, nx, hx, bcx, upwind)
            ly1, dy1, uy1 = _axis_bands(c1, 1, ny, hy, bcy, upwind)
            mlx, cpx, invx, zx, corrx = _implicit_factor(lx1, dx1, ux1, w, px)
            mly, cpy, invy, zy, corry = _implicit_factor(ly1, dy1, uy1, w, py)
            # Y0 = U + dt F(t_n, U)
            y0[:] = c
            _apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)
            # Y1: (I - w A1(t_{n+1})) Y1 = Y0 - w A1(t_n) U
            _axpy_x(c, lxn, dxn, uxn, px, -w, y0)
            _solve_x(y0, mlx, cpx, invx, zx, corrx, px, y1)
            # Y2: (I - w A2(t_{n+1})) Y2 = Y1 - w A2(t_n) U
            _axpy_y(c, lyn, dyn, uyn, py, -w, y1)
            _solve_y(y1, mly, cpy, invy, zy, corry, py, y2)
            if scheme == 2:
                c[:] = y2
            else:
                # Hundsdorfer-Verwer correction: Z0 = Y0 + dt/2 (F(t_{n+1}, Y2) - F(t_n, U))
                y0[:] = c
                _apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)  # Y0 again
                _apply_full(y2, c1, hx, hy, bcx, bcy, upwind, 0.5 * dt, y0)
                _apply_full(c, cn, hx, hy, bcx, bcy, upwind, -0.5 * dt, y0)
                _axpy_x(y2, lx1, dx1, ux1, px, -w, y0)
                _solve_x(y0, mlx, cpx, invx, zx, corrx, px, y1)
                _axpy_y(y2, ly1, dy1, uy1, py, -w, y1)
                _solve_y(y1, mly, cpy, invy, zy, corry, py, c)
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1


# ----------------------------------------------------------------------------- driver
def _save_mask(n_steps: int, save_every: int | None) -> np.ndarray:
    mask = np.zeros(n_steps + 1, dtype=np.bool_)
    mask[0] = True
    mask[-1] = True
    if save_every is not None:
        if int(save_every) != save_every or save_every < 1:
            raise ValueError(f"save_every must be a positive integer, got {save_every}")
        mask[:: int(save_every)] = True
    return mask


def _check_c0(c0, grid) -> np.ndarray:
    c0 = np.ascontiguousarray(c0, dtype=float)
    if c0.shape != grid.shape:
        raise ValueError(f"c0 must have the grid shape {grid.shape}, got {c0.shape}")
    if not np.isfinite(c0).all():
        raise ValueError("c0 must be finite")
    return c0


def _check_peclet(worst: float, advection: str) -> None:
    if worst < -1e-12:
        raise ValueError(
            "explicit scheme is not positive: an off-diagonal coefficient is negative "
            f"(relative value {worst:.3g}); the cell Peclet number |v| h / (2 D) exceeds 1 "
            f"with advection={advection!r}; use advection='upwind', a finer grid, or an implicit scheme"
        )


def _explicit_substeps(limit: float, dt: float, substeps: bool, formula: str) -> int:
    """Sub-steps per step that respect the explicit limit ``dt <= limit``; raise if not allowed."""
    if dt <= limit * (1 + 1e-12):
        return 1
    if not substeps:
        raise ValueError(
            f"explicit step dt={dt:.6g} exceeds the stability limit dt_max={limit:.6g} "
            f"({formula}); pass substeps=True, a smaller dt, or use an implicit scheme"
        )
    return math.ceil(dt / limit * (1 - 1e-12))


def _adi_scheme(scheme: str, theta, mixed: bool):
    """The 2-D scheme that runs, and its theta: the names of the 1-D theta schemes map to ADI.

    ``"implicit_euler"`` is the Douglas(--Rachford) ADI scheme with ``theta = 1`` (order 1);
    ``"crank_nicolson"`` is Douglas with ``theta = 1/2`` (the ADI factorisation of Crank--Nicolson,
    order 2) when ``D_xy = 0``, and Hundsdorfer--Verwer with ``theta = 1/2`` (order 2 with the
    explicit mixed term) otherwise.
    """
    if scheme in ("implicit_euler", "crank_nicolson"):
        if theta is not None:
            raise ValueError(f"theta applies to scheme='douglas' or 'hundsdorfer_verwer' only, not {scheme!r}")
        if scheme == "implicit_euler":
            return "douglas", 1.0
        return ("hundsdorfer_verwer" if mixed else "douglas"), 0.5
    th = theta if theta is not None else (0.5 + math.sqrt(3) / 6 if scheme == "hundsdorfer_verwer" else 0.5)
    if not (0.0 < th <= 1.0):
        raise ValueError(f"theta must lie in (0, 1], got {th}")
    return scheme, th


def solve_pde(
    eq,
    c0,
    t_end: float,
    *,
    dt: float | None = None,
    n_steps: int | None = None,
    scheme: str = "crank_nicolson",
    t0: float = 0.0,
    save_every: int | None = None,
    substeps: bool = False,
    theta: float | None = None,
) -> KFEResult:
    """Integrate a :class:`DriftDiffusion1D` / :class:`DriftDiffusion2D` over depth ``[t0, t_end]``.

    Parameters
    ----------
    eq : DriftDiffusion1D or DriftDiffusion2D
        The equation.
    c0 : ndarray
        Initial field (capacity density) at ``t0``, shape ``eq.grid.shape``.
    t_end : float
        Final depth.
    dt, n_steps : float or int
        Step size or number of steps (exactly one).
    scheme : str
        1-D: ``"explicit"``, ``"implicit_euler"``, ``"crank_nicolson"``.
        2-D: ``"explicit"``, ``"implicit_euler"`` (Douglas ADI, ``theta = 1``, order 1),
        ``"crank_nicolson"`` (Douglas ADI, ``theta = 1/2``; Hundsdorfer--Verwer with
        ``theta = 1/2`` when ``D_xy != 0``; order 2), ``"peaceman_rachford"`` (diagonal
        ``D`` only), ``"douglas"``, ``"hundsdorfer_verwer"``.  ``res.stats["scheme_used"]``
        names the ADI scheme that ran.
    t0 : float
        Initial depth.
    save_every : int, optional
        Save every ``save_every`` steps (the first and last fields are always saved).
    substeps : bool
        Explicit scheme only: split each step into the fewest equal sub-steps
        that respect the stability limit instead of raising.
    theta : float, optional
        Implicitness of the Douglas / Hundsdorfer--Verwer schemes (default
        ``1/2`` for Douglas, ``1/2 + sqrt(3)/6`` for Hundsdorfer--Verwer).

    Returns
    -------
    KFEResult

    Raises
    ------
    ValueError
        Bad grid/field/coefficients, ``dt <= 0``, unknown scheme, or an
        explicit step past the stability limit (naming ``dt`` and the limit).
    """
    tic = time.perf_counter()
    grid = eq.grid
    c0 = _check_c0(c0, grid)
    n, step = depth_steps(float(t0), float(t_end), dt, n_steps)
    is2d = isinstance(eq, DriftDiffusion2D)
    valid = SCHEMES_2D if is2d else tuple(SCHEMES_1D)
    if scheme not in valid:
        raise ValueError(f"scheme must be one of {valid} for {type(eq).__name__}, got {scheme!r}")
    upwind = eq.advection == "upwind"
    m = 1
    limit = np.nan
    if scheme == "explicit":
        ts = t0 + step * np.arange(n + 1)
        cf = eq.coefficients(ts)
        if is2d:
            limit, worst = _explicit_limit_2d(
                cf, grid.gx.n, grid.gy.n, grid.gx.h, grid.gy.h, grid.gx.bc, grid.gy.bc, upwind
            )
        else:
            limit, worst = _explicit_limit_1d(cf, grid.n, grid.h, grid.bc, upwind)
        _check_peclet(worst, eq.advection)
        m = _explicit_substeps(limit, step, substeps, "1 / max diagonal of the operator")
    n_fine, h_t = n * m, step / m
    mask_coarse = _save_mask(n, save_every)
    mask = np.zeros(n_fine + 1, dtype=np.bool_)
    mask[::m] = mask_coarse
    ys = np.empty((int(mask.sum()),) + grid.shape)
    if is2d:
        cf = eq.coefficients(t0 + 0.5 * h_t * np.arange(2 * n_fine + 1))
        used, th = _adi_scheme(scheme, theta, mixed=bool(np.any(cf[:, 4] != 0)))
        code = {"explicit": 0, "peaceman_rachford": 1, "douglas": 2, "hundsdorfer_verwer": 3}[used]
        if code == 1 and np.any(cf[:, 4] != 0):
            raise ValueError("peaceman_rachford needs a diagonal D (Dxy = 0); use douglas or hundsdorfer_verwer")
        _run_2d(c0, cf, h_t, grid.gx.h, grid.gy.h, grid.gx.bc, grid.gy.bc, upwind, code, th, mask, ys)
    else:
        if theta is not None:
            raise ValueError("theta applies to the 2-D ADI schemes only; pick scheme= for the 1-D theta scheme")
        th = SCHEMES_1D[scheme]
        cf = eq.coefficients(t0 + h_t * np.arange(n_fine + 1))
        _run_1d(c0, cf, h_t, grid.h, grid.bc, upwind, th, mask, ys)
    ts = (t0 + h_t * np.arange(n_fine + 1))[mask]
    res = KFEResult(ts=ts, ys=ys, grid=grid)
    res.stats = dict(
        scheme=scheme,
        scheme_used=used if is2d else scheme,
        theta=th,
        n_steps=n,
        dt=step,
        substeps=m,
        dt_limit=limit,
        wall_time=time.perf_counter() - tic,
        mass=res.mass(),
    )
    return res
