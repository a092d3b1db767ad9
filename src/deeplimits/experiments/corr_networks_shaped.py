"""Shaped networks against their correlation limits (Li & Nica 2023; Li, Nica & Roy 2022).

Experiments
-----------
corr.shaped_limit     shaped leaky-ReLU MLP, d/n = T: final correlation against the correlation SDE.
corr.resnet_vs_shaped ResNet with a d^-1/2 branch and shaped MLP at rate d^-1/2 reach the same ODE limit.

The networks come from :mod:`deeplimits.networks`; the statistics from
:mod:`deeplimits.experiments._network_stats`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from deeplimits.correlation import correlation_ode
from deeplimits.correlation.odes import resnet_recursion, shaped_mlp_recursion
from deeplimits.networks import gram_from_correlation, resnet, shaped_mlp
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._network_stats import (
    experiment_doc,
    fit_intercept,
    hist,
    quantile_extrapolation,
    wasserstein,
)
from ._perturbed import SHAPED_COEFFICIENTS, factors, shaped_rho
from ._shaped_cv import cv_mean, shaped_networks

# ----------------------------------------------------------------------------------------------------
# corr.shaped_limit
# ----------------------------------------------------------------------------------------------------

_SHAPED_QUICK = dict(
    widths=[8, 16, 32, 64, 128],
    n_nets=4000,
    T=1.0,
    rho0=0.3,
    c_plus=1.0,
    c_minus=-1.0,
    n_sde=60000,
    sde_steps=1000,
    fit_min_width=16,
    n_boot=200,
    cv_blocks=8,
)


@experiment(
    id="corr.shaped_limit",
    checks="Shaped leaky-ReLU MLP (s_pm = 1 + c_pm/sqrt(n)), depth d = T n: the law of the final correlation "
    "converges to the correlation marginal of the neural covariance SDE (Li, Nica & Roy 2022), and "
    "log Phi^aa_T to its exact law N(-T, 2T), as n grows.",
    criterion="(1) W1(final rho, SDE) at the largest width < 1/2 of that at the smallest width; (2) the "
    "difference of means E[rho_net] - E[rho_SDE] (network means with a control variate: the innovations of the "
    "normalised Gram in cv_blocks blocks of layers, exact conditional mean 0, regression estimator) fitted "
    "as a + b/n over widths >= fit_min_width has "
    "|a| < 4 sqrt(se_a^2 + se_sde^2) (se_a inflated by sqrt(chi2/dof) when > 1); (3) W1 fitted as "
    "the trimmed W1 distance (quantiles 1%..99%) extrapolated to n = infinity through its signed quantile "
    "differences a(p) + b(p)/n (widths >= fit_min_width), W1_inf = mean_p |a(p)|, is below the bootstrap "
    "null mean + 4 null standard deviations; (4) mean and variance of log Phi^aa fitted as a + b/n "
    "extrapolate to -T and 2T within 4 standard errors.",
    resolution=dict(quick="10 % in kappa, in the correlation noise or in the norm noise", full="not measured"),
    perturbable=SHAPED_COEFFICIENTS,
    quick=_SHAPED_QUICK,
    full=dict(_SHAPED_QUICK, widths=[8, 16, 32, 64, 128, 256, 512], n_nets=20000, n_sde=1000000, sde_steps=4000),
)
@experiment_doc
def shaped_limit(params, *, seed, outdir):
    """Shaped MLPs with d = T n at several widths against the correlation SDE."""
    widths = np.array(params["widths"])
    T, rho0 = float(params["T"]), float(params["rho0"])
    cp, cm = float(params["c_plus"]), float(params["c_minus"])
    N = int(params["n_nets"])
    if np.any(np.abs(widths * T - np.rint(widths * T)) > 1e-9):
        raise ValueError("T * width must be an integer depth")
    f = factors(params, SHAPED_COEFFICIENTS)
    r_sde = shaped_rho(rho0, T, cp, cm, int(params["n_sde"]), seed * 1000 + 999, int(params["sde_steps"]), f)
    se_sde = r_sde.std(ddof=1) / np.sqrt(r_sde.size)
    G = gram_from_correlation(rho0)
    nw = widths.size
    dmean, se_mean, w1, ks, lmean, lvar, se_lmean, se_lvar = (np.empty(nw) for _ in range(8))
    samples = []
    for k, n in enumerate(widths):
        d = int(round(T * n))
        r, sq, Z = shaped_networks(G, int(n), d, N, cp, cm, seed * 1000 + k, blocks=int(params["cv_blocks"]))
        samples.append(r)
        m, se_mean[k] = cv_mean(r, Z)
        dmean[k] = m - r_sde.mean()
        w1[k] = wasserstein(r, r_sde)
        ks[k] = stats.ks_2samp(r, r_sde).statistic
        lp = np.log(sq).ravel()  # both inputs: same law, pooled (weakly dependent pairs)
        lmean[k], lvar[k] = lp.mean(), lp.var(ddof=1)
        # standard errors from the N independent networks (the two inputs of a network are dependent)
        per_net = np.log(sq)
        se_lmean[k] = per_net.mean(axis=1).std(ddof=1) / np.sqrt(N)
        c = (per_net - lmean[k]) ** 2
        se_lvar[k] = c.mean(axis=1).std(ddof=1) / np.sqrt(N)

    fit = widths >= params["fit_min_width"]
    x = 1.0 / widths
    checks, metrics = [], {"perturb": f}
    checks.append(Check("w1_ratio", w1[-1] / w1[0], "<", 0.5, note=f"W1(n={widths[-1]}) / W1(n={widths[0]})"))
    a, bm, se_a, se_b, chi2 = fit_intercept(x[fit], dmean[fit], se_mean[fit])
    infl = max(1.0, np.sqrt(chi2))
    band = np.hypot(se_a * infl, se_sde)
    checks.append(
        Check(
            "mean_intercept_z",
            abs(a) / band,
            "<",
            4.0,
            note=f"E[rho_net] - E[rho_SDE] = a + b/n: a = {a:.4f} +- {band:.4f}, b = {bm:.3f}, chi2/dof = {chi2:.2f}",
        )
    )
    q = quantile_extrapolation(samples, r_sde, widths, fit, n_boot=int(params["n_boot"]), seed=seed * 1000 + 500)
    checks.append(
        Check(
            "w1_extrapolated",
            q["w1_inf"],
            "<",
            q["null_mean"] + 4 * q["null_sd"],
            note=f"trimmed W1(rho) at n = inf from a(p) + b(p)/n; null (true a = 0) "
            f"{q['null_mean']:.4f} +- {q['null_sd']:.4f} (bootstrap), threshold mean + 4 sd",
        )
    )
    # log Phi^aa_T ~ N(-T, 2T) exactly (d Phi^aa = s Phi^aa dB, s^2 = 2 f^2): its mean + T and variance - 2T
    # extrapolate to 0
    s2 = 2.0 * f["norm_noise"] ** 2
    logP = {
        "mean": ("E[log Phi^aa_T] + T", lmean + s2 * T / 2, se_lmean),
        "var": ("Var[log Phi^aa_T] - 2T", lvar - s2 * T, se_lvar),
    }
    logP_fits = {}
    for key, (label, y, se_y) in logP.items():
        al, bl, se_al, _, chi2l = fit_intercept(x[fit], y[fit], se_y[fit])
        checks.append(
            Check(
                f"logP_{key}_intercept_z",
                abs(al) / (se_al * max(1, np.sqrt(chi2l))),
                "<",
                4.0,
                note=f"{label} = a + b/n: a = {al:.4f}, b = {bl:.3f}",
            )
        )
        logP_fits[key] = dict(a=al, b=bl)
    metrics.update(
        widths=widths.tolist(),
        mean_diff=dmean.tolist(),
        se_mean=se_mean.tolist(),
        se_sde=se_sde,
        w1=w1.tolist(),
        ks=ks.tolist(),
        mean_fit=dict(a=a, b=bm, se_a=se_a * infl, chi2=chi2),
        trimmed_w1=q,
        logP_mean_plus_T=logP["mean"][1].tolist(),
        logP_var_minus_2T=logP["var"][1].tolist(),
        logP_mean_fit=logP_fits["mean"],
        logP_var_fit=logP_fits["var"],
        rho_sde_mean=float(r_sde.mean()),
    )

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    bins = np.linspace(-1, 1, 60)
    cmap = plt.get_cmap("viridis")
    for k, n in enumerate(widths):
        hist(axes[0], samples[k], bins, color=cmap(k / max(1, nw - 1)), lw=1, label=f"n={n}, d={int(T * n)}")
    hist(axes[0], r_sde, bins, color="k", lw=2, label="correlation SDE")
    axes[0].set_xlabel(r"final correlation $\rho_d$")
    axes[0].set_title(f"shaped MLP, T = d/n = {T:g}, c = ({cp:g}, {cm:g})")
    axes[0].legend(fontsize=7)
    axes[1].plot(widths, w1, "o-", label="W1(rho)")
    axes[1].errorbar(widths, np.abs(dmean), yerr=2 * se_mean, marker="s", capsize=2, label="|mean diff| (2 se)")
    axes[1].plot(widths, np.abs(lmean + T), "^-", label="|E log Phi + T|")
    axes[1].plot(widths, q["w1"], "o:", label="trimmed W1(rho)")
    axes[1].plot(widths, q["w1_noise"], "--", color="0.5", lw=0.8, label="trimmed W1 sampling-noise level")
    axes[1].plot(
        widths,
        q["C"] * widths.astype(float) ** -q["gamma"],
        "-.",
        lw=0.8,
        label=f"fit {q['C']:.2f} n^-{q['gamma']:.2f}",
    )
    axes[1].plot(widths, 1.0 / widths, "k--", lw=0.8, label="1/n")
    axes[1].set_xscale("log", base=2)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("width n")
    axes[1].legend(fontsize=7)
    path = save_figure(fig, outdir, "corr_shaped_limit.png")
    summary = (
        f"Shaped MLP vs correlation SDE: W1 {w1[0]:.4f} (n={widths[0]}) -> {w1[-1]:.4f} "
        f"(n={widths[-1]}), trimmed W1 ~ {q['C']:.2f} n^-{q['gamma']:.2f}, extrapolated "
        f"{q['w1_inf']:.4f} (null {q['null_mean']:.4f}); mean difference extrapolates to "
        f"{a:+.4f} +- {band:.4f}."
    )
    return Outcome(checks, metrics, [path], summary)


# ----------------------------------------------------------------------------------------------------
# corr.resnet_vs_shaped
# ----------------------------------------------------------------------------------------------------

_RESNET_QUICK = dict(depths=[4, 8, 16, 32], width_factor=2, n_nets=600, rho0=0.0, c_plus=1.0, c_minus=-1.0)


@experiment(
    id="corr.resnet_vs_shaped",
    checks="Li & Nica 2023, first result: a ReLU ResNet with a d^-1/2 branch (sigma_r) and a shaped MLP at rate "
    "d^-1/2 (c_pm) with (c+ - c-)^2 = sigma_r^2 approach the same deterministic correlation ODE as d grows "
    "with width n = width_factor d^2 (so d/n -> 0).",
    criterion="(1) E[rho_d] - rho_ODE(1) fitted as a + b/d over the depths has |a| < 4 se(a) for the ResNet and "
    "(2) for the shaped MLP (se(a) inflated by sqrt(chi2/dof) when > 1); (3) the same for the "
    "difference E[rho_resnet] - E[rho_shaped]; (4) ResNet |error| at the largest depth < 1/4 of that "
    "at the smallest (an 8x depth range; O(1/d) predicts 1/8); (5) for both architectures the standard "
    "deviation of rho_d at the largest depth < 1/2 of that at the smallest (the limit is deterministic: "
    "the fluctuations are O(sqrt(d/n)) for the shaped MLP (d layers of O(1/n) variance) and O(n^-1/2) "
    "for the ResNet (d branches of variance O(1/(d n))), i.e. ratios sqrt(d_min/d_max) and d_min/d_max "
    "with n = width_factor d^2).",
    quick=_RESNET_QUICK,
    full=dict(_RESNET_QUICK, depths=[4, 8, 16, 32, 64], width_factor=4, n_nets=2000),
    resolution=dict(quick="10 % in kappa of the correlation ODE", full="2 % (measured, seed 0)"),
    perturbable=("kappa",),
)
@experiment_doc
def resnet_vs_shaped(params, *, seed, outdir):
    """ResNet (d^-1/2 branch) and shaped MLP (rate d^-1/2) against the correlation ODE."""
    depths = np.array(params["depths"])
    rho0 = float(params["rho0"])
    cp, cm = float(params["c_plus"]), float(params["c_minus"])
    kappa = (cp - cm) ** 2
    sigma_r = np.sqrt(kappa)
    N = int(params["n_nets"])
    G = gram_from_correlation(rho0)
    f = factors(params, ("kappa",))
    rho_lim = float(correlation_ode(rho0, [1.0], kappa * f["kappa"])[-1])
    nd = depths.size
    err, se, rec, sd = ({a: np.empty(nd) for a in ("resnet", "shaped")} for _ in range(4))
    diff, se_diff, vnorm = np.empty(nd), np.empty(nd), np.empty(nd)
    samples = {}
    for k, d in enumerate(depths):
        n = int(params["width_factor"] * d * d)
        br = resnet(G, n, int(d), N, sigma_r=sigma_r, engine="gram", seed=seed * 1000 + 2 * k, save="last")
        bs = shaped_mlp(
            G,
            n,
            int(d),
            N,
            c_plus=cp,
            c_minus=cm,
            shaping="depth",
            engine="gram",
            seed=seed * 1000 + 2 * k + 1,
            save="last",
        )
        rr, rs = br.corr[:, 0, 0, 1], bs.corr[:, 0, 0, 1]
        for arch, r in (("resnet", rr), ("shaped", rs)):
            err[arch][k] = r.mean() - rho_lim
            sd[arch][k] = r.std(ddof=1)
            se[arch][k] = sd[arch][k] / np.sqrt(N)
            samples[(arch, k)] = r
        diff[k] = rr.mean() - rs.mean()
        se_diff[k] = np.hypot(se["resnet"][k], se["shaped"][k])
        V = resnet_recursion(G, int(d), sigma_r)[-1]
        rec["resnet"][k] = V[0, 1] / np.sqrt(V[0, 0] * V[1, 1]) - rho_lim
        rec["shaped"][k] = (1.0 - shaped_mlp_recursion(rho0, int(d), cp, cm)[-1]) - rho_lim
        vnorm[k] = br.sqnorm[:, 0, 0].mean() / np.exp(sigma_r**2 / 2) - 1

    x = 1.0 / depths
    checks, metrics = [], {"perturb": f}
    for name, y, s in (
        ("resnet", err["resnet"], se["resnet"]),
        ("shaped", err["shaped"], se["shaped"]),
        ("resnet_minus_shaped", diff, se_diff),
    ):
        a, b, se_a, se_b, chi2 = fit_intercept(x, y, s)
        infl = max(1.0, np.sqrt(chi2))
        checks.append(
            Check(
                f"{name}_intercept_z",
                abs(a) / (se_a * infl),
                "<",
                4.0,
                note=f"a + b/d: a = {a:.5f} +- {se_a * infl:.5f}, b = {b:.4f} +- {se_b * infl:.4f}, "
                f"chi2/dof = {chi2:.2f}",
            )
        )
        metrics[f"{name}_fit"] = dict(a=a, b=b, se_a=se_a * infl, se_b=se_b * infl, chi2=chi2)
    checks.append(
        Check(
            "resnet_error_ratio",
            abs(err["resnet"][-1]) / abs(err["resnet"][0]),
            "<",
            0.25,
            note=f"|E rho - rho_ODE| at d={depths[-1]} over d={depths[0]}",
        )
    )
    for arch in ("resnet", "shaped"):
        pred = np.sqrt(depths[0] / depths[-1]) if arch == "shaped" else depths[0] / depths[-1]
        checks.append(
            Check(
                f"{arch}_sd_ratio",
                sd[arch][-1] / sd[arch][0],
                "<",
                0.5,
                note=f"sd(rho_d) at d={depths[-1]} over d={depths[0]}; theory predicts {pred:.3f}",
            )
        )
    metrics.update(
        depths=depths.tolist(),
        widths=[int(params["width_factor"] * d * d) for d in depths],
        rho_ode=rho_lim,
        error_resnet=err["resnet"].tolist(),
        se_resnet=se["resnet"].tolist(),
        error_shaped=err["shaped"].tolist(),
        se_shaped=se["shaped"].tolist(),
        sd_resnet=sd["resnet"].tolist(),
        sd_shaped=sd["shaped"].tolist(),
        recursion_error_resnet=rec["resnet"].tolist(),
        recursion_error_shaped=rec["shaped"].tolist(),
        finite_width_resnet=(err["resnet"] - rec["resnet"]).tolist(),
        finite_width_shaped=(err["shaped"] - rec["shaped"]).tolist(),
        resnet_sqnorm_rel_error_vs_exp=vnorm.tolist(),
    )

    fig, (ax, axd) = plt.subplots(1, 2, figsize=(11, 4))
    for arch, c in (("resnet", "C0"), ("shaped", "C1")):
        ax.errorbar(
            depths,
            np.abs(err[arch]),
            yerr=2 * se[arch],
            color=c,
            marker="o",
            capsize=2,
            label=f"{arch}: |E rho_d - rho_ODE|",
        )
        ax.plot(depths, np.abs(rec[arch]), color=c, ls=":", label=f"{arch}: infinite-width recursion")
        ax.plot(depths, sd[arch], color=c, ls="--", marker=".", lw=0.8, label=f"{arch}: sd(rho_d)")
    ax.errorbar(depths, np.abs(diff), yerr=2 * se_diff, color="C2", marker="s", capsize=2, label="|resnet - shaped|")
    ax.plot(depths, 0.5 / depths, "k--", lw=0.8, label="1/d")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(f"depth d (width n = {params['width_factor']} d^2)")
    ax.set_title(f"ResNet (sigma_r^2 = {kappa:g}) vs shaped MLP, rho_ODE(1) = {rho_lim:.4f}", fontsize=9)
    ax.legend(fontsize=7)
    bins = np.linspace(rho_lim - 0.6, min(1.0, rho_lim + 0.5), 60)
    for k in (0, nd - 1):
        for arch, c in (("resnet", "C0"), ("shaped", "C1")):
            hist(
                axd,
                samples[(arch, k)],
                bins,
                color=c,
                lw=1.5 if k else 0.8,
                ls="-" if k else ":",
                label=f"{arch}, d={depths[k]}",
            )
    axd.axvline(rho_lim, color="k", lw=1.5, label="ODE limit")
    axd.set_xlabel(r"final correlation $\rho_d$")
    axd.set_title("densities: finite networks concentrate on the ODE value", fontsize=9)
    axd.legend(fontsize=7)
    path = save_figure(fig, outdir, "corr_resnet_vs_shaped.png")
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary=f"ResNet error {err['resnet'][0]:+.4f} -> {err['resnet'][-1]:+.4f}, shaped "
        f"{err['shaped'][0]:+.4f} -> {err['shaped'][-1]:+.4f} (d = {depths[0]} -> {depths[-1]}); "
        f"both extrapolate to rho_ODE = {rho_lim:.4f}.",
    )
