"""Neural covariance SDE of shaped ReLU MLPs (Li, Nica & Roy 2022, arXiv 2206.02768).

Shaped ReLU ``phi(x) = s+ max(x,0) + s- min(x,0)``, ``s_pm = 1 + c_pm / sqrt(n)``,
width ``n``, depth ``d``, ``d / n -> T``.  The covariance of ``m`` inputs at
layer ``floor(tau n)`` converges to the solution of::

    dV = b(V) dtau + L dH L^T,    L L^T = V,
    b^{ab} = nu(rho^{ab}) sqrt(V^{aa} V^{bb}),   rho^{ab} = V^{ab} / sqrt(V^{aa} V^{bb}),
    nu(rho) = (kappa / (2 pi)) (sqrt(1 - rho^2) - rho arccos rho),   kappa = (c+ - c-)^2,

with ``H`` a symmetric matrix Brownian motion (``Var dH_ii = 2 dt``,
``Var dH_ij = dt``), which realises ``Cov(dV^{ab}, dV^{cd}) = (V^{ac} V^{bd} +
V^{ad} V^{bc}) dt``.

PSD-preserving integration (factor form)
----------------------------------------
Write ``V = L L^T`` with ``L`` any square factor and let ``L`` solve::

    dL = L (D dt + dH / 2),    D = M / 2 - (m + 1) / 8 I,    M = L^{-1} b(V) L^{-T}.

By Ito, ``d(L L^T) = L (D + D^T) L^T dt + L dH L^T + (1/4) L E[dH dH] L^T
= b dt + L dH L^T`` because ``E[dH^2] = (m + 1) I dt``.  Any scheme for ``L``
returns ``V = L L^T``, positive semi-definite by construction.
:func:`covariance_factor_sde` builds this ``L``-equation as an engine ``SDE``
(state ``vec(L)``, general noise of dimension ``m (m + 1) / 2``); Euler on it
has strong order 1/2 and weak order 1 (measured in ``tests/test_corr_shaped.py``).

Correlation marginal (Fisher z-form)
------------------------------------
For two inputs ``rho`` is itself Markov (Ito)::

    d rho = [nu(rho) - rho (1 - rho^2) / 2] dt + (1 - rho^2) dW,

and ``zeta = artanh(rho)`` has *additive* noise::

    d zeta = [nu(rho) / (1 - rho^2) + rho / 2] dt + dW,     rho = tanh(zeta),

so ``rho`` stays in ``(-1, 1)`` without reflection or clipping, and
Euler--Maruyama has strong order 1 (additive noise).  In the angle
``theta = arccos rho``: ``d theta = -(kappa/(2 pi)) (1 - theta cot theta) dt - sin(theta) dW``.

Public API
----------
``nu(rho, kappa)``                                     drift function
``correlation_sde(kappa)`` / ``sample_correlation(...)``   Fisher-z SDE and sampler
``covariance_factor_sde(m, kappa)`` / ``sample_covariance(...)``  factor SDE and sampler
``covariance_drift(V, kappa)``                         b(V)
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._checks import check_int
from .._linalg import solve_inplace
from ..rng import kernel_seed, stream_state
from ..sde.noise import check_increments, draw_increments
from .maps import g_scalar

__all__ = [
    "kappa_from_shaping",
    "nu",
    "covariance_drift",
    "correlation_sde",
    "covariance_factor_sde",
    "sample_correlation",
    "sample_covariance",
    "theta_martingale_mean",
]

_SQRT2 = math.sqrt(2.0)


def kappa_from_shaping(c_plus, c_minus):
    """``kappa = (c+ - c-)^2``, the only combination of the shaping constants that enters the limits.

    Parameters
    ----------
    c_plus, c_minus : float
        Shaping constants of ``s_pm = 1 + c_pm / sqrt(n)``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a constant is non-finite.
    """
    c_plus = float(c_plus)
    c_minus = float(c_minus)
    if not (np.isfinite(c_plus) and np.isfinite(c_minus)):
        raise ValueError(f"c_plus and c_minus must be finite, got {c_plus}, {c_minus}")
    return (c_plus - c_minus) ** 2


@nb.njit(cache=True)
def _nu_scalar(rho, kappa):
    theta = math.acos(min(1.0, max(-1.0, rho)))
    return kappa / (2.0 * math.pi) * g_scalar(theta)


def nu(rho, kappa):
    """Correlation drift ``nu(rho) = (kappa/(2 pi)) (sqrt(1 - rho^2) - rho arccos rho)``.

    Parameters
    ----------
    rho : array_like
        Correlations in ``[-1, 1]``.
    kappa : float
        ``(c+ - c-)^2 >= 0``.

    Returns
    -------
    numpy.ndarray
        ``nu(rho)``, accurate near ``rho = 1`` (series for ``g``).
    """
    r = np.asarray(rho, dtype=float)
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) > 1.0):
        raise ValueError("rho must lie in [-1, 1]")
    kappa = _check_kappa(kappa)
    out = np.array([_nu_scalar(x, kappa) for x in r.ravel()])
    return out.reshape(r.shape)


def _check_kappa(kappa):
    kappa = float(kappa)
    if not (np.isfinite(kappa) and kappa >= 0.0):
        raise ValueError(f"kappa must be finite and >= 0, got {kappa}")
    return kappa


def covariance_drift(V, kappa):
    """Drift ``b(V)`` of the covariance SDE (zero on the diagonal since ``nu(1) = 0``).

    Parameters
    ----------
    V : array_like, shape (m, m)
        Symmetric positive-definite covariance.
    kappa : float
        ``(c+ - c-)^2``.

    Returns
    -------
    numpy.ndarray, shape (m, m)
    """
    V = _check_cov(V, require_pd=False, name="V")
    kappa = _check_kappa(kappa)
    d = np.sqrt(np.diag(V))
    rho = np.clip(V / np.outer(d, d), -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)  # exactly: the ratio V_aa / V_aa may round below 1
    return nu(rho, kappa) * np.outer(d, d)


def _check_cov(V, require_pd=True, name="V0"):
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or V.shape[0] != V.shape[1] or V.shape[0] < 1:
        raise ValueError(f"{name} must be a square (m, m) matrix, got shape {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError(f"{name} must be finite")
    if not np.allclose(V, V.T, rtol=1e-12, atol=1e-14 * np.abs(V).max()):
        raise ValueError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(V)
    if ev.min() < -1e-12 * max(ev.max(), 1e-300):
        raise ValueError(f"{name} must be positive semi-definite (smallest eigenvalue {ev.min():.3g})")
    if require_pd and ev.min() <= 1e-12 * ev.max():
        raise ValueError(
            f"{name} must be positive definite: a singular covariance (identical or linearly dependent inputs) "
            "stays singular, and the factor form needs L^{-1}; drop the duplicate inputs"
        )
    return V


# ----------------------------------------------------------------------------- correlation (Fisher z)


@nb.njit(cache=True)
def _z_drift(t, y, p, out):
    zeta = y[0]
    rho = math.tanh(zeta)
    # theta = arccos(tanh zeta) = 2 arctan(e^{-zeta}); sin(theta) = sech(zeta)
    theta = 2.0 * math.atan(math.exp(-zeta))
    c = math.cosh(zeta)
    out[0] = p[0] / (2.0 * math.pi) * g_scalar(theta) * c * c + 0.5 * rho


@nb.njit(cache=True)
def _z_diffusion(t, y, p, out):
    out[0, 0] = 1.0


@nb.njit(cache=True)
def _z_dgdy(t, y, p, out):
    out[0] = 0.0


def correlation_sde(kappa):
    """Correlation marginal in Fisher-z form as an engine ``SDE``.

    ``d zeta = [nu(tanh zeta) cosh^2(zeta) + tanh(zeta)/2] dt + dW``; recover
    ``rho = tanh(zeta)``.

    Parameters
    ----------
    kappa : float
        ``(c+ - c-)^2 >= 0``.

    Returns
    -------
    deeplimits.sde.SDE
    """
    from ..sde import SDE

    return SDE(
        _z_drift,
        _z_diffusion,
        dim=1,
        params=[_check_kappa(kappa)],
        diffusion_derivative=_z_dgdy,
        name="shaped ReLU correlation (Fisher z)",
    )


def _check_rho0(rho0):
    r = np.asarray(rho0, dtype=float)
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) >= 1.0):
        raise ValueError(
            "rho0 must lie in the open interval (-1, 1) (rho = +-1 is absorbing; the Fisher "
            "transform maps it to infinity)"
        )
    return r


def _check_T(T):
    T = float(T)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T (= depth/width) must be positive and finite, got {T}")
    return T


def _check_int(x, name, lo=1):
    return check_int(x, name, minimum=lo)


def sample_correlation(
    rho0,
    T,
    c_plus=0.0,
    c_minus=-1.0,
    n_paths=10_000,
    seed=0,
    n_steps=1000,
    saveat=None,
    scheme="euler",
    *,
    first_path: int = 0,
):
    """Samples of the limiting correlation ``rho_tau`` of a shaped ReLU MLP.

    Parameters
    ----------
    rho0 : float
        Input correlation in ``(-1, 1)``.
    T : float
        Final time ``d / n > 0``.
    c_plus, c_minus : float
        Shaping constants (``s_pm = 1 + c_pm / sqrt(n)``); only ``(c+ - c-)^2`` enters.
    n_paths, seed : int
        Number of samples; seed of the per-path streams.
    n_steps : int
        Uniform steps on ``[0, T]``.  Euler on the Fisher-z form has strong
        order 1, so the error is ``O(T / n_steps)``.
    saveat : array_like, optional
        Output times (grid points); default ``[T]``.
    scheme : str
        Engine scheme (``"euler"``, ``"milstein"`` (identical here), ``"weak2"``, ``"theta"``).

    Returns
    -------
    numpy.ndarray
        ``(n_paths,)`` if ``saveat`` is None, else ``(n_paths, len(saveat))``; values in ``(-1, 1)``.
    """
    from ..sde import solve, uniform_grid

    r0 = float(_check_rho0(rho0))
    T = _check_T(T)
    n_steps = _check_int(n_steps, "n_steps")
    kappa = kappa_from_shaping(c_plus, c_minus)
    grid = uniform_grid(0.0, T, n_steps)
    sol = solve(
        correlation_sde(kappa),
        [math.atanh(r0)],
        grid,
        saveat=[T] if saveat is None else saveat,
        n_paths=_check_int(n_paths, "n_paths"),
        seed=seed,
        first_path=first_path,
        scheme=scheme,
    )
    rho = np.tanh(sol.ys[:, :, 0])
    return rho[:, 0] if saveat is None else rho


def theta_martingale_mean(rho0):
    """Mean angle for ``kappa = 0``: the angle is then a martingale, ``E[arccos rho_t] = arccos rho0``.

    Parameters
    ----------
    rho0 : float
        Initial correlation in ``(-1, 1)``.

    Returns
    -------
    float
        ``arccos(rho0)`` for every ``t``.
    """
    return float(np.arccos(_check_rho0(rho0)))


# ----------------------------------------------------------------------------- covariance (factor form)


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
def _factor_D(L, kappa, V, b, Aw, col, X, Y, D):
    """D = M/2 - (m+1)/8 I with M = L^{-1} b(L L^T) L^{-T} (all arrays m x m, preallocated)."""
    m = L.shape[0]
    for a in range(m):
        for c in range(m):
            acc = 0.0
            for k in range(m):
                acc += L[a, k] * L[c, k]
            V[a, c] = acc
    for a in range(m):
        for c in range(m):
            if a == c:
                b[a, c] = 0.0  # nu(1) = 0
            else:
                sq = math.sqrt(V[a, a] * V[c, c])
                b[a, c] = _nu_scalar(V[a, c] / sq, kappa) * sq
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
    V = np.empty((m, m))
    b = np.empty((m, m))
    Aw = np.empty((m, m))
    col = np.empty(m)
    X = np.empty((m, m))
    Y = np.empty((m, m))
    D = np.empty((m, m))
    _factor_D(L, kappa, V, b, Aw, col, X, Y, D)
    for a in range(m):
        for c in range(m):
            acc = 0.0
            for k in range(m):
                acc += L[a, k] * D[k, c]
            out[a * m + c] = acc


@nb.njit(cache=True, parallel=True)
def _cov_factor_kernel(L0, kappa, grid, save_idx, seed, first_path, dW, use_dW, n_paths, out):
    # Euler on the factor: L_{k+1} = L_k (I + D h + dH / 2); out[i, j] = L L^T at save point j.
    m = L0.shape[0]
    nn = m * (m + 1) // 2
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        s = stream_state(seed, first_path + i)
        spare = 0.0
        have = False
        L = L0.copy()
        Ln = np.empty((m, m))
        E = np.empty((m, m))
        V = np.empty((m, m))
        b = np.empty((m, m))
        Aw = np.empty((m, m))
        col = np.empty(m)
        X = np.empty((m, m))
        Y = np.empty((m, m))
        D = np.empty((m, m))
        z = np.empty(nn)
        j = 0
        if save_idx[0] == 0:
            for a in range(m):
                for c in range(m):
                    acc = 0.0
                    for k in range(m):
                        acc += L[a, k] * L[c, k]
                    out[i, 0, a, c] = acc
            j = 1
        for step in range(n_steps):
            h = grid[step + 1] - grid[step]
            sh = math.sqrt(h)
            if use_dW:
                for k in range(nn):
                    z[k] = dW[i, step, k]
            else:
                # the package's noise model: the same increments as sde.brownian_increments
                s, spare, have = draw_increments(z, sh, s, spare, have)
            _factor_D(L, kappa, V, b, Aw, col, X, Y, D)
            # E = I + D h + dH/2, noise index of (r, c), r <= c, as in _factor_diffusion
            for r in range(m):
                for c in range(m):
                    lo = min(r, c)
                    hi = max(r, c)
                    k = lo * m - (lo * (lo - 1)) // 2 + (hi - lo)
                    w = _SQRT2 if r == c else 1.0
                    E[r, c] = D[r, c] * h + 0.5 * w * z[k] + (1.0 if r == c else 0.0)
            for a in range(m):
                for c in range(m):
                    acc = 0.0
                    for k in range(m):
                        acc += L[a, k] * E[k, c]
                    Ln[a, c] = acc
            for a in range(m):
                for c in range(m):
                    L[a, c] = Ln[a, c]
            if j < save_idx.size and save_idx[j] == step + 1:
                for a in range(m):
                    for c in range(m):
                        acc = 0.0
                        for k in range(m):
                            acc += L[a, k] * L[c, k]
                        out[i, j, a, c] = acc
                j += 1


@nb.njit(cache=True)
def _factor_diffusion(t, y, p, out):
    # dL_{ab} = (1/2) sum_c L_{ac} dH_{cb}; dH_{cb} for c <= b is noise number idx(c, b),
    # with dH_{bb} = sqrt(2) dW (variance 2) and dH_{cb} = dH_{bc} = dW (variance 1).
    m = int(p[1])
    for a in range(m):
        for b in range(m):
            for c in range(m):
                i = min(c, b)
                j = max(c, b)
                k = i * m - (i * (i - 1)) // 2 + (j - i)
                w = _SQRT2 if c == b else 1.0
                out[a * m + b, k] += 0.5 * y[a * m + c] * w


def covariance_factor_sde(m, kappa):
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
    """
    from ..sde import SDE

    m = _check_int(m, "m")
    return SDE(
        _factor_drift,
        _factor_diffusion,
        dim=m * m,
        noise="general",
        n_noise=m * (m + 1) // 2,
        params=[_check_kappa(kappa), float(m)],
        name=f"shaped ReLU covariance factor (m={m})",
    )


def sample_covariance(
    V0,
    T,
    c_plus=0.0,
    c_minus=-1.0,
    n_paths=10_000,
    seed=0,
    n_steps=1000,
    saveat=None,
    dW=None,
    *,
    first_path: int = 0,
):
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
    n_steps : int
        Uniform Euler steps on the factor ``L`` (weak order 1, strong 1/2), run by a
        specialised Numba kernel (the same scheme as ``solve(covariance_factor_sde(m, kappa),
        scheme="euler")``; both agree to rounding on the same increments).
    saveat : array_like, optional
        Output times (grid points); default ``[T]``.
    dW : array_like, optional
        Increments ``(n_paths, n_steps, m (m+1)/2)`` for coupled runs.

    Returns
    -------
    numpy.ndarray
        ``(n_paths, m, m)`` if ``saveat`` is None, else ``(n_paths, len(saveat), m, m)``.

    Raises
    ------
    ValueError
        If ``V0`` is not symmetric positive definite, ``T <= 0``, or counts < 1.
    """
    from ..sde import uniform_grid
    from ..sde.grids import save_indices

    V0 = _check_cov(V0)
    m = V0.shape[0]
    T = _check_T(T)
    n_steps = _check_int(n_steps, "n_steps")
    kappa = kappa_from_shaping(c_plus, c_minus)
    L0 = np.ascontiguousarray(np.linalg.cholesky(V0))
    grid = uniform_grid(0.0, T, n_steps)
    idx = np.asarray(save_indices(grid, [T] if saveat is None else saveat), dtype=np.int64)
    nn = m * (m + 1) // 2
    if dW is not None:
        # shape and finiteness: a NaN increment would otherwise reach every later covariance
        dWa = check_increments(dW, n_steps=n_steps, n_noise=nn)
        n_paths = dWa.shape[0]
        use_dW = True
    else:
        n_paths = _check_int(n_paths, "n_paths")
        dWa = np.zeros((1, 1, 1))
        use_dW = False
    seed_bits = kernel_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    out = np.empty((n_paths, idx.size, m, m))
    _cov_factor_kernel(L0, kappa, grid, idx, seed_bits, first_path, dWa, use_dW, n_paths, out)
    return out[:, 0] if saveat is None else out
