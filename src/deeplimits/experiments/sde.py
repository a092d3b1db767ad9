"""Validation of the SDE engine: measured strong and weak orders, the singular start, torchsde agreement."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.convergence import plot_orders, strong_order, weak_order
from deeplimits.plotting import log_ticks
from deeplimits.sde import brownian_increments, geometric_grid, models, solve, uniform_grid
from deeplimits.validation import Check, Outcome, experiment, save_figure

ORDER_TOL_STRONG = 0.2
ORDER_TOL_WEAK = 0.25


def _orders(study, sde, args, schemes, exact, params, seed):
    # one order study (strong_order or weak_order) per scheme, from y0 = 1 on the same Brownian paths
    kw = dict(n_steps=params["n_steps"], exact=exact, n_paths=params["n_paths"], seed=seed)
    return [study(sde, [1.0], *args, scheme=s, **kw) for s in schemes]


def _order_checks(results, tol):
    return [
        Check(
            f"order_{r.label}",
            r.order,
            "in",
            (r.expected - tol, r.expected + tol),
            note=f"theory {r.expected} +- {tol}; 95% bootstrap CI [{r.ci[0]:.3f}, {r.ci[1]:.3f}]",
        )
        for r in results
    ]


@experiment(
    id="sde.gbm_strong",
    checks="strong orders of Euler-Maruyama (1/2) and Milstein (1) on geometric Brownian motion, "
    "against its exact pathwise solution",
    criterion="fitted log-log slope of E|Y_h(T) - Y(T)| over >= 5 step sizes within +-0.2 of theory",
    quick=dict(n_paths=2000, n_steps=[16, 32, 64, 128, 256, 512], mu=1.0, sigma=0.5, T=1.0),
    full=dict(n_paths=50000, n_steps=[16, 32, 64, 128, 256, 512, 1024, 2048], mu=1.0, sigma=0.5, T=1.0),
)
def gbm_strong(params, *, seed, outdir):
    sde = models.gbm(params["mu"], params["sigma"])
    exact = models.gbm_exact(1.0, params["mu"], params["sigma"])
    res = _orders(strong_order, sde, (params["T"],), ("euler", "milstein"), exact, params, seed)
    fig = plot_orders(res, title="GBM: strong error at T = 1")
    return Outcome(
        checks=_order_checks(res, ORDER_TOL_STRONG),
        metrics={r.label: r.as_dict() for r in res},
        figures=[save_figure(fig, outdir, "sde_gbm_strong.png")],
        summary=", ".join(f"{r.label}: strong order {r.order:.3f}" for r in res),
    )


@experiment(
    id="sde.ou_weak",
    checks="weak orders of Euler-Maruyama (1) and the explicit weak-2 scheme (2) on the second moment "
    "of an Ornstein-Uhlenbeck process, against samples with the exact law",
    criterion="fitted slope of |E Y_h(T)^2 - E Y(T)^2| within +-0.25 of theory; each error resolved "
    "(> 3 standard errors of the paired differences)",
    quick=dict(n_paths=100000, n_steps=[4, 8, 16, 32, 64], lam=2.0, sigma=1.0, T=1.0),
    full=dict(n_paths=400000, n_steps=[4, 8, 16, 32, 64, 128], lam=2.0, sigma=1.0, T=1.0),
)
def ou_weak(params, *, seed, outdir):
    lam, sigma, T = params["lam"], params["sigma"], params["T"]
    sde = models.ornstein_uhlenbeck(lam, sigma)
    exact = models.ou_exact_law(1.0, lam, sigma)
    square = lambda y: y[:, 0] ** 2
    res = _orders(weak_order, sde, (T, square), ("euler", "weak2"), exact, params, seed)
    checks = _order_checks(res, ORDER_TOL_WEAK)
    for r in res:
        checks.append(
            Check(
                f"min_error_over_stderr_{r.label}",
                float(np.min(r.errors / r.stderr)),
                ">",
                3.0,
                note="errors must be resolved by the sample for the slope to mean anything",
            )
        )
    fig = plot_orders(res, title="OU: weak error of E[Y_T^2]")
    return Outcome(
        checks=checks,
        metrics={r.label: r.as_dict() for r in res},
        figures=[save_figure(fig, outdir, "sde_ou_weak.png")],
        summary=", ".join(f"{r.label}: weak order {r.order:.3f}" for r in res)
        + f"; exact E[Y_T^2] = {models.ou_second_moment(1.0, lam, sigma, T):.6f}",
    )


def _em_variance_recursion(a, sigma, grid):
    """Exact variance of Euler-Maruyama for the singular linear SDE started deterministically."""
    v = 0.0
    for k in range(grid.size - 1):
        h = grid[k + 1] - grid[k]
        v = (1 - a * h / grid[k]) ** 2 * v + sigma**2 * h
    return v


@experiment(
    id="sde.singular_linear",
    checks="dq = (a/t)(b - q)dt + sigma dW from the singular t = 0, law N(b, sigma^2 t/(2a+1)): "
    "Euler-Maruyama started at t0 > 0 from the wrong (deterministic) initial law is biased; "
    "drift-implicit Euler on a geometric grid starting exactly at t = 0 converges with weak order 1",
    criterion="(i) the EM variance bias at the largest t0 exceeds 4 standard errors and the bias shrinks as t0 "
    "decreases; (ii) implicit Euler: weak order of E(q_T - b)^2 in 1 +- 0.25, finest error < 2% of "
    "the exact variance, mean within 4 standard errors of b; (iii) an explicit step with h a/t > 2 "
    "is refused",
    quick=dict(
        a=1.0,
        b=2.0,
        sigma=1.0,
        T=1.0,
        t0s=[0.5, 0.2, 0.05],
        em_paths=200000,
        n_fine=2049,
        coarsen=[64, 32, 16, 8, 4],
        t_first=1e-4,
        ie_paths=20000,
    ),
    full=dict(
        a=1.0,
        b=2.0,
        sigma=1.0,
        T=1.0,
        t0s=[0.5, 0.2, 0.05, 0.01, 0.003],
        em_paths=2000000,
        n_fine=8193,
        coarsen=[256, 128, 64, 32, 16, 8, 4],
        t_first=1e-5,
        ie_paths=200000,
    ),
)
def singular_linear(params, *, seed, outdir):
    a, b, sigma, T = params["a"], params["b"], params["sigma"], params["T"]
    sde = models.singular_linear(a, b, sigma)
    v_exact = sigma**2 * T / (2 * a + 1)
    n = params["em_paths"]

    # (i) EM from t0 > 0 with q(t0) = b: bias of the variance at T (Monte Carlo and exact recursion).
    em_rows = []
    for j, t0 in enumerate(params["t0s"]):
        n_steps = int(np.ceil((T - t0) / (0.25 * t0 / a)))  # h a / t0 = 1/4: well inside stability
        grid = uniform_grid(t0, T, n_steps)
        q = solve(sde, [b], grid, saveat=[T], n_paths=n, seed=seed + j).ys[:, 0, 0]
        v_mc = float(np.mean((q - b) ** 2))
        se = v_exact * np.sqrt(2.0 / n)  # standard error of a Gaussian sample variance
        em_rows.append(
            dict(
                t0=t0,
                n_steps=n_steps,
                var_mc=v_mc,
                var_recursion=_em_variance_recursion(a, sigma, grid),
                bias_mc=v_mc - v_exact,
                stderr=se,
                bias_from_initial_law=singular_linear_variance_gap(a, sigma, T, t0),
            )
        )
    biases = np.array([abs(r["bias_mc"]) for r in em_rows])
    rec_biases = np.array([abs(r["var_recursion"] - v_exact) for r in em_rows])

    # (ii) drift-implicit Euler from t = 0 on nested geometric grids.
    fine = geometric_grid(0.0, T, params["n_fine"], params["t_first"])
    grids = [np.concatenate([[0.0], fine[1::c]]) for c in params["coarsen"]]
    law = models.singular_linear_exact_law(a, b, sigma)
    opts = dict(scheme="theta", grids=grids, n_paths=params["ie_paths"], seed=seed)
    res = weak_order(
        sde, [b], T, lambda y: (y[:, 0] - b) ** 2, exact=law, label="implicit Euler, geometric grid", **opts
    )
    # x-axis for the order: 1 / number of steps (steps are not uniform)
    n_steps_list = np.array([g.size - 1 for g in grids])
    q_fine = solve(sde, [b], grids[-1], saveat=[T], n_paths=params["ie_paths"], scheme="theta", seed=seed + 99)
    mean_dev = abs(float(q_fine.ys[:, 0, 0].mean()) - b)
    mean_se = np.sqrt(v_exact / params["ie_paths"])

    # (iii) the stability check refuses an unstable explicit step near the singularity.
    try:
        solve(sde, [b], uniform_grid(0.01, T, 20), n_paths=2, seed=seed)  # h a / t0 = 4.95
        refused = 0.0
    except ValueError:
        refused = 1.0

    checks = [
        Check(
            "em_bias_largest_t0_over_se",
            biases[0] / em_rows[0]["stderr"],
            ">",
            4.0,
            note="bias resolved at 4 standard errors of the sample variance, sqrt(2/n) V",
        ),
        Check(
            "em_bias_decreasing_in_t0",
            float(np.all(np.diff(rec_biases) < 0)),
            ">=",
            1.0,
            note="exact EM variance recursion: bias strictly shrinks with t0 at h a/t0 = 1/4",
        ),
        Check(
            "implicit_weak_order",
            res.order,
            "in",
            (1 - ORDER_TOL_WEAK, 1 + ORDER_TOL_WEAK),
            note=f"x-axis mean step; CI [{res.ci[0]:.3f}, {res.ci[1]:.3f}]",
        ),
        Check("implicit_finest_rel_error", res.errors[-1] / v_exact, "<", 0.02),
        Check("implicit_mean_dev_over_se", mean_dev / mean_se, "<", 4.0, note="4 standard errors"),
        Check("explicit_unstable_step_refused", refused, ">=", 1.0),
    ]

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    t0s = np.array(params["t0s"])
    axes[0].errorbar(
        t0s,
        biases / v_exact,
        yerr=2 * np.array([r["stderr"] for r in em_rows]) / v_exact,
        marker="o",
        label="EM, Monte Carlo",
    )
    axes[0].plot(t0s, rec_biases / v_exact, "s--", label="EM, exact variance recursion")
    axes[0].plot(t0s, [r["bias_from_initial_law"] / v_exact for r in em_rows], "k:", label="initial-law part")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    log_ticks(axes[0], t0s)
    axes[0].set_xlabel("start time t0 (h a / t0 = 1/4)")
    axes[0].set_ylabel("relative bias of Var q_T")
    axes[0].legend(fontsize=7)
    axes[0].set_title("EM from t0 > 0 with q(t0) = b", fontsize=9)
    plot_orders([res], ax=axes[1], title="implicit Euler from t = 0, geometric grids")
    return Outcome(
        checks=checks,
        metrics=dict(
            em=em_rows,
            implicit=res.as_dict(),
            implicit_n_steps=n_steps_list.tolist(),
            exact_variance=v_exact,
            mean_deviation=mean_dev,
        ),
        figures=[save_figure(fig, outdir, "sde_singular_linear.png")],
        summary=(
            f"EM relative variance bias {biases[0] / v_exact:.3g} at t0={t0s[0]} down to "
            f"{biases[-1] / v_exact:.3g} at t0={t0s[-1]}; implicit Euler from t=0: weak order "
            f"{res.order:.3f}"
        ),
    )


def singular_linear_variance_gap(a, sigma, T, t0):
    """Variance missing at T when the exact flow starts at t0 from q(t0) = b instead of its law."""
    return models.singular_linear_variance(a, sigma, T) - models.singular_linear_variance(a, sigma, T, t0=t0)


@experiment(
    id="sde.torchsde_agreement",
    checks="with the same Brownian increments, Euler-Maruyama paths from torchsde.sdeint (float64, CPU) "
    "and from the Numba kernels agree, for GBM and a non-linear SDE with a 1/t drift",
    criterion="max |Y_numba - Y_torchsde| / max(1, |Y|) over all paths and saved times < 1e-10",
    quick=dict(n_paths=200, n_steps=200),
    full=dict(n_paths=5000, n_steps=1000),
)
def torchsde_agreement(params, *, seed, outdir):
    import torchsde  # noqa: F401  (without the torch extra the run records this experiment as skipped)

    cases = {
        "GBM": (models.gbm(1.0, 0.5), 0.0, 1.0, [1.0]),
        "singular logistic": (models.singular_logistic(), 0.2, 1.2, [1.0]),
    }
    checks, metrics = [], {}
    fig, ax = plt.subplots(figsize=(5, 4))
    for k, (name, (sde, t0, t1, y0)) in enumerate(cases.items()):
        grid = uniform_grid(t0, t1, params["n_steps"])
        dW = brownian_increments(grid, n_paths=params["n_paths"], seed=seed + k)
        a = solve(sde, y0, grid, dW=dW)
        b = solve(sde, y0, grid, dW=dW, backend="torchsde")
        dev = float(np.max(np.abs(a.ys - b.ys) / np.maximum(1.0, np.abs(a.ys))))
        # No wall times here: results.json must be the same on any machine (speed is in benchmarks/).
        metrics[name] = dict(max_rel_deviation=dev)
        checks.append(Check(f"max_rel_dev_{name.replace(' ', '_')}", dev, "<", 1e-10))
        for i in range(3):
            ax.plot(a.ts, a.ys[i, :, 0], color=f"C{k}", lw=1.5, alpha=0.6)
            ax.plot(b.ts, b.ys[i, :, 0], "--", color="k", lw=0.7)
    ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_title("Numba (colour) vs torchsde (dashed), same increments", fontsize=9)
    return Outcome(checks=checks, metrics=metrics, figures=[save_figure(fig, outdir, "sde_torchsde_agreement.png")])
