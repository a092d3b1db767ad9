"""Benchmark: Gram-exact engine against dense weight matrices (deeplimits.networks).

Prints network-layers per second of both engines for the ReLU MLP and the d^-1/2 ResNet at widths
n in {256, 1024, 4096} (m = 2 inputs) and their ratio, both measured in the same run.  The machine load
(1-minute load average) is printed with the table because the CI machine is shared.

Usage: python benchmarks/bench_networks.py [--widths 256 1024 4096] [--min-time 2.0]
"""

from __future__ import annotations

import argparse
import os
import time

import numba as nb
import numpy as np

from deeplimits.networks import gram_from_correlation, relu_mlp, resnet

G = gram_from_correlation(0.5)
MODELS = {"relu_mlp": relu_mlp, "resnet": resnet}


def rate(model, engine, n, min_time):
    """Network-layers per second: repeat a run (doubling its size) until it takes >= min_time seconds."""
    f = MODELS[model]
    depth = 8
    n_nets = 1 if engine == "dense" else max(1, 2**16 // n)
    while True:
        t0 = time.perf_counter()
        f(G, n, depth, n_nets, engine=engine, seed=1, save="last")
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return n_nets * depth / dt, dt
        if engine == "dense" and depth < 32:
            depth *= 2
        else:
            n_nets *= 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--min-time", type=float, default=2.0)
    args = ap.parse_args()
    for model in MODELS:  # compile outside the timings
        MODELS[model](G, 8, 2, 2, engine="gram", seed=0)
    print(
        f"numba threads: {nb.get_num_threads()}, cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}"
    )
    print("| model | n | dense (net-layers/s) | gram (net-layers/s) | gram / dense |")
    print("|---|---|---|---|---|")
    for model in MODELS:
        for n in args.widths:
            rd, _ = rate(model, "dense", n, args.min_time)
            rg, _ = rate(model, "gram", n, args.min_time)
            print(f"| {model} | {n} | {rd:.3g} | {rg:.3g} | {rg / rd:.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
