"""2-D drift--diffusion--sink PDE over depth: explicit Euler and ADI schemes built from line solves.

Schemes: ``"euler"`` (explicit), Peaceman--Rachford ADI (diagonal ``D``), and the Douglas and
Hundsdorfer--Verwer ADI schemes (full tensor, mixed derivative explicit).  The names of the 1-D
theta schemes map to ADI (:func:`adi_scheme`).
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from ..._checks import check_float
from ._linalg import Floats, Mask, implicit_factor, tri_min_offdiagonal, tri_solve
from .operators import apply_full, axis_bands, axpy_x, axpy_y

__all__ = ["SCHEMES_2D", "ADI_CODES", "adi_scheme", "explicit_limit_2d", "run_2d"]

#: Depth schemes of the 2-D PDE.
SCHEMES_2D = ("euler", "implicit_euler", "crank_nicolson", "peaceman_rachford", "douglas", "hundsdorfer_verwer")
#: Kernel codes of the schemes that run.
ADI_CODES = {"euler": 0, "peaceman_rachford": 1, "douglas": 2, "hundsdorfer_verwer": 3}


@nb.njit(cache=True)
def solve_x(
    rhs: Floats, ml: Floats, cp: Floats, inv: Floats, z: Floats, corr: Floats, periodic: bool, out: Floats
) -> None:
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
def solve_y(
    rhs: Floats, ml: Floats, cp: Floats, inv: Floats, z: Floats, corr: Floats, periodic: bool, out: Floats
) -> None:
    nx, ny = rhs.shape
    for i in range(nx):
        tri_solve(ml, cp, inv, z, corr, periodic, rhs[i], out[i])


@nb.njit(cache=True)
def explicit_limit_2d(
    coefs: Floats, nx: int, ny: int, hx: float, hy: float, bcx: int, bcy: int, upwind: bool
) -> tuple[float, float]:
    worst = 0.0
    maxd = 0.0
    for k in range(coefs.shape[0]):
        lx, dx_, ux = axis_bands(coefs[k], 0, nx, hx, bcx, upwind)
        ly, dy_, uy = axis_bands(coefs[k], 1, ny, hy, bcy, upwind)
        dmax = 0.0
        for i in range(nx):
            dmax = max(dmax, -dx_[i])
        dmax2 = 0.0
        for j in range(ny):
            dmax2 = max(dmax2, -dy_[j])
        tot = dmax + dmax2 + abs(coefs[k, 4]) / (hx * hy)
        maxd = max(maxd, tot)
        sc = max(tot, 1e-300)
        worst = tri_min_offdiagonal(lx, ux, bcx == 0, sc, worst)
        worst = tri_min_offdiagonal(ly, uy, bcy == 0, sc, worst)
    lim = np.inf if maxd == 0.0 else 1.0 / maxd
    return lim, worst


@nb.njit(cache=True)
def run_2d(
    c0: Floats,
    coefs: Floats,
    dt: float,
    hx: float,
    hy: float,
    bcx: int,
    bcy: int,
    upwind: bool,
    scheme: int,
    theta: float,
    save_mask: Mask,
    ys: Floats,
) -> None:
    # coefs at half steps: row 2k = t_k, row 2k+1 = t_k + dt/2.
    # scheme: 0 euler (explicit), 1 Peaceman-Rachford, 2 Douglas, 3 Hundsdorfer-Verwer
    nx, ny = c0.shape
    px = bcx == 0
    py = bcy == 0
    c = c0.copy()
    isave = 0
    if save_mask[0]:
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
            apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)
            c[:] = y0
        elif scheme == 1:
            lx, dx_, ux = axis_bands(ch, 0, nx, hx, bcx, upwind)
            ly, dy_, uy = axis_bands(cn, 1, ny, hy, bcy, upwind)
            y0[:] = c
            axpy_y(c, ly, dy_, uy, py, 0.5 * dt, y0)
            ml, cp, inv, z, corr = implicit_factor(lx, dx_, ux, 0.5 * dt, px)
            solve_x(y0, ml, cp, inv, z, corr, px, y1)
            y0[:] = y1
            axpy_x(y1, lx, dx_, ux, px, 0.5 * dt, y0)
            ly, dy_, uy = axis_bands(c1, 1, ny, hy, bcy, upwind)
            ml, cp, inv, z, corr = implicit_factor(ly, dy_, uy, 0.5 * dt, py)
            solve_y(y0, ml, cp, inv, z, corr, py, c)
        else:
            w = theta * dt
            lxn, dxn, uxn = axis_bands(cn, 0, nx, hx, bcx, upwind)
            lyn, dyn, uyn = axis_bands(cn, 1, ny, hy, bcy, upwind)
            lx1, dx1, ux1 = axis_bands(c1, 0, nx, hx, bcx, upwind)
            ly1, dy1, uy1 = axis_bands(c1, 1, ny, hy, bcy, upwind)
            mlx, cpx, invx, zx, corrx = implicit_factor(lx1, dx1, ux1, w, px)
            mly, cpy, invy, zy, corry = implicit_factor(ly1, dy1, uy1, w, py)
            # Y0 = U + dt F(t_n, U)
            y0[:] = c
            apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)
            # Y1: (I - w A1(t_{n+1})) Y1 = Y0 - w A1(t_n) U
            axpy_x(c, lxn, dxn, uxn, px, -w, y0)
            solve_x(y0, mlx, cpx, invx, zx, corrx, px, y1)
            # Y2: (I - w A2(t_{n+1})) Y2 = Y1 - w A2(t_n) U
            axpy_y(c, lyn, dyn, uyn, py, -w, y1)
            solve_y(y1, mly, cpy, invy, zy, corry, py, y2)
            if scheme == 2:
                c[:] = y2
            else:
                # Hundsdorfer-Verwer correction: Z0 = Y0 + dt/2 (F(t_{n+1}, Y2) - F(t_n, U))
                y0[:] = c
                apply_full(c, cn, hx, hy, bcx, bcy, upwind, dt, y0)  # Y0 again
                apply_full(y2, c1, hx, hy, bcx, bcy, upwind, 0.5 * dt, y0)
                apply_full(c, cn, hx, hy, bcx, bcy, upwind, -0.5 * dt, y0)
                axpy_x(y2, lx1, dx1, ux1, px, -w, y0)
                solve_x(y0, mlx, cpx, invx, zx, corrx, px, y1)
                axpy_y(y2, ly1, dy1, uy1, py, -w, y1)
                solve_y(y1, mly, cpy, invy, zy, corry, py, c)
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1


def adi_scheme(scheme: str, theta: Any, mixed: bool) -> tuple[str, float]:
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
    if theta is None:
        return scheme, (0.5 + math.sqrt(3) / 6 if scheme == "hundsdorfer_verwer" else 0.5)
    return scheme, check_float(theta, "theta", minimum=0.0, maximum=1.0, strict_min=True)
