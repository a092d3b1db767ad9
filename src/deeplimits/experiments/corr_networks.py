"""Finite random networks against their correlation limits (Li & Nica 2023; Li, Nica & Roy 2022).

Experiments
-----------
corr.unshaped_limit   ReLU MLP, q_t = l^2 (1 - rho_l) at t = l/n, against the singular-start SDE.

``corr.shaped_limit`` and ``corr.resnet_vs_shaped`` are in :mod:`deeplimits.experiments.corr_networks_shaped`.

The finite networks come from :mod:`deeplimits.networks` (Gram-exact engine, checked against real weight
matrices in ``tests/test_networks_engines.py``).  The limits come from ``deeplimits.correlation``:
``sample_q`` (unshaped q-SDE), ``sample_correlation`` (shaped correlation SDE, Fisher-z form),
``correlation_ode`` and the infinite-width recursions.  How "the distance extrapolates to zero" is tested
(signed quantile differences, bootstrap null): :mod:`deeplimits.experiments._network_stats` and
``docs/theory/finite-networks.md`` section 6.0.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from deeplimits.correlation import Q_STAR, depth_recursion_u
from deeplimits.networks import gram_from_correlation
from deeplimits.plotting import legend_outside, log_ticks, series_style
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._network_stats import (
    LOG,
    MODELS,
    experiment_doc,
    fit_rates,
    hist,
    quantile_extrapolation,
    rate_label,
    wasserstein,
)
from ._perturbed import factors, unshaped_mean_y, unshaped_y
from ._unshaped_cv import network_y

# ----------------------------------------------------------------------------------------------------
# corr.unshaped_limit
# ----------------------------------------------------------------------------------------------------

_UNSHAPED_QUICK = dict(
    widths=[32, 64, 128, 256],
    n_nets=2000,
    ts=[0.25, 0.5, 1.0],
    rho0=0.5,
    n_sde=20000,
    steps_per_unit=1024,
    fit_min_width=32,
    fit_min_depth=16,
    n_boot=200,
    rates=[1.0, LOG],
    false_alarm=0.01,
)


@experiment(
    id="corr.unshaped_limit",
    checks="ReLU MLP (He init, gram engine): the law of y = (l^2 (1 - rho_l))^-1/2 at t = l/n in {0.25, 0.5, 1} "
    "converges to the singular-start q-SDE (Li & Nica 2023) as the width n grows.",
    criterion="For every t, with the fitted widths those n >= fit_min_width whose depth l = t n >= "
    "fit_min_depth: (1) W1 distance of raw y = 1/(l sqrt(1 - rho_l)) to the SDE law at the largest width "
    "< 1/2 of that at the smallest width; (2) the relative error of E[y_hat] (y_hat = y with l^2 replaced "
    "by the exact infinite-width factor Q*/ubar_l, same limit; estimated with an exactly unbiased control "
    "variate) against the exact E[y_t], and (3) the difference of E[log y_hat] (control variate likewise) "
    "and E[log y_t] of the SDE sample, each fitted as a + (A log n + B)/n, A free (the derived "
    "finite-width correction, docs/theory/finite-networks.md), have |a| / se(a) < z_(1 - false_alarm / "
    "(2 k)) over the k = 2 x (number of times) mean checks (se from the fit covariance, inflated by "
    "sqrt(chi2/dof) when > 1, and for (3) combined with the SDE sample's standard error): 3.14 for "
    "k = 6 and a family-wise false-alarm rate of 1 %; (4) the trimmed W1 distance of y_hat (quantiles "
    "1%..99%) extrapolated to n = infinity through its signed quantile differences (each fitted with the "
    "same model over the same widths), W1_inf = mean_p |a(p)|, is below the bootstrap null mean + 4 null "
    "standard deviations (the law W1_inf has when the true intercepts are zero).",
    quick=_UNSHAPED_QUICK,
    full=dict(_UNSHAPED_QUICK, widths=[32, 64, 128, 256, 512, 1024, 2048], n_nets=3000, n_sde=100000, fit_min_width=64),
    resolution=dict(
        quick="10 % in the drift coefficient (2 y of the y-SDE) and 10 % in the noise coefficient (sqrt2 y)",
        full="not measured",
    ),
    perturbable=("drift", "noise"),
)
@experiment_doc
def unshaped_limit(params, *, seed, outdir):
    """Unshaped ReLU MLPs at several widths against the q-SDE (see the decorator's criterion)."""
    widths = np.array(params["widths"])
    ts = np.array(params["ts"], dtype=float)
    if np.any(np.abs(np.outer(widths, ts) - np.rint(np.outer(widths, ts))) > 1e-9):
        raise ValueError("every t * width must be an integer layer index")
    f = factors(params, ("drift", "noise"))
    y_sde = unshaped_y(ts, int(params["n_sde"]), seed * 1000 + 999, int(params["steps_per_unit"]), f)
    ey = unshaped_mean_y(ts, f)
    raw, hat, hat_cv, log_cv, n_dead = _unshaped_samples(widths, ts, params, seed)
    rates = tuple(params["rates"])
    model = rate_label(rates)
    n_mean_checks = 2 * ts.size
    z_thr = float(stats.norm.isf(float(params["false_alarm"]) / (2 * n_mean_checks)))
    checks, metrics = [], {"dead_networks": n_dead, "perturb": f}
    for j, t in enumerate(ts):
        tag = f"t={t:g}"
        fit = (widths >= params["fit_min_width"]) & (np.rint(t * widths) >= params["fit_min_depth"])
        if fit.sum() <= len(rates):
            raise ValueError(f"t={t:g}: {fit.sum()} widths with n >= fit_min_width and t n >= fit_min_depth")
        w1_raw = np.array([wasserstein(raw[j][k], y_sde[:, j]) for k in range(widths.size)]) / ey[j]
        checks.append(
            Check(
                f"w1_raw_ratio_{tag}",
                w1_raw[-1] / w1_raw[0],
                "<",
                0.5,
                note=f"W1(n={widths[-1]}) / W1(n={widths[0]}) for raw y",
            )
        )
        rel = np.array([y.mean() / ey[j] - 1 for y in hat_cv[j]])
        se = np.array([y.std(ddof=1) / np.sqrt(y.size) / ey[j] for y in hat_cv[j]])
        mean_fits = {
            name: dict(zip(("a", "se_a", "chi2"), fit_rates(widths[fit], rel[fit], se[fit], r), strict=True))
            for name, r in MODELS.items()
            if len(r) < fit.sum()
        }
        a, se_a, chi2 = fit_rates(widths[fit], rel[fit], se[fit], rates)
        checks.append(
            Check(
                f"mean_intercept_z_{tag}",
                abs(a) / se_a,
                "<",
                z_thr,
                note=f"E[y_hat]/E[y] - 1 = a + {model}, a = {a:.4f} +- {se_a:.4f}, chi2/dof = {chi2:.2f}; "
                f"threshold: family-wise false alarm {params['false_alarm']:g} over {n_mean_checks} mean checks",
            )
        )
        log_sde = np.log(y_sde[:, j])
        log_ref, log_ref_se = float(log_sde.mean()), float(log_sde.std(ddof=1) / np.sqrt(log_sde.size))
        d_log = np.array([x.mean() - log_ref for x in log_cv[j]])
        se_log = np.array([x.std(ddof=1) / np.sqrt(x.size) for x in log_cv[j]])
        a_log, se_a_log, chi2_log = fit_rates(widths[fit], d_log[fit], se_log[fit], rates)
        se_log_tot = float(np.hypot(se_a_log, log_ref_se))
        checks.append(
            Check(
                f"log_mean_intercept_z_{tag}",
                abs(a_log) / se_log_tot,
                "<",
                z_thr,
                note=f"E[log y_hat] - E[log y] = a + {model}, a = {a_log:.4f} +- {se_a_log:.4f} (fit) +- "
                f"{log_ref_se:.4f} (SDE sample), chi2/dof = {chi2_log:.2f}",
            )
        )
        qh, qr = (
            quantile_extrapolation(
                y[j],
                y_sde[:, j],
                widths,
                fit,
                scale=ey[j],
                n_boot=int(params["n_boot"]),
                seed=seed * 1000 + offset + j,
                rates=rates,
            )
            for y, offset in ((hat, 500), (raw, 600))
        )
        thr = qh["null_mean"] + 4 * qh["null_sd"]
        checks.append(
            Check(
                f"w1_extrapolated_{tag}",
                qh["w1_inf"],
                "<",
                thr,
                note=f"trimmed W1(y_hat)/E[y] at n = inf from a(p) + {model}; null (true a = 0) "
                f"{qh['null_mean']:.4f} +- {qh['null_sd']:.4f} (bootstrap), threshold mean + 4 sd",
            )
        )
        metrics[tag] = dict(
            widths=widths.tolist(),
            w1_raw=w1_raw.tolist(),
            rel_mean_error_raw=[y.mean() / ey[j] - 1 for y in raw[j]],
            rel_mean_error_hat=[y.mean() / ey[j] - 1 for y in hat[j]],
            rel_mean_error_hat_cv=rel.tolist(),
            se_rel_mean=se.tolist(),
            fit_widths=widths[fit].tolist(),
            mean_fit=dict(a=a, se_a=se_a, chi2=chi2),
            log_mean_error_cv=d_log.tolist(),
            se_log_mean=se_log.tolist(),
            log_mean_sde=log_ref,
            log_mean_sde_se=log_ref_se,
            log_mean_fit=dict(a=a_log, se_a=se_a_log, se_total=se_log_tot, chi2=chi2_log),
            mean_fit_models=mean_fits,
            trimmed_w1_hat=qh,
            trimmed_w1_raw=qr,
            ks_raw=[float(stats.ks_2samp(y, y_sde[:, j]).statistic) for y in raw[j]],
            ks_hat=[float(stats.ks_2samp(y, y_sde[:, j]).statistic) for y in hat[j]],
            sde_mean_rel_error=float(y_sde[:, j].mean() / ey[j] - 1),
            sde_mean_se=float(y_sde[:, j].std() / np.sqrt(y_sde.shape[0]) / ey[j]),
        )
    figs = [
        _plot_unshaped_densities(outdir, ts, widths, raw, hat, y_sde),
        _plot_unshaped_errors(outdir, ts, widths, metrics),
    ]
    summ = "; ".join(
        f"t={t:g}: trimmed W1(y_hat)/E[y] {m['trimmed_w1_hat']['w1'][0]:.3f} -> "
        f"{m['trimmed_w1_hat']['w1'][-1]:.3f}, ~ {m['trimmed_w1_hat']['C']:.2f} "
        f"n^-{m['trimmed_w1_hat']['gamma']:.2f}, extrapolated {m['trimmed_w1_hat']['w1_inf']:.3f} "
        f"(null {m['trimmed_w1_hat']['null_mean']:.3f})"
        for t, m in ((t, metrics[f"t={t:g}"]) for t in ts)
    )
    return Outcome(checks=checks, metrics=metrics, figures=figs, summary="Unshaped ReLU MLP vs q-SDE. " + summ)


def _unshaped_samples(widths, ts, params, seed):
    """Per (t, width): raw ``y = 1/(l sqrt(u_l))``, ``y_hat = y_* sqrt(ubar_l / u_l)``, ``y_hat`` plus its
    control variate (same mean) and ``log y_hat`` plus its control variate (same mean; both from
    :mod:`deeplimits.experiments._unshaped_cv`), from the gram engine."""
    N, rho0 = int(params["n_nets"]), float(params["rho0"])
    G = gram_from_correlation(rho0)
    ubar = depth_recursion_u(1.0 - rho0, int(round(ts.max() * widths.max())))
    raw, hat, hat_cv, log_cv = ([[None] * widths.size for _ in ts] for _ in range(4))
    n_dead = 0
    for k, n in enumerate(widths):
        samples, n_dead_k = network_y(G, int(n), ts, N, seed * 1000 + k)
        n_dead += n_dead_k
        for j, (y, z, z_log) in enumerate(samples):
            l = int(round(ts[j] * n))
            ratio = np.sqrt(Q_STAR / (l * l * ubar[l]))  # deterministic depth orbit y_l / Y_STAR
            raw[j][k], hat[j][k], hat_cv[j][k] = y, y / ratio, (y + 0.5 * z) / ratio
            log_cv[j][k] = np.log(y) + 0.5 * z_log - np.log(ratio)
    return raw, hat, hat_cv, log_cv, n_dead


def _plot_unshaped_densities(outdir, ts, widths, raw, hat, y_sde):
    fig, axes = plt.subplots(1, ts.size, figsize=(4.2 * ts.size, 3.4))
    cmap = plt.get_cmap("viridis")
    for j, (t, ax) in enumerate(zip(ts, np.atleast_1d(axes), strict=True)):
        bins = np.linspace(0, np.quantile(y_sde[:, j], 0.995), 50)
        for k, n in enumerate(widths):
            hist(ax, hat[j][k], bins, color=cmap(k / max(1, widths.size - 1)), lw=1, label=f"n={n}")
        hist(ax, raw[j][-1], bins, color="tab:red", lw=1, ls=":", label=f"raw, n={widths[-1]}")
        hist(ax, y_sde[:, j], bins, color="k", lw=2, label="SDE")
        ax.set_title(f"t = l/n = {t:g}")
        ax.set_xlabel(r"$y = q^{-1/2}$ (corrected: $y_*\sqrt{\bar u_l/u_l}$)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    path = save_figure(fig, outdir, "corr_unshaped_densities.png")
    return path


def _plot_unshaped_errors(outdir, ts, widths, metrics):
    # The raw statistic's error falls like 1/n; the corrected y_hat has no 1/n term, so its error sits at the
    # Monte-Carlo noise level (shaded, 2 standard errors) already at small widths: the figure shows both.
    fig, axes = plt.subplots(2, 1, figsize=(8.5, 8))
    ref = widths.astype(float)
    for j, t in enumerate(ts):
        m, st = metrics[f"t={t:g}"], series_style(j)
        c = st["color"]
        raw = np.abs(m["rel_mean_error_raw"])
        axes[0].plot(widths, raw, color=c, ls=":", marker="x", label=f"raw y, t = {t:g}")
        axes[0].errorbar(
            widths,
            np.abs(m["rel_mean_error_hat"]),
            yerr=2 * np.array(m["se_rel_mean"]),
            color=c,
            marker=st["marker"],
            capsize=2,
            label=f"corrected y_hat, t = {t:g}",
        )
        axes[0].fill_between(widths, 1e-4, 2 * np.array(m["se_rel_mean"]), color=c, alpha=0.12, lw=0)
        q = m["trimmed_w1_hat"]
        axes[1].plot(widths, m["trimmed_w1_raw"]["w1"], color=c, ls=":", marker="x", label=f"raw y, t = {t:g}")
        axes[1].plot(widths, q["w1"], color=c, marker=st["marker"], label=f"corrected y_hat, t = {t:g}")
        axes[1].plot(
            widths, q["C"] * ref ** -q["gamma"], color=c, lw=0.7, ls="-.", label=f"fit {q['C']:.2f} n^-{q['gamma']:.2f}"
        )
        axes[1].plot(widths, q["w1_noise"], color=c, lw=0.8, ls="--", label=f"sampling-noise level, t = {t:g}")
        if j == len(ts) - 1:
            axes[0].plot(ref, raw[0] * ref[0] / ref, "k--", lw=0.8, label="slope -1 (through raw, largest t)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_ticks(ax, widths)
        ax.set_xlabel("width n (neurons per layer)")
        ax.grid(True, which="major", alpha=0.3)
        legend_outside(ax)
    axes[0].set_ylim(bottom=max(1e-4, 0.3 * min(np.min(2 * np.array(metrics[f"t={t:g}"]["se_rel_mean"])) for t in ts)))
    axes[0].set_ylabel("|E y_n / E y_SDE - 1| (relative)")
    axes[0].set_title("relative error of the mean (shaded: 2 s.e. Monte-Carlo noise)", fontsize=9)
    axes[1].set_ylabel("trimmed W1(y_n, y_SDE) / E y (relative)")
    axes[1].set_title("distance between the laws (dashed: sampling-noise level)", fontsize=9)
    path = save_figure(fig, outdir, "corr_unshaped_error_vs_width.png")
    return path
