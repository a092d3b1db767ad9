"""Validation of the infinite-width correlation maps and of the correlation SDE integrators.

Experiments
-----------
``corr.infinite_width``
    Exact maps against one-layer Monte Carlo; u-form accuracy against mpmath; the depth
    recursion to l = 1e6 against the 9 pi^2/(2 l^2) asymptote and its log correction; and the
    one-layer conditional moments at finite width that *define* the limit SDEs (unshaped:
    drift 2u/n and variance 8u^2/n; shaped: drift nu(rho) - rho(1-rho^2)/2 and variance (1-rho^2)^2).
``corr.orders``
    Strong and weak orders of every integrator of the unshaped q-SDE (from the singular start) and
    of the shaped correlation/covariance SDEs; bias of Euler on q started at t0 > 0.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from deeplimits.convergence import OrderResult, fit_order, plot_orders
from deeplimits.correlation import maps, odes, shaped_sde, unshaped_sde
from deeplimits.correlation.unshaped_sde import Q_STAR, Y_STAR
from deeplimits.sde import brownian_increments, coarsen_increments, solve, uniform_grid
from deeplimits.validation import Check, Outcome, experiment, save_figure

ORDER_TOL_STRONG = 0.2
ORDER_TOL_WEAK = 0.25


def _fit_with_intercept(x, y, w=None, deg=1):
    """Weighted least squares y = a + b x (+ c x^2); returns (a, [b, c...], se_a)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    A = np.vstack([x**k for k in range(deg + 1)]).T * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)
    cov = np.linalg.inv(A.T @ A)
    return coef[0], coef[1:], float(np.sqrt(cov[0, 0]))


# ============================================================================ corr.infinite_width


@experiment(
    id="corr.infinite_width",
    checks="exact (leaky) ReLU correlation maps against one-layer Monte Carlo; u-form accuracy; the depth "
    "recursion's 9 pi^2/2 asymptote and -3 log(l)/l correction, and its rounding against long double; "
    "finite-width one-layer conditional moments that define the unshaped q-SDE (drift 2u/n, variance "
    "8u^2/n) and the shaped SDE; the d << n limits of the shaped MLP and the ResNet coincide",
    criterion="MC means within 4.5 standard errors of the closed form (max over 16 points: Bonferroni-level "
    "~1e-4); u-map within 4 ulp of mpmath; |l^2 u_l / (9 pi^2/2) - 1| < 1e-4 at l = 1e6; fitted log "
    "coefficient -3 +- 0.05; float64 recursion within 1e-12 relative of a long-double recursion at l = 1e5 (full: "
    "1e6); the unshaped drift constant (extrapolated to n = inf) within 4 SE of 2 and "
    "the variance constant within 4 SE of 8; shaped drift and variance within 4 SE of the SDE's; the "
    "shaped-MLP/ResNet finite-depth gap of order 1 +- 0.2 in 1/d when (c+ - c-)^2 = sigma_r^2 and > 0.05 "
    "at every depth otherwise",
    quick=dict(
        n_mc=200_000,
        widths=[32, 64, 128, 256],
        n_layers=100_000,
        u_small=1e-4,
        shaped_widths=[64, 256],
        n_shaped=100_000,
        ref_depth=100_000,
        ode_depths=[16, 32, 64, 128, 256, 512],
    ),
    full=dict(
        n_mc=2_000_000,
        widths=[64, 128, 256, 512, 1024],
        n_layers=400_000,
        u_small=1e-5,
        shaped_widths=[64, 256, 1024],
        n_shaped=400_000,
        ref_depth=1_000_000,
        ode_depths=[16, 32, 64, 128, 256, 512, 1024, 2048],
    ),
)
def infinite_width(params, *, seed, outdir):
    checks, metrics = [], {}
    rng = np.random.default_rng(seed)
    # (a) E[c phi(z1) phi(z2)] against the closed form
    zmax = 0.0
    for sp, sm in [(1.0, 0.0), (1.2, 0.5)]:
        c = 2.0 / (sp**2 + sm**2)
        for rho in [-0.95, -0.5, -0.1, 0.2, 0.5, 0.8, 0.95, 0.999]:
            n = params["n_mc"]
            z1 = rng.standard_normal(n)
            z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
            prod = c * np.where(z1 > 0, sp * z1, sm * z1) * np.where(z2 > 0, sp * z2, sm * z2)
            z = abs(prod.mean() - float(maps.corr_map(rho, sp, sm))) / (prod.std() / np.sqrt(n))
            zmax = max(zmax, z)
    checks.append(Check("map_mc_max_z", zmax, "<", 4.5, note="16 points; 4.5 SE ~ family-wise level 1e-4"))
    # (b) u-form accuracy against mpmath (60 digits)
    try:
        import mpmath as mp

        mp.mp.dps = 60
        us = np.logspace(-300, np.log10(2.0), 120)
        ref = []
        for x in us:
            xm = mp.mpf(x)
            th = 2 * mp.asin(mp.sqrt(xm / 2))
            ref.append(float(xm - (mp.sin(th) - th * mp.cos(th)) / mp.pi))
        ulp = float(np.max(np.abs(maps.corr_map_u(us) - ref) / np.asarray(ref)) / np.finfo(float).eps)
        checks.append(Check("u_map_max_rel_error_ulp", ulp, "<", 4.0, note="u from 1e-300 to 2"))
        metrics["u_map_max_rel_error_ulp"] = ulp
    except ImportError:  # pragma: no cover
        metrics["u_map_max_rel_error_ulp"] = "mpmath not installed"
    # (c) recursion to 1e6
    u = maps.depth_recursion_u(0.5, 10**6, stride=10)
    ell = np.arange(u.size) * 10.0
    ratio = ell[-1] ** 2 * u[-1] / Q_STAR - 1
    sel = ell >= 1e3
    slope = np.polyfit(np.log(ell[sel]), (ell[sel] ** 2 * u[sel] / Q_STAR - 1) * ell[sel], 1)[0]
    checks.append(Check("asymptote_rel_dev_l1e6", abs(ratio), "<", 1e-4))
    checks.append(Check("log_correction_coefficient", slope, "in", (-3.05, -2.95)))
    metrics.update(l2u_over_qstar_minus1_at_1e6=float(ratio), log_coefficient=float(slope))
    # (c') accumulated rounding: float64 recursion in u against the long-double recursion, and the naive
    # recursion on rho (closed-form f, then 1 - rho), at l = ref_depth
    L = params["ref_depth"]
    if np.finfo(np.longdouble).eps < 1e-18:
        ref = float(maps.depth_recursion_reference(0.5, L, stride=L)[-1])
        rel = abs(u[L // 10] / ref - 1)
        rho_naive = 0.5
        for _ in range(L):
            th = np.arccos(rho_naive)
            rho_naive = rho_naive + (np.sin(th) - th * np.cos(th)) / np.pi
        naive = abs((1 - rho_naive) / ref - 1)
        checks.append(
            Check(
                "recursion_vs_long_double_rel",
                rel,
                "<",
                1e-12,
                note=f"l = {L}; the naive rho recursion is off by {naive:.1e}",
            )
        )
        metrics.update(recursion_vs_long_double_rel=float(rel), naive_rho_recursion_rel=float(naive))
    # (d) unshaped one-layer conditional moments at finite width
    us_ = params["u_small"]
    u_inf = float(maps.corr_map_u(us_))
    drift_c, drift_se, var_c, var_se = [], [], [], []
    for k, n in enumerate(params["widths"]):
        up, _ = maps.sample_one_layer(us_, n, params["n_layers"], seed=seed * 1000 + k)
        up = up[np.isfinite(up)]
        R = up.size
        drift_c.append(n * (up.mean() - u_inf) / us_)
        drift_se.append(n * up.std() / np.sqrt(R) / us_)
        v = up.var()
        # SE of a sample variance: sqrt((m4 - v^2)/R)
        var_c.append(n * v / us_**2)
        var_se.append(n * np.sqrt(np.mean((up - up.mean()) ** 4) - v**2) / np.sqrt(R) / us_**2)
    inv_n = 1.0 / np.asarray(params["widths"], float)
    # finite-width corrections: a + b/n + c/n^2 (a linear fit in 1/n is biased: measured curvature)
    a_d, b_d, se_d = _fit_with_intercept(inv_n, drift_c, 1 / np.square(drift_se), deg=2)
    a_v, b_v, se_v = _fit_with_intercept(inv_n, var_c, 1 / np.square(var_se), deg=2)
    checks.append(
        Check(
            "unshaped_drift_constant_extrapolated",
            abs(a_d - 2.0) / se_d,
            "<",
            4.0,
            note=f"n(E[u']-u_inf)/u -> {a_d:.3f} +- {se_d:.3f} (theory 2)",
        )
    )
    checks.append(
        Check(
            "unshaped_variance_constant_extrapolated",
            abs(a_v - 8.0) / se_v,
            "<",
            4.0,
            note=f"n Var[u']/u^2 -> {a_v:.3f} +- {se_v:.3f} (theory 8); 1/n, 1/n^2 terms {b_v.round(1).tolist()}",
        )
    )
    metrics.update(
        unshaped_drift=dict(
            widths=params["widths"],
            values=drift_c,
            se=drift_se,
            limit=a_d,
            limit_se=se_d,
            corrections_1_over_n=b_d.tolist(),
        ),
        unshaped_variance=dict(
            widths=params["widths"],
            values=var_c,
            se=var_se,
            limit=a_v,
            limit_se=se_v,
            corrections_1_over_n=b_v.tolist(),
        ),
    )
    # (e) shaped one-layer moments (c+ = 0, c- = -1, kappa = 1) at rho = 0.3
    rho = 0.3
    th_drift = float(shaped_sde.nu(rho, 1.0)) - rho * (1 - rho**2) / 2
    th_var = (1 - rho**2) ** 2
    sh = []
    for k, n in enumerate(params["shaped_widths"]):
        sp, sm = maps.shaped_slopes(0.0, -1.0, n)
        _, rp = maps.sample_one_layer(1 - rho, n, params["n_shaped"], seed=seed * 1000 + 100 + k, s_plus=sp, s_minus=sm)
        d = rp[np.isfinite(rp)] - rho
        R = d.size
        dm, dse = n * d.mean(), n * d.std() / np.sqrt(R)
        v = d.var()
        vm, vse = n * v, n * np.sqrt(np.mean((d - d.mean()) ** 4) - v**2) / np.sqrt(R)
        sh.append(dict(n=n, drift=dm, drift_se=dse, var=vm, var_se=vse))
    last = sh[-1]
    checks.append(
        Check(
            "shaped_drift_z",
            abs(last["drift"] - th_drift) / last["drift_se"],
            "<",
            4.0,
            note=f"n E[rho'-rho] = {last['drift']:.4f} +- {last['drift_se']:.4f}, SDE {th_drift:.4f}",
        )
    )
    # the variance has an O(n^{-1/2}) correction: allow it on top of 4 SE
    checks.append(
        Check(
            "shaped_variance_rel_dev",
            abs(last["var"] - th_var) / th_var,
            "<",
            4 * last["var_se"] / th_var + 2 / np.sqrt(last["n"]),
            note=f"n Var = {last['var']:.4f} +- {last['var_se']:.4f}, SDE {th_var:.4f}",
        )
    )
    metrics["shaped_one_layer"] = sh

    # (f) d << n limits: the infinite-width shaped MLP (s_pm = 1 + c_pm/sqrt(d)) and the ResNet with a d^{-1/2}
    # branch, two independent finite-depth recursions, approach each other iff (c+ - c-)^2 = sigma_r^2
    depths = np.asarray(params["ode_depths"])
    V0 = np.array([[1.0, -0.3], [-0.3, 1.0]])
    gaps = {}
    for label, (cp, cm, sig) in {"kappa = sigma_r^2": (0.6, -0.6, 1.2), "kappa != sigma_r^2": (0.6, -0.6, 1.0)}.items():
        gap = []
        for d in depths:
            V = odes.resnet_recursion(V0, d, sig)
            u_res = 1 - V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])
            gap.append(float(np.max(np.abs(odes.shaped_mlp_recursion(-0.3, d, cp, cm) - u_res))))
        gaps[label] = gap
    gap_order = fit_order(1.0 / depths, gaps["kappa = sigma_r^2"])
    checks.append(
        Check(
            "resnet_vs_shaped_gap_order",
            gap_order,
            "in",
            (0.8, 1.2),
            note="max_l |u_l(shaped MLP) - u_l(ResNet)| = O(1/d) when (c+ - c-)^2 = sigma_r^2, c+ + c- = 0",
        )
    )
    checks.append(
        Check(
            "resnet_vs_shaped_gap_mismatched",
            min(gaps["kappa != sigma_r^2"]),
            ">",
            0.05,
            note="no convergence when (c+ - c-)^2 != sigma_r^2",
        )
    )
    metrics["resnet_vs_shaped_gaps"] = dict(depths=depths.tolist(), **gaps, order=gap_order)

    fig, axs = plt.subplots(1, 4, figsize=(17, 4))
    lv = np.unique(np.logspace(0, 6, 200).astype(int))
    uu = maps.depth_recursion_u(0.5, 10**6)
    axs[0].semilogx(lv, lv**2 * uu[lv] / Q_STAR, label="recursion $l^2 u_l / q^*$")
    axs[0].semilogx(
        lv[lv > 5], maps.relu_asymptote(lv[lv > 5]) * lv[lv > 5] ** 2 / Q_STAR, "--", label="$1 - 3\\log l / l$"
    )
    axs[0].set_ylim(0.5, 1.05)
    axs[0].set_xlabel("layer l")
    axs[0].legend()
    axs[1].errorbar(params["widths"], drift_c, yerr=2 * np.asarray(drift_se), marker="o", label="drift n(E u'-u_inf)/u")
    axs[1].errorbar(params["widths"], var_c, yerr=2 * np.asarray(var_se), marker="s", label="var n Var u'/u^2")
    axs[1].axhline(2, ls="--", c="C0")
    axs[1].axhline(8, ls="--", c="C1")
    axs[1].set_xscale("log")
    axs[1].set_xlabel("width n")
    axs[1].set_title(f"one unshaped layer at u = {us_:g}")
    axs[1].legend()
    r = np.linspace(-1, 1, 201)
    axs[2].plot(r, maps.corr_map(r), label="ReLU")
    axs[2].plot(r, maps.corr_map(r, 1.2, 0.5), label="leaky (1.2, 0.5)")
    axs[2].plot(r, r, ":", c="k")
    axs[2].set_xlabel("rho")
    axs[2].legend()
    for label, gap in gaps.items():
        axs[3].loglog(depths, gap, "o-", label=label)
    axs[3].loglog(depths, gaps["kappa = sigma_r^2"][0] * depths[0] / depths, "k--", lw=0.8, label="1/d")
    axs[3].set_xlabel("depth d")
    axs[3].set_title("shaped MLP vs ResNet (infinite width)", fontsize=9)
    axs[3].legend(fontsize=7)
    for ax in (axs[1], axs[3]):
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig_path = save_figure(fig, outdir, "corr_infinite_width.png")
    summary = (
        f"maps match MC (max z {zmax:.2f}); l^2 u_l/q* - 1 = {ratio:.2e} at l = 1e6, log coefficient "
        f"{slope:.3f}; unshaped one-layer constants: drift {a_d:.2f} +- {se_d:.2f} (2), variance "
        f"{a_v:.2f} +- {se_v:.2f} (8), Var = (8 + {b_v[0]:.0f}/n + {b_v[1]:.0f}/n^2) u^2/n"
    )
    return Outcome(checks=checks, metrics=metrics, figures=[fig_path], summary=summary)


# ============================================================================ corr.orders


def _order_result(kind, label, hs, per_path_or_errors, expected, n_paths, stderr=None):
    errs = np.asarray(per_path_or_errors, float)
    se = np.zeros_like(errs) if stderr is None else np.asarray(stderr, float)
    return OrderResult(
        kind, label, np.asarray(hs, float), errs, se, fit_order(hs, errs), (np.nan, np.nan), expected, n_paths, label
    )


def _unshaped_strong(params, seed):
    T, P, n_ref = params["T"], params["strong_paths"], params["n_ref"]
    g = np.linspace(0, T, n_ref + 1)
    dW = unshaped_sde.brownian_increments(g, P, seed)
    _, Jr = unshaped_sde.simulate_J(g, dW=dW, saveat=[T])
    y_ref = unshaped_sde.y_from_J(T, Jr[:, 0])
    Ns = np.asarray(params["strong_steps"])
    out = []
    for label, exp in [("J-euler", 0.5), ("J-milstein", 1.0), ("y-implicit", 0.5), ("y-implicit-milstein", 1.0)]:
        errs, ses = [], []
        for N in Ns:
            dWc = unshaped_sde.coarsen_increments(dW, n_ref // N)
            gc = np.linspace(0, T, N + 1)
            if label.startswith("J"):
                _, J = unshaped_sde.simulate_J(gc, dW=dWc, scheme=label[2:], saveat=[T])
                y = unshaped_sde.y_from_J(T, J[:, 0])
            else:
                y = unshaped_sde.simulate_y_implicit(gc, dW=dWc, milstein=label.endswith("milstein"), saveat=[T])[1][
                    :, 0
                ]
            e = np.abs(y - y_ref)
            errs.append(e.mean())
            ses.append(e.std() / np.sqrt(P))
        out.append(_order_result("strong", f"unshaped {label} (E|y_h - y|)", T / Ns, errs, exp, P, ses))
    # drift-implicit (theta = 1) Euler / Milstein on q itself from t = 0, error E|log q_h - log q|
    lq_ref = np.log(Q_STAR * T**2 / Jr[:, 0] ** 2)
    for milstein, key, exp in [(True, "q_mil_strong_steps", 1.0), (False, "q_strong_steps", 0.5)]:
        Nq = np.asarray(params[key])
        errs, ses = [], []
        for N in Nq:
            _, q = unshaped_sde.simulate_q_implicit(
                np.linspace(0, T, N + 1),
                dW=unshaped_sde.coarsen_increments(dW, n_ref // N),
                milstein=milstein,
                saveat=[T],
            )
            e = np.abs(np.log(q[:, 0]) - lq_ref)
            errs.append(e.mean())
            ses.append(e.std() / np.sqrt(P))
        name = "milstein" if milstein else "euler"
        out.append(
            _order_result(
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
    exact = unshaped_sde.mean_inv_q(T)
    out = []
    for label in ["J-euler", "J-milstein", "y-implicit", "y-implicit-milstein"]:
        errs, ses = [], []
        for k, N in enumerate(Ns):
            gc = np.linspace(0, T, N + 1)
            s_ = seed * 1000 + k
            if label.startswith("J"):
                _, J = unshaped_sde.simulate_J(gc, n_paths=P, seed=s_, scheme=label[2:], saveat=[T])
                y = unshaped_sde.y_from_J(T, J[:, 0])
            else:
                y = unshaped_sde.simulate_y_implicit(
                    gc, n_paths=P, seed=s_, milstein=label.endswith("milstein"), saveat=[T]
                )[1][:, 0]
            _, Jm = unshaped_sde.simulate_J(gc, n_paths=P, seed=s_, scheme="milstein", saveat=[T])
            d = y**2 - unshaped_sde.y_from_J(T, Jm[:, 0]) ** 2
            cv = unshaped_sde.J_scheme_moments(gc)[1][-1] * Y_STAR**2 / T**2
            errs.append(abs(d.mean() + cv - exact))
            ses.append(d.std() / np.sqrt(P))
        out.append(_order_result("weak", f"unshaped {label} (E[1/q] closed form, exact CV)", T / Ns, errs, 1.0, P, ses))
    # drift-implicit q-schemes: control variate J-Milstein on the same seed, whose E[J_N^2] is exact
    for milstein, key in [(True, "q_mil_weak_steps"), (False, "q_weak_steps")]:
        Nq = np.asarray(params[key])
        errs, ses = [], []
        for k, N in enumerate(Nq):
            g = np.linspace(0, T, N + 1)
            s_ = seed * 1000 + 500 + k
            _, q = unshaped_sde.simulate_q_implicit(
                g, n_paths=params["q_weak_paths"], seed=s_, milstein=milstein, saveat=[T]
            )
            _, J = unshaped_sde.simulate_J(g, n_paths=params["q_weak_paths"], seed=s_, scheme="milstein", saveat=[T])
            d = 1.0 / q[:, 0] - unshaped_sde.y_from_J(T, J[:, 0]) ** 2
            cv = unshaped_sde.J_scheme_moments(g)[1][-1] * Y_STAR**2 / T**2
            errs.append(abs(d.mean() + cv - exact))
            ses.append(d.std() / np.sqrt(d.size))
        name = "milstein" if milstein else "euler"
        out.append(
            _order_result(
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
    exact = {1: unshaped_sde.mean_y_from_t0(T, t0), 2: unshaped_sde.second_moment_y_from_t0(T, t0)}
    out = []
    for milstein, Ns in [(False, params["q_em_steps"]), (True, params["q_mil_steps"])]:
        Ns = np.asarray(Ns)
        errs, ses = {1: [], 2: []}, {1: [], 2: []}
        for N in Ns:
            g = np.linspace(t0, T, N + 1)
            _, q = unshaped_sde.simulate_q_em(g, n_paths=P, seed=seed + 7, saveat=[T], milstein=milstein)
            _, ycv = unshaped_sde.simulate_y_implicit(g, n_paths=P, seed=seed + 7, saveat=[T], y0=Y_STAR)
            mom = unshaped_sde.y_implicit_scheme_moments(g, milstein=True)
            for p_ in (1, 2):
                d = q[:, 0] ** (-p_ / 2) - ycv[:, 0] ** p_
                errs[p_].append(abs(d.mean() + mom[p_ - 1][-1] - exact[p_]))
                ses[p_].append(d.std() / np.sqrt(P))
        name = "milstein" if milstein else "euler"
        for p_, f in [(1, "E[q^-1/2]"), (2, "E[q^-1]")]:
            out.append(
                _order_result(
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
                start_bias_E_y=float(unshaped_sde.mean_y_from_t0(T, t0_) - unshaped_sde.mean_y(T)),
                start_bias_E_inv_q=float(unshaped_sde.second_moment_y_from_t0(T, t0_) - unshaped_sde.mean_inv_q(T)),
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
            _, q, n_refl = unshaped_sde.simulate_q_em(
                g, n_paths=params["bias_paths"], seed=seed + 11, saveat=[T], return_stats=True
            )
            _, ycv = unshaped_sde.simulate_y_implicit(g, n_paths=params["bias_paths"], seed=seed + 11, saveat=[T])
            d = q[:, 0] ** -0.5 - ycv[:, 0]
            m = d.mean() + unshaped_sde.y_implicit_scheme_mean(g)[-1]
            hs.append((T - t0_) / N)
            tot.append(float(m - unshaped_sde.mean_y(T)))
            ses.append(float(d.std() / np.sqrt(d.size)))
            step_table.append(
                dict(
                    h=hs[-1],
                    t0=t0_,
                    step_bias=float(m - unshaped_sde.mean_y_from_t0(T, t0_)),
                    total_bias=tot[-1],
                    stderr=ses[-1],
                    n_reflected=n_refl,
                )
            )
        B, c, seB = _fit_with_intercept(hs, tot, 1.0 / np.square(ses))
        closed = float(unshaped_sde.mean_y_from_t0(T, t0_) - unshaped_sde.mean_y(T))
        start_fit.append(
            dict(t0=t0_, B_sim=float(B), B_se=seB, B_closed=closed, step_coef=float(c[0]), z=float((B - closed) / seB))
        )
    return out, table, step_table, start_fit


def _shaped_orders(params, seed):
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
        _order_result("strong", "shaped rho (Fisher-z Euler)", T / Ns, strong, 1.0, P, strong_se),
        _order_result("weak", "shaped rho (Fisher-z Euler, E[rho])", T / Ns, weak, 1.0, P, weak_se),
    ]
    # covariance factor form, m = 2
    V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    Pc, nc = params["cov_paths"], params["cov_ref"]
    dWc = brownian_increments(uniform_grid(0, T, nc), n_paths=Pc, seed=seed + 9, n_noise=3)

    def V_at(N):
        return shaped_sde.sample_covariance(
            V0, T, 0.0, -np.sqrt(params["kappa"]), n_steps=N, dW=coarsen_increments(dWc, nc // N)
        )

    ref = V_at(nc)
    Nc = np.asarray(params["cov_steps"])
    e = [np.sqrt(np.sum((V_at(N) - ref) ** 2, axis=(1, 2))) for N in Nc]
    out.append(
        _order_result(
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
        _order_result(
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


@experiment(
    id="corr.orders",
    checks="strong and weak orders of every integrator of the unshaped q-SDE started at the singular t = 0 "
    "(regular J-equation, drift-implicit y-scheme, drift-implicit Euler/Milstein on q itself), of "
    "Euler/Milstein on q from t0 > 0 with the asymptotic start (and its start bias, extrapolated h -> 0, "
    "against the closed form), and of the shaped correlation (Fisher-z) and covariance (factor) SDEs",
    criterion="fitted log-log slopes over >= 4 step sizes within +-0.2 (strong) / +-0.25 (weak) of theory; weak "
    "errors resolved (finest error > 3 standard errors); simulated start bias of Euler-from-t0 within "
    "4 standard errors of the closed form at every t0",
    quick=dict(
        T=0.5,
        n_ref=8192,
        strong_paths=1000,
        strong_steps=[32, 64, 128, 256, 512],
        q_strong_steps=[256, 512, 1024, 2048],
        q_mil_strong_steps=[32, 64, 128, 256],
        weak_paths=20_000,
        weak_steps=[16, 32, 64, 128],
        q_weak_paths=5_000,
        q_mil_weak_steps=[16, 32, 64, 128],
        q_weak_steps=[128, 256, 512, 1024],
        t0=0.05,
        cv_paths=10_000,
        q_em_steps=[128, 256, 512, 1024],
        q_mil_steps=[64, 128, 256, 512],
        t0_table=[0.2, 0.1, 0.05, 0.02, 0.01],
        bias_h=[1 / 256, 1 / 512, 1 / 1024],
        bias_t0=[0.2, 0.1, 0.05],
        bias_paths=6_000,
        kappa=10.0,
        rho0=-0.5,
        shaped_T=0.5,
        shaped_paths=5000,
        shaped_ref=512,
        shaped_steps=[8, 16, 32, 64, 128],
        cov_paths=3000,
        cov_ref=512,
        cov_steps=[8, 16, 32, 64],
        cov_weak_steps=[4, 8, 16, 32],
        path_samples=2000,
    ),
    full=dict(
        T=0.5,
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
        t0=0.05,
        cv_paths=100_000,
        q_em_steps=[128, 256, 512, 1024, 2048],
        q_mil_steps=[64, 128, 256, 512, 1024],
        t0_table=[0.2, 0.1, 0.05, 0.02, 0.01, 0.005],
        bias_h=[1 / 256, 1 / 512, 1 / 1024, 1 / 2048],
        bias_t0=[0.2, 0.1, 0.05, 0.025],
        bias_paths=40_000,
        kappa=10.0,
        rho0=-0.5,
        shaped_T=0.5,
        shaped_paths=50_000,
        shaped_ref=1024,
        shaped_steps=[8, 16, 32, 64, 128, 256],
        cov_paths=10_000,
        cov_ref=1024,
        cov_steps=[8, 16, 32, 64, 128],
        cov_weak_steps=[4, 8, 16, 32, 64],
        path_samples=20_000,
    ),
)
def orders(params, *, seed, outdir):
    res_strong = _unshaped_strong(params, seed)
    res_weak = _unshaped_weak(params, seed)
    res_t0, bias_table, step_table, start_fit = _q_em_from_t0(params, seed)
    res_shaped = _shaped_orders(params, seed)
    allres = res_strong + res_weak + res_t0 + res_shaped
    checks = []
    for r in allres:
        tol = ORDER_TOL_STRONG if r.kind == "strong" else ORDER_TOL_WEAK
        checks.append(
            Check(
                f"{r.kind}_order[{r.label}]",
                r.order,
                "in",
                (r.expected - tol, r.expected + tol),
                note=f"theory {r.expected} +- {tol}",
            )
        )
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
    fig, axs = plt.subplots(1, 3, figsize=(15, 4.5))
    plot_orders(res_strong, ax=axs[0], title="unshaped q-SDE: strong (from t = 0)")
    plot_orders(res_weak + res_t0, ax=axs[1], title="unshaped q-SDE: weak")
    plot_orders(res_shaped, ax=axs[2], title="shaped correlation / covariance")
    for ax in axs:
        ax.legend(fontsize=6)
    fig_path = save_figure(fig, outdir, "corr_orders.png")
    paths_path = _sample_paths_figure(params, seed, outdir)
    metrics = {r.label: r.as_dict() for r in allres}
    metrics["q_em_start_bias_table"] = bias_table
    metrics["q_em_step_bias_table"] = step_table
    metrics["q_em_start_bias_extrapolated"] = start_fit
    summary = "; ".join(f"{r.label}: {r.kind} {r.order:.2f} ({r.expected})" for r in allres)
    return Outcome(checks=checks, metrics=metrics, figures=[fig_path, paths_path], summary=summary)


def _sample_paths_figure(params, seed, outdir):
    """Sample paths of q_t (through J, from t = 0) and of the shaped correlation, with their means."""
    T = 1.0
    g = np.linspace(0, T, 1025)
    _, J = unshaped_sde.simulate_J(g, n_paths=params["path_samples"], seed=seed + 21)
    _, qi = unshaped_sde.simulate_q_implicit(g, n_paths=8, seed=seed + 21)
    q = unshaped_sde.q_from_J(g[None, :], J)
    y = unshaped_sde.y_from_J(g[None, :], J)
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
    axs[1].plot(g[1:], unshaped_sde.mean_y(g[1:]), "--", label="closed form $E[q_t^{-1/2}]$")
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
