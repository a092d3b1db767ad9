"""Lattice master equation over depth: explicit Euler, implicit Euler and Crank--Nicolson.

Explicit Euler (``"euler"``, Numba) has the limit ``dt <= 1 / (lambda (1 - q_0) + kappa)``,
which also makes it positive; implicit Euler and Crank--Nicolson use exact circulant solves
by FFT on periodic lattices and a sparse LU factorisation otherwise.
"""

from __future__ import annotations

import time
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike

from ..._checks import check_choice
from ._stepping import check_field, depth_steps, explicit_substeps, save_mask, theta_of
from .equations import MasterEquation
from .operators import apply_master, generator_matrix
from .result import KFEResult

__all__ = ["SCHEMES_MASTER", "solve_master"]

#: Depth schemes of the master equation and their implicitness theta (``"theta"``: given by ``theta=``).
SCHEMES_MASTER = {"euler": 0.0, "implicit_euler": 1.0, "crank_nicolson": 0.5, "theta": None}


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


def solve_master(
    eq: MasterEquation,
    c0: ArrayLike,
    t_end: float,
    *,
    dt: float | None = None,
    n_steps: int | None = None,
    scheme: str = "crank_nicolson",
    t0: float = 0.0,
    saveat: ArrayLike | None = None,
    substeps: bool = False,
    theta: float | None = None,
) -> KFEResult:
    """Integrate a :class:`MasterEquation` over depth ``[t0, t_end]``.

    Parameters
    ----------
    eq : MasterEquation
        The equation.
    c0 : ndarray
        Initial capacity field, shape ``eq.grid.shape``.
    t_end : float
        Final depth.
    dt, n_steps : float or int
        Step size or number of steps (exactly one).
    scheme : {"euler", "implicit_euler", "crank_nicolson", "theta"}
        Depth scheme: the theta method with coefficients at ``t_n`` / ``t_{n+1}``, ``theta = 0``
        (``"euler"``, explicit), ``1``, ``1/2``, or ``theta=`` (``"theta"``).
    t0 : float
        Initial depth.
    saveat : array_like, optional
        Output depths, points of the step grid ``t0 + k dt``; default ``(t0, t_end)``.
    substeps : bool
        ``"euler"`` only: sub-step to respect the stability limit instead of raising.
    theta : float, optional
        Implicitness in ``[1/2, 1]`` for ``scheme="theta"`` (unconditionally stable there).

    Returns
    -------
    KFEResult

    Raises
    ------
    ValueError
        Bad field/coefficients, ``dt <= 0``, unknown scheme, explicit step past the limit.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(8, "reflecting"), offsets=[-1, 1], weights=[0.5, 0.5])
    >>> res = solve_master(eq, np.eye(8)[0], 1.0, n_steps=20, scheme="implicit_euler")
    >>> res.stats["solver"], round(float(res.mass()[-1]), 12)
    ('sparse_lu', 1.0)
    """
    tic = time.perf_counter()
    if not isinstance(eq, MasterEquation):
        raise TypeError(f"eq must be a MasterEquation, got {type(eq).__name__}")
    check_choice(scheme, "scheme", tuple(SCHEMES_MASTER))
    theta_used = theta_of(scheme, theta, SCHEMES_MASTER)
    grid: Any = eq.grid
    c0 = check_field(c0, grid)
    n, step = depth_steps(t0, t_end, dt, n_steps)
    t0 = float(t0)
    mask_coarse = save_mask(t0, step, n, saveat)
    m = 1
    limit = np.nan
    if scheme == "euler":
        q, lam, kap = eq.coefficients(t0 + step * np.arange(n + 1))
        limit = eq.explicit_limit(q, lam, kap)
        m = explicit_substeps(limit, step, substeps, "1 / (lambda (1 - q_0) + kappa)")
    nf, h = n * m, step / m
    mask = np.zeros(nf + 1, dtype=np.bool_)
    mask[::m] = mask_coarse
    ts_all = t0 + h * np.arange(nf + 1)
    q, lam, kap = eq.coefficients(ts_all)
    shape2 = eq.shape2
    ys = np.empty((int(mask.sum()),) + shape2)
    bcx, bcy = eq.boundary_codes
    c = c0.reshape(shape2)
    if scheme == "euler":
        _run_master_explicit(c, eq.jumps, q, lam, kap, bcx, bcy, h, mask, ys)
    else:
        _run_master_implicit(eq, c, q, lam, kap, h, theta_used, mask, ys)
    ys = ys.reshape((ys.shape[0],) + grid.shape)
    res = KFEResult(ts=np.asarray(ts_all[mask], dtype=np.float64), ys=ys, grid=grid)
    res.stats = dict(
        scheme=scheme,
        theta=theta_used,
        n_steps=n,
        dt=step,
        substeps=m,
        dt_limit=limit,
        wall_time=time.perf_counter() - tic,
        mass=res.mass(),
        solver="fft" if eq.periodic else "sparse_lu",
    )
    return res


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
