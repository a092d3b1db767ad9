"""Benchmark: the same work in one process and on a local Dask cluster of single-threaded workers.

Two parts, each timed in the same run on the same machine:
  * a validation campaign: several quick experiments, run_experiments in one process against
    run_experiments(executor=client), one experiment per task;
  * a large Monte Carlo solve: GBM, Euler-Maruyama, n_paths paths (1e7 by default), in one process
    (1 Numba thread, then all threads) against solve(executor=client, chunk_size=...), one chunk per task.
    It needs solve's executor= keyword; without it this part is skipped.

Reported: wall time, speed-up over one process, and the overhead per task,
    overhead/task = (workers x wall on the cluster - work) / tasks,
where "work" is the sum of the experiments' own times measured on the workers (campaign), or the
time of the whole solve in one process with 1 Numba thread (solve).  The overhead includes
scheduling, sending arguments and results, and idle workers at the end of the run.  The cluster's
start is timed separately.  Both parts also check that the results are identical.

Usage: python benchmarks/bench_distributed.py [--workers 2] [--only ID ...] [--paths 10000000]
                                              [--chunk-size 250000] [--steps 100] [--quick]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import tempfile
import time
from pathlib import Path

import numba as nb
import numpy as np

from deeplimits.parallel.cluster import local_cluster, with_numba_threads
from deeplimits.sde import models, solve, uniform_grid
from deeplimits.validation import find_experiments_dir, load_experiments, run_experiments

CAMPAIGN = [
    "sde.gbm_strong",
    "sde.ou_weak",
    "sde.singular_linear",
    "corr.infinite_width",
    "cap.chain_to_kfe",
    "cap.walkers",
    "resnet.estimator_calibration",
    "resnet.moments",
]
QUICK_CAMPAIGN = ["sde.gbm_strong", "sde.ou_weak"]


def records(outdir: Path) -> list[dict]:
    """The experiments' records of results.json without their timings."""
    doc = json.loads((outdir / "results.json").read_text())
    return [{k: v for k, v in rec.items() if k != "seconds"} for rec in doc["experiments"]]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def campaign(client, ids, workers, rows):
    root = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    load_experiments(find_experiments_dir())  # the experiment modules imported before either timing
    local, t_local = timed(lambda: run_experiments(ids, outdir=root / "local", progress=False))
    remote, t_remote = timed(lambda: run_experiments(ids, outdir=root / "remote", progress=False, executor=client))
    work = sum(r.seconds for r in remote.results)
    same = records(root / "local") == records(root / "remote")
    rows.append(("campaign", f"1 process, {len(ids)} experiments", t_local, 1.0, None))
    overhead = (workers * t_remote - work) / len(ids)
    rows.append(("campaign", f"{workers} workers x 1 thread", t_remote, t_local / t_remote, overhead))
    failed = [r.id for r in local.results if not r.passed]
    return f"campaign: identical records: {'yes' if same else 'NO'}" + (f"; failed: {failed}" if failed else "")


def large_solve(client, n_paths, chunk_size, steps, workers, rows):
    if "executor" not in inspect.signature(solve).parameters:
        return "solve: skipped (this version of solve has no executor= keyword)"
    sde, grid = models.gbm(0.5, 0.8), uniform_grid(0.0, 1.0, steps)

    def run(**kw):
        return solve(sde, [1.0], grid, saveat=[1.0], n_paths=n_paths, seed=0, **kw).ys

    # Kernels loaded (or compiled) before the timings, here and on every worker.
    solve(sde, [1.0], grid, saveat=[1.0], n_paths=10, seed=0)
    solve(sde, [1.0], grid, saveat=[1.0], n_paths=10 * workers, seed=0, executor=client, chunk_size=10)
    one_thread, t_one = timed(lambda: with_numba_threads(run, 1)())
    all_threads, t_all = timed(run)
    remote, t_remote = timed(lambda: run(executor=client, chunk_size=chunk_size))
    tasks = -(-n_paths // chunk_size)
    rows.append(("solve", f"1 process, 1 thread, {n_paths:.0e} paths", t_one, 1.0, None))
    rows.append(("solve", f"1 process, {nb.get_num_threads()} threads", t_all, t_one / t_all, None))
    overhead = (workers * t_remote - t_one) / tasks
    rows.append(("solve", f"{workers} workers x 1 thread, {tasks} chunks", t_remote, t_one / t_remote, overhead))
    same = np.array_equal(one_thread, all_threads) and np.array_equal(one_thread, remote)
    return f"solve: bit-identical paths: {'yes' if same else 'NO'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=None, help=f"campaign experiments (default: {' '.join(CAMPAIGN)})")
    ap.add_argument("--paths", type=float, default=1e7)
    ap.add_argument("--chunk-size", type=int, default=250_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="smoke run: two experiments, 2e5 paths in chunks of 5e4")
    args = ap.parse_args()
    ids = args.only or (QUICK_CAMPAIGN if args.quick else CAMPAIGN)
    n_paths, chunk = (200_000, 50_000) if args.quick else (int(args.paths), args.chunk_size)
    os.environ.setdefault("MPLBACKEND", "Agg")

    print(f"machine: {os.cpu_count()} cores, numba threads {nb.get_num_threads()}, load {os.getloadavg()[0]:.2f}")
    rows, notes = [], []
    t_start = time.perf_counter()
    with local_cluster(args.workers) as client:
        notes.append(f"cluster start: {time.perf_counter() - t_start:.1f} s ({args.workers} workers x 1 thread)")
        notes.append(campaign(client, ids, args.workers, rows))
        notes.append(large_solve(client, n_paths, chunk, args.steps, args.workers, rows))

    print(f"\n{'part':<9} {'setup':<38} {'wall s':>8} {'speed-up':>9} {'overhead/task':>14}")
    for part, setup, wall, speedup, overhead in rows:
        ov = "" if overhead is None else f"{overhead * 1e3:11.0f} ms"
        print(f"{part:<9} {setup:<38} {wall:8.2f} {speedup:8.2f}x {ov:>14}")
    print("\n" + "\n".join(notes))
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
