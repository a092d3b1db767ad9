"""Benchmark: Milstein on the scalar SDE of ``bench_sde.py``, and Euler on a 3-d SDE with general noise.

Against diffrax (JAX, CPU, float64), timed in the same run at the same step, best of ``--repeat``:

* **Milstein**, ``dq = [(2q - c q^{3/2})/t + 2q] dt + sigma q dW`` on ``[0.2, 1.2]``: deeplimits
  ``scheme="milstein"`` (``models.singular_logistic``, diffusion derivative given) against diffrax
  ``ItoMilstein()`` on one path, ``jax.vmap``-ed over the paths and jitted, ``UnsafeBrownianPath``, ``ForwardMode``;
* **Euler, 3-d general noise**: ``dY_i = (-Y_i + sin Y_{i+1}/2) dt + sum_j S_ij (1 + cos(Y_j)/10) dW_j``
  (``S`` tridiagonal, 0.3 on the diagonal and 0.1 beside it: a full, state-dependent 3 x 3 diffusion),
  ``t`` in ``[0, 1]``; deeplimits ``noise="general"`` against diffrax ``Euler()`` on one path,
  ``jax.vmap``-ed over the paths and jitted (the idiom for a matrix diffusion), ``UnsafeBrownianPath``.

deeplimits runs each SDE twice: drift and diffusion written per path, and in batched form
(``SDE(..., batched=True)``, one call per block of paths; the same paths bit for bit).

Rates are path-steps per second.  Command: ``python benchmarks/bench_sde_general.py [--paths ...]``.
"""

from __future__ import annotations

import argparse
import os

import numba as nb
import numpy as np
from bench_sde import SIGMA, T0, T1, C, batched_logistic, diffrax_solve, jax_cpu64
from timing import best_of

from deeplimits.sde import SDE, models, solve, uniform_grid


@nb.njit(cache=True)
def _g3_drift(t, y, p, out):
    for i in range(3):
        out[i] = -y[i] + 0.5 * np.sin(y[(i + 1) % 3])


@nb.njit(cache=True)
def _g3_diffusion(t, y, p, out):
    # out[i, j] = S_ij (1 + cos(y_j)/10): one cosine per noise j, as in the diffrax form below
    for j in range(3):
        c = 1.0 + 0.1 * np.cos(y[j])
        for i in range(3):
            s = 0.3 if i == j else (0.1 if abs(i - j) == 1 else 0.0)
            out[i, j] = s * c


# The batched form does the per-path arithmetic (3 sines and 3 cosines per path and step, as the diffrax
# form does), with the loop over the rows innermost so that each statement runs over a whole block.
@nb.njit(cache=True)
def _g3_drift_batched(t, Y, p, out):
    for i in range(3):
        for r in range(Y.shape[0]):
            out[r, i] = -Y[r, i] + 0.5 * np.sin(Y[r, (i + 1) % 3])


@nb.njit(cache=True)
def _g3_diffusion_batched(t, Y, p, out):
    for j in range(3):
        s0 = 0.3 if j == 0 else (0.1 if j == 1 else 0.0)
        s1 = 0.3 if j == 1 else 0.1
        s2 = 0.3 if j == 2 else (0.1 if j == 1 else 0.0)
        for r in range(Y.shape[0]):
            c = 1.0 + 0.1 * np.cos(Y[r, j])
            out[r, 0, j] = s0 * c
            out[r, 1, j] = s1 * c
            out[r, 2, j] = s2 * c


S3 = np.array([[0.3, 0.1, 0.0], [0.1, 0.3, 0.1], [0.0, 0.1, 0.3]])


def _vmapped(drift, diffusion, solver, t0, t1, y0, n_paths, n_steps):
    """One path's ``diffeqsolve`` ``jax.vmap``-ed over ``n_paths`` keys and jitted; returns ``run(seed)``."""
    jax = jax_cpu64()[0]
    one = diffrax_solve(drift, diffusion, solver, t0, t1, y0, n_steps)
    run = jax.jit(lambda key: jax.vmap(lambda k: one(k)[0])(jax.random.split(key, n_paths)))
    return lambda seed=0: run(jax.random.key(seed)).block_until_ready()


def diffrax_milstein(n_paths, n_steps):
    """``ItoMilstein`` on the scalar SDE, one path ``vmap``-ed over the paths; returns ``run(seed)``.

    (Over one batched state with diagonal noise, ``ItoMilstein`` differentiates the whole batch's
    diffusion and ran at about 1e3 path-steps/s here, so the per-path ``vmap`` is the fair form.)
    """
    _, jnp, diffrax, _ = jax_cpu64()

    def drift(t, y, args):
        return (2 * y - C * y * jnp.sqrt(jnp.abs(y))) / t + 2 * y

    def diffusion(t, y, args):
        return SIGMA * y

    return _vmapped(drift, diffusion, diffrax.ItoMilstein(), T0, T1, jnp.asarray(1.0), n_paths, n_steps)


def diffrax_general(n_paths, n_steps):
    """``Euler`` on the 3-d general-noise SDE, one path ``vmap``-ed over the paths; returns ``run(seed)``."""
    _, jnp, diffrax, _ = jax_cpu64()
    s = jnp.asarray(S3)

    def drift(t, y, args):
        return -y + 0.5 * jnp.sin(jnp.roll(y, -1))

    def diffusion(t, y, args):
        return s * (1.0 + 0.1 * jnp.cos(y))[None, :]

    return _vmapped(drift, diffusion, diffrax.Euler(), 0.0, 1.0, jnp.ones(3), n_paths, n_steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--paths", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    q = models.singular_logistic(C, SIGMA)
    g3 = SDE(_g3_drift, _g3_diffusion, dim=3, noise="general", n_noise=3, name="3-d general noise")
    g3_b = SDE(_g3_drift_batched, _g3_diffusion_batched, dim=3, noise="general", n_noise=3, batched=True)
    q_b = batched_logistic()
    cases = [
        ("Milstein, scalar", q, q_b, [1.0], uniform_grid(T0, T1, args.steps), "milstein", diffrax_milstein),
        ("Euler, 3-d general", g3, g3_b, np.ones(3), uniform_grid(0.0, 1.0, args.steps), "euler", diffrax_general),
    ]
    print(f"machine: {os.cpu_count()} cores, numba threads {nb.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    print(f"{args.steps} steps, path-steps per second (best of {args.repeat})")
    print(
        f"{'case':20s} {'paths':>8s} {'deeplimits':>12s} {'batched':>12s} {'diffrax':>12s} {'x diffrax':>9s} "
        f"{'batched x':>9s}"
    )
    for label, sde, sde_b, y0, grid, scheme, peer in cases:
        for s in (sde, sde_b):
            solve(s, y0, grid, saveat=[grid[-1]], n_paths=10, seed=0, scheme=scheme)  # compile outside
        for n in args.paths:
            work = n * args.steps
            ours, ours_b = (
                work
                / best_of(lambda: solve(s, y0, grid, saveat=[grid[-1]], n_paths=n, seed=1, scheme=scheme), args.repeat)
                for s in (sde, sde_b)
            )
            try:
                run = peer(n, args.steps)
                run()  # compile outside the timing
                theirs = work / best_of(run, args.repeat)
            except ImportError:
                theirs = np.nan
            print(
                f"{label:20s} {n:>8d} {ours:>12.3e} {ours_b:>12.3e} {theirs:>12.3e} {ours / theirs:>9.2f} "
                f"{ours_b / theirs:>9.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
