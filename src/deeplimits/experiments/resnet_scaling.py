"""Validation experiments for deeplimits.resnet: depth-scaling regimes and exponents estimated from weights.

Importing this file registers ``resnet.regime_map``, ``resnet.estimator_calibration`` and
``resnet.trained_exponents`` with :mod:`deeplimits.validation`.
"""

from __future__ import annotations

import sys

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from deeplimits.plotting import legend_outside, log_ticks, plot_regime_map, series_style
from deeplimits.resnet import SmoothWeightFunction, estimate_scaling, iid_weights, regime_map
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._perturbed import factors


# --------------------------------------------------------------------------------------------------------------
def _growth_sd(n_nets, width, depths):
    """Standard deviation of the growth exponent on the identity side, from its leading-order law.

    For ``beta > H`` the leading term of ``h_L - h_0`` is ``L^-beta sum_k V_k h_0``, and ``sum_k V_k`` is
    ``L^H / sqrt(d)`` times a standard Gaussian matrix, so each network's ratio is ``L^(H - beta) sqrt(chi2_d / d)``.
    With ``n_nets`` odd the median is the order statistic ``k = (n_nets + 1)/2``, i.e. ``F^-1(U)`` with
    ``U ~ Beta(k, n_nets + 1 - k)`` and ``F`` the chi2_d distribution function; the two depths have independent
    weights, so the growth exponent has standard deviation ``sqrt(2) sd(log median) / log(L_hi / L_lo)``.
    """
    if n_nets % 2 == 0:
        raise ValueError(f"n_nets must be odd (the median is then one order statistic), got {n_nets}")
    k = (n_nets + 1) // 2
    u = stats.beta(k, n_nets + 1 - k)

    def half_log(q):
        return 0.5 * np.log(stats.chi2.ppf(q, width))

    m1, m2 = u.expect(half_log), u.expect(lambda q: half_log(q) ** 2)
    return float(np.sqrt(2.0 * (m2 - m1 * m1)) / np.log(depths[1] / depths[0]))


@experiment(
    id="resnet.regime_map",
    checks="heat map of log10 ||h_L - h_0|| / ||h_0|| over (beta, H) for fGn weights (linear res1); the critical "
    "line is beta = H (derived, see regimes.py)",
    criterion="for beta >= H + 0.3 the growth exponent d log(ratio)/d log L equals H - beta: the largest "
    "|growth - (H - beta)| over those k cells, in units of its standard deviation (derived from the leading-order "
    "law of the ratio, L^(H - beta) sqrt(chi2_d / d), and the median of n_nets networks), is below "
    "z_(1 - 0.01/(2k)) (family-wise false-alarm rate 1 %); the growth exceeds 0.3 for beta <= H - 0.2",
    quick=dict(
        betas=[0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3], hursts=[0.2, 0.5, 0.8], depths=[32, 256], width=6, n_nets=245
    ),
    full=dict(
        betas=list(np.round(np.arange(0.05, 1.31, 0.05), 2)),
        hursts=list(np.round(np.arange(0.1, 0.95, 0.1), 2)),
        depths=[64, 1024],
        width=10,
        n_nets=65,
    ),
    resolution=dict(quick="10 % in the critical exponent beta* = H", full="not measured"),
    perturbable=("beta_star",),
)
def regime_map_exp(params, *, seed, outdir):
    """Planted error: ``beta_star`` scales the critical exponent ``beta* = H`` of the predictions (the networks keep
    theirs): growth ``beta* - beta`` for ``beta >= beta* + 0.3``, explosion for ``beta <= beta* - 0.2``."""
    fb = factors(params, ("beta_star",))["beta_star"]
    m = regime_map(
        params["betas"],
        params["hursts"],
        depths=tuple(params["depths"]),
        width=params["width"],
        n_nets=params["n_nets"],
        seed=seed,
    )
    sd = _growth_sd(params["n_nets"], params["width"], m.depths)
    dev, expl = [], []
    for ih, H in enumerate(m.hursts):
        bstar = fb * H
        for ib, b in enumerate(m.betas):
            if b >= bstar + 0.3 - 1e-9:
                dev.append(abs(m.growth[ih, ib] - (bstar - b)))
            elif b <= bstar - 0.2 + 1e-9:
                expl.append(m.growth[ih, ib])
    z_thr = float(stats.norm.isf(0.01 / (2 * max(len(dev), 1))))
    path = save_figure(plot_regime_map(m, depth_index=1), outdir, "resnet_regime_map.png", dpi=100)
    checks = [
        Check(
            "max_z_identity_side",
            max(dev) / sd if dev else np.nan,
            "<",
            z_thr,
            note=f"max |growth - (H - beta)| / sd over {len(dev)} cells, sd = {sd:.4f} (leading-order law, "
            f"{params['n_nets']} networks); threshold: family-wise false alarm 0.01",
        ),
        Check("min_growth_explosion_side", min(expl) if expl else np.nan, ">", 0.3, note=f"{len(expl)} cells"),
    ]
    return Outcome(
        checks=checks,
        figures=[path],
        metrics=dict(
            perturb={"beta_star": fb},
            betas=m.betas.tolist(),
            hursts=m.hursts.tolist(),
            depths=list(m.depths),
            growth_sd=sd,
            max_dev_identity_side=max(dev) if dev else None,
            log10_ratio=np.where(np.isfinite(m.log10_ratio), m.log10_ratio, 999).tolist(),
            growth=np.where(np.isfinite(m.growth), m.growth, 999).tolist(),
        ),
        summary="Critical line beta* = H (growth H - beta on the identity side).",
    )


# --------------------------------------------------------------------------------------------------------------
@experiment(
    id="resnet.estimator_calibration",
    checks="estimate_scaling on synthetic weights with known exponents: smooth L^-beta A(k/L) (beta = 0.2, 0.5) "
    "and i.i.d. L^-1/2 xi_k, over several seeds",
    criterion="for every known exponent, its 95% CI contains it for at least 4 of 5 seeds (P(<= 3 of 5) = 0.023 "
    "at 95% coverage); verdicts smooth / diffusive in at least 4 of 5 seeds",
    quick=dict(depths=[16, 32, 64, 128, 256], seeds=5, n_boot=150, width=8),
    full=dict(depths=[16, 32, 64, 128, 256, 512, 1024], seeds=5, n_boot=1000, width=10),
    resolution=dict(quick="10 % in the exponent beta of the known slopes", full="2 % (measured, seed 0)"),
    perturbable=("beta",),
)
def estimator_calibration(params, *, seed, outdir):
    """Planted error: ``beta`` scales the exponent in the known slopes (``-beta``, ``1/2 - beta``) that the
    intervals must contain; the weights keep theirs."""
    depths, d = params["depths"], params["width"]
    fb = factors(params, ("beta",))["beta"]
    hits, verdicts, slopes, cis, truth = {}, {}, {}, {}, {}
    for s in range(params["seeds"]):
        ss = seed * 100 + s
        cases = []
        for beta in (0.2, 0.5):
            f = SmoothWeightFunction((d, d), 0.3, seed=ss)
            est = estimate_scaling({L: L**-beta * f.on_grid(L) for L in depths}, n_boot=params["n_boot"], seed=ss)
            cases.append(
                (
                    f"smooth{beta}",
                    est,
                    {"max_norm_corrected": -beta * fb, "increment": -1.0, "root_ssq": 0.5 - beta * fb},
                    "smooth (ODE)",
                )
            )
        est = estimate_scaling(
            {L: L**-0.5 * iid_weights(1, L, (d, d), seed=ss * 1000 + L)[0] for L in depths},
            n_boot=params["n_boot"],
            seed=ss,
        )
        cases.append(
            (
                "iid",
                est,
                {"max_norm_corrected": -0.5 * fb, "root_ssq": 0.5 - 0.5 * fb, "quadratic_variation": 0.0},
                "diffusive (SDE)",
            )
        )
        for name, est, known, verdict in cases:
            for key, val in known.items():
                lo, hi = est.ci[key]
                hits.setdefault(f"{name}_{key}", []).append(bool(lo <= val <= hi))
                slopes.setdefault(f"{name}_{key}", []).append(est.slopes[key])
                cis.setdefault(f"{name}_{key}", []).append((lo, hi))
                truth[f"{name}_{key}"] = val
            verdicts.setdefault(name, []).append(est.verdict == verdict)
    checks = [Check(f"coverage_{k}", sum(v), ">=", 4, note=f"of {len(v)} seeds") for k, v in hits.items()]
    checks += [Check(f"verdict_{k}", sum(v), ">=", 4, note=f"of {len(v)} seeds") for k, v in verdicts.items()]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for i, key in enumerate(slopes):
        n_s = len(slopes[key])
        xs = i + np.linspace(-0.25, 0.25, n_s)
        lo, hi = np.array(cis[key]).T
        sl = np.array(slopes[key])
        ax.errorbar(xs, sl, yerr=[sl - lo, hi - sl], fmt="o", ms=3, capsize=2, color=f"C{i % 10}")
        ax.plot([i - 0.35, i + 0.35], [truth[key]] * 2, "k-", lw=2)
    ax.set_xticks(range(len(slopes)), list(slopes), rotation=30, ha="right", fontsize=7)
    ax.set(ylabel="fitted slope vs log L (95% CI)")
    ax.set_title(f"estimate_scaling on synthetic weights, {params['seeds']} seeds (black: known exponent)", fontsize=9)
    path = save_figure(fig, outdir, "resnet_estimator_calibration.png", dpi=100)
    return Outcome(
        checks=checks,
        figures=[path],
        metrics={
            "perturb": {"beta": fb},
            "mean_slopes": {k: float(np.mean(v)) for k, v in slopes.items()},
            "coverage": {k: int(sum(v)) for k, v in hits.items()},
        },
        summary="Known exponents recovered within bootstrap CIs.",
    )


# --------------------------------------------------------------------------------------------------------------
#: checks of resnet.trained_exponents; each is allotted 1 % / 6 of the family-wise false-alarm rate
_TRAINED_CHECKS = 6
#: reference exponents: tanh-shared raw weights (Cohen et al.'s measurement) and ReLU effective weights (the
#: diffusive scale L^-1/2 of a neural-SDE limit, also Cohen et al.'s measurement)
_BETA_REF = {"tanh_shared": 0.2, "relu_multi": 0.5}


def _predict(net, x):
    """Output ``h_L`` of a trained network of eq. (1) (numpy; the forward pass of ``train_resnet``)."""
    sigma = np.tanh if net.config == "tanh_shared" else (lambda u: np.maximum(u, 0.0))
    delta = np.abs(net.delta[0]) * np.ones(net.depth) if net.config == "tanh_shared" else net.delta
    h = np.array(x, dtype=np.float64)
    for k in range(net.depth):
        h = h + delta[k] * sigma(h @ net.A[k] + net.b[k])
    return h


def _heldout_gain_z(net, x_test, y_test):
    """z-score of the mean per-point drop in held-out squared error from the identity map to ``net``, and the
    test MSE of the numpy forward pass (a consistency check against the recorded one)."""
    e_net = np.mean((_predict(net, x_test) - y_test) ** 2, axis=1)
    gain = np.mean((x_test - y_test) ** 2, axis=1) - e_net
    return float(gain.mean() / (gain.std(ddof=1) / np.sqrt(gain.size))), float(e_net.mean())


@experiment(
    id="resnet.trained_exponents",
    checks="ResNets of eq. (1) trained on Cohen et al.'s synthetic task (tanh + shared delta; ReLU + per-layer delta) "
    "over a sweep of depths; weights saved (npz) and passed to estimate_scaling; compared with the paper "
    "(tanh: beta ~ 0.2, smooth; ReLU effective weights: beta ~ 0.5, diffusive). The trained exponents depend on "
    "the training budget (no theory predicts them after a given number of epochs): the beta checks test "
    "consistency with the reference values at the resolution of one run's interval",
    criterion="six checks, each at level 0.01/6 (Bonferroni, 1 % for the experiment). Training works (a test of the "
    "training run): every trained network predicts the 256 held-out points better than the identity map (the "
    "network at initialisation up to O(0.01)), one-sided paired z-test on the per-point squared errors, "
    "z > z_(1 - 0.01/6) = 2.94. Regime: the increment slope (-1 for weights smooth in k/L, 0 for noise in k) is "
    "on the expected side of the midpoint -1/2 of the two models (tanh raw below, ReLU effective above). "
    "Exponent: the reference (tanh raw 0.2; ReLU effective 1/2) lies in the estimator's interval of beta at "
    "level 1 - 0.01/6 (quick mode: two networks per depth, so that the interval's misfit term has 6 degrees of "
    "freedom); without torch the experiment is skipped",
    quick=dict(depths=[8, 16, 32, 64], replicates=2, epochs=6, n_boot=200),
    full=dict(depths=[8, 16, 32, 64, 128, 256, 512, 1000], replicates=1, epochs=60, n_boot=1000),
)
def trained_exponents(params, *, seed, outdir):
    import torch  # noqa: F401  (without the torch extra the run records this experiment as skipped)
    from scipy import stats

    from deeplimits.resnet.training import effective_weights, load_weights, synthetic_task, train_sweep

    alpha = 0.01 / _TRAINED_CHECKS
    z_crit = float(stats.norm.ppf(1.0 - alpha))
    _, _, x_test, y_test = synthetic_task(seed=seed)
    checks, metrics = [], {"alpha_per_check": alpha}
    wdir = outdir / "resnet_trained_weights"
    results = {}
    for cfg in ("tanh_shared", "relu_multi"):
        nets = []  # (depth, replicate, net); replicate r has torch seeds seed * 10_000 + 5_000 r + L
        for r in range(params["replicates"]):
            rdir = wdir if r == 0 else wdir / f"replicate{r}"
            sweep = train_sweep(
                cfg,
                params["depths"],
                outdir=rdir,
                epochs=params["epochs"],
                seed=seed * 10_000 + 5_000 * r,
                data_seed=seed,
                progress=sys.stderr.isatty(),
            )  # bars in a terminal, none in CI logs
            nets += [(L, r, load_weights(rdir / f"{cfg}_L{L:04d}.npz")) for L in sweep]
        gains = [_heldout_gain_z(n, x_test, y_test) for _, _, n in nets]
        i_min = int(np.argmin([g[0] for g in gains]))
        checks.append(
            Check(
                f"{cfg}_heldout_gain_z",
                gains[i_min][0],
                ">",
                z_crit,
                note=f"smallest over the {len(nets)} networks (L = {nets[i_min][0]}); one-sided level "
                f"0.01/{_TRAINED_CHECKS}, {x_test.shape[0]} test points",
            )
        )
        for which in ("raw", "effective"):
            ws = [effective_weights(n, which) for _, _, n in nets]
            est = estimate_scaling(ws, n_boot=params["n_boot"], seed=seed)
            results[(cfg, which)] = est
            metrics[f"{cfg}_{which}"] = dict(
                beta=est.beta,
                ci_beta=[-est.ci["max_norm_corrected"][1], -est.ci["max_norm_corrected"][0]],
                slopes=est.slopes,
                verdict=est.verdict,
                rule=est.rule,
            )
            if (cfg, which) in (("tanh_shared", "raw"), ("relu_multi", "effective")):
                wide = estimate_scaling(ws, n_boot=params["n_boot"], seed=seed, level=1.0 - alpha)
                lo, hi = -wide.ci["max_norm_corrected"][1], -wide.ci["max_norm_corrected"][0]
                metrics[f"{cfg}_{which}"]["ci_beta_checked"] = [lo, hi]
        per_net = [f"{L}_r{r}" for L, r, _ in nets]
        metrics[f"{cfg}_train_loss"] = {k: float(n.train_loss[-1]) for k, (_, _, n) in zip(per_net, nets, strict=True)}
        metrics[f"{cfg}_loss_ratio"] = {
            k: float(n.train_loss[-1] / n.train_loss[0]) for k, (_, _, n) in zip(per_net, nets, strict=True)
        }
        metrics[f"{cfg}_heldout_gain_z"] = {k: g[0] for k, g in zip(per_net, gains, strict=True)}
        metrics[f"{cfg}_test_mse_mismatch"] = max(
            abs(g[1] - n.test_loss[-1]) for g, (_, _, n) in zip(gains, nets, strict=True)
        )
        metrics[f"{cfg}_delta_mean_abs"] = {
            k: float(np.abs(n.delta).mean()) for k, (_, _, n) in zip(per_net, nets, strict=True)
        }
    t_est, r_est = results[("tanh_shared", "raw")], results[("relu_multi", "effective")]
    for name, est, op in (("tanh_shared_raw", t_est, "<"), ("relu_multi_effective", r_est, ">")):
        lo, hi = est.ci["increment"]
        checks.append(
            Check(
                f"{name}_increment_slope",
                est.slopes["increment"],
                op,
                -0.5,
                note=f"95% interval [{lo:.2f}, {hi:.2f}]; verdict {est.verdict}",
            )
        )
    for name, est, cfg in (("tanh_shared_raw", t_est, "tanh_shared"), ("relu_multi_effective", r_est, "relu_multi")):
        # the reference lies in [lo, hi] exactly when beta_hat lies in [ref - (hi - beta_hat), ref + (beta_hat - lo)]
        lo, hi = metrics[name]["ci_beta_checked"]
        ref = _BETA_REF[cfg]
        checks.append(
            Check(
                f"{name}_beta",
                est.beta,
                "in",
                (ref - (hi - est.beta), ref + (est.beta - lo)),
                note=f"reference {ref} in the level-{1 - alpha:.4f} interval [{lo:.2f}, {hi:.2f}]",
            )
        )
    fig, ax = plt.subplots(2, 1, figsize=(8, 8))
    for j, (cfg, which) in enumerate((("tanh_shared", "raw"), ("relu_multi", "effective"))):
        est = results[(cfg, which)]
        for i, key in enumerate(est.statistics):  # all five statistics, raw max norm included (see docs, Sec. 8)
            label = f"{key} ({est.slopes[key]:.2f})"
            ds = np.unique(est.depths)  # geometric mean over the replicates at each depth; every network a point
            gm = [np.exp(np.mean(np.log(est.statistics[key][est.depths == L]))) for L in ds]
            ax[j].loglog(ds, gm, "-", color=series_style(i)["color"], label=label)
            ax[j].loglog(est.depths, est.statistics[key], ls="none", ms=4, **series_style(i))
        ax[j].set(xlabel="depth L (residual blocks)", ylabel="weight statistic (norm of the layer weights)")
        ax[j].set_title(f"{cfg} ({which} weights): {est.verdict}", fontsize=9)
        log_ticks(ax[j], np.unique(est.depths))
        ax[j].grid(True, which="major", alpha=0.3)
        legend_outside(ax[j], title="statistic (log-log slope)", title_fontsize=7)
    path = save_figure(fig, outdir, "resnet_trained_exponents.png", dpi=100)
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary=f"tanh shared: beta {t_est.beta:.2f} ({t_est.verdict}) vs paper ~0.2 smooth; ReLU per-layer "
        f"delta: beta {r_est.beta:.2f} ({r_est.verdict}) vs paper ~0.5 diffusive.",
    )
