"""Validation experiments for capacity propagation (Donier 2019): the discrete chain, its
deep limit, Monte-Carlo walkers, scaling regimes and finite conv ResNets.

Importing this module registers ``cap.chain_to_kfe``, ``cap.walkers`` and
``cap.scaling_regimes``; :mod:`.cap_networks` registers ``cap.finite_network``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numba
import numpy as np
from scipy.stats import chi2 as chi2_dist

from deeplimits.capacity import (
    ConvLayer,
    classify_regime,
    growth_exponent,
    kfe_coefficients,
    master_equation_periodic,
    propagate,
    residual_stack,
    run_walkers,
    spread_vs_depth,
)
from deeplimits.validation import Check, experiment

from ._cap_common import delta, limit_profiles, order_check, outcome, slope

# --------------------------------------------------------------------------------------------
# cap.chain_to_kfe
# --------------------------------------------------------------------------------------------
_KFE_CASES = {
    # name: (taps, layer kwargs, a, lattice)
    "1d_causal_dilated_bias": (np.array([0.5, 1.0, 2.0, 1.0]), dict(causal=True, dilation=2, bias=0.4), 1.2, (64,)),
    "2d_3x3": (np.array([[0.5, 1.0, 0.5], [1.0, 2.0, 1.0], [0.5, 1.0, 0.5]]), {}, 1.0, (24, 24)),
}


@experiment(
    id="cap.chain_to_kfe",
    checks="the exact capacity chain with alpha = a/sqrt(L) converges to the lattice master equation "
    "(exact periodic FFT solution) at t = 1 with error O(1/L); consistency only: the master equation is built "
    "from the same capacity rule, so an error in the rule cannot be seen",
    criterion="log-log slope of the L1 error against L within -1 +- 0.2 over >= 5 depths, for a 1-D causal "
    "dilated kernel with a bias sink and a 2-D 3x3 kernel; the error constant L * err agrees within 10% "
    "between the two largest depths (asymptotic regime reached)",
    quick=dict(depths=[16, 32, 64, 128, 256, 512]),
    full=dict(depths=[16, 32, 64, 128, 256, 512, 1024, 2048, 4096]),
)
def chain_to_kfe(params, *, seed, outdir):
    depths = np.array(params["depths"])
    checks, metrics = [], {}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, (taps, kw, a, shape) in _KFE_CASES.items():
        c0 = delta(shape)
        errs = []
        for L in depths:
            st = residual_stack(taps, int(L), a, **kw)
            me = master_equation_periodic(kfe_coefficients(st[0], int(L)), c0, 1.0)
            errs.append(float(np.abs(propagate(st, c0) - me).sum()))
        s = slope(depths, errs)
        metrics[f"{name}_errors"] = dict(zip(depths.tolist(), errs, strict=True))
        metrics[f"{name}_slope"] = s
        checks.append(order_check(f"{name}_slope", s, -1, "order 1 in 1/L, +-0.2"))
        const_ratio = (depths[-1] * errs[-1]) / (depths[-2] * errs[-2])
        metrics[f"{name}_error_constant"] = float(depths[-1] * errs[-1])
        checks.append(
            Check(f"{name}_error_constant_ratio", const_ratio, "in", (0.9, 1.1), note="L err at the largest two depths")
        )
        axes[0].loglog(depths, errs, "o-", label=f"{name} (slope {s:.3f})")
    axes[0].loglog(depths, errs[0] * depths[0] / depths, "k--", label="slope -1")
    axes[0].set_xticks(depths, [str(L) for L in depths])
    axes[0].minorticks_off()
    axes[0].set_xlabel("depth L")
    axes[0].set_ylabel("L1(chain, master equation) at t = 1")
    axes[0].legend(fontsize=8)
    # profiles and heat map for the 1-D case
    taps, kw, a, shape = _KFE_CASES["1d_causal_dilated_bias"]
    c0 = delta(shape)
    x = np.arange(shape[0]) - shape[0] // 2
    for L in (16, 64, 256):
        axes[1].plot(x, propagate(residual_stack(taps, L, a, **kw), c0), "o", ms=3, label=f"chain L={L}")
    me, pde, sub = limit_profiles(residual_stack(taps, 16, a, **kw)[0], 16, c0)
    metrics["1d_l1_master_vs_pde"] = float(np.abs(me - pde).sum())
    axes[1].plot(x, me, "k-", label="master equation t=1")
    axes[1].plot(
        x[sub],
        pde[sub],
        "r--",
        label="drift-diffusion PDE (FV, CN) x dilation, on the even sites\n"
        f"L1 to master eq. {metrics['1d_l1_master_vs_pde']:.3f} (Kramers-Moyal: skewed kernel)",
    )
    axes[1].set_xlabel("input position - output position")
    axes[1].set_ylabel("capacity")
    axes[1].set_xlim(-30, 10)
    axes[1].legend(fontsize=8)
    _, hist = propagate(residual_stack(taps, 64, a, **kw), c0, return_history=True, method="stencil")
    im = axes[2].imshow(hist[::-1], aspect="auto", origin="lower", extent=(x[0], x[-1], 0, 1), cmap="viridis")
    axes[2].set_xlabel("position")
    axes[2].set_ylabel("depth fraction t from the output")
    axes[2].set_title("capacity over depth (L = 64)")
    fig.colorbar(im, ax=axes[2])
    slopes = ", ".join(f"{k}: {v:.3f}" for k, v in metrics.items() if k.endswith("slope"))
    summary = f"Exact chain vs exact master equation: error slopes {slopes}"
    return outcome(fig, outdir, "cap_chain_to_kfe.png", checks, metrics, summary)


# --------------------------------------------------------------------------------------------
# cap.walkers
# --------------------------------------------------------------------------------------------
# taps and keyword arguments of a plain layer and of residual layers with sink, causality, zero padding, dilation
_VARIED_LAYERS = [
    ([1.0, 1.0], {}),
    ([1.0, 2.0, 1.0], dict(alpha=0.5, bias=0.3)),
    ([2.0, 1.0, 1.0], dict(causal=True, padding="zero")),
    ([1.0, 3.0, 1.0], dict(alpha=0.9, dilation=3)),
]


def _walker_cases():
    return {
        "1d_periodic": (residual_stack([1.0, 2.0, 1.0], 40, a=2.0), (30,)),
        "1d_causal_dilated_sink_zero_pad": (
            residual_stack([1.0, 0.5, 2.0], 25, a=2.5, causal=True, dilation=2, bias=0.6, padding="zero"),
            (40,),
        ),
        "1d_reflecting": (residual_stack([1.0, 1.0, 1.0], 60, a=3.0, padding="reflecting"), (12,)),
        "1d_varied_stack": (tuple(ConvLayer(taps, **kw) for taps, kw in _VARIED_LAYERS) * 3, (24,)),
        "2d_periodic": (
            residual_stack(np.array([[0.5, 1.0, 0.5], [1.0, 2.0, 1.0], [0.5, 1.0, 0.5]]), 20, a=2.0),
            (11, 9),
        ),
    }


def _binned_test(exact, est, n):
    """Chi-square goodness of fit of the walker histogram to the exact chain, and the max |z|.

    Bins with n p >= 100 (binomial skewness < 0.1) are kept, the rest pooled, and the dead fraction
    is one more bin, so the multinomial chi-square with (bins - 1) degrees of freedom applies.
    Returns (p-value, max |z|, number of bins).
    """
    p, q = exact.ravel(), est.ravel()
    big = n * p >= 100
    bp = np.array(list(p[big]) + [p[~big].sum(), max(1.0 - p.sum(), 0.0)])
    bq = np.array(list(q[big]) + [q[~big].sum(), 1.0 - q.sum()])
    keep = n * bp > 0
    bp, bq = bp[keep], bq[keep]
    chi2 = float(n * np.sum((bq - bp) ** 2 / bp))
    z = np.abs(bq - bp) / np.sqrt(bp * (1 - bp) / n)
    return float(chi2_dist.sf(chi2, len(bp) - 1)), float(z.max()), len(bp)


@experiment(
    id="cap.walkers",
    checks="Monte-Carlo walkers (Numba, parallel, per-walker streams) sample the exact capacity chain, "
    "including sinks, absorbing/reflecting/periodic boundaries, varied stacks and 2-D kernels; "
    "results are bit-identical with 1 thread and with the default thread count; consistency only: walkers and "
    "chain share the capacity rule, so an error in the rule cannot be seen",
    criterion="for each stack, chi-square goodness of fit of the walker histogram (bins with n p >= 100, the rest "
    "pooled, plus the dead fraction) to the exact chain: p-value > 1e-3; 0 differing walkers between "
    "thread counts",
    quick=dict(n_walkers=100_000),
    full=dict(n_walkers=4_000_000),
)
def walkers(params, *, seed, outdir):
    n = int(params["n_walkers"])
    checks, metrics = [], {}
    cases = _walker_cases()
    fig, axes = plt.subplots(1, len(cases), figsize=(4 * len(cases), 3.6))
    for ax, (k, (name, (layers, shape))) in zip(axes, enumerate(cases.items()), strict=True):
        c = delta(shape, at=(shape[0] - 5,) if name.startswith("1d_causal") else None)
        exact = propagate(layers, c)
        res = run_walkers(layers, c, n, seed=seed * 1000 + k)
        est = res.capacity()
        pval, z, m = _binned_test(exact, est, n)
        metrics[f"{name}_chi2_pvalue"] = pval
        metrics[f"{name}_max_z"] = z
        metrics[f"{name}_bins"] = m
        checks.append(Check(f"{name}_chi2_pvalue", pval, ">", 1e-3, note=f"{m} bins, n = {n}"))
        if exact.ndim == 1:
            x = np.arange(shape[0])
            sd = np.sqrt(exact * (1 - exact) / n)
            ax.fill_between(x, exact - 4 * sd, exact + 4 * sd, color="C1", alpha=0.4, label="exact +- 4 sd")
            ax.plot(x, exact, "C1-")
            ax.plot(x, est, "k.", ms=4, label="walkers")
            ax.set_xlabel("input position")
        else:
            sd = np.sqrt(exact * (1 - exact) / n)
            im = ax.imshow((est - exact) / np.where(sd > 0, sd, 1), cmap="RdBu", vmin=-4, vmax=4)
            fig.colorbar(im, ax=ax, label="(walkers - exact) / sd")
        ax.set_title(f"{name}\nchi2 p = {pval:.3f}, max z = {z:.2f} ({m} bins)", fontsize=8)
    axes[0].legend(fontsize=7)
    # thread independence
    layers, shape = cases["1d_causal_dilated_sink_zero_pad"]
    c = delta(shape)
    # 1 thread against the whole Numba pool (not the caller's current count, which is 1 on a
    # single-threaded cluster worker and would make the comparison empty).
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        r1 = run_walkers(layers, c, 20_000, seed=seed)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        r2 = run_walkers(layers, c, 20_000, seed=seed)
    finally:
        numba.set_num_threads(default)
    ndiff = int(np.sum(np.any(r1.positions != r2.positions, axis=1) | (r1.alive != r2.alive)))
    checks.append(
        Check(
            "walkers_differing_1_vs_all_threads",
            ndiff,
            "<",
            1,
            note="1 thread vs every thread of the Numba pool, 20000 walkers",
        )
    )
    pvalues = ", ".join(f"{metrics[f'{k}_chi2_pvalue']:.3f}" for k in cases)
    summary = f"{n} walkers per stack vs the exact chain: chi-square p-values {pvalues}"
    return outcome(fig, outdir, "cap_walkers.png", checks, metrics, summary)


# --------------------------------------------------------------------------------------------
# cap.scaling_regimes
# --------------------------------------------------------------------------------------------
@experiment(
    id="cap.scaling_regimes",
    checks="with alpha = a L^-beta the variance of the capacity distribution grows as L^(1 - 2 beta): "
    "shattering (beta < 1/2), diffusive (beta = 1/2), frozen (beta > 1/2), in 1-D and 2-D; consistency only: "
    "the variance is that of the capacity chain itself, so an error in the capacity rule cannot be seen",
    criterion="fitted exponent of Var against L within +-0.05 of 1 - 2 beta for beta in {0.25, 0.5, 0.75} "
    "(a = 0.5: the pre-asymptotic correction, ~ (1/2) a^2 ||w||^2 L^-1/2 at beta = 1/4, is < 0.03 "
    "over the depths used), and the classification (band +-0.1 around 0) matches",
    quick=dict(depths=[256, 1024, 4096, 16384], betas=[0.25, 0.5, 0.75], a=0.5),
    full=dict(
        depths=[256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536], betas=[0.25, 0.375, 0.5, 0.625, 0.75], a=0.5
    ),
)
def scaling_regimes(params, *, seed, outdir):
    depths = np.array(params["depths"])
    a = float(params["a"])
    expected = {0.25: "shattering", 0.5: "diffusive", 0.75: "frozen"}
    kernels = {"1d": np.array([1.0, 1.0, 1.0]), "2d": np.ones((3, 3))}
    checks, metrics = [], {}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for dim, taps in kernels.items():
        for beta in params["betas"]:
            s = spread_vs_depth(taps, depths, a, beta)
            g = growth_exponent(depths, s)
            regime = classify_regime(g)
            metrics[f"{dim}_beta{beta}_exponent"] = g
            metrics[f"{dim}_beta{beta}_regime"] = regime
            metrics[f"{dim}_beta{beta}_spreads"] = s.tolist()
            checks.append(Check(f"{dim}_beta{beta}_exponent_error", abs(g - (1 - 2 * beta)), "<", 0.05))
            if beta in expected:
                checks.append(
                    Check(
                        f"{dim}_beta{beta}_regime_is_{expected[beta]}",
                        float(regime == expected[beta]),
                        ">=",
                        1.0,
                        note=f"classified {regime}",
                    )
                )
            ax = axes[0] if dim == "1d" else axes[1]
            ax.loglog(depths, s**2, "o", label=f"beta={beta}: exponent {g:.3f} ({regime})")
            ax.loglog(depths, s[0] ** 2 * (depths / depths[0]) ** (1 - 2 * beta), "k:", lw=0.8)
        ax.set_xlabel("depth L")
        ax.set_ylabel("Var of input capacity")
        ax.set_title(f"{dim} kernel, alpha = {a} L^-beta (dotted: L^(1-2 beta))", fontsize=9)
        ax.legend(fontsize=7)
    # 2-D receptive field at the diffusive scaling
    _, prof = spread_vs_depth(kernels["2d"], [1024], a * 4, 0.5, return_profiles=True, causal=(True, False))
    img = prof[0]
    rows, cols = np.nonzero(img > 1e-4 * img.max())
    img = img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    cy, cx = np.array(prof[0].shape) // 2 - [rows.min(), cols.min()]
    im = axes[2].imshow(
        img, cmap="magma", extent=(-cx - 0.5, img.shape[1] - cx - 0.5, img.shape[0] - cy - 0.5, -cy - 0.5)
    )
    axes[2].set_title(
        "2-D capacity (effective receptive field), 3x3 kernel causal along rows,\n"
        "alpha = 2/sqrt(L), L = 1024 (offsets from the output unit)",
        fontsize=9,
    )
    fig.colorbar(im, ax=axes[2])
    exponents = ", ".join(f"{k.split('_exponent')[0]}: {v:.3f}" for k, v in metrics.items() if k.endswith("exponent"))
    return outcome(fig, outdir, "cap_scaling_regimes.png", checks, metrics, f"Variance exponents {exponents}")
