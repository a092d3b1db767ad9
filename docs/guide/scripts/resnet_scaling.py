"""Depth-scaling of ResNets: simulate, estimate the scaling exponent beta, read the regime map.

A ResNet h_{k+1} = h_k + L^-beta V_k sigma(h_k) has a limit as L -> infinity whose nature depends on
beta and on how regular the weights V_k are in the layer index k: i.i.d. weights with beta = 1/2 give
a neural SDE, weights smooth in k / L with beta = 1 a neural ODE.  estimate_scaling reads beta and the
regime from the weights themselves; regime_map shows where networks explode or tend to the identity.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.resnet import (
    critical_beta,
    estimate_scaling,
    iid_weights,
    norm_moments_limit,
    random_resnets,
    rbf_gp_weights,
    regime_map,
)

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")
WIDTH = 8
DEPTHS = [8, 32, 128] if SMALL else [8, 16, 32, 64, 128, 256, 512]

# 1. Simulate: linear res1 ResNets with i.i.d. weights and beta = 1/2 against the neural-SDE limit.
n_nets = 200 if SMALL else 5000
second_moment, se = [], []
for L in DEPTHS:
    out = random_resnets("res1", n_nets, WIDTH, L, beta=0.5, weights="iid", activation="linear", seed=L)
    r2 = out.norms[:, -1] ** 2  # ||h_L||^2, with ||h_0|| = 1
    second_moment.append(r2.mean())
    se.append(r2.std(ddof=1) / np.sqrt(n_nets))
limit = norm_moments_limit("res1", "linear", width=WIDTH)[0]
print("E||h_L||^2:", np.round(second_moment, 3), f"-> SDE limit {limit:.3f}")

# 2. Estimate beta from the weights of one network per depth (an (L, d, d) array each).
families = {
    "i.i.d. / sqrt(L)": {L: iid_weights(1, L, (WIDTH, WIDTH), seed=L)[0] / np.sqrt(L) for L in DEPTHS},
    "smooth in k/L / L": {L: rbf_gp_weights(1, L, (WIDTH, WIDTH), seed=L)[0] / L for L in DEPTHS},
}
for name, weights in families.items():
    est = estimate_scaling(weights, n_boot=200, seed=0)
    print(f"{name:18s}: beta = {est.beta:.2f}, verdict {est.verdict!r}")
    print("   ", est.rule)

# 3. The regime map over (beta, H) for fractional-Gaussian-noise weights of Hurst index H.
betas = np.linspace(0.1, 1.0, 4 if SMALL else 10)
hursts = np.linspace(0.2, 0.8, 3 if SMALL else 7)
rmap = regime_map(betas, hursts, depths=(8, 32) if SMALL else (64, 512), width=4, n_nets=4 if SMALL else 16)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax1.errorbar(DEPTHS, second_moment, 2 * np.array(se), fmt="o", label="networks (±2 SE)")
ax1.set_xscale("log")
ax1.axhline(limit, color="k", ls="--", label="neural SDE limit")
ax1.set(xlabel="depth L", ylabel=r"E$\|h_L\|^2$", title=r"res1, linear, i.i.d. weights, $\beta = 1/2$")
ax1.legend(loc="lower right", fontsize=8)
growth = np.clip(rmap.growth, -1, 1)  # explosion (growth >> 1) is shown as 1
im = ax2.pcolormesh(rmap.betas, rmap.hursts, growth, cmap="RdBu_r", vmin=-1, vmax=1, shading="nearest")
fig.colorbar(im, ax=ax2, label=r"growth d log$\|h_L - h_0\|$ / d log L")
ax2.plot(critical_beta(hursts), hursts, "k--", label=r"critical line $\beta^* = H$")
ax2.set(xlabel=r"branch exponent $\beta$", ylabel="Hurst index H", title="regime map (red: explodes)")
ax2.legend(loc="upper left", fontsize=8)
fig.savefig(os.path.join(OUT, "resnet_scaling.png"), dpi=120)
