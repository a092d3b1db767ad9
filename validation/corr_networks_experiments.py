"""Finite random networks against their correlation limits (Li & Nica 2023; Li, Nica & Roy 2022).

Experiments
-----------
corr.unshaped_limit   ReLU MLP, q_t = l^2 (1 - rho_l) at t = l/n, against the singular-start SDE.
corr.shaped_limit     shaped leaky-ReLU MLP, d/n = T: final correlation against the correlation SDE.
corr.resnet_vs_shaped ResNet with a d^-1/2 branch and shaped MLP at rate d^-1/2 reach the same ODE limit.

The finite networks come from :mod:`deeplimits.networks` (Gram-exact engine, checked against real weight
matrices in ``tests/test_networks_engines.py``).  The unshaped limit comes from
``deeplimits.correlation`` (``sample_q``, ``depth_recursion_u``, ``mean_y``).  The shaped correlation SDE and
the deterministic ODE are small local helpers here (``_limit_rho_samples``, ``rho_ode``), written before
``deeplimits.correlation.shaped_sde``/``odes`` landed; their weak time-discretisation error O(h) is far
below the finite-width errors measured.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import integrate, stats  # noqa: E402

from deeplimits.networks import gram_from_correlation, relu_mlp, resnet, shaped_mlp  # noqa: E402
from deeplimits.correlation.maps import depth_recursion_u  # noqa: E402
from deeplimits.correlation.unshaped_sde import Q_STAR, mean_y, sample_q  # noqa: E402
from deeplimits.rng import normal_array  # noqa: E402
from deeplimits.validation import Check, Outcome, experiment  # noqa: E402

# ----------------------------------------------------------------------------------------------------
# limits (local helpers)
# ----------------------------------------------------------------------------------------------------

def nu_shaped(rho, kappa):
    """Shaped-ReLU drift nu(rho) = (kappa / (2 pi)) (sqrt(1 - rho^2) - rho arccos rho), kappa = (c+ - c-)^2."""
    rho = np.clip(rho, -1.0, 1.0)
    return kappa / (2 * np.pi) * (np.sqrt(1 - rho**2) - rho * np.arccos(rho))


def _limit_rho_samples(rho0, T, kappa, n_paths, n_steps, seed):
    """Correlation marginal of the shaped covariance SDE [theory ref. 2, D]:
    d rho = [nu(rho) - rho (1 - rho^2) / 2] dt + (1 - rho^2) dW, Euler-Maruyama, clipped to [-1, 1]
    (the noise vanishes at +-1; with h = T / n_steps the clip acts at the O(h) level)."""
    h = T / n_steps
    rho = np.full(n_paths, float(rho0))
    dW = normal_array(seed, (n_paths, n_steps)) * np.sqrt(h)
    for k in range(n_steps):
        rho = rho + (nu_shaped(rho, kappa) - rho * (1 - rho**2) / 2) * h + (1 - rho**2) * dW[:, k]
        np.clip(rho, -1.0, 1.0, out=rho)
    return rho


def rho_ode(rho0, t_end, kappa):
    """Deterministic limit d rho / dt = nu(rho) (shaped MLP, d << n; ResNet with sigma_r^2 = kappa)."""
    sol = integrate.solve_ivp(lambda t, r: nu_shaped(r, kappa), (0.0, t_end), [rho0], rtol=1e-12, atol=1e-14)
    return float(sol.y[0, -1])


# ----------------------------------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------------------------------

def wasserstein(x, y):
    """W1 distance of two empirical laws."""
    return float(stats.wasserstein_distance(x, y))


def w1_noise_floor(ref, n_small, n_rep, seed):
    """Law of W1 between a sample of size n_small and the rest of ``ref`` when both come from the same law.

    Sub-samples of the limit sample itself: the W1 a finite-network sample of size n_small would show
    if it had exactly the limit law.  Returns (mean, standard deviation, 99% quantile).
    """
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_rep):
        perm = rng.permutation(ref.size)
        vals.append(wasserstein(ref[perm[:n_small]], ref[perm[n_small:]]))
    vals = np.array(vals)
    return float(vals.mean()), float(vals.std(ddof=1)), float(np.quantile(vals, 0.99))


def fit_intercept(x, y, se):
    """Weighted least squares y = a + b x (weights 1 / se^2); returns a, b, se_a, se_b, chi2/dof."""
    A = np.stack([np.ones_like(x), x], axis=1)
    w = 1.0 / np.asarray(se) ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    resid = y - A @ coef
    dof = max(1, x.size - 2)
    chi2 = float(np.sum(w * resid**2) / dof)
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])), chi2


def _hist(ax, x, bins, **kw):
    h, e = np.histogram(x, bins=bins, density=True)
    ax.step(0.5 * (e[1:] + e[:-1]), h, where="mid", **kw)


# ----------------------------------------------------------------------------------------------------
# corr.unshaped_limit
# ----------------------------------------------------------------------------------------------------

@experiment(
    id="corr.unshaped_limit",
    checks="ReLU MLP (He init, gram engine): the law of y = (l^2 (1 - rho_l))^-1/2 at t = l/n in {0.25, 0.5, 1} "
           "converges to the singular-start q-SDE (Li & Nica 2023) as the width n grows.",
    criterion="For every t: (1) W1 distance of raw y = 1/(l sqrt(1 - rho_l)) to the SDE law at the largest width "
              "< 1/2 of that at the smallest width; (2) the relative error of E[y_hat] (y_hat = y with l^2 replaced "
              "by the exact infinite-width factor Q*/ubar_l, same limit) fitted as a + b/n over widths >= "
              "fit_min_width has |a| < 4 standard errors (fit covariance, inflated by sqrt(chi2/dof) when > 1); "
              "(3) the W1 distance of y_hat fitted as a + b/n extrapolates to a value below the 99% quantile of "
              "the W1 sampling floor (W1 between n_nets SDE samples and the SDE reference sample) plus 2 standard "
              "errors of the intercept (point errors = floor standard deviation).",
    quick=dict(widths=[32, 64, 128, 256], n_nets=2000, ts=[0.25, 0.5, 1.0], rho0=0.5, n_sde=20000,
               steps_per_unit=1024, fit_min_width=64, floor_reps=40),
    full=dict(widths=[32, 64, 128, 256, 512, 1024, 2048], n_nets=4000, ts=[0.25, 0.5, 1.0], rho0=0.5,
              n_sde=100000, steps_per_unit=1024, fit_min_width=128, floor_reps=100),
)
def unshaped_limit(params, *, seed, outdir):
    widths = np.array(params["widths"])
    ts = np.array(params["ts"], dtype=float)
    N = int(params["n_nets"])
    rho0 = float(params["rho0"])
    G = gram_from_correlation(rho0)
    if np.any(np.abs(np.outer(widths, ts) - np.rint(np.outer(widths, ts))) > 1e-9):
        raise ValueError("every t * width must be an integer layer index")
    ubar = depth_recursion_u(1.0 - rho0, int(round(ts.max() * widths.max())))
    y_sde = sample_q(ts, n_paths=int(params["n_sde"]), seed=seed * 1000 + 999,
                     n_steps_per_unit=int(params["steps_per_unit"]), return_y=True)
    ey = mean_y(ts)
    y_star = 1.0 / np.sqrt(Q_STAR)

    nt, nw = ts.size, widths.size
    rel_mean_raw, rel_mean_hat, se_mean = (np.empty((nt, nw)) for _ in range(3))
    w1_raw, w1_hat, ks_raw, ks_hat = (np.empty((nt, nw)) for _ in range(4))
    samples = {}
    n_dead = 0
    for k, n in enumerate(widths):
        ls = np.rint(ts * n).astype(int)
        b = relu_mlp(G, int(n), int(ls.max()), N, engine="gram", seed=seed * 1000 + k, save=ls)
        for j, (t, l) in enumerate(zip(ts, ls)):
            u = b.one_minus_corr[:, b.layer(l), 0, 1]
            ok = np.isfinite(u)
            n_dead += int((~ok).sum())
            u = u[ok]
            y = 1.0 / (l * np.sqrt(u))
            yh = y_star * np.sqrt(ubar[l] / u)
            samples[(j, k)] = (y, yh)
            rel_mean_raw[j, k] = y.mean() / ey[j] - 1
            rel_mean_hat[j, k] = yh.mean() / ey[j] - 1
            se_mean[j, k] = yh.std(ddof=1) / np.sqrt(yh.size) / ey[j]
            w1_raw[j, k] = wasserstein(y, y_sde[:, j]) / ey[j]
            w1_hat[j, k] = wasserstein(yh, y_sde[:, j]) / ey[j]
            ks_raw[j, k] = stats.ks_2samp(y, y_sde[:, j]).statistic
            ks_hat[j, k] = stats.ks_2samp(yh, y_sde[:, j]).statistic

    checks, metrics = [], {}
    fit = widths >= params["fit_min_width"]
    x = 1.0 / widths
    for j, t in enumerate(ts):
        tag = f"t={t:g}"
        checks.append(Check(f"w1_raw_ratio_{tag}", w1_raw[j, -1] / w1_raw[j, 0], "<", 0.5,
                            note=f"W1(n={widths[-1]}) / W1(n={widths[0]}) for raw y"))
        a, bslope, se_a, se_b, chi2 = fit_intercept(x[fit], rel_mean_hat[j, fit], se_mean[j, fit])
        infl = max(1.0, np.sqrt(chi2))
        checks.append(Check(f"mean_intercept_z_{tag}", abs(a) / (se_a * infl), "<", 4.0,
                            note=f"E[y_hat]/E[y] - 1 = a + b/n, a = {a:.4f} +- {se_a * infl:.4f}, "
                                 f"b = {bslope:.2f} +- {se_b * infl:.2f}, chi2/dof = {chi2:.2f}"))
        fl_mean, fl_sd, fl_q99 = (v / ey[j] for v in
                                  w1_noise_floor(y_sde[:, j], N, int(params["floor_reps"]), seed * 1000 + 500 + j))
        aw, bw, se_aw, _, _ = fit_intercept(x[fit], w1_hat[j, fit], np.full(fit.sum(), fl_sd))
        checks.append(Check(f"w1_hat_intercept_{tag}", aw, "<", fl_q99 + 2 * se_aw,
                            note=f"W1(y_hat)/E[y] = a + b/n extrapolated (point errors = floor sd {fl_sd:.4f}); "
                                 f"floor mean {fl_mean:.4f}, 99% {fl_q99:.4f}, + 2 se(a) = {2 * se_aw:.4f}"))
        metrics[tag] = dict(
            widths=widths.tolist(), rel_mean_error_raw=rel_mean_raw[j].tolist(),
            rel_mean_error_hat=rel_mean_hat[j].tolist(), se_rel_mean=se_mean[j].tolist(),
            w1_raw=w1_raw[j].tolist(), w1_hat=w1_hat[j].tolist(), ks_raw=ks_raw[j].tolist(),
            ks_hat=ks_hat[j].tolist(), mean_fit_a=a, mean_fit_b=bslope, mean_fit_se_a=se_a * infl,
            mean_fit_se_b=se_b * infl, mean_fit_chi2=chi2, w1_fit_a=aw, w1_fit_se_a=se_aw, w1_fit_b=bw, w1_floor_mean=fl_mean, w1_floor_sd=fl_sd,
            w1_floor_q99=fl_q99, depth_factor_raw_over_hat=[float(np.sqrt(Q_STAR / (round(t * n) ** 2 *
                                                                ubar[int(round(t * n))]))) for n in widths],
            sde_mean_rel_error=float(y_sde[:, j].mean() / ey[j] - 1),
            sde_mean_se=float(y_sde[:, j].std() / np.sqrt(y_sde.shape[0]) / ey[j]))
    metrics["dead_networks"] = n_dead

    figs = [_plot_unshaped_densities(outdir, ts, widths, samples, y_sde),
            _plot_unshaped_errors(outdir, ts, widths, rel_mean_raw, rel_mean_hat, se_mean, w1_raw, w1_hat, metrics)]
    summ = "; ".join(f"t={t:g}: E[y_hat] excess {metrics[f't={t:g}']['mean_fit_b']:.1f}/n "
                     f"(intercept {metrics[f't={t:g}']['mean_fit_a']:+.3f} +- {metrics[f't={t:g}']['mean_fit_se_a']:.3f}), "
                     f"W1 raw {w1_raw[j0 := list(ts).index(t), 0]:.3f} -> {w1_raw[j0, -1]:.3f}" for t in ts)
    return Outcome(checks=checks, metrics=metrics, figures=figs,
                   summary="Unshaped ReLU MLP vs q-SDE. " + summ)


def _plot_unshaped_densities(outdir, ts, widths, samples, y_sde):
    fig, axes = plt.subplots(1, ts.size, figsize=(4.2 * ts.size, 3.4))
    cmap = plt.get_cmap("viridis")
    for j, (t, ax) in enumerate(zip(ts, np.atleast_1d(axes))):
        hi = np.quantile(y_sde[:, j], 0.995)
        bins = np.linspace(0, hi, 50)
        for k, n in enumerate(widths):
            _hist(ax, samples[(j, k)][1], bins, color=cmap(k / max(1, widths.size - 1)), lw=1, label=f"n={n}")
        _, yraw = samples[(j, widths.size - 1)]
        _hist(ax, samples[(j, widths.size - 1)][0], bins, color="tab:red", lw=1, ls=":", label=f"raw, n={widths[-1]}")
        _hist(ax, y_sde[:, j], bins, color="k", lw=2, label="SDE")
        ax.set_title(f"t = l/n = {t:g}")
        ax.set_xlabel(r"$y = q^{-1/2}$ (corrected: $y_*\sqrt{\bar u_l/u_l}$)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    path = outdir / "corr_unshaped_densities.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_unshaped_errors(outdir, ts, widths, rel_raw, rel_hat, se, w1_raw, w1_hat, metrics):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for j, t in enumerate(ts):
        c = f"C{j}"
        axes[0].errorbar(widths, np.abs(rel_hat[j]), yerr=2 * se[j], color=c, marker="o", capsize=2,
                         label=f"|E y_hat/E y - 1|, t={t:g}")
        axes[0].plot(widths, np.abs(rel_raw[j]), color=c, ls=":", marker="x", label=f"raw, t={t:g}")
        axes[1].plot(widths, w1_hat[j], color=c, marker="o", label=f"W1 y_hat, t={t:g}")
        axes[1].plot(widths, w1_raw[j], color=c, ls=":", marker="x", label=f"W1 raw, t={t:g}")
        axes[1].axhline(metrics[f"t={t:g}"]["w1_floor_q99"], color=c, lw=0.6, ls="--")
    ref = widths.astype(float)
    axes[0].plot(ref, 2.0 / ref, "k--", lw=0.8, label="slope -1")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width n")
        ax.legend(fontsize=6)
    axes[0].set_title("relative error of E[y]")
    axes[1].set_title("W1 / E[y]  (dashed: 99% sampling floor)")
    fig.tight_layout()
    path = outdir / "corr_unshaped_error_vs_width.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
