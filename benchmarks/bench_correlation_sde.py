"""Benchmark: integrating the unshaped ReLU q-SDE, deeplimits against torchsde, same equation and step.

Equation: dq = [(2q - a q^{3/2})/t + 2q] dt + 2 sqrt(2) q dB from t0 = 0.05, q(t0) = 9 pi^2/2, to T = 0.5.
All contenders take the same Euler--Maruyama step h = 0.45/N with the same Brownian increments
(checked: final states agree to rounding), except the internal-RNG rows which draw their own normals.

Rows
----
* specialised kernel  ``solve(q_sde(), scheme="euler")``: the scalar kernel attached to ``q_sde()``
                      (Numba, parallel over paths)
* generic engine      the same call on ``q_sde()`` without its specialised kernels (Numba backend)
* torchsde            ``torchsde.sdeint(method="euler")`` with native torch coefficients
                      (via ``solve(..., backend="torchsde")``), float64, CPU
* J-Milstein          the recommended sampler ``solve(J_sde(), scheme="milstein")`` (regular J-equation,
                      exact start at t = 0, strong order 1)
* drift-implicit q    from t = 0: specialised kernel ``solve(q_sde(), scheme="implicit_euler")`` (cubic in
                      sqrt q, monotone Newton) against the generic ``solve(q_sde(), scheme="theta")`` (Newton with the
                      analytic Jacobian), same increments (checked to agree to rounding)

Run:  python benchmarks/bench_correlation_sde.py [--paths 20000] [--steps 1024] [--repeat 3]
Prints path-steps per second and the ratio to torchsde measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from deeplimits.correlation import unshaped
from deeplimits.correlation.unshaped import Q_STAR
from deeplimits.sde import brownian_increments, solve


def best_time(fn, repeat):
    fn()  # warm-up (JIT compilation, caches)
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    import numba
    import torch

    t0, T, N, P = 0.05, 0.5, args.steps, args.paths
    grid = np.linspace(t0, T, N + 1)
    dW = brownian_increments(grid, n_paths=P, seed=1)
    sde = unshaped.q_sde()
    generic = replace(sde, kernels={})

    # correctness first: the same increments give the same paths
    q_kernel = solve(sde, [Q_STAR], grid, saveat=[T], dW=dW).ys[:, 0, 0]
    q_engine = solve(generic, [Q_STAR], grid, saveat=[t0, T], dW=dW, check_stability=False).ys[:, -1, 0]
    q_torch = solve(sde, [Q_STAR], grid, saveat=[t0, T], dW=dW, backend="torchsde", check_stability=False).ys[:, -1, 0]
    dev_engine = float(np.max(np.abs(q_engine / q_kernel - 1)))
    dev_torch = float(np.max(np.abs(q_torch / q_kernel - 1)))

    rows = []
    rows.append(
        (
            "specialised kernel (coupled dW)",
            best_time(lambda: solve(sde, [Q_STAR], grid, saveat=[T], dW=dW), args.repeat),
        )
    )
    rows.append(
        (
            "specialised kernel (internal RNG)",
            best_time(lambda: solve(sde, [Q_STAR], grid, saveat=[T], n_paths=P, seed=2), args.repeat),
        )
    )
    rows.append(
        (
            "generic engine, numba (coupled dW)",
            best_time(lambda: solve(generic, [Q_STAR], grid, saveat=[T], dW=dW, check_stability=False), args.repeat),
        )
    )
    rows.append(
        (
            "torchsde sdeint euler (coupled dW)",
            best_time(
                lambda: solve(sde, [Q_STAR], grid, saveat=[t0, T], dW=dW, backend="torchsde", check_stability=False),
                args.repeat,
            ),
        )
    )
    gJ = np.linspace(0.0, T, N + 1)
    rows.append(
        (
            "J-Milstein from t=0 (internal RNG)",
            best_time(
                lambda: solve(unshaped.J_sde(), [0.0], gJ, saveat=[T], n_paths=P, seed=3, scheme="milstein"),
                args.repeat,
            ),
        )
    )

    dWJ = brownian_increments(gJ, n_paths=P, seed=4)
    q_imp = solve(sde, [Q_STAR], gJ, saveat=[T], dW=dWJ, scheme="implicit_euler").ys[:, 0, 0]
    q_theta = solve(sde, [Q_STAR], gJ, saveat=[T], dW=dWJ, scheme="theta").ys[:, 0, 0]
    dev_theta = float(np.max(np.abs(q_theta / q_imp - 1)))
    rows.append(
        (
            "q drift-implicit from t=0, kernel",
            best_time(lambda: solve(sde, [Q_STAR], gJ, saveat=[T], dW=dWJ, scheme="implicit_euler"), args.repeat),
        )
    )
    rows.append(
        (
            "q drift-implicit from t=0, engine theta",
            best_time(lambda: solve(sde, [Q_STAR], gJ, saveat=[T], dW=dWJ, scheme="theta"), args.repeat),
        )
    )

    t_ref = dict(rows)["torchsde sdeint euler (coupled dW)"]
    print(
        f"# q-SDE Euler, t0={t0}, T={T}, {N} steps, {P} paths; numba threads={numba.get_num_threads()}, "
        f"torch threads={torch.get_num_threads()}, {platform.processor() or platform.machine()}"
    )
    print(
        f"# max relative deviation of final q: engine vs kernel {dev_engine:.1e}, torchsde vs kernel {dev_torch:.1e}, "
        f"drift-implicit engine vs kernel {dev_theta:.1e}"
    )
    print(f"{'contender':40s} {'time [s]':>10s} {'path-steps/s':>14s} {'speed-up vs torchsde':>22s}")
    for name, t in rows:
        print(f"{name:40s} {t:10.4f} {P * N / t:14.3e} {t_ref / t:22.1f}")


if __name__ == "__main__":
    main()
