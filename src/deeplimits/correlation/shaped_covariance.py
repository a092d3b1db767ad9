"""Neural covariance SDE of shaped ReLU MLPs in PSD-preserving factor form (see :mod:`.shaped_sde`).

``V = L L^T`` with ``dL = L (D dt + dH / 2)``: any scheme for ``L`` returns a positive
semi-definite ``V``.  :func:`covariance_factor_sde` is the engine ``SDE`` (its domain is
declared); :func:`sample_covariance` runs a specialised Numba kernel of the same Euler scheme
with the package's noise model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_int
from .._linalg import solve_inplace
from ..rng import kernel_seed, stream_state
from ..sde.noise import check_increments, draw_increments, new_carry
from .sampling import ShapedSampling, shaped_sampler
from .shaped_sde import check_cov, check_kappa, nu_scalar

if TYPE_CHECKING:
    from ..sde import SDE

__all__ = ["covariance_factor_sde", "sample_covariance"]

_SQRT2 = math.sqrt(2.0)

# ----------------------------------------------------------------------------- covariance (factor form)


@nb.njit(cache=True)
def _matmul(A, B, out):
    # out = A B for square m x m arrays (out must not alias A or B)
    m = A.shape[0]
    for a in range(m):
        for c in range(m):
            acc = 0.0
            for k in range(m):
                acc += A[a, k] * B[k, c]
            out[a, c] = acc


@nb.njit(cache=True)
def _noise_index(r, c, m):
    # number of the noise dH_{rc} = dH_{cr}: the entries r <= c of the upper triangle, row by row
    lo = min(r, c)
    hi = max(r, c)
    return lo * m - (lo * (lo - 1)) // 2 + (hi - lo)


@nb.njit(cache=True)
def _left_solve(L, B, Aw, col, X):
    # X = L^{-1} B column by column with the package's one small dense solver (it overwrites its matrix)
    m = L.shape[0]
    for c in range(m):
        for r in range(m):
            for q in range(m):
                Aw[r, q] = L[r, q]
            col[r] = B[r, c]
        solve_inplace(Aw, col)
        for r in range(m):
            X[r, c] = col[r]


@nb.njit(cache=True)
def _factor_workspace(m):
    # scratch arrays of _factor_D: V, b, Aw, X, Y (m x m) and col (m)
    return np.empty((m, m)), np.empty((m, m)), np.empty((m, m)), np.empty(m), np.empty((m, m)), np.empty((m, m))


@nb.njit(cache=True)
def _factor_D(L, kappa, ws, D):
    """D = M/2 - (m+1)/8 I with M = L^{-1} b(L L^T) L^{-T} (D is m x m; ws from _factor_workspace)."""
    V, b, Aw, col, X, Y = ws
    m = L.shape[0]
    _matmul(L, L.T, V)
    for a in range(m):
        for c in range(m):
            if a == c:
                b[a, c] = 0.0  # nu(1) = 0
            else:
                sq = math.sqrt(V[a, a] * V[c, c])
                b[a, c] = nu_scalar(V[a, c] / sq, kappa) * sq
    _left_solve(L, b, Aw, col, X)  # X = L^{-1} b
    for a in range(m):  # Y = X^T = b L^{-T}  (b symmetric)
        for c in range(m):
            Y[a, c] = X[c, a]
    _left_solve(L, Y, Aw, col, X)  # X = L^{-1} b L^{-T} = M
    c0 = (m + 1.0) / 8.0
    for a in range(m):
        for c in range(m):
            D[a, c] = 0.25 * (X[a, c] + X[c, a])
        D[a, a] -= c0


@nb.njit(cache=True)
def _factor_drift(t, y, p, out):
    # p = [kappa, m]; y = vec(L) row-major; drift of L is L D
    kappa = p[0]
    m = int(p[1])
    L = y.reshape(m, m)
    D = np.empty((m, m))
    _factor_D(L, kappa, _factor_workspace(m), D)
    _matmul(L, D, out.reshape(m, m))


@nb.njit(cache=True, parallel=True)
def _cov_factor_kernel(L0, kappa, grid, save_idx, seed, first_path, dW, use_dW, n_paths, out):
    # Euler on the factor: L_{k+1} = L_k (I + D h + dH / 2); out[i, j] = L L^T at save point j.
    m = L0.shape[0]
    nn = m * (m + 1) // 2
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        s, block, pos, left = new_carry(stream_state(seed, first_path + i), n_steps * nn)
        L = L0.copy()
        Ln = np.empty((m, m))
        E = np.empty((m, m))
        ws = _factor_workspace(m)
        D = np.empty((m, m))
        z = np.empty(nn)
        j = 0
        if save_idx[0] == 0:
            _matmul(L, L.T, out[i, 0])
            j = 1
        for step in range(n_steps):
            h = grid[step + 1] - grid[step]
            sh = math.sqrt(h)
            if use_dW:
                for k in range(nn):
                    z[k] = dW[i, step, k]
            else:
                # the package's noise model: the same increments as sde.brownian_increments
                s, block, pos, left = draw_increments(z, sh, s, block, pos, left)
            _factor_D(L, kappa, ws, D)
            # E = I + D h + dH/2 with the noise numbering of _factor_diffusion
            for r in range(m):
                for c in range(m):
                    w = _SQRT2 if r == c else 1.0
                    E[r, c] = D[r, c] * h + 0.5 * w * z[_noise_index(r, c, m)] + (1.0 if r == c else 0.0)
            _matmul(L, E, Ln)
            for a in range(m):
                for c in range(m):
                    L[a, c] = Ln[a, c]
            if j < save_idx.size and save_idx[j] == step + 1:
                _matmul(L, L.T, out[i, j])
                j += 1


@nb.njit(cache=True)
def _factor_diffusion(t, y, p, out):
    # dL_{ab} = (1/2) sum_c L_{ac} dH_{cb}; dH_{cb} for c <= b is noise number idx(c, b),
    # with dH_{bb} = sqrt(2) dW (variance 2) and dH_{cb} = dH_{bc} = dW (variance 1).
    m = int(p[1])
    for a in range(m):
        for b in range(m):
            for c in range(m):
                w = _SQRT2 if c == b else 1.0
                out[a * m + b, _noise_index(c, b, m)] += 0.5 * y[a * m + c] * w


def covariance_factor_sde(m: int, kappa: float) -> SDE:
    """PSD-preserving factor form ``dL = L (D dt + dH/2)`` as an engine ``SDE``.

    Parameters
    ----------
    m : int
        Number of inputs (>= 1).
    kappa : float
        ``(c+ - c-)^2``.

    Returns
    -------
    deeplimits.sde.SDE
        State ``vec(L)`` (row-major, ``m^2``), general noise of dimension
        ``m (m + 1) / 2``.  ``V = L L^T`` for any scheme.

    Raises
    ------
    ValueError
        If ``m < 1`` or ``kappa`` is negative or non-finite.

    Examples
    --------
    >>> sde = covariance_factor_sde(2, 1.0)
    >>> sde.dim, sde.n_noise
    (4, 3)
    """
    from ..sde import SDE

    m = check_int(m, "m", minimum=1)
    return SDE(
        _factor_drift,
        _factor_diffusion,
        dim=m * m,
        noise="general",
        n_noise=m * (m + 1) // 2,
        params=[check_kappa(kappa), float(m)],
        name=f"shaped ReLU covariance factor (m={m})",
    )


@shaped_sampler(rows={"dW": 3})
def sample_covariance(V0: ArrayLike, shared: ShapedSampling, dW: ArrayLike | None = None) -> NDArray[np.float64]:
    """Samples of the limiting covariance ``V_tau`` (PSD by construction).

    Parameters
    ----------
    V0 : array_like, shape (m, m)
        Positive-definite initial covariance (input Gram matrix / input dimension).
    T : float
        Final time ``d / n > 0``.
    c_plus, c_minus : float
        Shaping constants; only ``kappa = (c+ - c-)^2`` enters.
    n_paths, seed : int
        Number of samples; seed.
    first_path : int
        Global index of the first sample (sample ``i`` draws from stream
        ``(seed, first_path + i)``).
    n_steps : int
        Uniform Euler steps on the factor ``L`` (weak order 1, strong 1/2), run by a
        specialised Numba kernel (the same scheme as ``solve(covariance_factor_sde(m, kappa),
        scheme="euler")``; both agree to rounding on the same increments).
    saveat : array_like, optional
        Output times (grid points); default ``[T]``.
    dW : array_like, optional
        Increments ``(n_paths, n_steps, m (m+1)/2)`` for coupled runs (they set the number of
        samples).  Split into chunks, each chunk receives its rows.

    Returns
    -------
    numpy.ndarray
        ``(n_paths, m, m)`` if ``saveat`` is None, else ``(n_paths, len(saveat), m, m)``.

    Raises
    ------
    ValueError
        If ``V0`` is not symmetric positive definite, ``T <= 0``, or counts < 1.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.correlation import sample_covariance
    >>> sample_covariance(np.eye(2), 1.0, n_paths=5, seed=0, n_steps=10).shape
    (5, 2, 2)
    """
    from ..sde.grids import save_indices

    V = check_cov(V0)
    m = V.shape[0]
    T, n_steps, kappa, grid = shared.grid()
    L0 = np.ascontiguousarray(np.linalg.cholesky(V))
    saveat = shared.saveat
    idx = np.asarray(save_indices(grid, [T] if saveat is None else saveat), dtype=np.int64)
    nn = m * (m + 1) // 2
    if dW is not None:
        # shape and finiteness: a NaN increment would otherwise reach every later covariance
        dWa = check_increments(dW, n_steps=n_steps, n_noise=nn)
        n_paths = dWa.shape[0]
        use_dW = True
    else:
        n_paths = check_int(shared.n_paths, "n_paths", minimum=1)
        dWa = np.zeros((1, 1, 1))
        use_dW = False
    seed_bits = kernel_seed(shared.seed)
    first_path = check_int(shared.first_path, "first_path", minimum=0)
    out = np.empty((n_paths, idx.size, m, m))
    _cov_factor_kernel(L0, kappa, grid, idx, seed_bits, first_path, dWa, use_dW, n_paths, out)
    return out[:, 0] if saveat is None else out
