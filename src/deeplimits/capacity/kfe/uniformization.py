"""Uniformization: the action of the exponential of a master-equation generator (Numba, matrix-free).

A master-equation generator ``G`` with jump rates ``r_k >= 0`` and no sink is a rate matrix: its
off-diagonal entries are ``>= 0`` and its columns sum to ``<= 0`` (``< 0`` where jumps leave an
absorbing lattice).  With ``Lambda = sum of the rates of the moving jumps >= max |G_ii|``,
``P = I + G / Lambda`` is non-negative and substochastic (``||P||_1 <= 1``), and

    exp(tau G) v = sum_{k >= 0} e^{-Lambda tau} (Lambda tau)^k / k!  P^k v

(Jensen 1953; Grassmann 1977).  Every term is non-negative for ``v >= 0``, so the result is
positive, and truncating the Poisson sum after ``K`` terms removes at most the Poisson tail
``sum_{k > K} e^{-x} x^k / k!`` (``x = Lambda tau``) times ``||v||_1`` -- an a-priori error bound
that sets ``K``.  A uniform sink ``kappa`` commutes with ``G`` and is the scalar factor
``e^{-kappa tau}``.  ``P v`` is matrix-free: the kept fraction ``diag(P) v`` and one scatter
pass per jump (each jump that lands moves ``r_k v / Lambda`` to its target), with the
boundary conventions of :func:`deeplimits.capacity.lattice.jump_target` (as
:func:`.operators.apply_master`).
The Poisson weights are computed from their logarithms, so a large ``x`` needs no sub-steps.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import NDArray

from ..lattice import INSIDE, LOST, jump_target
from ._linalg import Floats, Mask

__all__ = ["poisson_terms", "expm_uniformized", "run_actions"]


@nb.njit(cache=True)
def _log_weight(x: float, k: int) -> float:
    # log of the Poisson probability e^{-x} x^k / k!
    return -x + k * math.log(x) - math.lgamma(k + 1.0)


@nb.njit(cache=True)
def _tail_small(x: float, k: int, tol: float) -> bool:
    # True when the Poisson tail beyond k, sum_{j > k} w_j <= w_{k+1} / (1 - x / (k + 2)), is <= tol
    if k + 2 <= x:
        return False
    return math.exp(_log_weight(x, k + 1)) <= tol * (1.0 - x / (k + 2.0))


@nb.njit(cache=True)
def poisson_terms(x: float, tol: float) -> int:
    """Number of terms ``K + 1`` of the Poisson sum whose truncated tail is ``<= tol``.

    Parameters
    ----------
    x : float
        ``Lambda tau >= 0``.
    tol : float
        Bound on the Poisson tail ``sum_{k > K} e^{-x} x^k / k!``, in ``(0, 1)``.

    Returns
    -------
    int
        ``K + 1`` (``1`` when ``x = 0``): the number of matrix--vector products is ``K``.

    Examples
    --------
    >>> poisson_terms(0.0, 1e-6), poisson_terms(1.0, 1e-3), poisson_terms(1.0, 1e-10)
    (1, 6, 13)
    """
    if x == 0.0:
        return 1
    k = 0
    while not _tail_small(x, k, tol):
        k += 1
    return k + 1


@nb.njit(cache=True)
def _targets(offs, n, bc, axis):
    # landing index and outcome of every jump from every site of one axis
    m = offs.shape[0]
    t = np.empty((m, n), dtype=np.int64)
    o = np.empty((m, n), dtype=np.int64)
    for a in range(m):
        for i in range(n):
            t[a, i], o[a, i] = jump_target(i, offs[a, axis], n, bc)
    return t, o


@nb.njit(cache=True)
def _moves(offs, rates, a):
    # True when jump a has a non-zero offset and rate
    return (offs[a, 0] != 0 or offs[a, 1] != 0) and rates[a] != 0.0


@nb.njit(cache=True)
def _keep(offs, rates, inv, sx, sy):
    # diagonal of P = I + G / Lambda: 1 - (rate of the jumps that leave a site) / Lambda, clipped at 0
    nx, ny = sx.shape[1], sy.shape[1]
    keep = np.ones((nx, ny))
    for a in range(offs.shape[0]):
        if not _moves(offs, rates, a):
            continue
        r = rates[a] * inv
        for i in range(nx):
            for j in range(ny):
                if sx[a, i] == LOST or sy[a, j] == LOST or (sx[a, i] == INSIDE and sy[a, j] == INSIDE):
                    keep[i, j] -= r
    for i in range(nx):
        for j in range(ny):
            keep[i, j] = max(keep[i, j], 0.0)  # round-off below 0 where every jump leaves
    return keep


@nb.njit(cache=True)
def _scatter(c, offs, rates, inv, tx, sx, ty, sy, out):
    # out += the off-diagonal part of P applied to c: each jump that lands adds r c(source) at its target
    nx, ny = c.shape
    for a in range(offs.shape[0]):
        if not _moves(offs, rates, a):
            continue
        r = rates[a] * inv
        for i in range(nx):
            if sx[a, i] != INSIDE:
                continue
            ti = tx[a, i]
            for j in range(ny):
                if sy[a, j] == INSIDE:
                    out[ti, ty[a, j]] += r * c[i, j]


@nb.njit(cache=True)
def expm_uniformized(
    v: Floats,
    offs: NDArray[np.int64],
    rates: Floats,
    kappa: float,
    tau: float,
    tol: float,
    bcx: int,
    bcy: int,
    out: Floats,
    w1: Floats,
    w2: Floats,
) -> int:
    """``out = exp(tau (G - kappa I)) v`` by uniformization, ``G`` the jump generator with ``rates``.

    Parameters
    ----------
    v : ndarray (nx, ny)
        The field (not modified; may not alias ``out``, ``w1``, ``w2``).
    offs : ndarray of int64 (m, 2)
        Jump offsets.
    rates : ndarray (m,)
        Jump rates ``lambda q_k >= 0`` (a jump of offset zero is ignored).
    kappa : float
        Uniform sink (any sign): the scalar factor ``exp(-kappa tau)``.
    tau : float
        Depth ``>= 0``.
    tol : float
        Bound on the truncated Poisson tail: ``||error||_1 <= tol e^{-kappa tau} ||v||_1``.
    bcx, bcy : int
        Boundary codes.
    out, w1, w2 : ndarray (nx, ny)
        Output and two work arrays.

    Returns
    -------
    int
        Number of products with ``P`` (lattice passes).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((5, 1)); v[2, 0] = 1.0
    >>> offs = np.array([[-1, 0], [1, 0]]); out = np.empty_like(v)
    >>> k = expm_uniformized(v, offs, np.array([0.5, 0.5]), 0.0, 1.0, 1e-12, 0, 0, out, v.copy(), v.copy())
    >>> round(float(out.sum()), 12), bool(out.min() >= 0)
    (1.0, True)
    """
    nx, ny = v.shape
    lam = 0.0
    for m in range(rates.shape[0]):
        if offs[m, 0] != 0 or offs[m, 1] != 0:
            lam += rates[m]
    scale = math.exp(-kappa * tau)
    x = lam * tau
    if x == 0.0:
        out[:] = scale * v
        return 0
    n_terms = poisson_terms(x, tol)
    logx = math.log(x)
    inv = 1.0 / lam
    tx, sx = _targets(offs, nx, bcx, 0)
    ty, sy = _targets(offs, ny, bcy, 1)
    keep = _keep(offs, rates, inv, sx, sy)
    w1[:] = v
    out[:] = 0.0
    for k in range(n_terms):
        wk = scale * math.exp(-x + k * logx - math.lgamma(k + 1.0))
        last = k + 1 == n_terms
        for i in range(nx):  # out += wk P^k v; w2 = diag(P) P^k v, to which the jumps are added next
            for j in range(ny):
                out[i, j] += wk * w1[i, j]
                if not last:
                    w2[i, j] = keep[i, j] * w1[i, j]
        if not last:
            _scatter(w1, offs, rates, inv, tx, sx, ty, sy, w2)
            w1, w2 = w2, w1
    return n_terms - 1


@nb.njit(cache=True)
def run_actions(
    c0: Floats,
    offs: NDArray[np.int64],
    bcx: int,
    bcy: int,
    actions: tuple[Floats, Floats, Floats, Floats],
    save_first: bool,
    save_after: Mask,
    ys: Floats,
) -> int:
    """Apply ``exp(tau_a (G_a - kappa_a I))`` for ``a = 0, 1, ...`` in turn, saving where asked.

    Parameters
    ----------
    c0 : ndarray (nx, ny)
        Initial field.
    offs, bcx, bcy
        As in :func:`expm_uniformized`.
    actions : tuple of ndarray
        ``(rates, kappa, tau, tols)`` of the exponentials: jump rates ``(n_actions, m)``, and the
        sink, depth and Poisson-tail bound of each, ``(n_actions,)``.
    save_first : bool
        Save ``c0`` first.
    save_after : ndarray of bool (n_actions,)
        Save the field after these exponentials.
    ys : ndarray (n_save, nx, ny)
        Output.

    Returns
    -------
    int
        Total number of products with the uniformized matrices.

    Examples
    --------
    >>> import numpy as np
    >>> c0 = np.full((4, 1), 0.25); ys = np.empty((1, 4, 1))
    >>> r = np.array([[1.0, 1.0]]); one = np.ones(1)
    >>> n = run_actions(c0, np.array([[-1, 0], [1, 0]]), 0, 0, (r, 0 * one, one, 1e-9 * one), False, one > 0, ys)
    >>> bool(np.allclose(ys[0], 0.25))
    True
    """
    c = c0.copy()
    out = np.empty_like(c)
    w1 = np.empty_like(c)
    w2 = np.empty_like(c)
    isave = 0
    if save_first:
        ys[0] = c
        isave = 1
    rates, kappa, tau, tols = actions
    total = 0
    for a in range(tau.shape[0]):
        total += expm_uniformized(c, offs, rates[a], kappa[a], tau[a], tols[a], bcx, bcy, out, w1, w2)
        c, out = out, c
        if save_after[a]:
            ys[isave] = c
            isave += 1
    return total
