"""Validation experiment for capacity propagation through finite conv ResNets (Donier 2019).

Importing this module registers ``cap.finite_network``.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from deeplimits.capacity import (
    ConvResNet,
    capacity_profile,
    propagate,
    residual_stack,
)
from deeplimits.plotting import legend_outside
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._cap_common import delta, limit_profiles
from ._perturbed import factors


# --------------------------------------------------------------------------------------------
# cap.finite_network
# --------------------------------------------------------------------------------------------
def _network_ensemble(make_net, n_nets, n_inputs, seed, rule=1.0):
    """Capacity profiles of n_nets independent networks; the chain with the mean measured decoupling.

    ``rule`` multiplies the residual transition weight ``alpha^2 w^2`` of the chain (a planted error).
    """
    profs, ds, per_input_se, layers = [], [], [], []
    for i in range(n_nets):
        net = make_net(seed * 10_000 + i)
        est = capacity_profile(net, n_inputs, seed=seed * 10_000 + 5000 + i)
        profs.append(est.profile)
        layers.append(est.ys)
        ds.append(est.decoupling)
        per_input_se.append(est.stderr.sum())
    P = np.array(profs)
    layers_c = tuple(
        dataclasses.replace(lay, alpha=lay.alpha * np.sqrt(rule)) for lay in net.chain_layers(np.mean(ds, axis=0))
    )
    chain, hist = propagate(layers_c, delta(net.grid), return_history=True, method="stencil")
    chain = chain / chain.sum()  # zero padding: absorbing chain conditioned on survival
    hist = hist / hist.reshape(len(hist), -1).sum(axis=1).reshape((-1,) + (1,) * chain.ndim)
    net_layers = np.mean(layers, axis=0)
    se = P.std(axis=0, ddof=1) / np.sqrt(n_nets)
    # spread about the output position (1-D, output at N // 2): the chain's rule sets it directly
    x2 = (np.arange(P.shape[-1]) - P.shape[-1] // 2) ** 2.0
    m2 = (P * x2).sum(axis=-1) / P.sum(axis=-1) if P.ndim == 2 else np.full(n_nets, np.nan)
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
        m2_z=float((m2.mean() - (chain * x2).sum()) / (m2.std(ddof=1) / np.sqrt(n_nets))),
    )


_NOISE_NOTE = (
    "3.2 x sum_j SE_j, SE_j = sd over networks / sqrt(n_nets): pure noise has L1 mean 0.8 sum SE and "
    "sd <= 0.6 sum SE (fully correlated sites), so 3.2 sum SE = mean + 4 sd"
)


# 1-D nets (depths, channels, grid, n_nets, n_inputs, a) and the 2-D net (grid2d, channels2d, depth2d, n_nets2d)
_QUICK = dict(depths=[4, 16], channels=48, grid=16, n_nets=16, n_inputs=32, a=2.0)
_QUICK.update(grid2d=9, channels2d=32, depth2d=8, n_nets2d=12)


@experiment(
    id="cap.finite_network",
    checks="random conv ResNets (many channels, h + alpha conv(W, phi(h))) allocate capacity (normalised mean "
    "squared input gradient of the centre output unit) as the capacity chain with residual weight alpha "
    "and decoupling E[phi'^2]; 1-D and 2-D; circular padding -> periodic chain, zero padding -> absorbing "
    "chain conditioned on survival; the ReLU per-network disagreement is measured",
    criterion="for sin(6u)/6 (total decoupling) at every depth, ReLU and tanh (averaged over networks), the 2-D "
    "net and the zero-padded net: L1(mean network profile, chain) < 3.2 sum_j SE_j (SE across networks); "
    "for the 1-D circular nets, the spread sum_x x^2 P(x) about the output position, averaged over networks, "
    "differs from the chain's by less than t_(1 - 0.01/(2k), n_nets - 1) standard errors (k = the number of "
    "these checks: family-wise false-alarm rate 1 %); and the mean per-network L1 of ReLU exceeds that of "
    "sin by a factor > 1.5 (ReLU does not decouple a single network)",
    quick=_QUICK,
    full=dict(_QUICK, depths=[4, 16, 64], channels=64, grid=32, n_nets=32, n_inputs=64)
    | dict(grid2d=13, channels2d=48, depth2d=16, n_nets2d=24, channel_sweep=[8, 16, 128]),
    resolution=dict(quick="10 % in the capacity rule's residual weight alpha^2 w^2", full="not measured"),
    perturbable=("rule",),
)
def finite_network(params, *, seed, outdir):
    taps = np.array([1.0, 1.0, 1.0])
    a, C, N = params["a"], params["channels"], params["grid"]
    nn, ni = params["n_nets"], params["n_inputs"]
    rule = factors(params, ("rule",))["rule"]
    checks, metrics, results = [], {"perturb": {"rule": rule}}, {}
    n_m2 = 2 * len(params["depths"]) + 1
    m2_thr = float(stats.t.isf(0.01 / (2 * n_m2), df=nn - 1))
    for act in ("sin", "relu", "tanh"):
        depths = params["depths"] if act != "tanh" else params["depths"][-1:]
        for L in depths:

            def make(s, L=L, act=act):
                return ConvResNet(taps, L, C, a / np.sqrt(L), N, activation=act, omega=6.0, seed=s)

            r = _network_ensemble(make, nn, ni, seed, rule)
            results[(act, L)] = r
            key = f"{act}_L{L}"
            metrics[f"{key}_l1"] = r["l1"]
            metrics[f"{key}_per_net_l1"] = r["per_net_l1"]
            metrics[f"{key}_per_net_input_noise"] = r["per_net_input_noise"]
            metrics[f"{key}_decoupling"] = r["decoupling"]
            checks.append(Check(f"{key}_l1", r["l1"], "<", r["thr"], note=_NOISE_NOTE))
            checks.append(
                Check(
                    f"{key}_spread_z",
                    abs(r["m2_z"]),
                    "<",
                    m2_thr,
                    note=f"(mean over networks of sum_x x^2 P(x) - chain's) / SE; Student t, {nn - 1} dof, "
                    f"family-wise false alarm 0.01 over {n_m2} checks",
                )
            )
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

    rz = _network_ensemble(make_zero, nn, ni, seed + 1, rule)
    refl = propagate(residual_stack(taps, Lz, 3.0, padding="reflecting", decoupling=rz["decoupling"]), delta(Nz))
    metrics["zero_pad_l1_absorbing"] = rz["l1"]
    metrics["zero_pad_l1_reflecting"] = float(np.abs(rz["mean"] - refl).sum())
    metrics["zero_pad_threshold"] = rz["thr"]
    checks.append(Check("zero_pad_absorbing_l1", rz["l1"], "<", rz["thr"], note=_NOISE_NOTE))
    # 2-D
    L2, C2, N2 = params["depth2d"], params["channels2d"], params["grid2d"]

    def make2(s):
        return ConvResNet(np.ones((3, 3)), L2, C2, a / np.sqrt(L2), (N2, N2), activation="sin", omega=6.0, seed=s)

    r2 = _network_ensemble(make2, params["n_nets2d"], ni, seed + 2, rule)
    metrics["2d_l1"] = r2["l1"]
    metrics["2d_per_net_l1"] = r2["per_net_l1"]
    checks.append(Check("2d_sin_l1", r2["l1"], "<", r2["thr"], note=_NOISE_NOTE))

    # figures: profiles, 2-D receptive field, heat map
    figs = []
    acts = ("sin", "relu", "tanh")
    npan = len(params["depths"]) + 1  # one panel per depth, plus zero padding
    fig, axes = plt.subplots(1, npan, figsize=(4.6 * npan, 4))
    x = np.arange(N) - N // 2
    for ax, L in zip(axes[:-1], params["depths"], strict=True):  # the last panel: zero padding
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
        me, pde, _ = limit_profiles(r["net"].chain_layers(r["decoupling"])[0], L, delta(N))
        ax.plot(x, me, "g-", lw=2.5, alpha=0.5, label="master equation (L -> inf)")
        ax.plot(x, pde, "r--", lw=0.9, label="drift-diffusion PDE")
        metrics[f"sin_L{L}_l1_chain_vs_master"] = float(np.abs(r["chain"] - me).sum())
        metrics[f"sin_L{L}_l1_chain_vs_pde"] = float(np.abs(r["chain"] - pde).sum())
        ax.set_title(f"1-D ResNet, L = {L}, C = {C}", fontsize=9)
        ax.set_xlabel("input position - output position (sites)")
        ax.set_ylabel("capacity (share of the output's dependence)")
        legend_outside(ax, loc="upper center", bbox_to_anchor=(0.5, -0.24))
    ax = axes[-1]
    xz = np.arange(Nz)
    ax.errorbar(xz, rz["mean"], yerr=2 * rz["se"], fmt="o", ms=3, label="zero-padded sin nets")
    ax.plot(xz, rz["chain"], "k-", label=f"absorbing chain | survival (L1 {rz['l1']:.3f})")
    ax.plot(xz, refl, "r--", label=f"reflecting chain (L1 {metrics['zero_pad_l1_reflecting']:.3f})")
    ax.set_title(f"zero padding, L = {Lz}, N = {Nz}", fontsize=9)
    ax.set_xlabel("input position (sites; output at the centre)")
    ax.set_ylabel("capacity (share of the output's dependence)")
    legend_outside(ax, loc="upper center", bbox_to_anchor=(0.5, -0.24))
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
