"""Helpers shared by the corr experiment modules (a private module: discovery skips files starting with "_")."""

from __future__ import annotations

import numpy as np

from deeplimits.convergence import OrderResult, fit_order
from deeplimits.correlation import sample_covariance, shaped_sde
from deeplimits.sde import brownian_increments, coarsen_increments, solve, uniform_grid

__all__ = ["fit_with_intercept", "order_result", "shaped_orders"]


def fit_with_intercept(x, y, w=None, deg=1):
    """Weighted least squares y = a + b x (+ c x^2); returns (a, [b, c...], se_a)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    A = np.vstack([x**k for k in range(deg + 1)]).T * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)
    cov = np.linalg.inv(A.T @ A)
    return coef[0], coef[1:], float(np.sqrt(cov[0, 0]))


def order_result(kind, label, hs, per_path_or_errors, expected, n_paths, stderr=None):
    errs = np.asarray(per_path_or_errors, float)
    se = np.zeros_like(errs) if stderr is None else np.asarray(stderr, float)
    return OrderResult(
        kind, label, np.asarray(hs, float), errs, se, fit_order(hs, errs), (np.nan, np.nan), expected, n_paths, label
    )


def shaped_orders(params, seed):
    T, P, n_ref = params["shaped_T"], params["shaped_paths"], params["shaped_ref"]
    sde = shaped_sde.correlation_sde(params["kappa"])
    z0 = np.arctanh(params["rho0"])
    dW = brownian_increments(uniform_grid(0, T, n_ref), n_paths=P, seed=seed + 5)
    X = {}
    Ns = np.asarray(params["shaped_steps"])
    for N in list(Ns) + [n_ref]:
        s = solve(sde, [z0], uniform_grid(0, T, N), saveat=[T], dW=coarsen_increments(dW, n_ref // N))
        X[N] = np.tanh(s.ys[:, 0, 0])
    strong = [np.mean(np.abs(X[N] - X[n_ref])) for N in Ns]
    strong_se = [np.std(np.abs(X[N] - X[n_ref])) / np.sqrt(P) for N in Ns]
    weak = [abs(np.mean(X[N] - X[n_ref])) for N in Ns]
    weak_se = [np.std(X[N] - X[n_ref]) / np.sqrt(P) for N in Ns]
    out = [
        order_result("strong", "shaped rho (Fisher-z Euler)", T / Ns, strong, 1.0, P, strong_se),
        order_result("weak", "shaped rho (Fisher-z Euler, E[rho])", T / Ns, weak, 1.0, P, weak_se),
    ]
    # covariance factor form, m = 2
    V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    Pc, nc = params["cov_paths"], params["cov_ref"]
    dWc = brownian_increments(uniform_grid(0, T, nc), n_paths=Pc, seed=seed + 9, n_noise=3)

    def V_at(N):
        return sample_covariance(V0, T, 0.0, -np.sqrt(params["kappa"]), n_steps=N, dW=coarsen_increments(dWc, nc // N))

    ref = V_at(nc)
    Nc = np.asarray(params["cov_steps"])
    e = [np.sqrt(np.sum((V_at(N) - ref) ** 2, axis=(1, 2))) for N in Nc]
    out.append(
        order_result(
            "strong",
            "shaped covariance factor (Euler on L, m=2)",
            T / Nc,
            [x.mean() for x in e],
            0.5,
            Pc,
            [x.std() / np.sqrt(Pc) for x in e],
        )
    )

    def rho_of(V):
        return V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])

    r_ref = rho_of(ref)
    Nw = np.asarray(params["cov_weak_steps"])
    dr = [rho_of(V_at(N)) - r_ref for N in Nw]
    out.append(
        order_result(
            "weak",
            "shaped covariance factor (Euler on L, E[rho], coupled)",
            T / Nw,
            [abs(x.mean()) for x in dr],
            1.0,
            Pc,
            [x.std() / np.sqrt(Pc) for x in dr],
        )
    )
    return out
