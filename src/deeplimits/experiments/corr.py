"""Validation of the infinite-width correlation maps (``corr.infinite_width``).

Exact maps against one-layer Monte Carlo; u-form accuracy against mpmath; the depth
recursion to l = 1e6 against the 9 pi^2/(2 l^2) asymptote and its log correction; and the
one-layer conditional moments at finite width that *define* the limit SDEs (unshaped:
drift 2u/n and variance 8u^2/n; shaped: drift nu(rho) - rho(1-rho^2)/2 and variance (1-rho^2)^2).
The drifts are estimated with control variates of closed-form mean (:mod:`._one_layer_cv`).
The references are the package's limits: the unshaped constants are read from the coefficient functions of
``q_sde()``, the shaped ones from ``correlation_sde(kappa)`` (Ito's formula on ``rho = tanh zeta``), the log
correction from ``relu_asymptote``; planted errors (``perturb``) scale those coefficients.
The orders of the correlation SDE integrators are validated in :mod:`deeplimits.experiments.corr_orders`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import scipy.stats

from deeplimits.convergence import fit_order
from deeplimits.correlation import depth, maps, odes, shaped_sde
from deeplimits.correlation.unshaped import Q_STAR
from deeplimits.experiments._corr_common import fit_with_intercept
from deeplimits.experiments._one_layer_cv import (
    one_layer_cv,
    regression_mean,
    shaped_controls,
    t_conditional_mean,
)
from deeplimits.experiments._perturbed import factors, shaped_rho_coefficients, unshaped_q_coefficients
from deeplimits.networks import shaped_slopes
from deeplimits.validation import Check, Outcome, experiment, save_figure

# ============================================================================ corr.infinite_width


@experiment(
    id="corr.infinite_width",
    checks="exact (leaky) ReLU correlation maps against one-layer Monte Carlo; u-form accuracy; the depth "
    "recursion's 9 pi^2/2 asymptote and -3 log(l)/l correction (relu_asymptote), and its rounding against long "
    "double; finite-width one-layer conditional moments against the coefficients of the package's q-SDE (drift "
    "2u/n, variance 8u^2/n, read from q_sde()) and shaped correlation SDE (from correlation_sde), the drifts "
    "estimated with control variates of closed-form mean (whose means are checked too); the d << n "
    "limits of the shaped MLP and the ResNet coincide (a consistency check: both recursions are package code, "
    "an error shared by both is not seen)",
    criterion="MC means within 4.5 standard errors of the closed form (max over 16 points: Bonferroni-level "
    "~1e-4); u-map within 4 ulp of mpmath; |l^2 u_l / (9 pi^2/2) - 1| < 1e-4 at l = 1e6; fitted log "
    "coefficient (relu_asymptote's, -3) +- 0.05; float64 recursion within 1e-12 relative of a long-double "
    "recursion at l = 1e5 (full: 1e6); the unshaped drift constant (extrapolated to n = inf, cubic in 1/n) "
    "within 4 SE of 2 and the variance constant (quadratic) within 4 SE of 8 (both read from q_sde()); the "
    "shaped drift at kappa = 4 (extrapolated, quadratic in n^-1/2) within 4 SE of the SDE's, the shaped variance "
    "(kappa = 1, n = 256) within 4 SE + 2/sqrt(n); the controls' means within the Bonferroni threshold for "
    "family-wise 1e-4; the shaped-MLP/ResNet finite-depth gap of order 1 +- 0.2 in 1/d when (c+ - c-)^2 = sigma_r^2 "
    "and > 0.05 at every depth otherwise",
    quick=dict(
        n_mc=200_000,
        widths=[32, 64, 128, 256],
        n_layers=50_000,
        u_small=1e-8,
        shaped_widths=[64, 256],
        n_shaped=100_000,
        cv_widths=[64, 256, 1024],
        n_cv=40_000,
        cv_c_minus=-2.0,
        ref_depth=100_000,
        ode_depths=[16, 32, 64, 128, 256, 512],
    ),
    full=dict(
        n_mc=2_000_000,
        widths=[64, 128, 256, 512, 1024],
        n_layers=400_000,
        u_small=1e-8,
        shaped_widths=[64, 256, 1024],
        n_shaped=400_000,
        cv_widths=[64, 256, 1024, 4096],
        n_cv=200_000,
        cv_c_minus=-2.0,
        ref_depth=1_000_000,
        ode_depths=[16, 32, 64, 128, 256, 512, 1024, 2048],
    ),
    resolution=dict(
        quick="10 % in every perturbable coefficient (seed 0: q-SDE drift 28-31 standard errors, kappa 12-14, "
        "q-SDE noise 13-14; shaped noise: one-layer variance 17-24 % off, threshold 14 %)",
        full="not measured",
    ),
    perturbable=("drift", "noise", "kappa", "shaped_noise"),
)
def infinite_width(params, *, seed, outdir):
    """Planted errors: ``drift`` and ``noise`` scale the regular drift ``2 q`` and the noise ``2 sqrt2 q`` of the
    q-SDE, ``kappa`` and ``shaped_noise`` the drift ``nu`` and the noise of the shaped correlation SDE."""
    f = factors(params, ("drift", "noise", "kappa", "shaped_noise"))
    checks, metrics = [], {"perturb": f}
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
    u = depth.depth_recursion_u(0.5, 10**6, stride=10)
    ell = np.arange(u.size) * 10.0
    ratio = ell[-1] ** 2 * u[-1] / Q_STAR - 1
    sel = ell >= 1e3
    slope = np.polyfit(np.log(ell[sel]), (ell[sel] ** 2 * u[sel] / Q_STAR - 1) * ell[sel], 1)[0]
    # the coefficient c of relu_asymptote's (1 + c log(l) / l)
    l_ref = 1e4
    c_log = float((depth.relu_asymptote(l_ref) * l_ref**2 / Q_STAR - 1) * l_ref / np.log(l_ref))
    checks.append(Check("asymptote_rel_dev_l1e6", abs(ratio), "<", 1e-4))
    note = f"relu_asymptote: {c_log:g}"
    checks.append(Check("log_correction_coefficient", slope, "in", (c_log - 0.05, c_log + 0.05), note=note))
    metrics.update(l2u_over_qstar_minus1_at_1e6=float(ratio), log_coefficient=float(slope))
    # (c') accumulated rounding: float64 recursion in u against the long-double recursion, and the naive
    # recursion on rho (closed-form f, then 1 - rho), at l = ref_depth
    L = params["ref_depth"]
    if np.finfo(np.longdouble).eps < 1e-18:
        ref = float(depth.depth_recursion_reference(0.5, L, stride=L)[-1])
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
    # (d) unshaped one-layer conditional moments at finite width; the drift by the control variate
    # T - E[T | k] (module _one_layer_cv), whose conditional mean is 0: unbiased, 30-120x smaller sd
    us_ = params["u_small"]
    u_inf = float(maps.corr_map_u(us_))
    drift_c, drift_se, var_c, var_se, control_z = [], [], [], [], []
    for k, n in enumerate(params["widths"]):
        s = one_layer_cv(us_, n, params["n_layers"], seed=seed * 1000 + k)
        ok = np.isfinite(s["u"])
        up, kk = s["u"][ok], s["k"][ok]
        R = up.size
        ctrl = np.where(kk >= 3, s["T"][ok] - t_conditional_mean(kk), 0.0)
        control_z.append(abs(ctrl.mean()) / (ctrl.std() / np.sqrt(R)))
        m, se = regression_mean(n * (up - u_inf) / us_, ctrl)
        drift_c.append(m)
        drift_se.append(se)
        v = up.var()
        # SE of a sample variance: sqrt((m4 - v^2)/R)
        var_c.append(n * v / us_**2)
        var_se.append(n * np.sqrt(np.mean((up - up.mean()) ** 4) - v**2) / np.sqrt(R) / us_**2)
    inv_n = 1.0 / np.asarray(params["widths"], float)
    q_drift_c, q_var_c = unshaped_q_coefficients(f)
    # finite-width corrections: a + b/n + c/n^2 (a linear fit in 1/n is biased: measured curvature); the drift,
    # 40x more precise, + d/n^3 (the quadratic's truncation bias, 0.002, would be 0.6 of its standard error)
    fits = {}
    for key, values, se, label, theory, deg in (
        ("drift", drift_c, drift_se, "n(E[u']-u_inf)/u", q_drift_c, 3),
        ("variance", var_c, var_se, "n Var[u']/u^2", q_var_c, 2),
    ):
        a, b, se_a = fits[key] = fit_with_intercept(inv_n, values, 1 / np.square(se), deg=deg)
        checks.append(
            Check(
                f"unshaped_{key}_constant_extrapolated",
                abs(a - theory) / se_a,
                "<",
                4.0,
                note=f"{label} -> {a:.3f} +- {se_a:.3f} (q-SDE {theory:g}); 1/n, ... terms {b.round(1).tolist()}",
            )
        )
        metrics[f"unshaped_{key}"] = dict(
            widths=params["widths"], values=values, se=se, limit=a, limit_se=se_a, corrections_1_over_n=b.tolist()
        )
    (a_d, _, se_d), (a_v, b_v, se_v) = fits["drift"], fits["variance"]
    # (e) shaped one-layer moments (c+ = 0, c- = -1, kappa = 1) at rho = 0.3
    rho = 0.3
    th_drift, th_var = shaped_rho_coefficients(rho, shaped_sde.kappa_from_shaping(0.0, -1.0), f)
    sh = []
    for k, n in enumerate(params["shaped_widths"]):
        sp, sm = shaped_slopes(0.0, -1.0, n)
        _, rp = depth.sample_one_layer(
            1 - rho, n, params["n_shaped"], seed=seed * 1000 + 100 + k, s_plus=sp, s_minus=sm
        )
        d = rp[np.isfinite(rp)] - rho
        R = d.size
        dm, dse = n * d.mean(), n * d.std() / np.sqrt(R)
        v = d.var()
        vm, vse = n * v, n * np.sqrt(np.mean((d - d.mean()) ** 4) - v**2) / np.sqrt(R)
        sh.append(dict(n=n, drift=dm, drift_se=dse, var=vm, var_se=vse))
    last = sh[-1]
    # (e') shaped drift by regression on 14 zero-mean controls (module _one_layer_cv), at kappa = cv_c_minus^2,
    # extrapolated in n^{-1/2} (quadratic: the one-layer moments expand in powers of n^{-1/2})
    c_m = params["cv_c_minus"]
    th_cv, _ = shaped_rho_coefficients(rho, shaped_sde.kappa_from_shaping(0.0, c_m), f)
    cv_d, cv_se = [], []
    for k, n in enumerate(params["cv_widths"]):
        sp, sm = shaped_slopes(0.0, c_m, n)
        s = one_layer_cv(1 - rho, n, params["n_cv"], seed=seed * 1000 + 200 + k, s_plus=sp, s_minus=sm)
        X = shaped_controls(s["G"], rho, n)
        control_z.extend(np.abs(X.mean(0)) / (X.std(0) / np.sqrt(X.shape[0])))
        m, se = regression_mean(n * (s["rho"] - rho), X)
        cv_d.append(m)
        cv_se.append(se)
    x_cv = 1.0 / np.sqrt(np.asarray(params["cv_widths"], float))
    a_k, b_k, se_k = fit_with_intercept(x_cv, cv_d, 1 / np.square(cv_se), deg=2)
    checks.append(
        Check(
            "shaped_drift_extrapolated_z",
            abs(a_k - th_cv) / se_k,
            "<",
            4.0,
            note=f"n E[rho'-rho] -> {a_k:.4f} +- {se_k:.4f} (SDE {th_cv:.4f}; kappa {c_m**2:g}, rho {rho})",
        )
    )
    metrics["shaped_drift_cv"] = dict(
        widths=params["cv_widths"], values=cv_d, se=cv_se, limit=a_k, limit_se=se_k, sde=th_cv, corrections=b_k.tolist()
    )
    # the controls have mean 0 (their closed-form means, confirmed here): Bonferroni at family-wise 1e-4
    z_lim = float(scipy.stats.norm.isf(1e-4 / (2 * len(control_z))))
    checks.append(
        Check(
            "control_means_max_z",
            max(control_z),
            "<",
            z_lim,
            note=f"{len(control_z)} controls; E[T|k] = (k-1)/(k-2) and the Gaussian moments",
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

    fig, axs = plt.subplots(1, 4, figsize=(18, 4.2), layout="constrained")
    lv = np.unique(np.logspace(0, 6, 200).astype(int))
    uu = depth.depth_recursion_u(0.5, 10**6)
    axs[0].semilogx(lv, lv**2 * uu[lv] / Q_STAR, label="recursion $l^2 u_l / q^*$")
    axs[0].semilogx(
        lv[lv > 5], depth.relu_asymptote(lv[lv > 5]) * lv[lv > 5] ** 2 / Q_STAR, "--", label="$1 - 3\\log l / l$"
    )
    axs[0].set_ylim(0.5, 1.05)
    axs[0].set_xlabel("layer l")
    axs[0].set_ylabel("$l^2 u_l / q^*$,  $u = 1 - \\rho$")
    axs[0].set_title("infinite-width ReLU recursion, $u_0 = 0.5$", fontsize=9)
    axs[0].legend()
    axs[1].errorbar(params["widths"], drift_c, yerr=2 * np.asarray(drift_se), marker="o", label="drift n(E u'-u_inf)/u")
    axs[1].errorbar(params["widths"], var_c, yerr=2 * np.asarray(var_se), marker="s", label="var n Var u'/u^2")
    axs[1].axhline(q_drift_c, ls="--", c="C0")
    axs[1].axhline(q_var_c, ls="--", c="C1")
    axs[1].set_xscale("log")
    axs[1].set_xlabel("width n")
    axs[1].set_ylabel("scaled one-layer moment (dashed: q-SDE)")
    axs[1].set_title(f"one unshaped layer at u = {us_:g}", fontsize=9)
    axs[1].legend()
    r = np.linspace(-1, 1, 201)
    axs[2].plot(r, maps.corr_map(r), label="ReLU")
    axs[2].plot(r, maps.corr_map(r, 1.2, 0.5), label="leaky (1.2, 0.5)")
    axs[2].plot(r, r, ":", c="k")
    axs[2].set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0])
    axs[2].set_xlabel("input correlation rho")
    axs[2].set_ylabel("output correlation (dotted: identity)")
    axs[2].set_title("one-layer correlation maps", fontsize=9)
    axs[2].legend()
    for label, gap in gaps.items():
        axs[3].loglog(depths, gap, "o-", label=label)
    axs[3].loglog(depths, gaps["kappa = sigma_r^2"][0] * depths[0] / depths, "k--", lw=0.8, label="1/d")
    axs[3].set_xlabel("depth d")
    axs[3].set_ylabel("max gap in u over the layers")
    axs[3].set_title("shaped MLP vs ResNet (infinite width)", fontsize=9)
    axs[3].legend(fontsize=7)
    for ax in (axs[1], axs[3]):
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig_path = save_figure(fig, outdir, "corr_infinite_width.png")
    summary = (
        f"maps match MC (max z {zmax:.2f}); l^2 u_l/q* - 1 = {ratio:.2e} at l = 1e6, log coefficient "
        f"{slope:.3f}; unshaped one-layer constants: drift {a_d:.2f} +- {se_d:.2f} ({q_drift_c:g}), variance "
        f"{a_v:.2f} +- {se_v:.2f} ({q_var_c:g}), Var = (8 + {b_v[0]:.0f}/n + {b_v[1]:.0f}/n^2) u^2/n"
    )
    return Outcome(checks=checks, metrics=metrics, figures=[fig_path], summary=summary)
