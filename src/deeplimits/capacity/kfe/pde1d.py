"""1-D drift--diffusion--sink PDE over depth: the theta scheme on the finite-volume operator.

``(I - theta dt A(t_{n+1})) c^{n+1} = (I + (1 - theta) dt A(t_n)) c^n`` with ``theta = 0``
(``"euler"``, explicit), ``1`` (``"implicit_euler"``) or ``1/2`` (``"crank_nicolson"``), each
a tridiagonal (cyclic when periodic) Thomas solve; the operator is :func:`.operators.bands_1d`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._linalg import Floats, Mask, implicit_factor, tri_matvec, tri_min_offdiagonal, tri_solve
from .operators import bands_1d

__all__ = ["SCHEMES_1D", "explicit_limit_1d", "run_1d"]

#: Depth schemes of the 1-D PDE and their implicitness theta (``"theta"``: given by ``theta=``).
SCHEMES_1D = {"euler": 0.0, "implicit_euler": 1.0, "crank_nicolson": 0.5, "theta": None}


@nb.njit(cache=True)
def explicit_limit_1d(coefs: Floats, n: int, h: float, bc: int, upwind: bool) -> tuple[float, float]:
    """(dt limit ``1 / max(-diag)``, most negative off-diagonal relative to the diagonal) over all depths."""
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
        worst = tri_min_offdiagonal(lower, upper, bc == 0, scale, worst)
    lim = np.inf if maxd == 0.0 else 1.0 / maxd
    return lim, worst


@nb.njit(cache=True)
def run_1d(
    c0: Floats, coefs: Floats, dt: float, h: float, bc: int, upwind: bool, theta: float, save_mask: Mask, ys: Floats
) -> None:
    """Theta steps with coefficients ``coefs[k] = (v, D, kappa)`` at ``t_k``; saves where ``save_mask``."""
    n = c0.shape[0]
    periodic = bc == 0
    lower = np.empty(n)
    diag = np.empty(n)
    upper = np.empty(n)
    c = c0.copy()
    rhs = np.empty(n)
    tmp = np.empty(n)
    isave = 0
    if save_mask[0]:
        ys[0] = c
        isave = 1
    # factors of I - theta dt A(t_{k+1}), kept while the coefficients do not change (placeholders
    # until the first step factors)
    ml = cp = inv = z = np.empty(n)
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
                ml, cp, inv, z, corr = implicit_factor(lower, diag, upper, theta * dt, periodic)
                have_factor = True
            tri_solve(ml, cp, inv, z, corr, periodic, rhs, c)
        else:
            for i in range(n):
                c[i] = rhs[i]
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1
