"""Benchmark: batches of random i.i.d.-weight ResNets (res1, tanh, alpha = L^-1/2).

Target problem: 1e4 networks of width 100 and depth 1000.  Timed, in the same run:

* ``numba exact``  -- :func:`deeplimits.resnet.exact_resnets` (O(d) per layer, exact in law);
* ``numba dense``  -- :func:`deeplimits.resnet.random_resnets` (dense d x d weights drawn per layer);
* ``torch dense``  -- the plain torch loop: per layer ``V = randn(n, d, d)/sqrt(d)``, ``h += a V tanh(h)`` (reference);
* ``torch O(d)``   -- the same conditional-Gaussian trick as ``numba exact``, written in torch.

Dense simulators cost O(n L d^2) random numbers (1e11 for the target), so they run on ``--dense-nets``
networks and are compared by throughput (network-layers per second); the exact simulators run the full
batch.  ``--scale s`` multiplies the numbers of networks by ``s`` (e.g. 0.1 for a quick run).  Ratios are
throughput ratios against ``torch dense``.  Numba compilation is excluded (one warm-up call).

Usage: ``python benchmarks/bench_resnet.py [--scale 1.0] [--dense-nets 50] [--threads N] [--torch-threads N]``
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from timing import best_of


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dense-nets", type=int, default=50)
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--depth", type=int, default=1000)
    ap.add_argument("--nets", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch threads (default: as many as numba uses, so the comparison is at equal cores; "
        "on a heavily loaded machine 1 thread can be faster)",
    )
    ap.add_argument("--torch-od-nets", type=int, default=1000, help="networks for the torch O(d) loop")
    args = ap.parse_args()

    import numba
    import torch

    from deeplimits.resnet import exact_resnets, random_resnets

    if args.threads:
        numba.set_num_threads(args.threads)
    torch.set_num_threads(args.torch_threads or numba.get_num_threads())
    d, L = args.width, args.depth
    n_full = max(1, int(args.nets * args.scale))
    n_dense = max(1, int(args.dense_nets * args.scale))
    n_tod = max(1, int(args.torch_od_nets * args.scale))
    a = L**-0.5
    print(
        f"width {d}, depth {L}; exact simulators: {n_full} nets; dense: {n_dense} nets; "
        f"numba threads {numba.get_num_threads()}, torch threads {torch.get_num_threads()}; "
        f"load average {os.getloadavg()}"
    )

    # warm-up (compilation)
    exact_resnets("res1", 2, d, 3, 0.5, activation="tanh")
    random_resnets("res1", 2, d, 3, 0.5, activation="tanh")

    def torch_dense(n):
        g = torch.Generator().manual_seed(0)
        h = torch.full((n, d), 1.0 / np.sqrt(d), dtype=torch.float64)
        for _ in range(L):
            V = torch.randn(n, d, d, generator=g, dtype=torch.float64) / np.sqrt(d)
            h = h + a * torch.bmm(V, torch.tanh(h).unsqueeze(-1)).squeeze(-1)
        return h

    def torch_od(n):
        g = torch.Generator().manual_seed(0)
        h = torch.full((n, d), 1.0 / np.sqrt(d), dtype=torch.float64)
        for _ in range(L):
            s = torch.linalg.vector_norm(torch.tanh(h), dim=1, keepdim=True) / np.sqrt(d)
            h = h + a * s * torch.randn(n, d, generator=g, dtype=torch.float64)
        return h

    rows = []
    t = best_of(lambda: torch_dense(n_dense), 1)
    rows.append(("torch dense (reference)", n_dense, t))
    t = best_of(lambda: random_resnets("res1", n_dense, d, L, 0.5, activation="tanh", seed=1), 1)
    rows.append(("numba dense", n_dense, t))
    t = best_of(lambda: torch_od(n_tod), 1)
    rows.append(("torch O(d)", n_tod, t))
    t = best_of(lambda: exact_resnets("res1", n_full, d, L, 0.5, activation="tanh", seed=1), 1)
    rows.append(("numba exact O(d)", n_full, t))

    ref = n_dense * L / rows[0][2]
    print(
        f"{'simulator':26s} {'nets':>7s} {'time [s]':>9s} {'net-layers/s':>13s} {'ratio vs torch dense':>21s} "
        f"{'est. time for 1e4 nets [s]':>27s}"
    )
    for name, n, t in rows:
        thr = n * L / t
        print(f"{name:26s} {n:7d} {t:9.2f} {thr:13.3e} {thr / ref:21.1f} {args.nets * L / thr:27.1f}")


if __name__ == "__main__":
    main()
