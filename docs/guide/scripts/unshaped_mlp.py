"""Law of the correlation of two inputs through deep unshaped ReLU MLPs against the q-SDE.

Two inputs with correlation rho_0 = 0.5 go through He-initialised ReLU MLPs of width n. At layer
l = t n, q = l^2 (1 - rho_l) converges in law (n -> infinity) to q_t, the solution of the unshaped
correlation SDE started at Q_STAR at t = 0.  We compare y = q^{-1/2} (light-tailed) at t = 0.5 for
several widths with samples of the SDE, and extrapolate the mean of y to infinite width.

At small l the infinite-width recursion itself has not reached its l^-2 asymptote, so each network's
y is rescaled by the exact infinite-width factor: y_hat = Y_STAR sqrt(u_l / (1 - rho_l)), where u_l is
the infinite-width value of 1 - rho_l.  y_hat has the same limit law and a much smaller finite-size bias.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.correlation import depth_recursion_u, sample_q
from deeplimits.correlation.unshaped import Y_STAR, mean_y
from deeplimits.networks import gram_from_correlation, relu_mlp

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")
T = 0.5
WIDTHS = [16, 32, 64, 128] if SMALL else [32, 64, 128, 256, 512]
N_NETS = 300 if SMALL else 4000

# The limit: samples of y_t = q_t^{-1/2} from the SDE (exact mean known in closed form).
y_sde = sample_q([T], n_paths=20_000 if SMALL else 100_000, seed=0, return_y=True)[:, 0]
print(f"SDE: E[y_t] = {y_sde.mean():.4f} (exact {float(mean_y(T)):.4f})")

# Finite networks: the exact-in-law Gram engine simulates only the 2 x 2 Gram matrix per layer.
gram0 = gram_from_correlation(0.5)
u_inf = depth_recursion_u(0.5, int(round(T * max(WIDTHS))))  # infinite-width 1 - rho_l, l = 0, 1, ...
samples = {}
for k, n in enumerate(WIDTHS):
    depth = int(round(T * n))
    batch = relu_mlp(gram0, width=n, depth=depth, n_nets=N_NETS, seed=k, save=[depth])
    u = batch.one_minus_corr[:, batch.index(depth), 0, 1]  # 1 - rho_l, accurate near rho = 1
    u = u[np.isfinite(u)]  # a column can die at tiny widths
    raw = 1.0 / (depth * np.sqrt(u))  # y = q^{-1/2}
    samples[n] = Y_STAR * np.sqrt(u_inf[depth] / u)
    print(f"n = {n:4d}, l = {depth:3d}: E[y] = {raw.mean():.4f}, E[y_hat] = {samples[n].mean():.4f}")

# Finite-width extrapolation: E[y_hat](n) = a + (A log n + B) / n (the derived finite-width correction,
# A free), weighted least squares over the widths whose depth l = T n is at least 16 (shallower layers
# are not yet in the asymptotic regime); the intercept a is the infinite-width mean, to compare with the SDE's.
n = np.array(WIDTHS, dtype=float)
m = np.array([samples[w].mean() for w in WIDTHS])
se = np.array([samples[w].std(ddof=1) / np.sqrt(samples[w].size) for w in WIDTHS])
fit = np.rint(T * n) >= 16
X = np.column_stack([np.ones_like(n), np.log(n) / n, 1.0 / n])
Xw = X[fit] / se[fit, None]
coef, *_ = np.linalg.lstsq(Xw, m[fit] / se[fit], rcond=None)
cov = np.linalg.inv(Xw.T @ Xw)
print(f"extrapolated E[y] at n = inf: {coef[0]:.4f} +- {np.sqrt(cov[0, 0]):.4f}; SDE {float(mean_y(T)):.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
bins = np.linspace(0.0, np.quantile(y_sde, 0.995), 50)
cmap = plt.get_cmap("viridis")
for k, w in enumerate(WIDTHS):
    ax1.hist(samples[w], bins, density=True, histtype="step", color=cmap(k / len(WIDTHS)), label=f"n = {w}")
ax1.hist(y_sde, bins, density=True, histtype="step", color="k", lw=2, label="SDE")
ax1.set(xlabel=r"$\hat y$ (networks), $y = q^{-1/2}$ (SDE) at $t = l/n = 0.5$", ylabel="density", title="law")
ax1.legend(loc="upper right", fontsize=8)
ax2.errorbar(1.0 / n, m, 2 * se, fmt="o", label="networks (±2 SE)")
nn = np.linspace(0.0, 1.0 / n.min(), 100)[1:]
ax2.plot(nn, coef[0] - coef[1] * nn * np.log(nn) + coef[2] * nn, "C0--", label="fit a + (A log n + B)/n")
ax2.axhline(float(mean_y(T)), color="k", label="SDE (exact mean)")
ax2.errorbar([0.0], [coef[0]], [2 * np.sqrt(cov[0, 0])], fmt="s", color="C3", label="extrapolated")
ax2.set(xlabel="1 / width", ylabel=r"E[$\hat y$]", title="finite-width extrapolation")
ax2.legend(loc="best", fontsize=8)
fig.savefig(os.path.join(OUT, "unshaped_mlp.png"), dpi=120)
