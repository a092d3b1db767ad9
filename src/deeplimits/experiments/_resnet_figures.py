"""The figure of ``resnet.moments`` (a private module: discovery skips files starting with "_")."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.plotting import legend_outside
from deeplimits.resnet import exact_resnets
from deeplimits.resnet.moments import norm_moments, norm_moments_limit
from deeplimits.validation import save_figure

__all__ = ["moments_figure"]


def moments_figure(cases, d, L, metrics, outdir, *, seed, n_mc):
    # Closed forms against L (alpha = L^-1/2) with their neural-SDE limits, the Monte Carlo means at the
    # checked depth with 4-standard-error bars (the pass criterion), and, for the figure only, smaller exact
    # Monte Carlo runs along the depth axis (2 standard errors), so the agreement is seen at every scale.
    Ls = np.unique(np.round(np.geomspace(1, max(4 * L, 400), 60)).astype(int))
    mc_depths = [int(x) for x in np.unique(np.round(np.geomspace(2, Ls[-1], 6))) if int(x) != L]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for j, (variant, act) in enumerate(cases):
        col = f"C{j}"
        cf = np.array([norm_moments(variant, act, d, int(Lx), 0.5) for Lx in Ls])
        lim = norm_moments_limit(variant, act, d)
        along = []
        for k, Lx in enumerate(mc_depths):
            r = exact_resnets(variant, n_mc, d, Lx, 0.5, activation=act, seed=seed * 1000 + 100 + 10 * j + k)
            x = r.norms[:, -1] ** 2
            along.append([(x.mean(), x.std(ddof=1)), ((x**2).mean(), (x**2).std(ddof=1))])
        for p in (0, 1):
            ax = axes[p]
            ax.semilogx(Ls, cf[:, p], "-", color=col, label=f"{variant} {act}: closed form")
            mean, sd = np.array([a[p] for a in along]).T
            ax.errorbar(
                mc_depths,
                mean,
                yerr=2 * sd / np.sqrt(n_mc),
                fmt="^",
                ms=4,
                color=col,
                capsize=2,
                label=f"{variant} {act}: MC (exact, {n_mc} nets) +- 2 s.e." if p == 1 else None,
            )
            ax.axhline(lim[p], color=col, ls=":", lw=1)
            for k, (sim, mk) in enumerate((("exact", "o"), ("dense", "s"))):
                key = f"{variant}_{act}_{sim}_moment{2 * p + 2}"
                if key + "_mc" in metrics:
                    ax.errorbar(
                        L * (1 + 0.08 * k),
                        metrics[key + "_mc"],
                        yerr=4 * metrics[key + "_se"],
                        fmt=mk,
                        color=col,
                        mfc="none",
                        capsize=3,
                        label=f"{variant} {act}: MC ({sim}) +- 4 s.e." if p == 1 else None,
                    )
    for p, ax in enumerate(axes):
        ax.set(xlabel="depth L (residual blocks; alpha = L^-1/2)", ylabel=f"E ||h_L||^{2 * p + 2} (||h_0|| = 1)")
        ax.set_title(f"d = {d}; dotted: neural-SDE limit; MC at L = {L}: the checked depth", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
    legend_outside(axes[1])
    path = save_figure(fig, outdir, "resnet_moments.png", dpi=100)
    return path
