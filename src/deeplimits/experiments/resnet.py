"""Validation experiments for deeplimits.resnet: random ResNets against their closed forms and deep limits.

Importing this file registers ``resnet.moments``, ``resnet.critical_beta``, ``resnet.sde_law`` and
``resnet.smooth_ode`` with :mod:`deeplimits.validation`; the scaling experiments (``resnet.regime_map``,
``resnet.estimator_calibration``, ``resnet.trained_exponents``) are in :mod:`deeplimits.experiments.resnet_scaling`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from deeplimits.resnet import (
    SmoothWeightFunction,
    alternative_ode,
    cohen_mean_drift,
    diffusive_sde,
    exact_resnets,
    neural_ode,
    random_resnets,
    simulate_resnets,
    smooth_resnet,
)
from deeplimits.resnet.limits import neural_sde, norm_sde_law
from deeplimits.resnet.moments import norm_moments, norm_moments_limit
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._perturbed import factors, resnet_norm_moments
from ._resnet_common import ks_crit, mean_log_norm_ratio, slope, tanh_argument_max, tanh_fit_depths
from ._resnet_figures import moments_figure


# --------------------------------------------------------------------------------------------------------------
@experiment(
    id="resnet.moments",
    checks="closed-form E||h_L||^2 and E||h_L||^4 of i.i.d.-weight ResNets (linear res1, linear res3, ReLU res3) "
    "against Monte Carlo, with the exact O(d) simulator and with dense weights",
    criterion="|MC mean - closed form| < 4 standard errors of the MC mean, for every moment and case",
    quick=dict(n_exact=60_000, n_dense=6_000, width=4, depth=25),
    full=dict(n_exact=1_000_000, n_dense=100_000, width=8, depth=100),
    resolution=dict(quick="10 % in the noise of the norm SDE (its one-layer term)", full="2 % (measured, seed 0)"),
    perturbable=("noise",),
)
def moments(params, *, seed, outdir):
    """Planted error: ``noise`` scales the noise of the norm SDE in its one-layer form, the term
    ``2 a s xi_1 / sqrt(d)`` of the factor ``F`` (variance ``4 a^2 E s^2 / d``); it changes ``E||h_L||^4`` only."""
    d, L = params["width"], params["depth"]
    f_noise = factors(params, ("noise",))["noise"]
    checks, metrics = [], {"perturb": {"noise": f_noise}}
    cases = [("res1", "linear"), ("res3", "linear"), ("res3", "relu")]
    for j, (variant, act) in enumerate(cases):
        m2, m4 = resnet_norm_moments(variant, act, d, L, 0.5, f_noise)
        sims = [("exact", exact_resnets(variant, params["n_exact"], d, L, 0.5, activation=act, seed=seed * 1000 + j))]
        if variant == "res3":
            sims.append(
                (
                    "dense",
                    random_resnets(variant, params["n_dense"], d, L, 0.5, activation=act, seed=seed * 1000 + 10 + j),
                )
            )
        for sim_name, res in sims:
            r = res.norms[:, -1] ** 2
            n = r.size
            for p, m in ((1, m2), (2, m4)):
                x = r**p
                z = (x.mean() - m) / (x.std(ddof=1) / np.sqrt(n))
                name = f"{variant}_{act}_{sim_name}_moment{2 * p}_z"
                metrics[name.replace("_z", "_mc")] = float(x.mean())
                metrics[name.replace("_z", "_closed_form")] = float(m)
                metrics[name.replace("_z", "_se")] = float(x.std(ddof=1) / np.sqrt(n))
                checks.append(Check(name, abs(z), "<", 4.0, note=f"|z| of the MC mean, n = {n}"))
    lim = {f"{v}_{a}": norm_moments_limit(v, a, d) for v, a in cases}
    metrics["sde_limit_moments"] = {k: [float(x) for x in v] for k, v in lim.items()}
    path = moments_figure(cases, d, L, metrics, outdir, seed=seed, n_mc=max(params["n_exact"] // 10, 2000))
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary=f"Closed-form second and fourth moments of ||h_L|| at d={d}, L={L}, alpha=L^-1/2 "
        "against exact-in-law and dense Monte Carlo.",
    )


# --------------------------------------------------------------------------------------------------------------
@experiment(
    id="resnet.critical_beta",
    checks="||h_L - h_0|| / ||h_0|| against L for i.i.d. weights (linear res1) at beta = 0.25, 0.5, 1: "
    "explosion / non-trivial limit / identity; Cohen's branch sigma(A h) at beta = 1/2 with ReLU (E sigma != 0: "
    "a drift growing like sqrt(L), no limit) against tanh (bounded)",
    criterion="beta=1: log-log slope of the median ratio in [-0.6, -0.4] (theory 1/2 - beta = -1/2); beta=1/2: "
    "slope in [-0.1, 0.1] (theory 0); beta=1/4: slope of log E log(R_L/R_0) in [0.4, 0.6] "
    "(theory 1 - 2 beta = 1/2, i.e. the ratio grows like exp(c sqrt(L))). Cohen branch at beta=1/2 "
    "(ReLU 'no limit'): slope of E log(R_L/R_0) in [0.45, 0.55] and E log(R_L/R_0) / (2 sqrt(L/(2 pi))) "
    "in [0.95, 1.05] at the largest depth (the sqrt(L) drift, derived); tanh: |slope| < 0.1 (bounded)",
    quick=dict(depths=[16, 32, 64, 128, 256, 512, 1024], n_nets=400, width=10),
    full=dict(depths=[16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192], n_nets=4000, width=10),
    resolution=dict(quick="10 % in the exponent beta of the predictions", full="2 % (measured, seed 0)"),
    perturbable=("beta",),
)
def critical_beta(params, *, seed, outdir):
    """Planted error: ``beta`` scales the exponent in the predictions (the networks keep theirs): slopes
    ``1/2 - b``, ``1 - 2 b``, ``1 - b`` and the Cohen drift ``2 L^(1 - b) m`` with ``b = beta x factor``."""
    depths, n, d = np.array(params["depths"]), params["n_nets"], params["width"]
    fb = factors(params, ("beta",))["beta"]
    ratios, logr = {}, {}
    for beta in (0.25, 0.5, 1.0):
        med, mlog = [], []
        for i, L in enumerate(depths):
            res = exact_resnets(
                "res1", n, d, int(L), beta, activation="linear", seed=seed * 1000 + i, save_trajectories=False
            )
            h0 = np.full(d, 1.0 / np.sqrt(d))
            med.append(np.median(np.linalg.norm(res.final - h0, axis=1)))
            mlog.append(mean_log_norm_ratio(res))
        ratios[beta], logr[beta] = np.array(med), np.array(mlog)
    s1, s05 = slope(depths, ratios[1.0]), slope(depths, ratios[0.5])
    s025 = slope(depths, logr[0.25])
    # Cohen's branch sigma(A h), i.i.d. A, beta = 1/2: E sigma != 0 (ReLU) gives the drift sqrt(L) m(q) per unit
    # time; along h_0 = 1/sqrt(d) it makes d log R / dt = 2 sqrt(L / (2 pi)) (= 2 cohen_mean_drift("relu", 1, L)).
    cohen = {}
    for j, act in enumerate(("relu", "tanh")):
        cohen[act] = np.array(
            [
                mean_log_norm_ratio(
                    exact_resnets("cohen", n, d, int(L), 0.5, activation=act, seed=seed * 1000 + 100 + 10 * j + i)
                )
                for i, L in enumerate(depths)
            ]
        )
    # cohen_mean_drift is L^(1/2) m; with the exponent b of the prediction, L^(1 - b) m
    drift = 2 * np.array([cohen_mean_drift("relu", 1.0, int(L)) * float(L) ** (0.5 - 0.5 * fb) for L in depths])
    s_relu, s_tanh = slope(depths, cohen["relu"]), slope(depths, np.abs(cohen["tanh"]))
    relu_ratio = float(cohen["relu"][-1] / drift[-1])
    th1, th05, th025, th_c = 0.5 - 1.0 * fb, 0.5 - 0.5 * fb, 1.0 - 0.5 * fb, 1.0 - 0.5 * fb
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    ax[2].loglog(depths, cohen["relu"], "o-", label=f"cohen ReLU (slope {s_relu:.3f})")
    ax[2].loglog(depths, np.abs(cohen["tanh"]), "s-", label=f"cohen tanh (slope {s_tanh:.3f})")
    ax[2].loglog(depths, drift, "k--", label="2 sqrt(L / (2 pi)): the sqrt(L) drift")
    ax[2].set(xlabel="L", ylabel="|E log(R_L / R_0)|")
    ax[2].set_title("beta = 1/2, Cohen branch sigma(A h): ReLU has no limit", fontsize=9)
    ax[2].legend(fontsize=7)
    for beta in ratios:
        ax[0].loglog(depths, ratios[beta], "o-", label=f"beta={beta}")
        ax[1].loglog(depths, np.abs(logr[beta]), "o-", label=f"beta={beta}")
    ax[0].set(xlabel="L", ylabel="median ||h_L - h_0|| / ||h_0||")
    ax[1].set(xlabel="L", ylabel="|E log(R_L / R_0)|")
    ax[0].legend()
    path = save_figure(fig, outdir, "resnet_critical_beta.png", dpi=100)
    return Outcome(
        checks=[
            Check("slope_beta1", s1, "in", (th1 - 0.1, th1 + 0.1), note=f"theory 1/2 - beta = {th1:g}"),
            Check("slope_beta05", s05, "in", (th05 - 0.1, th05 + 0.1), note=f"theory 1/2 - beta = {th05:g}"),
            Check("slope_loglog_beta025", s025, "in", (th025 - 0.1, th025 + 0.1), note=f"theory {th025:g}"),
            Check(
                "cohen_relu_log_norm_slope",
                s_relu,
                "in",
                (th_c - 0.05, th_c + 0.05),
                note=f"theory 1 - beta = {th_c:g}: drift ~ sqrt(L)",
            ),
            Check(
                "cohen_relu_over_sqrtL_drift",
                relu_ratio,
                "in",
                (0.95, 1.05),
                note=f"E log(R_L/R_0) / (2 L^(1 - beta) / sqrt(2 pi)), beta = {0.5 * fb:g}, at L = {int(depths[-1])}",
            ),
            Check("cohen_tanh_log_norm_slope", abs(s_tanh), "<", 0.1, note="bounded: a limit exists"),
        ],
        metrics={
            "perturb": {"beta": fb},
            "depths": depths.tolist(),
            **{f"median_ratio_beta{b}": v.tolist() for b, v in ratios.items()},
            **{f"mean_log_R_ratio_beta{b}": v.tolist() for b, v in logr.items()},
            **{f"cohen_{a}_mean_log_R_ratio": v.tolist() for a, v in cohen.items()},
        },
        figures=[path],
        summary=f"slopes: beta=1 {s1:.3f}, beta=1/2 {s05:.3f}; beta=1/4: E log(R_L/R_0) ~ L^{s025:.3f}; Cohen "
        f"branch at beta=1/2: ReLU E log(R_L/R_0) ~ L^{s_relu:.3f}, {relu_ratio:.3f} x 2 sqrt(L/(2 pi)) at "
        f"L = {int(depths[-1])} (no limit), tanh slope {s_tanh:.3f} (bounded).",
    )


# --------------------------------------------------------------------------------------------------------------
@experiment(
    id="resnet.sde_law",
    checks="law of log||h_L|| of i.i.d.-weight ResNets (beta = 1/2) against the neural SDE: closed-form Gaussian "
    "law (linear res1, ReLU res3) and the SDE engine's solution (tanh res3, tanh Cohen branch with bias)",
    criterion="KS distance below the level-1e-3 critical value (one-sample against the closed form, two-sample "
    "against the engine); for the closed-form cases, the z-scores of the sample mean and variance of 2 log R_L "
    "against the Gaussian law's (se sqrt(v/n) and v sqrt(2/(n-1))) below z_(1 - 0.01/8) = 3.02 (family-wise "
    "false-alarm rate 1 %); moment weak error |E R_L^p - E R_1^p| decays with fitted slope -1 +- 0.25",
    quick=dict(depth=1000, n=6000, width=6, sde_steps=1000),
    full=dict(depth=1000, n=20000, width=10, sde_steps=2000),
    resolution=dict(
        quick="10 % in the drift or the noise of the norm SDE",
        full="2 % in the noise; the drift x 1.02 is detected, x 0.98 is not (measured, seed 0)",
    ),
    perturbable=("drift", "noise"),
)
def sde_law(params, *, seed, outdir):
    """Planted errors: ``drift`` scales the drift of log R (the closed-form mean), ``noise`` the noise of the
    neural SDE (closed-form variance x noise^2; the engine's Brownian increments x noise)."""
    from deeplimits.sde import brownian_increments, solve, uniform_grid

    L, n, d = params["depth"], params["n"], params["width"]
    h0 = np.full(d, 1.0 / np.sqrt(d))
    f = factors(params, ("drift", "noise"))
    checks, metrics = [], {"perturb": f}
    # mean and variance of log R_1 against the closed-form Gaussian law: 2 cases x 2 statistics
    z_thr = float(stats.norm.isf(0.01 / (2 * 4)))
    z_note = f"z-score, n = {n}; threshold: family-wise false alarm 0.01 over 4 checks"
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.5))
    for j, (variant, act) in enumerate((("res1", "linear"), ("res3", "relu"))):
        x = 2 * np.log(exact_resnets(variant, n, d, L, 0.5, activation=act, seed=seed * 100 + j).norms[:, -1])
        m, v = norm_sde_law(variant, act, d)
        m, v = m * f["drift"], v * f["noise"] ** 2
        ks = stats.kstest(x, "norm", args=(m, np.sqrt(v))).statistic
        checks.append(Check(f"ks_{variant}_{act}_vs_closed_form", ks, "<", ks_crit(n), note=f"n = {n}"))
        for name, z in (
            ("mean", (x.mean() - m) / np.sqrt(v / n)),
            ("var", (x.var(ddof=1) / v - 1) / np.sqrt(2 / (n - 1))),
        ):
            checks.append(Check(f"{name}_{variant}_{act}_z", abs(z), "<", z_thr, note=z_note))
        axes[j].hist(x, 60, density=True, alpha=0.6, label=f"ResNet L={L}")
        g = np.linspace(x.min(), x.max(), 200)
        axes[j].plot(g, stats.norm.pdf(g, m, np.sqrt(v)), "k", label="SDE (closed form)")
        axes[j].set_title(f"{variant} {act}: log R_1 (KS {ks:.3f})")
        axes[j].legend(fontsize=7)
    grid = uniform_grid(0.0, 1.0, params["sde_steps"])
    for j, (variant, act, sb) in enumerate((("res3", "tanh", 0.0), ("cohen", "tanh", 0.5))):
        x = 2 * np.log(
            exact_resnets(variant, n, d, L, 0.5, activation=act, bias_std=sb, seed=seed * 100 + 10 + j).norms[:, -1]
        )
        sde, sde_seed = neural_sde(variant, act, d, bias_std=sb), seed * 100 + 20 + j
        if f["noise"] == 1.0:
            sol = solve(sde, h0, grid, saveat=[1.0], n_paths=n, seed=sde_seed)
        else:
            dW = f["noise"] * brownian_increments(grid, n_paths=n, seed=sde_seed, n_noise=sde.n_noise or sde.dim)
            sol = solve(sde, h0, grid, saveat=[1.0], n_paths=n, dW=dW)
        y = 2 * np.log(np.linalg.norm(sol.ys[:, -1], axis=1))
        ks = stats.ks_2samp(x, y).statistic
        checks.append(Check(f"ks_{variant}_{act}_vs_engine", ks, "<", ks_crit(n, n), note=f"n = {n} + {n}"))
        axes[2 + j].hist(x, 60, density=True, alpha=0.5, label=f"ResNet L={L}")
        axes[2 + j].hist(y, 60, density=True, alpha=0.5, label="SDE (engine, Euler)")
        axes[2 + j].set_title(f"{variant} {act}: log R_1 (KS {ks:.3f})")
        axes[2 + j].legend(fontsize=7)
    # weak convergence of moments (closed forms on both sides)
    depths = np.array([16, 32, 64, 128, 256, 512])
    for variant, act in (("res1", "linear"), ("res3", "relu")):
        lim = norm_moments_limit(variant, act, d)
        for p in (0, 1):
            err = [abs(norm_moments(variant, act, d, int(Lx), 0.5)[p] - lim[p]) for Lx in depths]
            s = slope(depths, err)
            checks.append(Check(f"weak_slope_{variant}_{act}_R^{p + 1}", s, "in", (-1.25, -0.75), note="weak order 1"))
    path = save_figure(fig, outdir, "resnet_sde_law.png", dpi=100)
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary=f"Law of log ||h_L||^2 at L={L}, d={d} against the neural SDE.",
    )


# --------------------------------------------------------------------------------------------------------------
@experiment(
    id="resnet.smooth_ode",
    checks="smooth weights: ResNet -> neural ODE with error O(1/L); Cohen's alternative linear ODE (delta = "
    "weights scale = L^-1/2) with order 1 (tanh) / 1/2 (swish); Cohen's diffusive SDE with the sigma''(0) "
    "drift (coupled RMS gap, order 1/2), and without that drift no convergence",
    criterion="fitted log-log slopes over >= 5 depths: neural ODE -1 +- 0.2; alternative ODE tanh -1 +- 0.2 over "
    "depths from L_0 >= 4 max|W H + b|^2 (derived: tanh's fifth-order term at most 10 % of its cubic one), the "
    "first draw of (W, b) whose depths stay below tanh_max_depth; swish -0.5 +- 0.2; diffusive SDE -0.5 +- 0.2; "
    "without the drift correction slope > -0.1",
    quick=dict(depths=[32, 64, 128, 256, 512, 1024], width=6, n_paths=300, tanh_max_depth=32768),
    full=dict(depths=[32, 64, 128, 256, 512, 1024, 2048, 4096], width=10, n_paths=2000, tanh_max_depth=65536),
    resolution=dict(
        quick="2 % in the neural ODE's vector field and in the alternative ODE's weights",
        full="2 % (deterministic comparison)",
    ),
    perturbable=("ode", "alt_ode"),
)
def smooth_ode(params, *, seed, outdir):
    """Planted errors: ``ode`` scales the outer weight function ``V`` of the neural ODE only (not the ResNet),
    ``alt_ode`` the weight function ``W`` of the alternative ODE only."""
    from deeplimits.sde import brownian_increments, solve, uniform_grid

    depths, d = np.array(params["depths"]), params["width"]
    c = 2 / np.sqrt(d)
    V = SmoothWeightFunction((d, d), 0.3, seed=seed * 10 + 1, scale=c)
    W = SmoothWeightFunction((d, d), 0.3, seed=seed * 10 + 2, scale=c)
    b = SmoothWeightFunction((d,), 0.3, seed=seed * 10 + 3, scale=1.0)
    h0 = np.full(d, 1.0 / np.sqrt(d))
    Lmax = int(depths[-1])
    f = factors(params, ("ode", "alt_ode"))
    V_ode = V if f["ode"] == 1.0 else SmoothWeightFunction((d, d), 0.3, seed=seed * 10 + 1, scale=c * f["ode"])
    ref = neural_ode("res3", "tanh", h0, V=V_ode, W=W, t_eval=np.linspace(0, 1, Lmax + 1))
    e_ode = [
        np.abs(smooth_resnet("res3", "tanh", h0, int(L), V=V, W=W).ys[0] - ref[:: Lmax // L]).max() for L in depths
    ]

    def cohen_error(act, L, Wn, bn, target):
        net = smooth_resnet(
            "cohen", act, h0, int(L), W=Wn, b=bn, delta_exp=0.5, weight_exp=0.5, save_trajectories=False
        )
        return float(np.linalg.norm(net.final[0] - target))

    def weights(j, scale):
        # draw j of (W, b) for the alternative ODE (j = 0: the draw above), W scaled by `scale`
        off = seed * 10 + 10**7 * j
        return SmoothWeightFunction((d, d), 0.3, seed=off + 2, scale=c * scale), SmoothWeightFunction(
            (d,), 0.3, seed=off + 3, scale=1.0
        )

    # swish: the draw above; tanh: the first draw whose pre-asymptotic depth 4 x_max^2 fits below tanh_max_depth
    r_swish = alternative_ode("swish", h0, weights(0, f["alt_ode"])[0], b)[0]
    e_alt = {"swish": [cohen_error("swish", L, W, b, r_swish) for L in depths]}
    for j in range(20):
        Wj, bj = weights(j, 1.0)
        x_max, r_tanh = tanh_argument_max(weights(j, f["alt_ode"])[0], bj, h0)
        tanh_depths = tanh_fit_depths(depths, x_max, params["tanh_max_depth"])
        if tanh_depths is not None:
            break
    else:
        raise RuntimeError("no draw of the alternative-ODE weights in 20 fits below tanh_max_depth")
    e_alt["tanh"] = [cohen_error("tanh", L, Wj, bj, r_tanh) for L in tanh_depths]
    # Cohen Hypothesis 2 with coupled noise
    n = params["n_paths"]
    dsm = min(d, 4)
    hs = np.full(dsm, 1.0 / np.sqrt(dsm))
    e_sde = {True: [], False: []}
    dep_sde = depths[depths <= 512]
    for L in dep_sde:
        g = uniform_grid(0.0, 1.0, int(L))
        dW = brownian_increments(g, n_paths=n, seed=seed * 10 + 7, n_noise=dsm * dsm + dsm)
        net = simulate_resnets(
            np.tile(hs, (n, 1)),
            "cohen",
            1.0,
            "swish",
            W=dW[:, :, : dsm * dsm].reshape(n, int(L), dsm, dsm) / np.sqrt(dsm),
            b=0.5 * dW[:, :, dsm * dsm :],
        )
        for corr in (True, False):
            sol = solve(
                diffusive_sde("swish", dsm, 1.0, 0.5, drift_correction=corr), hs, g, saveat=[1.0], n_paths=n, dW=dW
            )
            e_sde[corr].append(np.sqrt(np.mean(np.sum((net.final - sol.ys[:, -1]) ** 2, axis=1))))
    s_ode, s_t, s_s = slope(depths, e_ode), slope(tanh_depths, e_alt["tanh"]), slope(depths, e_alt["swish"])
    s_sde, s_nc = slope(dep_sde, e_sde[True]), slope(dep_sde, e_sde[False])
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.loglog(depths, e_ode, "o-", label=f"neural ODE (res3 tanh), slope {s_ode:.2f}")
    ax.loglog(tanh_depths, e_alt["tanh"], "s-", label=f"alternative ODE tanh, slope {s_t:.2f}")
    ax.loglog(depths, e_alt["swish"], "^-", label=f"alternative ODE swish, slope {s_s:.2f}")
    ax.loglog(dep_sde, e_sde[True], "v-", label=f"diffusive SDE (coupled RMS), slope {s_sde:.2f}")
    ax.loglog(dep_sde, e_sde[False], "x--", label=f"... without sigma''(0) drift, slope {s_nc:.2f}")
    ax.set(xlabel="L", ylabel="error")
    ax.legend(fontsize=7)
    path = save_figure(fig, outdir, "resnet_smooth_ode.png", dpi=100)
    return Outcome(
        checks=[
            Check("neural_ode_slope", s_ode, "in", (-1.2, -0.8)),
            Check(
                "alternative_ode_tanh_slope",
                s_t,
                "in",
                (-1.2, -0.8),
                note=f"depths {int(tanh_depths[0])}-{int(tanh_depths[-1])} >= 4 x_max^2, x_max = {x_max:.3g}, draw {j}",
            ),
            Check("alternative_ode_swish_slope", s_s, "in", (-0.7, -0.3)),
            Check("diffusive_sde_strong_slope", s_sde, "in", (-0.7, -0.3)),
            Check("diffusive_sde_without_drift_slope", s_nc, ">", -0.1),
        ],
        metrics=dict(
            perturb=f,
            depths=depths.tolist(),
            neural_ode_error=e_ode,
            alternative_tanh=e_alt["tanh"],
            alternative_tanh_depths=tanh_depths.tolist(),
            alternative_tanh_x_max=x_max,
            alternative_tanh_draw=j,
            alternative_swish=e_alt["swish"],
            sde_depths=dep_sde.tolist(),
            diffusive_sde_rms=e_sde[True],
            diffusive_no_drift_rms=e_sde[False],
        ),
        figures=[path],
        summary=f"neural ODE slope {s_ode:.3f}; alternative ODE tanh {s_t:.3f}, swish {s_s:.3f}; diffusive SDE "
        f"{s_sde:.3f} (no drift: {s_nc:.3f}).",
    )
