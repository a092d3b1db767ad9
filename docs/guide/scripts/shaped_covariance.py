"""Shaped ReLU MLPs and ResNets against their covariance limits.

(a) Shaped MLP, slopes s_pm = 1 + c_pm / sqrt(n), depth d = T n: the covariance of two inputs
    converges in law to the covariance SDE at tau = d / n = T (Li, Nica & Roy 2022).
(b) d << n: a ResNet with a d^{-1/2} branch and an MLP shaped with its depth both follow the
    deterministic correlation ODE, and the two limits coincide when (c+ - c-)^2 = sigma_r^2.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.correlation import correlation_ode, sample_covariance
from deeplimits.networks import gram_from_correlation, resnet, shaped_mlp

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")
RHO0, T, C_PLUS, C_MINUS = 0.3, 1.0, 0.6, -0.6
KAPPA = (C_PLUS - C_MINUS) ** 2
N_NETS = 300 if SMALL else 3000
gram0 = gram_from_correlation(RHO0)  # input covariance [[1, rho0], [rho0, 1]]


def correlation(V):
    """Correlation of the two inputs from covariances of shape (..., 2, 2)."""
    return V[..., 0, 1] / np.sqrt(V[..., 0, 0] * V[..., 1, 1])


# (a) the covariance SDE against shaped MLPs of growing width at d / n = T.
# Euler on the covariance's Cholesky factor: weak order 1, so 250 steps leave a bias of order 1/250.
n_paths, n_steps = (4_000, 100) if SMALL else (40_000, 250)
V_sde = sample_covariance(gram0, T, c_plus=C_PLUS, c_minus=C_MINUS, n_paths=n_paths, n_steps=n_steps, seed=0)
rho_sde = correlation(V_sde)
widths = [16, 64] if SMALL else [16, 64, 256]
rho_mlp = {}
for k, n in enumerate(widths):
    d = int(T * n)
    b = shaped_mlp(gram0, width=n, depth=d, n_nets=N_NETS, c_plus=C_PLUS, c_minus=C_MINUS, seed=k, save="last")
    rho_mlp[n] = b.corr[:, -1, 0, 1]
    print(f"shaped MLP n = {n:3d}, d = {d:3d}: E[rho] = {rho_mlp[n].mean():.4f}, sd {rho_mlp[n].std():.4f}")
print(f"covariance SDE at tau = {T}:      E[rho] = {rho_sde.mean():.4f}, sd {rho_sde.std():.4f}")

# (b) d << n: the correlation ODE, a ResNet (sigma_r^2 = kappa) and a depth-shaped MLP.
depth, width = (16, 256) if SMALL else (64, 2048)
t = np.arange(depth + 1) / depth
rho_ode = correlation_ode(RHO0, t, kappa=KAPPA)
n_small = 50 if SMALL else 200
res = resnet(gram0, width=width, depth=depth, n_nets=n_small, sigma_r=np.sqrt(KAPPA), seed=10)
mlp = shaped_mlp(
    gram0, width=width, depth=depth, n_nets=n_small, c_plus=C_PLUS, c_minus=C_MINUS, shaping="depth", seed=11
)
for name, batch in (("ResNet", res), ("shaped MLP (depth)", mlp)):
    gap = np.abs(batch.corr[:, :, 0, 1].mean(axis=0) - rho_ode).max()
    print(f"{name}: max_l |E[rho_l] - rho_ode(l/d)| = {gap:.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
bins = np.linspace(-1.0, 1.0, 60)
for k, n in enumerate(widths):
    ax1.hist(rho_mlp[n], bins, density=True, histtype="step", color=f"C{k}", label=f"shaped MLP, n = {n}")
ax1.hist(rho_sde, bins, density=True, histtype="step", color="k", lw=2, label="covariance SDE")
ax1.set(xlabel=r"correlation $\rho$ at $\tau = d/n = 1$", ylabel="density", title="(a) d / n = 1")
ax1.legend(loc="upper left", fontsize=8)
ax2.plot(t, rho_ode, "k-", label="correlation ODE")
for name, batch, m in (("ResNet", res, "o"), ("shaped MLP", mlp, "s")):
    ax2.plot(t, batch.corr[:, :, 0, 1].mean(axis=0), m, ms=3, label=f"{name}, n = {width}")
ax2.set(xlabel="depth fraction t = l / d", ylabel=r"mean correlation $\rho_l$", title="(b) d << n")
ax2.legend(loc="lower right", fontsize=8)
fig.savefig(os.path.join(OUT, "shaped_covariance.png"), dpi=120)
