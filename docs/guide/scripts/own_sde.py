"""Integrate your own SDE with deeplimits.sde and measure its strong and weak orders.

Geometric Brownian motion dY = mu Y dt + sigma Y dW has the exact solution
Y_T = Y_0 exp((mu - sigma^2 / 2) T + sigma W_T), so the errors of each scheme are measured
against the exact value driven by the same Brownian path.
"""

import os

import matplotlib.pyplot as plt
import numba as nb
import numpy as np

from deeplimits.convergence import plot_orders, strong_order, weak_order
from deeplimits.sde import SDE, solve, uniform_grid

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")  # where the figure goes
MU, SIGMA, Y0, T = 0.5, 0.8, 1.0, 1.0


@nb.njit(cache=True)
def drift(t, y, p, out):
    out[0] = p[0] * y[0]


@nb.njit(cache=True)
def diffusion(t, y, p, out):
    out[0, 0] = p[1] * y[0]  # out has shape (dim, n_noise)


@nb.njit(cache=True)
def diffusion_derivative(t, y, p, out):
    out[0] = p[1]  # d g / d y, used by Milstein


gbm = SDE(
    drift,
    diffusion,
    dim=1,
    noise="diagonal",
    params=[MU, SIGMA],
    diffusion_derivative=diffusion_derivative,
    name="GBM",
)


def exact(grid, dW):
    """Exact Y_T on the Brownian path whose increments are dW, shape (n_paths, n_steps, 1)."""
    w_t = dW[:, :, 0].sum(axis=1)
    t = grid[-1] - grid[0]
    return (Y0 * np.exp((MU - SIGMA**2 / 2) * t + SIGMA * w_t))[:, None]


# One run: 10 000 paths of Euler-Maruyama; ys has shape (n_paths, n_save, dim).
sol = solve(gbm, [Y0], uniform_grid(0.0, T, 256), n_paths=2_000 if SMALL else 10_000, scheme="euler", seed=0)
print(f"E[Y_T] = {sol.ys[:, -1, 0].mean():.4f} (exact {Y0 * np.exp(MU * T):.4f})")

# Orders: errors at step sizes T/16 ... T/256, with bootstrap confidence intervals.
n_paths = 2_000 if SMALL else 20_000
n_steps = (8, 16, 32, 64) if SMALL else (16, 32, 64, 128, 256)
results = [
    strong_order(gbm, [Y0], T, scheme=s, n_steps=n_steps, exact=exact, n_paths=n_paths, seed=1, label=s)
    for s in ("euler", "milstein")
]
results.append(
    weak_order(
        gbm,
        [Y0],
        T,
        lambda y: y[:, 0],
        scheme="euler",
        n_steps=n_steps[:4],
        exact=exact,
        n_paths=n_paths,
        seed=2,
        label="euler, weak (f = y)",
    )
)
for r in results:
    lo, hi = r.ci
    print(f"{r.kind:6s} {r.label:22s} order {r.order:.2f}  95% CI [{lo:.2f}, {hi:.2f}]  expected {r.expected}")

fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
plot_orders(results, ax=ax)
ax.set_title("Geometric Brownian motion: measured orders")
fig.savefig(os.path.join(OUT, "own_sde_orders.png"), dpi=120)
