"""Lattice master equation over depth: explicit Euler, implicit Euler, Crank--Nicolson (and the table of all schemes).

:func:`run_master` runs the steps; :func:`.driver.solve_kfe` is the entry point that checks
the keywords and builds the result.

Explicit Euler (``"euler"``, Numba) has the limit ``dt <= 1 / (lambda (1 - q_0) + kappa)``,
which also makes it positive; implicit Euler and Crank--Nicolson use exact circulant solves
by FFT on periodic lattices and a sparse LU factorisation otherwise.  The exponential
integrators ``"exponential_midpoint"`` and ``"exponential_cf4"`` are in :mod:`.exponential`.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._linalg import Floats, Mask
from .equations import MasterEquation
from .exponential import SCHEMES_EXPONENTIAL
from .operators import apply_master, generator_matrix

__all__ = ["SCHEMES_MASTER", "run_master"]

#: Depth schemes of the master equation and their implicitness theta (``"theta"``: given by ``theta=``;
#: the exponential integrators of :mod:`.exponential` have none).
SCHEMES_MASTER: dict[str, float | None] = {
    "euler": 0.0,
    "implicit_euler": 1.0,
    "crank_nicolson": 0.5,
    "theta": None,
    **dict.fromkeys(SCHEMES_EXPONENTIAL),
}


@nb.njit(cache=True)
def _run_master_explicit(c0, offs, q, lam, kap, bcx, bcy, dt, save_mask, ys):
    c = c0.copy()
    new = np.empty_like(c)
    isave = 0
    if save_mask[0]:
        ys[0] = c
        isave = 1
    for k in range(lam.shape[0] - 1):
        new[:] = c
        apply_master(c, offs, q[k], lam[k], kap[k], bcx, bcy, dt, new)
        c[:] = new
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1


def run_master(eq: MasterEquation, c0: Floats, ts: Floats, dt: float, theta: float, save_mask: Mask) -> Floats:
    """Theta steps of size ``dt`` over the depths ``ts`` (``theta = 0``: explicit Euler, Numba).

    Parameters
    ----------
    eq : MasterEquation
        The equation.
    c0 : ndarray
        Checked initial field, shape ``eq.grid.shape``.
    ts : ndarray
        The depths ``t0 + k dt``, ``k = 0..n``, where the coefficients are taken.
    dt : float
        Step size.
    theta : float
        Implicitness: ``0`` (explicit) or in ``[1/2, 1]``.
    save_mask : ndarray of bool, shape ``ts.shape``
        The depths to save.

    Returns
    -------
    ndarray, shape ``(save_mask.sum(), *eq.grid.shape)``
        The fields at the saved depths.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(4), offsets=[-1, 1], weights=[0.5, 0.5])
    >>> ys = run_master(eq, np.eye(4)[0], np.linspace(0, 1, 5), 0.25, 0.5, np.array([0, 0, 0, 0, 1], bool))
    >>> ys.shape, round(float(ys.sum()), 12)
    ((1, 4), 1.0)
    """
    q, lam, kap = eq.coefficients(ts)
    shape2 = eq.shape2
    ys = np.empty((int(save_mask.sum()),) + shape2)
    c = c0.reshape(shape2)
    if theta == 0.0:
        bcx, bcy = eq.boundary_codes
        _run_master_explicit(c, eq.jumps, q, lam, kap, bcx, bcy, dt, save_mask, ys)
    else:
        _run_master_implicit(eq, c, q, lam, kap, dt, theta, save_mask, ys)
    return ys.reshape((ys.shape[0],) + eq.grid.shape)


def _same(q, lam, kap, a, b):
    return lam[a] == lam[b] and kap[a] == kap[b] and np.array_equal(q[a], q[b])


def _run_master_implicit(eq, c, q, lam, kap, dt, theta, mask, ys):
    # (I - theta dt G(t_{n+1})) c_{n+1} = (I + (1 - theta) dt G(t_n)) c_n
    isave = 0
    if mask[0]:
        ys[0] = c
        isave = 1
    if eq.periodic:
        ch = np.fft.fft2(c)
        g_prev = eq.symbol(q[0], lam[0], kap[0])
        for k in range(len(lam) - 1):
            g_next = g_prev if _same(q, lam, kap, k, k + 1) else eq.symbol(q[k + 1], lam[k + 1], kap[k + 1])
            ch = ch * (1.0 + (1.0 - theta) * dt * g_prev) / (1.0 - theta * dt * g_next)
            g_prev = g_next
            if mask[k + 1]:
                ys[isave] = np.fft.ifft2(ch).real
                isave += 1
        return
    shape = c.shape
    x = c.ravel().copy()
    N = x.size
    eye = sp.identity(N, format="csc")
    G_prev = generator_matrix(eq, q[0], lam[0], kap[0])
    lu = None
    for k in range(len(lam) - 1):
        rhs = x + (1.0 - theta) * dt * (G_prev @ x) if theta < 1 else x
        if lu is None or not _same(q, lam, kap, k, k + 1):
            G_next = generator_matrix(eq, q[k + 1], lam[k + 1], kap[k + 1])
            lu = spla.splu((eye - theta * dt * G_next).tocsc())
        else:
            G_next = G_prev
        x = lu.solve(rhs)
        G_prev = G_next
        if mask[k + 1]:
            ys[isave] = x.reshape(shape)
            isave += 1
