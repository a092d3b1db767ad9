"""Capacity of a random conv ResNet against the exact chain and the Kolmogorov forward equation.

A kernel-3 residual conv net h_{l+1} = h_l + alpha conv(W_l, phi(h_l)) with alpha = a / sqrt(L) spreads
the capacity of one output unit over the input positions.  Its profile (normalised mean squared input
gradient) follows a Markov chain layer by layer; for L -> infinity the chain becomes a master
equation in the depth fraction t = l / L, and its Kramers-Moyal truncation a drift-diffusion PDE.
The last part measures the three scaling regimes of alpha = a L^-beta.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.capacity import (
    ConvResNet,
    capacity_profile,
    classify_regime,
    growth_exponent,
    kfe_coefficients,
    lattice_1d,
    master_equation_periodic,
    propagate,
    solve_kfe,
    spread_vs_depth,
)

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")
TAPS = np.array([1.0, 1.0, 1.0])  # kernel size 3
L, N, A = (16, 16, 2.0) if SMALL else (64, 32, 2.0)  # depth, positions (periodic), alpha = A / sqrt(L)
CHANNELS, N_NETS, N_INPUTS = (16, 4, 16) if SMALL else (64, 32, 64)

# The finite networks: mean capacity profile over N_NETS random nets, each over N_INPUTS inputs.
profiles, decoupling = [], []
for i in range(N_NETS):
    net = ConvResNet(TAPS, L, CHANNELS, A / np.sqrt(L), N, activation="sin", omega=6.0, seed=i)
    est = capacity_profile(net, N_INPUTS, seed=1000 + i)
    profiles.append(est.profile)
    decoupling.append(est.decoupling)  # measured E[phi'(h_l)^2] per layer
profile = np.mean(profiles, axis=0)
se = np.std(profiles, axis=0, ddof=1) / np.sqrt(N_NETS)

# The exact chain for the same stack, with the measured decoupling coefficients.
c_out = np.zeros(N)
c_out[net.output_site] = 1.0  # unit mass on the output unit
chain = propagate(net.chain_layers(np.mean(decoupling, axis=0)), c_out)

# The deep limits at t = 1: the master equation (exact, by FFT) and the drift-diffusion PDE.
layer = net.chain_layers(float(np.mean(decoupling)))[0]
co = kfe_coefficients(layer, depth=L)
master = master_equation_periodic(co, c_out, 1.0)
pde = solve_kfe(co.drift_diffusion(lattice_1d(N)), c_out, 1.0, n_steps=400, scheme="crank_nicolson").y
for name, c in (("chain", chain), ("master equation", master), ("drift-diffusion PDE", pde)):
    print(f"L1(network - {name:19s}) = {np.abs(profile - c).sum():.4f}   (noise: sum of SE {se.sum():.4f})")

# The three regimes: spread of the input capacity against depth for alpha = a L^-beta.
depths = [16, 64, 256] if SMALL else [16, 64, 256, 1024, 4096]
spreads = {}
for beta in (0.25, 0.5, 1.0):
    spreads[beta] = spread_vs_depth(TAPS, depths, a=1.0, beta=beta)
    g = growth_exponent(depths, spreads[beta])
    print(f"beta = {beta:4.2f}: Var ~ L^{g:+.2f} (theory {1 - 2 * beta:+.2f}) -> {classify_regime(g)}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
x = np.arange(N) - net.output_site[0]
ax1.errorbar(x, profile, 2 * se, fmt="o", ms=4, label=f"{N_NETS} networks (±2 SE)")
ax1.plot(x, chain, "k-", label="exact chain")
ax1.plot(x, master, "C1--", label="master equation")
ax1.plot(x, pde, "C2:", lw=2, label="drift-diffusion PDE")
ax1.set(xlabel="input position - output position", ylabel="capacity", title=f"depth L = {L}")
ax1.legend(loc="upper right", fontsize=8)
for k, (beta, s) in enumerate(spreads.items()):
    ax2.loglog(depths, np.asarray(s) ** 2, "o-", color=f"C{k}", label=rf"$\beta$ = {beta}")
ax2.set(xlabel="depth L", ylabel="variance of the capacity profile (sites²)", title=r"$\alpha = L^{-\beta}$")
ax2.legend(loc="upper left", fontsize=8)
fig.savefig(os.path.join(OUT, "capacity.png"), dpi=120)
