"""Control variates for the one-layer drifts of ``corr.infinite_width`` (docs/theory/correlation.md, "Variance
reduction of the one-layer drifts").

One finite-width layer maps ``n`` iid Gaussian pairs ``(x_i, y_i)`` (unit variances, correlation ``rho``) to
``rho'``, the cosine of ``(phi(x), phi(y))``.  :func:`one_layer_cv` draws exactly the pairs of
:func:`deeplimits.correlation.depth.sample_one_layer` (same streams, so the same ``u'`` and ``rho'``) and returns
with them statistics of known expectation:

* unshaped ReLU at small ``u``: ``k``, the number of ``x_i > 0``, and ``T = |P z_A|^2 / |x_A|^2`` with ``A`` the
  active units, ``z = (y - rho x)/sqrt(1 - rho^2)`` and ``P`` the projection orthogonal to ``x_A``;
  ``E[T | k] = (k - 1)/(k - 2)`` for ``k >= 3`` (a ratio of independent chi-squares), and ``u'/u = (1 - u/2) T``
  to leading order;
* shaped (any slopes): the unit means ``G_j = mean_i g_j(x_i, y_i)`` of the eight functions of
  :data:`SHAPED_FUNCTIONS`, whose expectations (:func:`shaped_means`) and, for the first three, covariances
  (:func:`moment_covariance`) are closed-form Gaussian moments.

:func:`shaped_controls` turns them into zero-mean controls (the ``G_j`` centred, and the centred products of the
first three), and :func:`regression_mean` is the regression (control-variate) estimator.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from deeplimits._checks import check_int
from deeplimits.correlation.maps import check_u
from deeplimits.networks.activations import check_slopes
from deeplimits.rng import kernel_seed, normal_pair, stream_state

__all__ = [
    "SHAPED_FUNCTIONS",
    "one_layer_cv",
    "t_conditional_mean",
    "shaped_means",
    "moment_covariance",
    "shaped_controls",
    "regression_mean",
]

# g_j(x, y), r(v) = max(-v, 0)
SHAPED_FUNCTIONS = ("x^2", "y^2", "x y", "x r(x)", "y r(y)", "x r(y)", "r(x) y", "r(x) r(y)")


@nb.njit(cache=True, parallel=True)
def _cv_kernel(u, n, n_samples, seed, s_plus, s_minus, out_u, out_rho, out_k, out_t, out_g):
    rho = 1.0 - u
    perp = math.sqrt(u * (2.0 - u))
    for r in nb.prange(n_samples):
        s = stream_state(seed, r)
        saa = 0.0
        sbb = 0.0
        sab = 0.0
        a = np.empty(n)
        b = np.empty(n)
        k = 0
        sxx = 0.0
        sxz = 0.0
        szz = 0.0
        g = np.zeros(8)
        for i in range(n):
            z0, z1, s = normal_pair(s)
            x = z0
            y = rho * z0 + perp * z1
            a[i] = s_plus * x if x > 0.0 else s_minus * x
            b[i] = s_plus * y if y > 0.0 else s_minus * y
            saa += a[i] * a[i]
            sbb += b[i] * b[i]
            sab += a[i] * b[i]
            if x > 0.0:
                k += 1
                sxx += x * x
                sxz += x * z1
                szz += z1 * z1
            rx = -x if x < 0.0 else 0.0
            ry = -y if y < 0.0 else 0.0
            g[0] += x * x
            g[1] += y * y
            g[2] += x * y
            g[3] += x * rx
            g[4] += y * ry
            g[5] += x * ry
            g[6] += rx * y
            g[7] += rx * ry
        for j in range(8):
            out_g[r, j] = g[j] / n
        out_k[r] = k
        out_t[r] = (szz - sxz * sxz / sxx) / sxx if k > 0 else np.nan
        if saa == 0.0 or sbb == 0.0:
            out_u[r] = np.nan
            out_rho[r] = np.nan
            continue
        na = math.sqrt(saa)
        nb_ = math.sqrt(sbb)
        d2 = 0.0
        for i in range(n):
            d = a[i] / na - b[i] / nb_
            d2 += d * d
        out_u[r] = 0.5 * d2
        out_rho[r] = sab / (na * nb_)


def one_layer_cv(u: float, n: int, n_samples: int, seed: int, s_plus: float = 1.0, s_minus: float = 0.0) -> dict:
    """``u'``, ``rho'`` of :func:`~deeplimits.correlation.depth.sample_one_layer` and the statistics ``k, T, G``.

    Returns
    -------
    dict
        ``u``, ``rho`` (``NaN`` where a vector is all zero), ``k`` (int), ``T`` (``NaN`` for ``k = 0``) and ``G``
        (``n_samples x 8``, the unit means of :data:`SHAPED_FUNCTIONS`).

    Examples
    --------
    >>> out = one_layer_cv(0.5, 8, 3, seed=0)
    >>> out["G"].shape
    (3, 8)
    """
    u = float(check_u(u))
    n = check_int(n, "n", minimum=1)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    s_plus, s_minus = check_slopes(s_plus, s_minus)
    out = dict(
        u=np.empty(n_samples),
        rho=np.empty(n_samples),
        k=np.empty(n_samples, np.int64),
        T=np.empty(n_samples),
        G=np.empty((n_samples, 8)),
    )
    _cv_kernel(u, n, n_samples, kernel_seed(seed), s_plus, s_minus, *out.values())
    return out


def t_conditional_mean(k: np.ndarray) -> np.ndarray:
    """``E[T | k] = (k - 1)/(k - 2)`` for ``k >= 3``; ``NaN`` below (where ``E[T | k]`` is infinite).

    Examples
    --------
    >>> t_conditional_mean(np.array([2, 3, 12])).tolist()
    [nan, 2.0, 1.1]
    """
    k = np.asarray(k, dtype=float)
    return np.where(k >= 3, (k - 1.0) / np.maximum(k - 2.0, 1.0), np.nan)


def shaped_means(rho: float) -> np.ndarray:
    """``E g_j(x, y)`` for the functions of :data:`SHAPED_FUNCTIONS` at correlation ``rho``.

    Examples
    --------
    >>> shaped_means(0.0)[:7].tolist()
    [1.0, 1.0, 0.0, -0.5, -0.5, -0.0, -0.0]
    """
    rr = (math.sqrt(1.0 - rho * rho) + rho * (math.pi - math.acos(rho))) / (2.0 * math.pi)
    return np.array([1.0, 1.0, rho, -0.5, -0.5, -rho / 2, -rho / 2, rr])


def moment_covariance(rho: float) -> np.ndarray:
    """Covariance of ``(x^2, y^2, x y)`` for one Gaussian pair (Isserlis' theorem).

    Examples
    --------
    >>> moment_covariance(0.5)[2].tolist()
    [1.0, 1.0, 1.25]
    """
    r2 = rho * rho
    return np.array([[2.0, 2.0 * r2, 2.0 * rho], [2.0 * r2, 2.0, 2.0 * rho], [2.0 * rho, 2.0 * rho, 1.0 + r2]])


def shaped_controls(G: np.ndarray, rho: float, n: int) -> np.ndarray:
    """Zero-mean controls: ``G_j - E g_j`` (8) and ``D_a D_b - C_ab / n`` for ``a <= b < 3`` (6).

    Examples
    --------
    >>> shaped_controls(one_layer_cv(0.7, 16, 5, seed=0, s_minus=0.75)["G"], 0.3, 16).shape
    (5, 14)
    """
    D = np.asarray(G) - shaped_means(rho)
    C = moment_covariance(rho)
    quad = [D[:, a] * D[:, b] - C[a, b] / n for a in range(3) for b in range(a, 3)]
    return np.column_stack([D, *quad])


def regression_mean(y: np.ndarray, X: np.ndarray) -> tuple[float, float]:
    """Regression estimator ``mean(y - X beta)`` of ``E y`` for zero-mean controls ``X``, and its standard error.

    ``beta`` is the least-squares fit of ``y`` on ``[1, X]`` from the same samples (bias ``O(1/R)``).

    Examples
    --------
    >>> X = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    >>> m, se = regression_mean(3.0 + 2.0 * X[:, 0], X)
    >>> round(m, 12), round(se, 12)
    (3.0, 0.0)
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float).reshape(y.size, -1)
    A = np.column_stack([np.ones(y.size), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    res = y - X @ coef[1:]
    dof = max(y.size - A.shape[1], 1)
    return float(res.mean()), float(np.sqrt(np.sum((res - res.mean()) ** 2) / dof / y.size))
