"""Validation experiments for capacity propagation (Donier 2019): the discrete chain, its
deep limit, Monte-Carlo walkers, scaling regimes and finite conv ResNets.

Importing this module registers ``cap.chain_to_kfe``, ``cap.walkers``,
``cap.scaling_regimes`` and ``cap.finite_network``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numba
import numpy as np
from scipy.stats import chi2 as chi2_dist

from deeplimits.capacity import (
    ConvLayer,
    ConvResNet,
    capacity_profile,
    classify_regime,
    growth_exponent,
    kfe_coefficients,
    lattice_1d,
    master_equation_periodic,
    propagate,
    residual_stack,
    run_walkers,
    solve_kfe,
    spread_vs_depth,
)
from deeplimits.validation import Check, Outcome, experiment, save_figure


def _delta(shape, at=None):
    c = np.zeros(shape)
    c[tuple(n // 2 for n in np.atleast_1d(shape)) if at is None else at] = 1.0
    return c


def _slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _limit_profiles(layer, depth, c0, n_steps=400):
    """Deep limits of a 1-D periodic stack of ``depth`` copies of ``layer`` at t = 1.

    Returns the exact master-equation solution (FFT), the drift-diffusion PDE solved by the
    finite-volume Crank-Nicolson solver on the same lattice (one cell per site, so the density is
    the capacity per site; ``n_steps`` keeps ``dt * 2 D / h^2`` below 1 for the kernels used here,
    so CN damps the delta start without oscillating), and the mask of the sublattice the chain
    lives on.  A dilated kernel (offsets multiples of g) keeps the capacity on every g-th site,
    where the smooth PDE density must be multiplied by g to compare: the PDE is returned that
    way (g * density on the sublattice, 0 elsewhere).
    """
    co = kfe_coefficients(layer, depth)
    grid = lattice_1d(len(c0), "periodic")
    me = master_equation_periodic(co, c0, 1.0)
    pde = solve_kfe(co.drift_diffusion(grid), c0, 1.0, n_steps=n_steps, scheme="crank_nicolson").y
    o = co.offsets[:, 0]
    g = int(np.gcd.reduce(np.abs(o[o != 0]))) if np.any(o != 0) else 1
    sub = (np.arange(len(c0)) - int(np.argmax(c0))) % g == 0
    return me, np.where(sub, g * pde, 0.0), sub


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
    "(exact periodic FFT solution) at t = 1 with error O(1/L)",
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
        c0 = _delta(shape)
        errs = []
        for L in depths:
            st = residual_stack(taps, int(L), a, **kw)
            me = master_equation_periodic(kfe_coefficients(st[0], int(L)), c0, 1.0)
            errs.append(float(np.abs(propagate(st, c0) - me).sum()))
        s = _slope(depths, errs)
        metrics[f"{name}_errors"] = dict(zip(depths.tolist(), errs, strict=True))
        metrics[f"{name}_slope"] = s
        checks.append(Check(f"{name}_slope", s, "in", (-1.2, -0.8), note="order 1 in 1/L, +-0.2"))
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
    c0 = _delta(shape)
    x = np.arange(shape[0]) - shape[0] // 2
    for L in (16, 64, 256):
        axes[1].plot(x, propagate(residual_stack(taps, L, a, **kw), c0), "o", ms=3, label=f"chain L={L}")
    me, pde, sub = _limit_profiles(residual_stack(taps, 16, a, **kw)[0], 16, c0)
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
    path = save_figure(fig, outdir, "cap_chain_to_kfe.png")
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary="Exact chain vs exact master equation: error slopes "
        + ", ".join(f"{k}: {v:.3f}" for k, v in metrics.items() if k.endswith("slope")),
    )


# --------------------------------------------------------------------------------------------
# cap.walkers
# --------------------------------------------------------------------------------------------
def _walker_cases():
    return {
        "1d_periodic": (residual_stack([1.0, 2.0, 1.0], 40, a=2.0), (30,)),
        "1d_causal_dilated_sink_zero_pad": (
            residual_stack([1.0, 0.5, 2.0], 25, a=2.5, causal=True, dilation=2, bias=0.6, padding="zero"),
            (40,),
        ),
        "1d_reflecting": (residual_stack([1.0, 1.0, 1.0], 60, a=3.0, padding="reflecting"), (12,)),
        "1d_varied_stack": (
            (
                ConvLayer([1.0, 1.0]),
                ConvLayer([1.0, 2.0, 1.0], alpha=0.5, bias=0.3),
                ConvLayer([2.0, 1.0, 1.0], causal=True, padding="zero"),
                ConvLayer([1.0, 3.0, 1.0], alpha=0.9, dilation=3),
            )
            * 3,
            (24,),
        ),
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
    "results are bit-identical with 1 thread and with the default thread count",
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
        c = _delta(shape, at=(shape[0] - 5,) if name.startswith("1d_causal") else None)
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
    path = save_figure(fig, outdir, "cap_walkers.png")
    # thread independence
    layers, shape = cases["1d_causal_dilated_sink_zero_pad"]
    c = _delta(shape)
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        r1 = run_walkers(layers, c, 20_000, seed=seed)
    finally:
        numba.set_num_threads(default)
    r2 = run_walkers(layers, c, 20_000, seed=seed)
    ndiff = int(np.sum(np.any(r1.positions != r2.positions, axis=1) | (r1.alive != r2.alive)))
    checks.append(
        Check(
            "walkers_differing_1_vs_default_threads",
            ndiff,
            "<",
            1,
            note=f"1 thread vs {default} threads, 20000 walkers",
        )
    )
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary=f"{n} walkers per stack vs the exact chain: chi-square p-values "
        + ", ".join(f"{metrics[f'{k}_chi2_pvalue']:.3f}" for k in cases),
    )


# --------------------------------------------------------------------------------------------
# cap.scaling_regimes
# --------------------------------------------------------------------------------------------
@experiment(
    id="cap.scaling_regimes",
    checks="with alpha = a L^-beta the variance of the capacity distribution grows as L^(1 - 2 beta): "
    "shattering (beta < 1/2), diffusive (beta = 1/2), frozen (beta > 1/2), in 1-D and 2-D",
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
    path = save_figure(fig, outdir, "cap_scaling_regimes.png")
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=[path],
        summary="Variance exponents "
        + ", ".join(f"{k.split('_exponent')[0]}: {v:.3f}" for k, v in metrics.items() if k.endswith("exponent")),
    )


# --------------------------------------------------------------------------------------------
# cap.finite_network
# --------------------------------------------------------------------------------------------
def _network_ensemble(make_net, n_nets, n_inputs, seed):
    """Capacity profiles of n_nets independent networks; the chain with the mean measured decoupling."""
    profs, ds, per_input_se, layers = [], [], [], []
    for i in range(n_nets):
        net = make_net(seed * 10_000 + i)
        est = capacity_profile(net, n_inputs, seed=seed * 10_000 + 5000 + i)
        profs.append(est.profile)
        layers.append(est.layers)
        ds.append(est.decoupling)
        per_input_se.append(est.stderr.sum())
    P = np.array(profs)
    chain, hist = propagate(
        net.chain_layers(np.mean(ds, axis=0)), _delta(net.grid), return_history=True, method="stencil"
    )
    chain = chain / chain.sum()  # zero padding: absorbing chain conditioned on survival
    hist = hist / hist.reshape(len(hist), -1).sum(axis=1).reshape((-1,) + (1,) * chain.ndim)
    net_layers = np.mean(layers, axis=0)
    se = P.std(axis=0, ddof=1) / np.sqrt(n_nets)
    return dict(
        mean=P.mean(axis=0),
        se=se,
        chain=chain,
        net=net,
        net_layers=net_layers,
        chain_layers=hist,
        layer_l1=np.abs(net_layers - hist).reshape(len(hist), -1).sum(axis=1),
        l1=float(np.abs(P.mean(axis=0) - chain).sum()),
        thr=float(3.2 * se.sum()),
        per_net_l1=float(np.mean([np.abs(p - chain).sum() for p in P])),
        per_net_input_noise=float(np.mean(per_input_se)),
        decoupling=float(np.mean(ds)),
    )


_NOISE_NOTE = (
    "3.2 x sum_j SE_j, SE_j = sd over networks / sqrt(n_nets): pure noise has L1 mean 0.8 sum SE and "
    "sd <= 0.6 sum SE (fully correlated sites), so 3.2 sum SE = mean + 4 sd"
)


@experiment(
    id="cap.finite_network",
    checks="random conv ResNets (many channels, h + alpha conv(W, phi(h))) allocate capacity (normalised mean "
    "squared input gradient of the centre output unit) as the capacity chain with residual weight alpha "
    "and decoupling E[phi'^2]; 1-D and 2-D; circular padding -> periodic chain, zero padding -> absorbing "
    "chain conditioned on survival; the ReLU per-network disagreement is measured",
    criterion="for sin(6u)/6 (total decoupling) at every depth, ReLU and tanh (averaged over networks), the 2-D "
    "net and the zero-padded net: L1(mean network profile, chain) < 3.2 sum_j SE_j (SE across networks); "
    "and the mean per-network L1 of ReLU exceeds that of sin by a factor > 1.5 (ReLU does not decouple "
    "a single network)",
    quick=dict(
        depths=[4, 16],
        channels=48,
        grid=16,
        n_nets=16,
        n_inputs=32,
        a=2.0,
        grid2d=9,
        channels2d=32,
        depth2d=8,
        n_nets2d=12,
    ),
    full=dict(
        depths=[4, 16, 64],
        channels=64,
        grid=32,
        n_nets=32,
        n_inputs=64,
        a=2.0,
        grid2d=13,
        channels2d=48,
        depth2d=16,
        n_nets2d=24,
        channel_sweep=[8, 16, 128],
    ),
)
def finite_network(params, *, seed, outdir):
    taps = np.array([1.0, 1.0, 1.0])
    a, C, N = params["a"], params["channels"], params["grid"]
    nn, ni = params["n_nets"], params["n_inputs"]
    checks, metrics, results = [], {}, {}
    for act in ("sin", "relu", "tanh"):
        depths = params["depths"] if act != "tanh" else params["depths"][-1:]
        for L in depths:

            def make(s, L=L, act=act):
                return ConvResNet(taps, L, C, a / np.sqrt(L), N, activation=act, omega=6.0, seed=s)

            r = _network_ensemble(make, nn, ni, seed)
            results[(act, L)] = r
            key = f"{act}_L{L}"
            metrics[f"{key}_l1"] = r["l1"]
            metrics[f"{key}_per_net_l1"] = r["per_net_l1"]
            metrics[f"{key}_per_net_input_noise"] = r["per_net_input_noise"]
            metrics[f"{key}_decoupling"] = r["decoupling"]
            checks.append(Check(f"{key}_l1", r["l1"], "<", r["thr"], note=_NOISE_NOTE))
    Lmax = params["depths"][-1]
    ratio = results[("relu", Lmax)]["per_net_l1"] / results[("sin", Lmax)]["per_net_l1"]
    metrics["relu_over_sin_per_net_l1"] = ratio
    checks.append(
        Check(
            "relu_over_sin_per_net_l1",
            ratio,
            ">",
            1.5,
            note="single ReLU networks deviate more from the chain than sin networks",
        )
    )
    # finite-channel bias (reported, no threshold): sin nets at the deepest depth for several widths
    for Cs in params.get("channel_sweep", []):

        def make_c(s, Cs=Cs):
            return ConvResNet(taps, Lmax, Cs, a / np.sqrt(Lmax), N, activation="sin", omega=6.0, seed=s)

        rc = _network_ensemble(make_c, nn, ni, seed + 3)
        metrics[f"channels{Cs}_sin_L{Lmax}_l1"] = rc["l1"]
        metrics[f"channels{Cs}_sin_L{Lmax}_noise_sumSE"] = float(rc["se"].sum())
    # zero padding: absorbing (conditioned) vs the reflecting reading
    Lz, Nz = 16, 10

    def make_zero(s):
        return ConvResNet(taps, Lz, C, 3.0 / np.sqrt(Lz), Nz, activation="sin", omega=6.0, padding="zero", seed=s)

    rz = _network_ensemble(make_zero, nn, ni, seed + 1)
    refl = propagate(residual_stack(taps, Lz, 3.0, padding="reflecting", decoupling=rz["decoupling"]), _delta(Nz))
    metrics["zero_pad_l1_absorbing"] = rz["l1"]
    metrics["zero_pad_l1_reflecting"] = float(np.abs(rz["mean"] - refl).sum())
    metrics["zero_pad_threshold"] = rz["thr"]
    checks.append(Check("zero_pad_absorbing_l1", rz["l1"], "<", rz["thr"], note=_NOISE_NOTE))
    # 2-D
    L2, C2, N2 = params["depth2d"], params["channels2d"], params["grid2d"]

    def make2(s):
        return ConvResNet(np.ones((3, 3)), L2, C2, a / np.sqrt(L2), (N2, N2), activation="sin", omega=6.0, seed=s)

    r2 = _network_ensemble(make2, params["n_nets2d"], ni, seed + 2)
    metrics["2d_l1"] = r2["l1"]
    metrics["2d_per_net_l1"] = r2["per_net_l1"]
    checks.append(Check("2d_sin_l1", r2["l1"], "<", r2["thr"], note=_NOISE_NOTE))

    # figures: profiles, 2-D receptive field, heat map
    figs = []
    acts = ("sin", "relu", "tanh")
    npan = len(params["depths"]) + 1  # one panel per depth, plus zero padding
    fig, axes = plt.subplots(1, npan, figsize=(4.6 * npan, 4))
    x = np.arange(N) - N // 2
    for ax, L in zip(axes, params["depths"], strict=True):
        for i, act in enumerate(("sin", "relu")):
            r = results[(act, L)]
            ax.errorbar(
                x + 0.15 * i,
                r["mean"],
                yerr=2 * r["se"],
                fmt="o",
                ms=3,
                color=f"C{i}",
                label=f"{act} nets (L1 {r['l1']:.3f}, per net {r['per_net_l1']:.3f})",
            )
        r = results[("sin", L)]
        ax.plot(x, r["chain"], "k-", label="chain (d = E[phi'^2])")
        me, pde, _ = _limit_profiles(r["net"].chain_layers(r["decoupling"])[0], L, _delta(N))
        ax.plot(x, me, "g-", lw=2.5, alpha=0.5, label="master equation (L -> inf)")
        ax.plot(x, pde, "r--", lw=0.9, label="drift-diffusion PDE")
        metrics[f"sin_L{L}_l1_chain_vs_master"] = float(np.abs(r["chain"] - me).sum())
        metrics[f"sin_L{L}_l1_chain_vs_pde"] = float(np.abs(r["chain"] - pde).sum())
        ax.set_title(f"1-D ResNet, L = {L}, C = {C}", fontsize=9)
        ax.set_xlabel("input position - output position")
        ax.legend(fontsize=7)
    ax = axes[-1]
    xz = np.arange(Nz)
    ax.errorbar(xz, rz["mean"], yerr=2 * rz["se"], fmt="o", ms=3, label="zero-padded sin nets")
    ax.plot(xz, rz["chain"], "k-", label=f"absorbing chain | survival (L1 {rz['l1']:.3f})")
    ax.plot(xz, refl, "r--", label=f"reflecting chain (L1 {metrics['zero_pad_l1_reflecting']:.3f})")
    ax.set_title(f"zero padding, L = {Lz}, N = {Nz}", fontsize=9)
    ax.legend(fontsize=7)
    p1 = save_figure(fig, outdir, "cap_finite_network_profiles.png")
    figs.append(p1)

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    vmax = max(r2["mean"].max(), r2["chain"].max())
    for ax, img, title in zip(
        axes,
        (r2["mean"], r2["chain"], r2["mean"] - r2["chain"]),
        ("2-D ResNet (sin)", "capacity chain", "difference"),
        strict=True,
    ):
        im = ax.imshow(
            img,
            cmap="magma" if title != "difference" else "RdBu",
            vmin=0 if title != "difference" else -vmax / 10,
            vmax=vmax if title != "difference" else vmax / 10,
        )
        ax.set_title(f"{title}, L = {L2}, C = {C2}", fontsize=9)
        fig.colorbar(im, ax=ax)
    p2 = save_figure(fig, outdir, "cap_finite_network_2d.png")
    figs.append(p2)

    fig, axes = plt.subplots(1, 4, figsize=(20, 4))
    Lh = params["depths"][-1]
    rh = results[("sin", Lh)]
    metrics[f"sin_L{Lh}_max_over_layers_of_layer_l1_dist"] = float(rh["layer_l1"].max())
    vmax = rh["chain_layers"][:-1].max()
    for ax, img, title in ((axes[0], rh["net_layers"], "sin ResNets"), (axes[1], rh["chain_layers"], "chain")):
        im = ax.imshow(img[::-1], aspect="auto", origin="lower", cmap="viridis", extent=(x[0], x[-1], 0, Lh), vmax=vmax)
        ax.set_title(f"{title}: capacity over depth (layers from the output), L = {Lh}", fontsize=8)
        ax.set_xlabel("position")
        fig.colorbar(im, ax=ax)
    axes[2].plot(np.arange(Lh + 1)[::-1], rh["layer_l1"], "o-")
    axes[2].set_xlabel("layers from the output")
    axes[2].set_ylabel("L1(mean network, chain) at that layer")
    axes[2].set_title(f"max {rh['layer_l1'].max():.3f} (input-level threshold {rh['thr']:.3f})", fontsize=8)
    axes = axes[2:]
    per = [
        [results[(act, L)]["per_net_l1"] if (act, L) in results else np.nan for L in params["depths"]] for act in acts
    ]
    for act, row in zip(acts, per, strict=True):
        axes[1].plot(params["depths"], row, "o-", label=f"{act}: per-network L1")
    axes[1].plot(
        params["depths"],
        [results[("sin", L)]["per_net_input_noise"] for L in params["depths"]],
        "k:",
        label="sin: input-sampling noise (sum SE)",
    )
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("depth L")
    axes[1].set_ylabel("L1(single network, chain)")
    axes[1].legend(fontsize=7)
    p3 = save_figure(fig, outdir, "cap_finite_network_depth.png")
    figs.append(p3)
    return Outcome(
        checks=checks,
        metrics=metrics,
        figures=figs,
        summary=f"Conv ResNets vs chain (C = {C}): mean-profile L1 "
        + ", ".join(f"{k[:-3]}: {v:.4f}" for k, v in metrics.items() if k.endswith("_l1") and "per_net" not in k)
        + f"; ReLU/sin per-network L1 ratio {ratio:.2f}",
    )
