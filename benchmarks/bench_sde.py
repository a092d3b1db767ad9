"""Benchmark: Euler-Maruyama path-steps per second on a non-linear SDE with a 1/t drift.

    dq = [(2q - c q^{3/2})/t + 2q] dt + sigma q dW,   t in [0.2, 1.2]

Compared, in the same run and at the same step:
  * deeplimits (Numba kernel, all threads, per-path counter-based RNG);
  * torchsde.sdeint(method="euler", float64, CPU) with torch-native drift/diffusion and its default
    Brownian motion (how a torchsde user would write it);
  * a vectorised NumPy loop (numpy Generator for the increments);
  * the rate at which this machine draws normal random numbers: numpy's single-threaded
    Generator.standard_normal and deeplimits.rng.normal_array (all threads).

Usage: python benchmarks/bench_sde.py [--steps 200] [--paths 100 10000 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os

import numba as nb
import numpy as np
from timing import best_of

from deeplimits.rng import normal_array
from deeplimits.sde import models, solve, uniform_grid

C, SIGMA, T0, T1 = 0.3, 2.0 * np.sqrt(2.0), 0.2, 1.2


def numpy_em(n_paths, n_steps, seed=0):
    rng = np.random.default_rng(seed)
    h = (T1 - T0) / n_steps
    q = np.ones(n_paths)
    for k in range(n_steps):
        t = T0 + k * h
        dw = rng.standard_normal(n_paths) * np.sqrt(h)
        q = q + ((2 * q - C * q * np.sqrt(np.abs(q))) / t + 2 * q) * h + SIGMA * q * dw
    return q


def torchsde_em(n_paths, n_steps):
    import torch
    import torchsde

    class Q(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, t, y):
            return (2 * y - C * y * torch.sqrt(torch.abs(y))) / t + 2 * y

        def g(self, t, y):
            return SIGMA * y

    y0 = torch.ones(n_paths, 1, dtype=torch.float64)
    ts = torch.tensor([T0, T1], dtype=torch.float64)
    with torch.no_grad():
        return torchsde.sdeint(Q(), y0, ts, method="euler", dt=(T1 - T0) / n_steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--paths", type=int, nargs="+", default=[100, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()

    sde = models.singular_logistic(C, SIGMA)
    grid = uniform_grid(T0, T1, args.steps)
    solve(sde, [1.0], grid, saveat=[T1], n_paths=10, seed=0)  # compile / load cache outside the timings
    normal_array(0, (10, 10))

    n_rng = 10_000_000
    gen = np.random.default_rng(0)
    rate_np = n_rng / best_of(lambda: gen.standard_normal(n_rng), args.repeat)
    rate_ours_rng = n_rng / best_of(lambda: normal_array(1, (1000, n_rng // 1000)), args.repeat)

    print(f"machine: {os.cpu_count()} cores, numba threads {nb.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    print(f"normal draws/s: numpy Generator (1 thread) {rate_np:.3e}; deeplimits.rng (all threads) {rate_ours_rng:.3e}")
    print(f"EM, {args.steps} steps, path-steps per second (best of {args.repeat})")
    header = (
        f"{'paths':>8} {'deeplimits':>12} {'numpy':>12} {'torchsde':>12} {'x numpy':>8} {'x torchsde':>10} "
        f"{'/ numpy RNG':>11}"
    )
    print(header)
    for n in args.paths:
        work = n * args.steps
        r_ours = work / best_of(lambda: solve(sde, [1.0], grid, saveat=[T1], n_paths=n, seed=1), args.repeat)
        r_np = work / best_of(lambda: numpy_em(n, args.steps), args.repeat)
        r_torch = np.nan
        if not args.no_torch:
            try:
                r_torch = work / best_of(lambda: torchsde_em(n, args.steps), max(1, args.repeat - 1))
            except ImportError:
                pass
        print(
            f"{n:>8d} {r_ours:>12.3e} {r_np:>12.3e} {r_torch:>12.3e} {r_ours / r_np:>8.1f} "
            f"{r_ours / r_torch:>10.1f} {r_ours / rate_np:>11.2f}"
        )


if __name__ == "__main__":
    main()
