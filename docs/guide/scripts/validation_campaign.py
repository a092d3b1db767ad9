"""Run a validation campaign, declare an experiment of your own, and read the results.

The same runner is behind `deeplimits validate`: it writes results.json (every check with its value,
threshold and verdict), report.md and the figures under the output folder.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numba as nb
import numpy as np

from deeplimits.sde import SDE, solve, uniform_grid
from deeplimits.validation import Check, Outcome, experiment, isolated_registry, run_experiments, save_figure

OUT = Path(os.environ.get("DEEPLIMITS_GUIDE_OUT", "."))

# 1. A campaign of the package's own experiments (quick parameters), like `deeplimits validate --quick`.
summary = run_experiments(["sde.gbm_strong"], mode="quick", seed=0, outdir=OUT / "campaign", progress=False)
for rec in summary.results:
    print(f"{rec.id}: {rec.status} in {rec.seconds:.1f} s - {rec.summary}")
    for name, t in rec.thresholds.items():
        print(f"    {name} = {rec.metrics[name]:.3g} {t['op']} {t['threshold']} -> {'pass' if t['passed'] else 'FAIL'}")
print("report:", summary.report_md, "| figures:", [str(f) for rec in summary.results for f in rec.figures])


# 2. An experiment of your own: the mean of the Ornstein-Uhlenbeck process dY = -Y dt + 0.5 dW is e^{-t}.
@nb.njit(cache=True)
def ou_drift(t, y, p, out):
    out[0] = -p[0] * y[0]


@nb.njit(cache=True)
def ou_diffusion(t, y, p, out):
    out[0, 0] = p[1]


def ou_mean(params, *, seed, outdir):
    ou = SDE(ou_drift, ou_diffusion, params=[1.0, 0.5], name="OU")
    n = params["n_paths"]
    sol = solve(ou, [1.0], uniform_grid(0.0, 1.0, 100), n_paths=n, seed=seed)
    y = sol.ys[:, 1:, 0]  # t > 0: at t = 0 every path starts at 1
    mean, se = y.mean(axis=0), y.std(axis=0, ddof=1) / np.sqrt(n)
    z = float(np.max(np.abs(mean - np.exp(-sol.ts[1:])) / se))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(sol.ts[1:], mean, label="Monte Carlo")
    ax.plot(sol.ts, np.exp(-sol.ts), "k--", label=r"$e^{-t}$")
    ax.set(xlabel="t", ylabel="E[Y_t]")
    ax.legend()
    return Outcome(
        checks=[Check("max_z", z, "<", 4.0, note="largest |error| / standard error over the grid")],
        figures=[save_figure(fig, outdir, "ou_mean.png")],
        summary=f"max |error| / SE = {z:.2f}",
    )


with isolated_registry():  # keeps this experiment out of the package's registry
    experiment(
        id="mine.ou_mean",
        checks="the Monte-Carlo mean of an OU process is e^{-t} within 4 standard errors",
        criterion="max_t |mean - e^{-t}| / SE < 4",
        quick=dict(n_paths=2_000),
        full=dict(n_paths=100_000),
    )(ou_mean)
    mine = run_experiments(["mine.*"], mode="quick", outdir=OUT / "my-campaign", progress=False, discover=False)
print(f"my campaign passed: {mine.passed}; {mine.results[0].summary}; report at {mine.report_md}")
