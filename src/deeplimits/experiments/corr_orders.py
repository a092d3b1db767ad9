"""Validation of the correlation SDE integrators (``corr.orders``).

Strong and weak orders of every integrator of the unshaped q-SDE (from the singular start) and
of the shaped correlation/covariance SDEs; bias of Euler on q started at t0 > 0.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.convergence import plot_orders
from deeplimits.correlation import shaped_sde, unshaped
from deeplimits.correlation.unshaped import Q_STAR, Y_STAR
from deeplimits.experiments._corr_common import fit_with_intercept, order_result, shaped_orders
from deeplimits.sde import brownian_increments, coarsen_increments, solve
from deeplimits.validation import Check, Outcome, experiment, save_figure

ORDER_TOL_STRONG = 0.2
ORDER_TOL_WEAK = 0.25
#: parameters of corr.orders common to the quick and full runs
_SHARED = dict(T=0.5, t0=0.05, kappa=10.0, rho0=-0.5, shaped_T=0.5)

# ============================================================================ corr.orders


def _J_T(grid, T, scheme="milstein", **kw):
    """``J_T`` of the J-scheme ``scheme`` on ``grid`` (one value per path)."""
    return solve(unshaped.J_sde(), [0.0], grid, scheme=scheme, saveat=[T], **kw).ys[:, 0, 0]


def _y_T(label, grid, T, **kw):
    """``y_T = q_T^{-1/2}`` of the scheme ``label``: J-euler, J-milstein, y-implicit, y-implicit-milstein."""
    if label.startswith("J"):
        return unshaped.y_from_J(T, _J_T(grid, T, label[2:], **kw))
    scheme = "implicit_milstein" if label.endswith("milstein") else "implicit_euler"
    return solve(unshaped.y_sde(), [Y_STAR], grid, scheme=scheme, saveat=[T], **kw).ys[:, 0, 0]


def _q_T(grid, T, scheme, **kw):
    """``q_T`` of a q-scheme (one value per path) and its number of reflected steps."""
    sol = solve(unshaped.q_sde(), [Q_STAR], grid, scheme=scheme, saveat=[T], **kw)
    return sol.ys[:, 0, 0], sol.stats["n_exits"]


def _unshaped_strong(params, seed):
    T, P, n_ref = params["T"], params["strong_paths"], params["n_ref"]
    g = np.linspace(0, T, n_ref + 1)
    dW = brownian_increments(g, n_paths=P, seed=seed)
    J_ref = _J_T(g, T, dW=dW)
    y_ref = unshaped.y_from_J(T, J_ref)
    Ns = np.asarray(params["strong_steps"])
    out = []
    for label, exp in [("J-euler", 0.5), ("J-milstein", 1.0), ("y-implicit", 0.5), ("y-implicit-milstein", 1.0)]:
        errs, ses = [], []
        for N in Ns:
            y = _y_T(label, np.linspace(0, T, N + 1), T, dW=coarsen_increments(dW, n_ref // N))
            e = np.abs(y - y_ref)
            errs.append(e.mean())
            ses.append(e.std() / np.sqrt(P))
        out.append(order_result("strong", f"unshaped {label} (E|y_h - y|)", T / Ns, errs, exp, P, ses))
    # drift-implicit (theta = 1) Euler / Milstein on q itself from t = 0, error E|log q_h - log q|
    lq_ref = np.log(Q_STAR * T**2 / J_ref**2)
    for milstein, key, exp in [(True, "q_mil_strong_steps", 1.0), (False, "q_strong_steps", 0.5)]:
        Nq = np.asarray(params[key])
        errs, ses = [], []
        for N in Nq:
            scheme = "implicit_milstein" if milstein else "implicit_euler"
            q, _ = _q_T(np.linspace(0, T, N + 1), T, scheme, dW=coarsen_increments(dW, n_ref // N))
            e = np.abs(np.log(q) - lq_ref)
            errs.append(e.mean())
            ses.append(e.std() / np.sqrt(P))
        name = "milstein" if milstein else "euler"
        out.append(
            order_result(
                "strong", f"unshaped q-implicit-{name} from t=0 (E|log q_h - log q|)", T / Nq, errs, exp, P, ses
            )
        )
    return out


def _unshaped_weak(params, seed):
    """Weak errors in E[q_T^{-1}] against the closed form, with an exact control variate.

    Every scheme is run with the seed of a J-Milstein run (same Brownian increments); the
    J-Milstein scheme's E[J_N^2] is an exact recursion (``J_scheme_moments``), so
    E[f_scheme] = E[f_scheme - f_JM] + E_exact[f_JM] has the small variance of a coupled difference.
    (For J-Milstein itself the difference is zero and its weak error is exact.)
    """
    T, P = params["T"], params["weak_paths"]
    Ns = np.asarray(params["weak_steps"])
    exact = unshaped.mean_inv_q(T)
    out = []
    for label in ["J-euler", "J-milstein", "y-implicit", "y-implicit-milstein"]:
        errs, ses = [], []
        for k, N in enumerate(Ns):
            gc = np.linspace(0, T, N + 1)
            s_ = seed * 1000 + k
            y = _y_T(label, gc, T, n_paths=P, seed=s_)
            d = y**2 - _y_T("J-milstein", gc, T, n_paths=P, seed=s_) ** 2
            cv = unshaped.J_scheme_moments(gc)[1][-1] * Y_STAR**2 / T**2
            errs.append(abs(d.mean() + cv - exact))
            ses.append(d.std() / np.sqrt(P))
        out.append(order_result("weak", f"unshaped {label} (E[1/q] closed form, exact CV)", T / Ns, errs, 1.0, P, ses))
    # drift-implicit q-schemes: control variate J-Milstein on the same seed, whose E[J_N^2] is exact
    for milstein, key in [(True, "q_mil_weak_steps"), (False, "q_weak_steps")]:
        Nq = np.asarray(params[key])
        errs, ses = [], []
        for k, N in enumerate(Nq):
            g = np.linspace(0, T, N + 1)
            s_ = seed * 1000 + 500 + k
            scheme = "implicit_milstein" if milstein else "implicit_euler"
            q, _ = _q_T(g, T, scheme, n_paths=params["q_weak_paths"], seed=s_)
            d = 1.0 / q - _y_T("J-milstein", g, T, n_paths=params["q_weak_paths"], seed=s_) ** 2
            cv = unshaped.J_scheme_moments(g)[1][-1] * Y_STAR**2 / T**2
            errs.append(abs(d.mean() + cv - exact))
            ses.append(d.std() / np.sqrt(d.size))
        name = "milstein" if milstein else "euler"
        out.append(
            order_result(
                "weak",
                f"unshaped q-implicit-{name} (E[1/q] closed form, exact CV)",
                T / Nq,
                errs,
                1.0,
                params["q_weak_paths"],
                ses,
            )
        )
    return out


def _q_em_from_t0(params, seed):
    """Weak order in h of Euler/Milstein on q from t0 (control variate), and the start bias table."""
    T, t0, P = params["T"], params["t0"], params["cv_paths"]
    exact = {1: unshaped.mean_y_from_t0(T, t0), 2: unshaped.second_moment_y_from_t0(T, t0)}
    out = []
    for milstein, Ns in [(False, params["q_em_steps"]), (True, params["q_mil_steps"])]:
        Ns = np.asarray(Ns)
        errs, ses = {1: [], 2: []}, {1: [], 2: []}
        for N in Ns:
            g = np.linspace(t0, T, N + 1)
            q, _ = _q_T(g, T, "milstein" if milstein else "euler", n_paths=P, seed=seed + 7)
            ycv = _y_T("y-implicit-milstein", g, T, n_paths=P, seed=seed + 7)
            mom = unshaped.y_implicit_scheme_moments(g, milstein=True)
            for p_ in (1, 2):
                d = q ** (-p_ / 2) - ycv**p_
                errs[p_].append(abs(d.mean() + mom[p_ - 1][-1] - exact[p_]))
                ses[p_].append(d.std() / np.sqrt(P))
        name = "milstein" if milstein else "euler"
        for p_, f in [(1, "E[q^-1/2]"), (2, "E[q^-1]")]:
            out.append(
                order_result(
                    "weak",
                    f"q-{name} from t0={t0} ({f}, start-t0 closed form)",
                    (T - t0) / Ns,
                    errs[p_],
                    1.0,
                    P,
                    ses[p_],
                )
            )
    # total bias of E[q_T^{-1/2}] against the exact singular-start mean, as a function of t0 and h:
    # start bias (closed form, O(t0^2)) + step bias (measured above for t0 = params["t0"])
    table = []
    for t0_ in params["t0_table"]:
        table.append(
            dict(
                t0=t0_,
                start_bias_E_y=float(unshaped.mean_y_from_t0(T, t0_) - unshaped.mean_y(T)),
                start_bias_E_inv_q=float(unshaped.second_moment_y_from_t0(T, t0_) - unshaped.mean_inv_q(T)),
            )
        )
    # total bias of Euler on q, E[q_T^{-1/2}] - (exact singular-start mean), on an (h, t0) table, same
    # control variate; per t0 the fit  bias(h) = B(t0) + c h  extrapolates to h -> 0, and the simulated
    # start bias B(t0) is compared with the closed form (mean_y_from_t0 - mean_y)
    step_table, start_fit = [], []
    for t0_ in params["bias_t0"]:
        hs, tot, ses = [], [], []
        for h in params["bias_h"]:
            N = int(round((T - t0_) / h))
            g = np.linspace(t0_, T, N + 1)
            q, n_exits = _q_T(g, T, "euler", n_paths=params["bias_paths"], seed=seed + 11)
            ycv = _y_T("y-implicit-milstein", g, T, n_paths=params["bias_paths"], seed=seed + 11)
            d = q**-0.5 - ycv
            m = d.mean() + unshaped.y_implicit_scheme_mean(g)[-1]
            hs.append((T - t0_) / N)
            tot.append(float(m - unshaped.mean_y(T)))
            ses.append(float(d.std() / np.sqrt(d.size)))
            step_table.append(
                dict(
                    h=hs[-1],
                    t0=t0_,
                    step_bias=float(m - unshaped.mean_y_from_t0(T, t0_)),
                    total_bias=tot[-1],
                    stderr=ses[-1],
                    n_reflected=n_exits,
                )
            )
        B, c, seB = fit_with_intercept(hs, tot, 1.0 / np.square(ses))
        closed = float(unshaped.mean_y_from_t0(T, t0_) - unshaped.mean_y(T))
        start_fit.append(
            dict(t0=t0_, B_sim=float(B), B_se=seB, B_closed=closed, step_coef=float(c[0]), z=float((B - closed) / seB))
        )
    return out, table, step_table, start_fit


@experiment(
    id="corr.orders",
    checks="strong and weak orders of every integrator of the unshaped q-SDE started at the singular t = 0 "
    "(regular J-equation, drift-implicit y-scheme, drift-implicit Euler/Milstein on q itself), of "
    "Euler/Milstein on q from t0 > 0 with the asymptotic start (and its start bias, extrapolated h -> 0, "
    "against the closed form), and of the shaped correlation (Fisher-z) and covariance (factor) SDEs; "
    "consistency only: the schemes are compared with each other and with closed forms of the same SDEs, so an "
    "error in an SDE coefficient shared by both sides cannot be seen",
    criterion="fitted log-log slopes over >= 4 step sizes within +-0.2 (strong) / +-0.25 (weak) of theory; weak "
    "errors resolved (finest error > 3 standard errors); simulated start bias of Euler-from-t0 within "
    "4 standard errors of the closed form at every t0",
    quick=dict(
        _SHARED,
        n_ref=8192,
        strong_paths=1000,
        strong_steps=[32, 64, 128, 256, 512],
        q_strong_steps=[256, 512, 1024, 2048],
        q_mil_strong_steps=[32, 64, 128, 256],
        weak_paths=20_000,
        weak_steps=[16, 32, 64, 128],
        q_weak_paths=20_000,
        q_mil_weak_steps=[16, 32, 64, 128],
        q_weak_steps=[128, 256, 512, 1024],
        cv_paths=40_000,
        q_em_steps=[128, 256, 512, 1024],
        q_mil_steps=[64, 128, 256, 512],
        t0_table=[0.2, 0.1, 0.05, 0.02, 0.01],
        bias_h=[1 / 256, 1 / 512, 1 / 1024],
        bias_t0=[0.2, 0.1, 0.05],
        bias_paths=6_000,
        shaped_steps=[8, 16, 32, 64, 128],
        shaped_paths=5000,
        shaped_ref=512,
        cov_steps=[8, 16, 32, 64],
        cov_weak_steps=[4, 8, 16, 32],
        cov_paths=3000,
        cov_ref=512,
        path_samples=2000,
    ),
    full=dict(
        _SHARED,
        n_ref=16384,
        strong_paths=10_000,
        strong_steps=[32, 64, 128, 256, 512, 1024],
        q_strong_steps=[256, 512, 1024, 2048, 4096],
        q_mil_strong_steps=[32, 64, 128, 256, 512],
        weak_paths=200_000,
        weak_steps=[16, 32, 64, 128, 256],
        q_weak_paths=100_000,
        q_mil_weak_steps=[16, 32, 64, 128, 256],
        q_weak_steps=[128, 256, 512, 1024, 2048],
        cv_paths=100_000,
        q_em_steps=[128, 256, 512, 1024, 2048],
        q_mil_steps=[64, 128, 256, 512, 1024],
        t0_table=[0.2, 0.1, 0.05, 0.02, 0.01, 0.005],
        bias_h=[1 / 256, 1 / 512, 1 / 1024, 1 / 2048],
        bias_t0=[0.2, 0.1, 0.05, 0.025],
        bias_paths=40_000,
        shaped_steps=[8, 16, 32, 64, 128, 256],
        shaped_paths=50_000,
        shaped_ref=1024,
        cov_steps=[8, 16, 32, 64, 128],
        cov_weak_steps=[4, 8, 16, 32, 64],
        cov_paths=10_000,
        cov_ref=1024,
        path_samples=20_000,
    ),
)
def orders(params, *, seed, outdir):
    res_strong = _unshaped_strong(params, seed)
    res_weak = _unshaped_weak(params, seed)
    res_t0, bias_table, step_table, start_fit = _q_em_from_t0(params, seed)
    res_shaped = shaped_orders(params, seed)
    allres = res_strong + res_weak + res_t0 + res_shaped
    checks = []
    for r in allres:
        checks.append(_order_check(r))
        if r.kind == "weak" and np.any(r.stderr > 0):  # (J-Milstein with its own exact CV: no MC error)
            checks.append(
                Check(
                    f"weak_resolved[{r.label}]",
                    float(r.errors[-1] / max(r.stderr[-1], 1e-300)),
                    ">",
                    3.0,
                    note="finest weak error / its standard error",
                )
            )
    for row in start_fit:
        checks.append(
            Check(
                f"q_em_start_bias_z[t0={row['t0']}]",
                abs(row["z"]),
                "<",
                4.0,
                note=f"simulated B(t0) = {row['B_sim']:.3e} +- {row['B_se']:.1e} (extrapolated h -> 0) vs "
                f"closed form {row['B_closed']:.3e}",
            )
        )
    # One panel per row: each legend (outside, to the right) has the figure's full height share.
    fig, axs = plt.subplots(3, 1, figsize=(10, 12))
    plot_orders(res_strong, ax=axs[0], title="unshaped q-SDE: strong (from t = 0)")
    plot_orders(res_weak + res_t0, ax=axs[1], title="unshaped q-SDE: weak")
    plot_orders(res_shaped, ax=axs[2], title="shaped correlation / covariance")
    fig_path = save_figure(fig, outdir, "corr_orders.png")
    paths_path = _sample_paths_figure(params, seed, outdir)
    metrics = {r.label: r.as_dict() for r in allres}
    metrics["q_em_start_bias_table"] = bias_table
    metrics["q_em_step_bias_table"] = step_table
    metrics["q_em_start_bias_extrapolated"] = start_fit
    summary = "; ".join(f"{r.label}: {r.kind} {r.order:.2f} ({r.expected})" for r in allres)
    return Outcome(checks=checks, metrics=metrics, figures=[fig_path, paths_path], summary=summary)


def _order_check(r):
    """The fitted order of ``r`` within the tolerance of its kind (strong or weak) of the theory."""
    tol = ORDER_TOL_STRONG if r.kind == "strong" else ORDER_TOL_WEAK
    lo, hi = r.expected - tol, r.expected + tol
    return Check(f"{r.kind}_order[{r.label}]", r.order, "in", (lo, hi), note=f"theory {r.expected} +- {tol}")


def _sample_paths_figure(params, seed, outdir):
    """Sample paths of q_t (through J, from t = 0) and of the shaped correlation, with their means."""
    T = 1.0
    g = np.linspace(0, T, 1025)
    J = solve(unshaped.J_sde(), [0.0], g, n_paths=params["path_samples"], seed=seed + 21, scheme="milstein").ys[:, :, 0]
    qi = solve(unshaped.q_sde(), [Q_STAR], g, n_paths=8, seed=seed + 21, scheme="implicit_milstein").ys[:, :, 0]
    q = unshaped.q_from_J(g[None, :], J)
    y = unshaped.y_from_J(g[None, :], J)
    fig, axs = plt.subplots(1, 3, figsize=(15, 4.2))
    for i in range(8):
        axs[0].plot(g, q[i], lw=0.8)
        axs[0].plot(g, qi[i], "k:", lw=0.6)
    axs[0].axhline(Q_STAR, c="k", lw=0.5)
    axs[0].set_yscale("log")
    axs[0].set_xlabel("t = l / n")
    axs[0].set_title("unshaped $q_t$ (J-Milstein; dotted: q-implicit, same noise)", fontsize=9)
    axs[0].set_ylabel("$q_t = l^2 (1 - \\rho_l)$")
    axs[1].set_ylabel("$y_t = q_t^{-1/2}$")
    axs[1].plot(g, y.mean(axis=0), label=f"mean of {y.shape[0]} paths")
    axs[1].plot(g[1:], unshaped.mean_y(g[1:]), "--", label="closed form $E[q_t^{-1/2}]$")
    axs[1].fill_between(g, np.quantile(y, 0.05, axis=0), np.quantile(y, 0.95, axis=0), alpha=0.2, label="5-95%")
    axs[1].set_xlabel("t")
    axs[1].legend(fontsize=7)
    ts = np.linspace(0, 1.0, 201)
    rho = shaped_sde.sample_correlation(
        0.3, 1.0, 0.0, -1.0, n_paths=params["path_samples"], seed=seed + 22, n_steps=200, saveat=ts
    )
    for i in range(8):
        axs[2].plot(ts, rho[i], lw=0.8)
    axs[2].plot(ts, rho.mean(axis=0), "k", lw=2, label="mean")
    axs[2].set_ylim(-1, 1)
    axs[2].set_xlabel("tau = l / n")
    axs[2].set_title("shaped ReLU correlation, kappa = 1 (Fisher-z Euler)", fontsize=9)
    axs[2].legend(fontsize=7)
    return save_figure(fig, outdir, "corr_sample_paths.png")
