"""Numba tridiagonal linear algebra for the finite-difference KFE solvers.

A tridiagonal matrix of order ``n`` is stored as three bands of length ``n``:
``A[i, i-1] = lower[i]``, ``A[i, i] = diag[i]``, ``A[i, i+1] = upper[i]``.  A
*periodic* (cyclic) matrix adds the corners ``A[0, n-1] = lower[0]`` and
``A[n-1, 0] = upper[n-1]``; otherwise ``lower[0]`` and ``upper[n-1]`` are ignored.

Solves factor once (:func:`tri_factor`; :func:`implicit_factor` for the ``I - theta dt A``
of a theta step) and then solve any number of right-hand sides (:func:`tri_solve`): the
Thomas algorithm, and for cyclic matrices the Sherman--Morrison correction of the Thomas
solve (Press et al., *Numerical Recipes*, sec. 2.7).  :func:`tri_min_offdiagonal` measures
how far an explicit step is from positivity.  The Thomas algorithm needs no pivoting for the
diagonally dominant matrices ``I - theta dt A`` of the KFE schemes; when the
matrix is an M-matrix (non-positive off-diagonals) every step of the
non-periodic solve adds non-negative terms, so a non-negative right-hand side
gives an exactly non-negative solution.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Floats",
    "Mask",
    "tri_matvec",
    "tri_factor",
    "implicit_factor",
    "tri_solve",
    "tri_min_offdiagonal",
    "tri_solve_dense_check",
]

#: Float arrays and masks of the Numba kernels (fields, bands, coefficient tables).
Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]


@nb.njit(cache=True)
def tri_matvec(lower: Floats, diag: Floats, upper: Floats, periodic: bool, x: Floats, out: Floats) -> None:
    """``out = A x`` for the (cyclic when ``periodic``) tridiagonal ``A``.

    Parameters
    ----------
    lower, diag, upper : ndarray (n,)
        Bands (see the module docstring for the corners of a cyclic matrix).
    periodic : bool
        Cyclic matrix.
    x : ndarray (n,)
        Vector, ``n >= 2``.
    out : ndarray (n,)
        Result, overwritten (must not alias ``x``).
    """
    n = x.shape[0]
    for i in range(1, n - 1):
        out[i] = lower[i] * x[i - 1] + diag[i] * x[i] + upper[i] * x[i + 1]
    out[0] = diag[0] * x[0] + upper[0] * x[1]
    out[n - 1] = lower[n - 1] * x[n - 2] + diag[n - 1] * x[n - 1]
    if periodic:
        out[0] += lower[0] * x[n - 1]
        out[n - 1] += upper[n - 1] * x[0]


@nb.njit(cache=True)
def _thomas_factor(lower, diag, upper, cp, inv):
    n = diag.shape[0]
    inv[0] = 1.0 / diag[0]
    cp[0] = upper[0] * inv[0]
    for i in range(1, n):
        denom = diag[i] - lower[i] * cp[i - 1]
        inv[i] = 1.0 / denom
        cp[i] = upper[i] * inv[i] if i < n - 1 else 0.0


@nb.njit(cache=True)
def _thomas_solve(lower, cp, inv, d, x):
    n = d.shape[0]
    x[0] = d[0] * inv[0]
    for i in range(1, n):
        x[i] = (d[i] - lower[i] * x[i - 1]) * inv[i]
    for i in range(n - 2, -1, -1):
        x[i] -= cp[i] * x[i + 1]


@nb.njit(cache=True)
def tri_factor(lower: Floats, diag: Floats, upper: Floats, periodic: bool) -> tuple[Floats, Floats, Floats, Floats]:
    """Factor a (cyclic) tridiagonal matrix for repeated solves.

    Parameters
    ----------
    lower, diag, upper : ndarray (n,)
        Bands of the matrix (diagonally dominant: no pivoting).
    periodic : bool
        Cyclic matrix (corners ``lower[0]``, ``upper[n-1]``).

    Returns
    -------
    cp, inv : ndarray
        Thomas coefficients (modified upper band and reciprocal pivots).
    z : ndarray
        Sherman--Morrison vector ``A'^{-1} u`` (zeros when not periodic).
    corr : ndarray, shape (2,)
        ``[alpha / gamma, 1 / (1 + z_0 + alpha z_{n-1} / gamma)]``.
    """
    n = diag.shape[0]
    cp = np.empty(n)
    inv = np.empty(n)
    z = np.zeros(n)
    corr = np.zeros(2)
    if not periodic:
        _thomas_factor(lower, diag, upper, cp, inv)
        return cp, inv, z, corr
    alpha = lower[0]  # A[0, n-1]
    beta = upper[n - 1]  # A[n-1, 0]
    gamma = -diag[0]
    d2 = diag.copy()
    d2[0] -= gamma
    d2[n - 1] -= alpha * beta / gamma
    _thomas_factor(lower, d2, upper, cp, inv)
    u = np.zeros(n)
    u[0] = gamma
    u[n - 1] = beta
    _thomas_solve(lower, cp, inv, u, z)
    corr[0] = alpha / gamma
    corr[1] = 1.0 / (1.0 + z[0] + corr[0] * z[n - 1])
    return cp, inv, z, corr


@nb.njit(cache=True)
def implicit_factor(
    lower: Floats, diag: Floats, upper: Floats, w: float, periodic: bool
) -> tuple[Floats, Floats, Floats, Floats, Floats]:
    """Factor ``I - w A`` (the implicit part of a theta step, ``w = theta dt``) for :func:`tri_solve`.

    Parameters
    ----------
    lower, diag, upper : ndarray (n,)
        Bands of ``A``.
    w : float
        Weight of ``A``.
    periodic : bool
        Cyclic matrix.

    Returns
    -------
    ml : ndarray (n,)
        Lower band of ``I - w A`` (the ``lower`` of :func:`tri_solve`).
    cp, inv, z, corr : ndarray
        Its factors from :func:`tri_factor`.
    """
    ml = -w * lower
    md = 1.0 - w * diag
    mu = -w * upper
    cp, inv, z, corr = tri_factor(ml, md, mu, periodic)
    return ml, cp, inv, z, corr


@nb.njit(cache=True)
def tri_solve(
    lower: Floats, cp: Floats, inv: Floats, z: Floats, corr: Floats, periodic: bool, d: Floats, x: Floats
) -> None:
    """Solve ``A x = d`` with the factors of :func:`tri_factor`.

    Parameters
    ----------
    lower : ndarray (n,)
        Lower band of ``A``.
    cp, inv, z, corr : ndarray
        Factors from :func:`tri_factor`.
    periodic : bool
        As given to :func:`tri_factor`.
    d : ndarray (n,)
        Right-hand side.
    x : ndarray (n,)
        Solution, overwritten (must not alias ``d``).
    """
    _thomas_solve(lower, cp, inv, d, x)
    if periodic:
        n = d.shape[0]
        f = (x[0] + corr[0] * x[n - 1]) * corr[1]
        for i in range(n):
            x[i] -= f * z[i]


@nb.njit(cache=True)
def tri_min_offdiagonal(lower: Floats, upper: Floats, periodic: bool, scale: float, worst: float) -> float:
    """The smaller of ``worst`` and the most negative off-diagonal coefficient over ``scale``.

    Parameters
    ----------
    lower, upper : ndarray (n,)
        Off-diagonal bands (the corners count only when ``periodic``).
    periodic : bool
        Cyclic matrix.
    scale : float
        Positive divisor (the size of the diagonal).
    worst : float
        Running minimum.

    Returns
    -------
    float
    """
    n = lower.shape[0]
    for i in range(n):
        if (i > 0 or periodic) and lower[i] / scale < worst:
            worst = lower[i] / scale
        if (i < n - 1 or periodic) and upper[i] / scale < worst:
            worst = upper[i] / scale
    return worst


def tri_solve_dense_check(lower: Floats, diag: Floats, upper: Floats, periodic: bool, d: Floats) -> Floats:
    """Reference dense solve of the same system (NumPy; for tests).

    Parameters
    ----------
    lower, diag, upper : ndarray (n,)
        Bands.
    periodic : bool
        Cyclic matrix.
    d : ndarray (n,)
        Right-hand side.

    Returns
    -------
    ndarray (n,)
    """
    n = len(diag)
    a = np.diag(diag) + np.diag(upper[:-1], 1) + np.diag(lower[1:], -1)
    if periodic:
        a[0, n - 1] += lower[0]
        a[n - 1, 0] += upper[n - 1]
    return np.asarray(np.linalg.solve(a, d), dtype=np.float64)
