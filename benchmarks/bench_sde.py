"""Benchmark: Euler-Maruyama path-steps per second on a non-linear SDE with a 1/t drift.

    dq = [(2q - c q^{3/2})/t + 2q] dt + sigma q dW,   t in [0.2, 1.2]

Compared, in the same run and at the same step:
  * deeplimits (Numba kernel, all threads, per-path counter-based RNG), with the drift and diffusion
    written per path (``f(t, y, p, out)``) and in batched form (``SDE(..., batched=True)``: one call
    per block of paths; the same paths bit for bit);
  * diffrax (JAX, CPU, float64) written the fastest way a diffrax user would: one jitted
    ``diffeqsolve`` over a batched state, ``UnsafeBrownianPath``, ``Euler()``, ``ForwardMode()``;
  * torchsde.sdeint(method="euler", float64, CPU) with torch-native drift/diffusion and its default
    Brownian motion (how a torchsde user would write it);
  * a vectorised NumPy loop (numpy Generator for the increments);
  * the rate at which this machine draws normal random numbers: numpy's single-threaded
    Generator.standard_normal and deeplimits.rng.normal_array (all threads).

Also measured: peak memory of ``solve(summary=...)`` (moments and a 100-bin histogram at 10
times, ``--memory-paths`` paths), and with ``--cold-start`` the time of ``import deeplimits.sde``
and of a first small ``solve`` in fresh processes with an empty Numba cache.

Usage: python benchmarks/bench_sde.py [--steps 200] [--paths 10000 100000 1000000] [--repeat 3]
       [--no-torch] [--no-diffrax] [--memory-paths 10000000] [--cold-start] [--work-precision FIG.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numba as nb
import numpy as np
from timing import best_of

from deeplimits.rng import normal_array
from deeplimits.sde import SDE, Histogram, Moments, models, solve, uniform_grid

C, SIGMA, T0, T1 = 0.3, 2.0 * np.sqrt(2.0), 0.2, 1.2


@nb.njit(cache=True)
def _batched_drift(t, Y, p, out):
    for r in range(Y.shape[0]):
        q = Y[r, 0]
        out[r, 0] = (2.0 * q - p[0] * q * np.sqrt(np.abs(q))) / t + 2.0 * q


@nb.njit(cache=True)
def _batched_diffusion(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = p[1] * Y[r, 0]


@nb.njit(cache=True)
def _batched_dgdy(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = p[1]


@nb.njit(cache=True)
def _batched_gbm_drift(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = p[0] * Y[r, 0]


@nb.njit(cache=True)
def _batched_gbm_diffusion(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0, 0] = p[1] * Y[r, 0]


@nb.njit(cache=True)
def _batched_gbm_dgdy(t, Y, p, out):
    for r in range(Y.shape[0]):
        out[r, 0] = p[1]


def batched_gbm(mu, sigma):
    """``models.gbm`` written in batched form (``batched=True``)."""
    return SDE(
        _batched_gbm_drift,
        _batched_gbm_diffusion,
        params=[mu, sigma],
        diffusion_derivative=_batched_gbm_dgdy,
        batched=True,
    )


def batched_logistic(c=C, sigma=SIGMA):
    """``models.singular_logistic`` written in batched form (``batched=True``)."""
    return SDE(_batched_drift, _batched_diffusion, params=[c, sigma], diffusion_derivative=_batched_dgdy, batched=True)


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


def jax_cpu64():
    """``(jax, jax.numpy, diffrax, lineax)`` with float64 on the CPU (set before any array is made)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import diffrax
    import jax.numpy as jnp
    import lineax

    return jax, jnp, diffrax, lineax


def diffrax_solve(drift, diffusion, solver, t0, t1, y0, n_steps):
    """``solve(key) -> (ys at t1, steps)``: one ``diffeqsolve`` from ``y0`` driven by an
    ``UnsafeBrownianPath`` of ``y0``'s shape, fixed step, ``ForwardMode`` (not jitted: jit or vmap it)."""
    _, _, diffrax, _ = jax_cpu64()

    def solve(key):
        bm = diffrax.UnsafeBrownianPath(shape=y0.shape, key=key)
        terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, bm))
        sol = diffrax.diffeqsolve(
            terms,
            solver,
            t0,
            t1,
            dt0=(t1 - t0) / n_steps,
            y0=y0,
            saveat=diffrax.SaveAt(t1=True),
            adjoint=diffrax.ForwardMode(),
            max_steps=n_steps + 2,
        )
        return sol.ys, sol.stats["num_steps"]

    return solve


def diffrax_em(n_paths, n_steps):
    """A jitted batched diffrax Euler solve; returns ``run(seed)`` (compiled on its first call)."""
    jax, jnp, diffrax, lineax = jax_cpu64()

    def drift(t, y, args):
        return (2 * y - C * y * jnp.sqrt(jnp.abs(y))) / t + 2 * y

    def diffusion(t, y, args):
        return lineax.DiagonalLinearOperator(SIGMA * y)

    run = jax.jit(diffrax_solve(drift, diffusion, diffrax.Euler(), T0, T1, jnp.ones(n_paths), n_steps))

    def call(seed=0):
        ys, steps = run(jax.random.key(seed))
        return ys.block_until_ready(), int(steps)

    return call


def summary_memory(sde, grid, n_paths):
    """Peak memory of ``solve(summary=[Moments(4), Histogram(100 bins)])`` at 10 output times.

    Returns ``(tracemalloc peak, resident-set growth, seconds)`` in bytes, bytes, seconds; the
    resident-set peak is reset first where Linux allows it (``/proc/self/clear_refs``).
    """
    saveat = grid[:: (grid.size - 1) // 10][1:]
    spec = [Moments(order=4), Histogram(np.linspace(0.0, 40.0, 101))]
    solve(sde, [1.0], grid, saveat=saveat, n_paths=10, seed=0, summary=spec)  # compiled outside

    def rss(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = rss("VmRSS:")
    tracemalloc.start()
    t0 = time.perf_counter()
    solve(sde, [1.0], grid, saveat=saveat, n_paths=n_paths, seed=0, summary=spec)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, rss("VmHWM:") - before, seconds


def readme_example():
    """The README's example (its first ``python`` block), the code whose cold start is timed."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    return readme.split("```python\n", 1)[1].split("```", 1)[0]


def cold_start():
    """Seconds of ``import deeplimits.sde`` and of the README's example, each in a fresh process and cache."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "example.py")
        with open(script, "w") as f:
            f.write(readme_example())
        for label, cmd, cache in [
            ("import deeplimits.sde, cold", ["-c", "import deeplimits.sde"], "a"),
            ("README example, cold", [script], "b"),
            ("README example, warm", [script], "b"),
            ("import deeplimits.sde, warm", ["-c", "import deeplimits.sde"], "b"),
        ]:
            env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(tmp, cache)}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *cmd], env=env, check=True)
            out[label] = time.perf_counter() - t0
    return out


def given_brownian_path():
    """A diffrax Brownian path through given values ``ws[k] = W(k / n)`` on ``[0, 1]`` (a class).

    ``evaluate(s, t)`` returns ``ws[round(t n)] - ws[round(s n)]``: on a grid whose nodes are fine-grid
    nodes these are the coupled increments, whatever rounding diffrax's time stepping leaves in ``s``, ``t``.
    """
    import equinox as eqx

    jax, jnp, diffrax, _ = jax_cpu64()

    class GivenBrownianPath(diffrax.AbstractBrownianPath):
        ws: jax.Array
        n: int = eqx.field(static=True)
        levy_area: type = eqx.field(static=True)

        @property
        def t0(self):
            return 0.0

        @property
        def t1(self):
            return 1.0

        def evaluate(self, t0, t1=None, left=True, use_levy=False):
            def w(t):
                return self.ws[jnp.rint(t * self.n).astype(jnp.int32)]

            return w(t0) if t1 is None else w(t1) - w(t0)

    return GivenBrownianPath


def diffrax_work_precision(wp, mu, sigma, x0, seed, repeat=3):
    """diffrax ``Euler`` (batched state) and ``ItoMilstein`` (one path, ``vmap``-ed) on the GBM of ``wp``.

    Driven by the same Brownian paths as ``wp`` (``brownian_increments(seed)`` on its finest grid): the
    control is the piecewise-linear interpolation of their cumulative sums, evaluated at the nodes of each
    coarser grid, i.e. the coupled increments.  Returns ``(names, errors, stderr, seconds)`` with the
    arrays of shape ``(2, n_h)``; seconds are the least wall time of the jitted call over ``repeat`` runs.
    """
    from deeplimits.sde import brownian_increments

    jax, jnp, diffrax, lineax = jax_cpu64()
    n_paths, n_fine = wp.n_paths, int(wp.n_steps[-1])
    fine = uniform_grid(0.0, 1.0, n_fine)
    dW = brownian_increments(fine, n_paths=n_paths, seed=seed)[:, :, 0]
    W = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(dW, axis=1)], axis=1)  # as coupled_increments
    exact = x0 * np.exp((mu - 0.5 * sigma**2) + sigma * dW.sum(axis=1))  # as models.gbm_exact, T = 1
    Wt = jnp.asarray(W.T)  # (n_fine + 1, n_paths): W at the fine grid's nodes
    path_class = given_brownian_path()

    def solver_run(solver, n, batched):
        def drift(t, y, args):
            return mu * y

        def diffusion(t, y, args):
            return lineax.DiagonalLinearOperator(sigma * y) if batched else sigma * y

        def one(ws, y0):
            control = path_class(ws=ws, n=n_fine, levy_area=diffrax.BrownianIncrement)
            terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, control))
            sol = diffrax.diffeqsolve(
                terms,
                solver,
                0.0,
                1.0,
                dt0=1.0 / n,
                y0=y0,
                saveat=diffrax.SaveAt(t1=True),
                adjoint=diffrax.ForwardMode(),
                max_steps=n + 2,
            )
            return sol.ys[0]

        # the paths are an argument, not a constant of the traced function, which XLA could fold at compile time
        if batched:
            run = jax.jit(lambda ws: one(ws, jnp.full(n_paths, x0)))
        else:
            run = jax.jit(jax.vmap(lambda col: one(col, jnp.asarray(x0)), in_axes=1))
        run(Wt).block_until_ready()  # compile outside the timing
        return lambda: np.asarray(run(Wt).block_until_ready())

    names = ["diffrax Euler", "diffrax ItoMilstein"]
    shape = (len(names), wp.n_steps.size)
    errors, stderr, seconds = np.empty(shape), np.empty(shape), np.full(shape, np.inf)
    for i, (solver, batched) in enumerate([(diffrax.Euler(), True), (diffrax.ItoMilstein(), False)]):
        for j, n in enumerate(wp.n_steps):
            call = solver_run(solver, int(n), batched)
            for _ in range(repeat):
                t = time.perf_counter()
                y = call()
                seconds[i, j] = min(seconds[i, j], time.perf_counter() - t)
            diff = np.abs(y - exact)
            errors[i, j], stderr[i, j] = diff.mean(), diff.std(ddof=1) / np.sqrt(n_paths)
    return names, errors, stderr, seconds


def draw_work_precision(path, n_paths=10_000, with_diffrax=True):
    """Work-precision diagram of the generic schemes and of diffrax's on GBM (exact pathwise solution)."""
    from dataclasses import replace

    from deeplimits.convergence import plot_work_precision, work_precision

    mu, sigma, x0, seed = 1.0, 0.5, 1.0, 0
    common = dict(exact=models.gbm_exact(x0, mu, sigma), n_steps=[16, 32, 64, 128, 256, 512], n_paths=n_paths)
    common.update(seed=seed, repeat=3)
    wp = work_precision(models.gbm(mu, sigma), [x0], 1.0, schemes=["euler", "milstein", "theta", "weak2"], **common)
    wb = work_precision(batched_gbm(mu, sigma), [x0], 1.0, schemes=["euler", "milstein"], **common)
    wp = replace(
        wp,
        schemes=wp.schemes + [f"{name} (batched)" for name in wb.schemes],
        errors=np.vstack([wp.errors, wb.errors]),
        stderr=np.vstack([wp.stderr, wb.stderr]),
        seconds=np.vstack([wp.seconds, wb.seconds]),
    )
    if with_diffrax:
        try:
            names, err, se, sec = diffrax_work_precision(wp, mu, sigma, x0, seed)
        except ImportError:
            print("work-precision: diffrax not installed, our schemes only")
        else:
            wp = replace(
                wp,
                schemes=wp.schemes + names,
                errors=np.vstack([wp.errors, err]),
                stderr=np.vstack([wp.stderr, se]),
                seconds=np.vstack([wp.seconds, sec]),
            )
    title = f"GBM, strong error at T = 1, {n_paths} paths (the same for every scheme)"
    plot_work_precision(wp, title=title).savefig(path, dpi=110)
    for scheme, err, sec in zip(wp.schemes, wp.errors, wp.seconds, strict=True):
        print(f"work-precision {scheme:>19}: errors {' '.join(f'{e:.2e}' for e in err)}; seconds {sec.round(4)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--paths", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-diffrax", action="store_true")
    ap.add_argument("--memory-paths", type=int, default=10_000_000, help="0 skips the memory measurement")
    ap.add_argument("--cold-start", action="store_true")
    ap.add_argument("--work-precision", metavar="FIG", help="draw the work-precision diagram into this file")
    ap.add_argument("--work-precision-only", action="store_true", help="stop after the work-precision diagram")
    args = ap.parse_args()
    if args.work_precision:
        draw_work_precision(args.work_precision, with_diffrax=not args.no_diffrax)
        if args.work_precision_only:
            return
    if args.cold_start:
        for label, seconds in cold_start().items():
            print(f"{label}: {seconds:.1f} s")

    sde = models.singular_logistic(C, SIGMA)
    sde_b = batched_logistic()
    grid = uniform_grid(T0, T1, args.steps)
    solve(sde, [1.0], grid, saveat=[T1], n_paths=10, seed=0)  # compile / load cache outside the timings
    solve(sde_b, [1.0], grid, saveat=[T1], n_paths=10, seed=0)
    normal_array(0, (10, 10))

    n_rng = 10_000_000
    gen = np.random.default_rng(0)
    rate_np = n_rng / best_of(lambda: gen.standard_normal(n_rng), args.repeat)
    rate_ours_rng = n_rng / best_of(lambda: normal_array(1, (1000, n_rng // 1000)), args.repeat)

    print(f"machine: {os.cpu_count()} cores, numba threads {nb.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    print(f"normal draws/s: numpy Generator (1 thread) {rate_np:.3e}; deeplimits.rng (all threads) {rate_ours_rng:.3e}")
    print(f"EM, {args.steps} steps, path-steps per second (best of {args.repeat})")
    header = (
        f"{'paths':>8} {'deeplimits':>12} {'batched':>12} {'diffrax':>12} {'numpy':>12} {'torchsde':>12} "
        f"{'x diffrax':>9} {'batched x':>9} {'x numpy':>8} {'x torchsde':>10} {'/ numpy RNG':>11}"
    )
    print(header)
    for n in args.paths:
        work = n * args.steps
        r_ours = work / best_of(lambda: solve(sde, [1.0], grid, saveat=[T1], n_paths=n, seed=1), args.repeat)
        r_b = work / best_of(lambda: solve(sde_b, [1.0], grid, saveat=[T1], n_paths=n, seed=1), args.repeat)
        r_np = work / best_of(lambda: numpy_em(n, args.steps), args.repeat)
        r_diffrax = np.nan
        if not args.no_diffrax:
            try:
                run = diffrax_em(n, args.steps)
                _, steps = run()  # compile outside the timing
                assert steps == args.steps, f"diffrax took {steps} steps"
                r_diffrax = work / best_of(run, args.repeat)
            except ImportError:
                pass
        r_torch = np.nan
        if not args.no_torch:
            try:
                r_torch = work / best_of(lambda: torchsde_em(n, args.steps), max(1, args.repeat - 1))
            except ImportError:
                pass
        print(
            f"{n:>8d} {r_ours:>12.3e} {r_b:>12.3e} {r_diffrax:>12.3e} {r_np:>12.3e} {r_torch:>12.3e} "
            f"{r_ours / r_diffrax:>9.2f} {r_b / r_diffrax:>9.2f} {r_ours / r_np:>8.1f} {r_ours / r_torch:>10.1f} "
            f"{r_ours / rate_np:>11.2f}"
        )
    if args.memory_paths:
        peak, rss, seconds = summary_memory(sde, grid, args.memory_paths)
        print(
            f"summary=[Moments(4), Histogram(100 bins)] at 10 times, {args.memory_paths:.0e} paths: "
            f"tracemalloc peak {peak / 2**20:.1f} MiB, resident-set growth {rss / 2**20:.1f} MiB, {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
