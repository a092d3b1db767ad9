"""Benchmark: wall time of the README's main job, ``deeplimits validate --quick``, cold and warm.

Each run is a fresh process with its own report folder.  A *cold* run starts from an empty Numba cache
(``NUMBA_CACHE_DIR`` set to a new folder), as after installation; a *warm* run reuses the cache that the
cold run before it filled.  Rows (the same machine, one after the other):

* ``cold``: the command as the README gives it (a whole local run starts a second process that compiles the
  campaign's largest kernels while the first runs the experiments; :mod:`deeplimits.validation.precompile`);
* ``cold, no precompile``: the same with ``--no-precompile`` (only the kernels each call uses,
  compiled on first use) -- what the second process saves;
* ``warm``: the command again, with the cache of the first row.

Every run must exit 0 (every experiment passed); the script stops otherwise.  It prints the load average
before each run, as the timings mean little on a busy machine.

Usage: python benchmarks/bench_main_job.py [--rows cold nocompile warm] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROWS = {"cold": "cold", "nocompile": "cold, no precompile", "warm": "warm"}


def run_job(cache: str, out: str, workers: int | None, precompile: bool = True) -> float:
    """Seconds of one ``deeplimits validate --quick`` in a fresh process with ``NUMBA_CACHE_DIR=cache``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    cmd = [sys.executable, "-m", "deeplimits", "validate", "--quick", "--no-progress", "--out", out]
    if not precompile:
        cmd.append("--no-precompile")
    if workers is not None:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"deeplimits validate exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    ap.add_argument("--workers", type=int, default=None, help="passed to deeplimits validate (default: its own)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; target (README main job, cold cache): under 120 s")
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        for i, row in enumerate(args.rows):
            if row == "warm" and not os.path.isdir(cache):
                run_job(cache, os.path.join(tmp, "fill"), args.workers)  # fill the cache first (not timed)
            row_cache = os.path.join(tmp, f"cache-{row}") if row == "nocompile" else cache
            load = os.getloadavg()[0]
            wall = run_job(row_cache, os.path.join(tmp, f"report-{i}"), args.workers, precompile=row != "nocompile")
            print(f"{ROWS[row]:<22} {wall:7.1f} s   (load before: {load:.2f})", flush=True)


if __name__ == "__main__":
    main()
