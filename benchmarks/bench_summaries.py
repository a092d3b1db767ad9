"""Peak memory of the streaming summaries against keeping every path, as the number of paths grows.

Three Monte-Carlo entry points, each at increasing path counts, in one run:

* ``solve`` of an Ornstein-Uhlenbeck SDE (100 steps, 10 output times) with
  ``summary=[Moments(4), Histogram(100 bins), Quantiles(3 probabilities), Reducer(max)]``, against
  ``solve`` returning the paths;
* ``summarise_networks(relu_mlp, ...)`` (width 32, depth 16, every layer saved, 3 inputs) with the same
  four summaries, against ``relu_mlp`` returning the ``NetworkBatch``;
* ``walker_capacity`` on a residual conv stack, against ``run_walkers`` returning every walker.

Peak memory is ``tracemalloc``'s peak of the Python-side allocations (NumPy arrays included) during
the call.  The claim checked is that the summaries' peak does not grow with the path count while the
stored results grow linearly.  Command: ``python benchmarks/bench_summaries.py [--max-paths 1e6]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from deeplimits.capacity import residual_stack, run_walkers, walker_capacity
from deeplimits.networks import relu_mlp, summarise_networks
from deeplimits.sde import Histogram, Moments, Quantiles, Reducer, models, solve, uniform_grid


def _max(v):
    return v.max(axis=0)


def _spec(lo, hi):
    return [
        Moments(order=4),
        Histogram(np.linspace(lo, hi, 101)),
        Quantiles([0.05, 0.5, 0.95]),
        Reducer(reduce=_max, merge=np.maximum, name="max"),
    ]


def peak(call):
    """``(peak MiB, seconds)`` of ``call()`` (after a warm-up call compiled its kernels)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return mib, seconds


def cases(n):
    grid = uniform_grid(0.0, 1.0, 100)
    save = np.linspace(0.1, 1.0, 10)
    ou = models.ornstein_uhlenbeck()
    gram = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.1], [0.2, 0.1, 1.0]])
    n_nets = max(1, n // 100)  # a network costs ~100 SDE paths here
    stack, c = residual_stack([1.0, 2.0, 1.0], 64, a=1.0), np.eye(129)[64]
    return {
        f"solve, {n:.0e} paths": (
            lambda: solve(ou, [1.0], grid, saveat=save, n_paths=n, seed=0, summary=_spec(-3.0, 3.0)),
            lambda: solve(ou, [1.0], grid, saveat=save, n_paths=n, seed=0),
        ),
        f"relu_mlp, {n_nets:.0e} networks": (
            lambda: summarise_networks(relu_mlp, gram, 32, 16, n_nets, summary=_spec(0.0, 4.0), seed=0),
            lambda: relu_mlp(gram, 32, 16, n_nets, seed=0),
        ),
        f"walkers, {n:.0e} walkers": (
            lambda: walker_capacity(stack, c, n, seed=0),
            lambda: run_walkers(stack, c, n, seed=0),
        ),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-paths", type=float, default=1e6)
    args = ap.parse_args()
    for summarised, stored in cases(1000).values():  # compile every kernel first
        summarised(), stored()
    sizes = [int(10**k) for k in range(4, int(np.log10(args.max_paths)) + 1)]
    print(f"{'case':34s} {'summaries MiB':>14s} {'stored MiB':>11s} {'summaries s':>12s} {'stored s':>9s}")
    for n in sizes:
        for name, (summarised, stored) in cases(n).items():
            (ms, ts), (mp, tp) = peak(summarised), peak(stored)
            print(f"{name:34s} {ms:14.1f} {mp:11.1f} {ts:12.2f} {tp:9.2f}", flush=True)


if __name__ == "__main__":
    main()
