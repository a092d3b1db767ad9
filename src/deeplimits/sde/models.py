"""Reference SDEs with exact solutions, used to measure the schemes' orders.

Each model comes with the functions the convergence toolkit needs: a pathwise
exact solution driven by given Brownian increments, or a sampler with the
exact law coupled to the increments (see :mod:`deeplimits.convergence`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .problem import SDE

__all__ = [
    "gbm",
    "gbm_exact",
    "ornstein_uhlenbeck",
    "ou_exact_law",
    "ou_second_moment",
    "singular_linear",
    "singular_linear_exact_law",
    "singular_linear_variance",
    "singular_logistic",
]


# ------------------------------------------------------------------ geometric Brownian motion
@nb.njit(cache=True)
def _gbm_drift(t, y, p, out):
    out[0] = p[0] * y[0]


@nb.njit(cache=True)
def _gbm_diffusion(t, y, p, out):
    out[0, 0] = p[1] * y[0]


@nb.njit(cache=True)
def _gbm_dgdy(t, y, p, out):
    out[0] = p[1]


def gbm(mu: float = 1.0, sigma: float = 0.5) -> SDE:
    """Geometric Brownian motion ``dY = mu Y dt + sigma Y dW``."""
    return SDE(_gbm_drift, _gbm_diffusion, params=[mu, sigma], diffusion_derivative=_gbm_dgdy, name="GBM")


def gbm_exact(y0: float, mu: float, sigma: float):
    """Pathwise exact solution ``Y_T = y0 exp((mu - sigma^2/2) T + sigma W_T)`` as ``exact(grid, dW)``."""

    def exact(grid, dW):
        T = grid[-1] - grid[0]
        W = dW[:, :, 0].sum(axis=1)
        return (y0 * np.exp((mu - 0.5 * sigma**2) * T + sigma * W))[:, None]

    return exact


# ------------------------------------------------------------------ Ornstein--Uhlenbeck
@nb.njit(cache=True)
def _ou_drift(t, y, p, out):
    out[0] = -p[0] * y[0]


@nb.njit(cache=True)
def _ou_diffusion(t, y, p, out):
    out[0, 0] = p[1]


@nb.njit(cache=True)
def _ou_jac(t, y, p, out):
    out[0, 0] = -p[0]


def ornstein_uhlenbeck(lam: float = 2.0, sigma: float = 1.0) -> SDE:
    """Ornstein--Uhlenbeck ``dY = -lam Y dt + sigma dW``."""
    return SDE(_ou_drift, _ou_diffusion, params=[lam, sigma], drift_jacobian=_ou_jac, name="OU")


def ou_exact_law(y0: float, lam: float, sigma: float):
    """Exact-law sampler of ``Y_T`` coupled to the increments (exact OU transition on the fine grid)."""

    def exact(grid, dW):
        h = np.diff(grid)
        decay = np.exp(-lam * h)
        scale = sigma * np.sqrt((1 - np.exp(-2 * lam * h)) / (2 * lam)) / np.sqrt(h)
        y = np.full(dW.shape[0], float(y0))
        for k in range(h.size):
            y = decay[k] * y + scale[k] * dW[:, k, 0]
        return y[:, None]

    return exact


def ou_second_moment(y0: float, lam: float, sigma: float, t: float) -> float:
    """``E[Y_t^2] = y0^2 e^{-2 lam t} + sigma^2 (1 - e^{-2 lam t}) / (2 lam)``."""
    return y0**2 * np.exp(-2 * lam * t) + sigma**2 * (1 - np.exp(-2 * lam * t)) / (2 * lam)


# ------------------------------------------------------------------ singular linear SDE
@nb.njit(cache=True)
def _sing_drift(t, y, p, out):
    out[0] = p[0] / t * (p[1] - y[0])


@nb.njit(cache=True)
def _sing_diffusion(t, y, p, out):
    out[0, 0] = p[2]


@nb.njit(cache=True)
def _sing_jac(t, y, p, out):
    out[0, 0] = -p[0] / t


def singular_linear(a: float = 1.0, b: float = 2.0, sigma: float = 1.0) -> SDE:
    """``dq = (a/t)(b - q) dt + sigma dW``, singular at ``t = 0`` where ``q = b``.

    Its solution from ``q_0 = b`` is ``q_t = b + sigma t^{-a} int_0^t s^a dW_s``,
    so ``q_t ~ N(b, sigma^2 t / (2a + 1))`` exactly.
    """
    if a <= 0:
        raise ValueError(f"a must be positive, got {a}")
    return SDE(_sing_drift, _sing_diffusion, params=[a, b, sigma], drift_jacobian=_sing_jac, name="singular linear")


def singular_linear_variance(a: float, sigma: float, t: float, t0: float = 0.0, v0: float = 0.0) -> float:
    """Variance at ``t`` of the solution started at ``t0 >= 0`` with variance ``v0``.

    ``V(t) = sigma^2 t/(2a+1) (1 - (t0/t)^{2a+1}) + v0 (t0/t)^{2a}``.
    """
    r = t0 / t
    return sigma**2 * t / (2 * a + 1) * (1 - r ** (2 * a + 1)) + v0 * r ** (2 * a)


def singular_linear_exact_law(a: float, b: float, sigma: float):
    """Exact-law sampler of ``q_T`` from ``q_0 = b`` at ``t = 0``, coupled to the increments.

    ``int_0^T s^a dW_s`` is a sum of independent Gaussians over the grid steps with
    variances ``(t_{k+1}^{2a+1} - t_k^{2a+1})/(2a+1)``; using ``dW_k / sqrt(h_k)`` as
    their standard normals gives the exact law, strongly coupled to the path.
    """

    def exact(grid, dW):
        if grid[0] != 0.0:
            raise ValueError("singular_linear_exact_law needs a grid starting at t = 0")
        h = np.diff(grid)
        w = np.sqrt(np.diff(grid ** (2 * a + 1)) / (2 * a + 1) / h)
        T = grid[-1]
        return (b + sigma * T ** (-a) * (dW[:, :, 0] * w[None, :]).sum(axis=1))[:, None]

    return exact


# ------------------------------------------------------------------ non-linear singular SDE (benchmarks)
@nb.njit(cache=True)
def _logistic_drift(t, y, p, out):
    q = y[0]
    out[0] = (2.0 * q - p[0] * q * np.sqrt(abs(q))) / t + 2.0 * q


def singular_logistic(c: float = 0.3, sigma: float = 2.0 * np.sqrt(2.0)) -> SDE:
    """``dq = [(2q - c q^{3/2})/t + 2q] dt + sigma q dW``: a non-linear SDE with a ``1/t`` drift.

    The same form as the unshaped-ReLU correlation SDE; used in benchmarks.  Its noise is that of
    :func:`gbm` (with the diffusion derivative, so ``scheme="milstein"`` applies).
    """
    return SDE(
        _logistic_drift, _gbm_diffusion, params=[c, sigma], diffusion_derivative=_gbm_dgdy, name="singular logistic"
    )
