"""Finite-width correction of E[y] for the unshaped ReLU MLP against the q-SDE (corr.unshaped_limit).

For a width-n He-initialised ReLU MLP with two inputs (rho_0 = 0.5), y = 1/(l sqrt(1 - rho_l)) at t = l/n
has E[y_t] -> m(t) = Y_STAR (e^{2t} - 1)/(2t).  docs/theory/finite-networks.md ("Finite-width correction of
the mean") derives

    E[y]/m(t) - 1 = A_t log(n)/n + B_t/n + o(1/n),   A_t = (3/2) 2 e^{2t}/(e^{2t} - 1),

from the deterministic depth orbit y_l = Y_STAR (1 + (3/2) log(l)/l + C/l + ...) amplified by the mean
equation m' = (Y_STAR - m)/t + 2m.  This script checks

1. the orbit: (y_l/Y_STAR - 1) = (3/2) log(l)/l + c/l + ... from the exact arc-cosine map up to l = 1e6;
2. the mean-field recursion M_{l+1} = orbit(M_l) + 2 M_l/n (the deterministic part of the derivation to all
   orders in 1/l): the local slope of n (M_{tn}/(tn m(t)) - 1) in log n tends to A_t;
3. finite networks (Gram engine): E[y] estimated with an exactly unbiased control variate, n (E[y]/m - 1)
   fitted as A log n + B with A free (y: predicted A_t; y_hat = y Y_STAR/y_det(l), the orbit divided out:
   predicted A_t - 3/(2t)), the residual against the mean-field recursion (predicted: no log n term), and
   the intercepts of the finite-width models a + b/n, a + b n^-1/2, a + b1 n^-1/2 + b2/n and
   a + (A_t log n + B)/n with A_t fixed.

Control variate.  Given the post-activation Gram (P_1, P_2, rho) of layer l, positive homogeneity of ReLU makes
the normalised next Gram Gamma_ab = Phi^{l+1}_ab / sqrt(P_a P_b) a sum of n iid terms whose law depends on rho
only, with E Gamma_aa = 1 and E Gamma_12 = f(rho) exactly.  So xi_l = Delta/(2 (1 - f(rho_l))) -
(Gamma_11 + Gamma_22)/2, Delta = Gamma_11 + Gamma_22 - 2 Gamma_12, has conditional mean 0, and so has
Z = sum_l w_l xi_l for weights known at layer l.  To first order the innovation of y_{l+1} is -y_{l+1} xi_l/2,
and in the SDE E[y_t | y_s] = const + (s/t) e^{2(t-s)} y_s, so with w_l = (s/t) e^{2(t-s)} y_l l/(l+1),
s = (l+1)/n, the estimate mean(y + Z/2) is unbiased, with a standard error 2x (n = 32) to 15x (n = 1024)
smaller than that of mean(y).

Usage: python benchmarks/finite_width_correction.py [--widths 32 64 128 256 512 1024]
       [--nets 60000 60000 60000 30000 12000 4000] [--ts 0.25 0.5] [--seed 0] [--min-fit-width 32 64 128]
       [--json results.json]   (the defaults take ~7 min on one core)
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numba as nb
import numpy as np

from deeplimits.correlation import Q_STAR, depth_recursion_u
from deeplimits.correlation.maps import shaping_coefficient, u_map_scalar
from deeplimits.correlation.unshaped import mean_y
from deeplimits.experiments._unshaped_cv import network_y
from deeplimits.networks import gram_from_correlation

RHO0 = 0.5
Y_STAR = 1.0 / np.sqrt(Q_STAR)
K_RELU = shaping_coefficient(1.0, 0.0)


def log_slope(t, hat=False):
    """Predicted coefficient of log(n)/n in E[y]/m(t) - 1; ``hat``: for y_hat (minus 3/(2t))."""
    a = 3.0 / -np.expm1(-2.0 * t)
    return a - 1.5 / t if hat else a


def wls(columns, y, se):
    """Weighted least squares y = sum_j c_j columns[j]; returns (coef, se_coef, chi2/dof).

    Standard errors come from the fit covariance, inflated by sqrt(chi2/dof) when that exceeds 1.
    """
    A = np.stack(columns, axis=1)
    w = 1.0 / np.asarray(se) ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ coef) ** 2) / max(1, y.size - A.shape[1]))
    return coef, np.sqrt(np.diag(cov)) * max(1.0, np.sqrt(chi2)), chi2


def fit_models(widths, rel, se, slope):
    """Intercepts (a, se_a, chi2/dof) of the finite-width models and the free fit of A in a + (A log n + B)/n."""
    n = np.asarray(widths, float)
    one, inv, log = np.ones_like(n), 1.0 / n, np.log(n) / n
    out = {}
    c, s, chi2 = wls([one, inv, log], rel, se)
    out["free"] = dict(a=c[0], se_a=s[0], A=c[2], se_A=s[2], B=c[1], chi2=chi2)
    models = {
        "a + (A_t log n + B)/n": ([one, inv], rel - slope * log),
        "a + b/n": ([one, inv], rel),
        "a + b n^-1/2": ([one, n**-0.5], rel),
        "a + b1 n^-1/2 + b2/n": ([one, n**-0.5, inv], rel),
    }
    for name, (cols, y) in models.items():
        if len(cols) < n.size:
            c, s, chi2 = wls(cols, y, se)
            out[name] = dict(a=c[0], se_a=s[0], chi2=chi2)
    return out


@nb.njit(cache=True)
def _mean_field(n, depth, u0, k):
    """M_depth / depth for M_{l+1} = orbit(M_l) + 2 M_l / n, M_0 = u0^-1/2 (orbit: the exact map in v = u^-1/2)."""
    v = 1.0 / np.sqrt(u0)
    for _ in range(depth):
        v = 1.0 / np.sqrt(u_map_scalar(1.0 / (v * v), k)) + 2.0 * v / n
    return v / depth


def mean_field_rel(widths, t):
    """n-vector of M_{tn}/(tn m(t)) - 1 (deterministic part of the derivation, all orders in 1/l)."""
    return np.array([_mean_field(float(n), round(t * n), 1.0 - RHO0, K_RELU) for n in widths]) / mean_y(t) - 1.0


def simulate(widths, ts, nets, seed):
    """Relative errors E[y]/m - 1 per (t, width): plain mean, control variate, y_hat, and their standard errors."""
    m = mean_y(ts)
    keys = ("rel_plain", "se_plain", "rel", "se", "rel_hat", "se_hat")
    out = {key: np.empty((ts.size, widths.size)) for key in keys}
    dead = 0
    ubar = depth_recursion_u(1.0 - RHO0, round(ts.max() * widths.max()))
    for k, n in enumerate(widths):
        samples, d = network_y(gram_from_correlation(RHO0), int(n), ts, int(nets[k]), seed * 1000 + k)
        dead += d
        for j, (y, z, _) in enumerate(samples):
            l = round(ts[j] * n)
            ratio = np.sqrt(Q_STAR / (l * l * ubar[l]))  # y_det(l) / Y_STAR
            x, c = y / m[j], (y + 0.5 * z) / m[j]
            root = np.sqrt(y.size)
            out["rel_plain"][j, k], out["se_plain"][j, k] = x.mean() - 1, x.std(ddof=1) / root
            out["rel"][j, k], out["se"][j, k] = c.mean() - 1, c.std(ddof=1) / root
            out["rel_hat"][j, k], out["se_hat"][j, k] = c.mean() / ratio - 1, c.std(ddof=1) / root / ratio
    return out, dead


def orbit_check():
    """Table of the infinite-width orbit: (y_l/Y_STAR - 1) l / log l and the fitted coefficient of log(l)/l."""
    depth = 10**6
    print("## Depth orbit (exact map, float64, l <= 1e6)")
    print("| rho_0 | (y_l/Y* - 1) l/log l at l = 1e2, 1e4, 1e6 | fitted coefficient of log(l)/l | of 1/l |")
    print("|---|---|---|---|")
    for rho0 in (0.0, 0.5, 0.9):
        u = depth_recursion_u(1.0 - rho0, depth)
        ls = np.unique(np.logspace(3, 6, 200).astype(int))
        e = 1.0 / (ls * np.sqrt(u[ls])) / Y_STAR - 1.0
        X = np.stack([np.log(ls), np.ones(ls.size), np.log(ls) / ls, 1.0 / ls, np.log(ls) ** 2 / ls], axis=1)
        coef = np.linalg.lstsq(X, e * ls, rcond=None)[0]
        at = [float((1.0 / (l * np.sqrt(u[l])) / Y_STAR - 1.0) * l / np.log(l)) for l in (100, 10**4, 10**6)]
        print(f"| {rho0:g} | {at[0]:.4f}, {at[1]:.4f}, {at[2]:.4f} | {coef[0]:.6f} | {coef[1]:.4f} |")


def mean_field_check(ts):
    ns = 2 ** np.arange(5, 21)
    print("\n## Mean-field recursion: local slope of n (M/m - 1) in log n (predicted A_t)")
    print("| t | A_t | n = 64 | 256 | 1024 | 2^14 | 2^20 |")
    print("|---|---|---|---|---|---|---|")
    for t in ts:
        loc = np.diff(ns * mean_field_rel(ns, t)) / np.log(2.0)  # slope between n and 2n
        print(f"| {t:g} | {log_slope(t):.3f} | " + " | ".join(f"{loc[i]:.3f}" for i in (1, 3, 5, 9, 14)) + " |")


def print_fits(name, widths, rel, se, slope, nmins):
    for nmin in nmins:
        sel = widths >= nmin
        f = fit_models(widths[sel], rel[sel], se[sel], slope)
        fr = f.pop("free")
        print(
            f"{name}, n >= {nmin}: free A = {fr['A']:.3f} +- {fr['se_A']:.3f} (predicted {slope:.3f}, "
            f"{(fr['A'] - slope) / fr['se_A']:+.1f} se), a = {fr['a']:+.4f} +- {fr['se_a']:.4f}, "
            f"chi2/dof {fr['chi2']:.2f}"
        )
        cells = [f"{k}: {v['a']:+.4f} +- {v['se_a']:.4f} ({v['chi2']:.2f})" for k, v in f.items()]
        print("    intercepts (chi2/dof): " + "; ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024])
    ap.add_argument("--nets", type=int, nargs="+", default=[60000, 60000, 60000, 30000, 12000, 4000])
    ap.add_argument("--ts", type=float, nargs="+", default=[0.25, 0.5])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-fit-width", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--json", default=None, help="write the per-width estimates to this file")
    args = ap.parse_args()
    widths, ts = np.array(args.widths), np.array(args.ts)
    nets = np.broadcast_to(np.array(args.nets), widths.shape)
    orbit_check()
    mean_field_check(ts)
    print(f"\nnumba threads: {nb.get_num_threads()}, load average before: {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    res, dead = simulate(widths, ts, nets, args.seed)
    print(f"simulation: {time.perf_counter() - t0:.0f} s; networks with a dead column dropped: {dead}")
    res["rel_ref"] = np.array([mean_field_rel(widths, t) for t in ts])
    res["rel_res"] = (1 + res["rel"]) / (1 + res["rel_ref"]) - 1
    res["se_res"] = res["se"] / (1 + res["rel_ref"])
    for j, t in enumerate(ts):
        print(f"\n## t = {t:g}: A_t = {log_slope(t):.3f} (y), {log_slope(t, hat=True):.3f} (y_hat), 0 (y / M)")
        head = ["n", "networks", "E[y]/m - 1 plain", "E[y]/m - 1 CV", "n delta", "n delta_hat", "n delta_M"]
        print("| " + " | ".join([*head, "n (E[y]/M - 1)"]) + " |")
        print("|---|---|---|---|---|---|---|---|")
        for k, n in enumerate(widths):
            cell = [f"{res['rel_plain'][j, k]:+.4f} +- {res['se_plain'][j, k]:.4f}"]
            cell.append(f"{res['rel'][j, k]:+.4f} +- {res['se'][j, k]:.4f}")
            for key in ("rel", "rel_hat"):
                cell.append(f"{n * res[key][j, k]:.2f} +- {n * res[key.replace('rel', 'se')][j, k]:.2f}")
            cell.append(f"{n * res['rel_ref'][j, k]:.2f}")
            cell.append(f"{n * res['rel_res'][j, k]:.2f} +- {n * res['se_res'][j, k]:.2f}")
            print(f"| {n} | {nets[k]} | " + " | ".join(cell) + " |")
        for name, key, slope in (("y", "rel", log_slope(t)), ("y_hat", "rel_hat", log_slope(t, hat=True))):
            print_fits(name, widths, res[key][j], res[key.replace("rel", "se")][j], slope, args.min_fit_width)
        print_fits("y / M", widths, res["rel_res"][j], res["se_res"][j], 0.0, args.min_fit_width)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        data = {k: v.tolist() for k, v in res.items()}
        data |= dict(widths=widths.tolist(), ts=ts.tolist(), nets=nets.tolist())
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1)


if __name__ == "__main__":
    main()
