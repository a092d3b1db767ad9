"""Finite-width correction of E[log y] for the unshaped ReLU MLP against the q-SDE (corr.unshaped_limit).

docs/theory/finite-networks.md ("Finite-width correction of E[log y]") derives, as for the mean,

    E[log y_hat] - E[log y_t] = A' log(n)/n + B'/n + o(1/n)

(y_hat = y with the deterministic depth orbit divided out).  This script measures d_n = E[log y_hat] -
E[log y_t] with the control variate of ``deeplimits.experiments._unshaped_cv`` (E[log y_t] from a large SDE
sample: it has no closed form), fits a + (A log n + B)/n over the widths whose depth t n is at least
--min-depth (and, for comparison, over all widths), predicts the largest width from the others, and reports
the same fits for E[y_hat]/E[y] - 1 on the same networks.

Usage: python benchmarks/finite_width_log_mean.py [--widths 32 64 128 256 512]
       [--nets 16000 16000 8000 6000 3000] [--ts 0.25 0.5 1] [--seed 7] [--sde-paths 200000]
       [--min-depth 16]   (the defaults take ~16 min on one loaded core)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from deeplimits.correlation import Q_STAR, depth_recursion_u, sample_q
from deeplimits.correlation.unshaped import mean_y
from deeplimits.experiments._network_stats import LOG, fit_rates
from deeplimits.experiments._unshaped_cv import network_y
from deeplimits.networks import gram_from_correlation

RHO0 = 0.5


def simulate(widths, ts, nets, seed, sde_paths):
    """Per (t, width): d_n of E[log y_hat] and E[y_hat]/E[y] - 1 with standard errors, and the SDE reference."""
    ysde = sample_q(ts, n_paths=sde_paths, seed=seed * 1000 + 999, n_steps_per_unit=1024, return_y=True)
    logs = np.log(ysde)
    ref, ref_se = logs.mean(0), logs.std(0, ddof=1) / np.sqrt(logs.shape[0])
    ubar = depth_recursion_u(1.0 - RHO0, int(ts.max() * widths.max()))
    keys = ("d", "se", "se_plain", "m", "m_se")
    out = {key: np.empty((ts.size, widths.size)) for key in keys}
    for k, n in enumerate(widths):
        samples, _ = network_y(gram_from_correlation(RHO0), int(n), ts, int(nets[k]), seed * 1000 + k)
        for j, (y, z, z_log) in enumerate(samples):
            l = int(round(ts[j] * n))
            ratio = np.sqrt(Q_STAR / (l * l * ubar[l]))  # deterministic depth orbit y_l / Y_STAR
            x = np.log(y) + 0.5 * z_log - np.log(ratio)
            c = (y + 0.5 * z) / ratio / mean_y(ts[j])
            root = np.sqrt(y.size)
            out["d"][j, k], out["se"][j, k] = x.mean() - ref[j], x.std(ddof=1) / root
            out["se_plain"][j, k] = np.log(y).std(ddof=1) / root
            out["m"][j, k], out["m_se"][j, k] = c.mean() - 1.0, c.std(ddof=1) / root
    return out, ref_se


def slope_fit(widths, y, se):
    """Weighted fit y = a + (A log n + B)/n: coefficients and covariance."""
    A = np.stack([np.ones(widths.size), np.log(widths) / widths, 1.0 / widths], axis=1)
    w = 1.0 / se**2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    return cov @ (A.T @ (w * y)), cov


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    ap.add_argument("--nets", type=int, nargs="+", default=[16000, 16000, 8000, 6000, 3000])
    ap.add_argument("--ts", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sde-paths", type=int, default=200000)
    ap.add_argument("--min-depth", type=int, default=16)
    args = ap.parse_args()
    widths, ts = np.array(args.widths), np.array(args.ts)
    t0 = time.time()
    out, ref_se = simulate(widths, ts, args.nets, args.seed, args.sde_paths)
    print(f"# {time.time() - t0:.0f} s; SDE standard errors of E[log y_t]: {np.round(ref_se, 4).tolist()}")
    print("| t | " + " | ".join(f"n = {n}" for n in widths) + " |")
    for j, t in enumerate(ts):
        cells = (f"{d:+.4f} +- {s:.4f}" for d, s in zip(out["d"][j], out["se"][j], strict=True))
        print(f"| {t:g} | " + " | ".join(cells) + " |")
    for j, t in enumerate(ts):
        gain = np.round(out["se_plain"][j] / out["se"][j], 1).tolist()
        print(f"\n## t = {t:g} (control-variate gain in standard error: {gain})")
        deep = np.rint(t * widths) >= args.min_depth
        for label, fit in ((f"depth >= {args.min_depth}", deep), ("all widths", np.ones_like(deep))):
            for stat, y, se, extra in (
                ("E[log y_hat]", out["d"][j], out["se"][j], ref_se[j]),
                ("E[y_hat]/E[y] - 1", out["m"][j], out["m_se"][j], 0.0),
            ):
                if fit.sum() < 3:
                    continue
                a, se_a, chi2 = fit_rates(widths[fit], y[fit], se[fit], (1.0, LOG))
                se_tot = float(np.hypot(se_a, extra))
                coef, cov = slope_fit(widths[fit], y[fit], se[fit])
                print(
                    f"{label}, {stat}: a = {a:+.4f} +- {se_tot:.4f} (z = {a / se_tot:+.2f}), chi2/dof = {chi2:.2f}, "
                    f"A = {coef[1]:.2f} +- {np.sqrt(cov[1, 1]):.2f}"
                )
        prior = deep & (widths < widths.max())
        if prior.sum() >= 3:
            for stat, y, se in (("E[log y_hat]", out["d"][j], out["se"][j]), ("E[y_hat]", out["m"][j], out["m_se"][j])):
                coef, cov = slope_fit(widths[prior], y[prior], se[prior])
                n = float(widths.max())
                x = np.array([1.0, np.log(n) / n, 1.0 / n])
                pred, pse = float(x @ coef), float(np.sqrt(x @ cov @ x))
                z = (y[-1] - pred) / np.hypot(pse, se[-1])
                print(
                    f"predicted {stat} at n = {n:g} from the smaller widths: {pred:+.4f} +- {pse:.4f}, "
                    f"measured {y[-1]:+.4f} +- {se[-1]:.4f} (z = {z:+.2f})"
                )


if __name__ == "__main__":
    main()
