"""Validation runs on a Dask cluster: same results.json as in one process, nothing lost when a worker dies.

One local cluster of two single-threaded worker processes serves the tests that call
``run_experiments`` directly; the command-line tests start their own.  Toy experiments live
in a file of a temporary folder that the workers never import: its source goes with the tasks.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import FAILING_TOYS

from deeplimits.cli import main
from deeplimits.parallel import cluster
from deeplimits.parallel.cluster import (
    INSTALL_HINT,
    SchedulerUnreachableError,
    connect,
    local_cluster,
    require_distributed,
    submit,
    with_numba_threads,
)
from deeplimits.validation import Check, Outcome, experiment, isolated_registry
from deeplimits.validation.runner import run_experiments

pytest.importorskip("distributed")

SRC = Path(__file__).resolve().parents[1] / "src"

TOY = textwrap.dedent("""
    import os
    import time
    from pathlib import Path

    import numpy as np
    from deeplimits.validation import Check, Outcome, experiment, save_figure

    @experiment(id="toy.slow", checks="finishes after the others", criterion="x < 1",
                quick={"sleep": 1.0}, full={"sleep": 1.0})
    def slow(params, *, seed, outdir):
        time.sleep(params["sleep"])
        (outdir / "notes" ).mkdir()
        (outdir / "notes" / "n.txt").write_text("slow")
        return Outcome(checks=[Check("x", np.random.default_rng(seed).random(), "<", 1.0)], summary="slow")

    @experiment(id="toy.figure", checks="draws a figure", criterion="0 < 1", quick={"n": 5}, full={"n": 9})
    def figure(params, *, seed, outdir):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot(np.random.default_rng(seed).standard_normal(params["n"]))
        path = save_figure(fig, outdir, "trace.png", dpi=30)
        return Outcome(checks=[Check("zero", 0.0, "<", 1.0)], metrics={"nan": float("nan")}, figures=[path])
""")
# the failing toys come between toy.figure and toy.dies: the tests select them in that order
TOY += FAILING_TOYS + textwrap.dedent("""
    @experiment(id="toy.dies", checks="its first worker is killed", criterion="x < 1",
                quick={"marker": os.environ.get("TOY_MARKER", "")}, full={})
    def dies(params, *, seed, outdir):
        marker = Path(params["marker"])
        if marker.name and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(60)  # killed here
        return Outcome(checks=[Check("x", 0.5, "<", 1.0)])
""")


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as c:
        yield c


@pytest.fixture
def toy_dir(tmp_path, monkeypatch):
    """A folder with the toy experiment file; the import leaves no trace after the test."""
    monkeypatch.setenv("TOY_MARKER", str(tmp_path / "marker"))
    monkeypatch.setattr(sys, "path", list(sys.path))  # the harness puts the folder on sys.path
    (tmp_path / "exps").mkdir()
    (tmp_path / "exps" / "toy_experiments.py").write_text(TOY)
    with isolated_registry():
        yield tmp_path / "exps"
    sys.modules.pop("toy_experiments", None)


def _comparable(outdir: Path) -> dict:
    """results.json without what differs between any two runs: timings."""
    doc = json.loads((outdir / "results.json").read_text())
    for key in ("started", "seconds"):
        doc.pop(key)
    for rec in doc["experiments"]:
        rec.pop("seconds")
    return doc


def _files(outdir: Path) -> dict[str, bytes]:
    return {
        p.relative_to(outdir).as_posix(): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and p.name not in ("results.json", "report.md", "report.html")
    }


def _run(toy_dir, out, ids, executor=None):
    return run_experiments(ids, outdir=out, progress=False, experiments_dir=toy_dir, executor=executor)


def test_toys_on_cluster_match_one_process(client, toy_dir, tmp_path):
    ids = ["toy.slow", "toy.figure", "toy.fails", "toy.raises"]
    local = _run(toy_dir, tmp_path / "local", ids)
    remote = _run(toy_dir, tmp_path / "remote", ids, executor=client)
    # toy.slow finishes last on the cluster, yet the records keep the selection's order.
    assert [r.id for r in remote.results] == ids
    assert [r.status for r in remote.results] == ["passed", "passed", "failed", "error"]
    assert _comparable(tmp_path / "remote") == _comparable(tmp_path / "local")
    # The raising experiment's record, traceback included, is the one a run in one process writes.
    assert remote.results[3].error == local.results[3].error
    assert 'toy_experiments.py", line' in remote.results[3].error
    assert "ZeroDivisionError: bug in toy" in remote.results[3].error
    files = _files(tmp_path / "remote")
    assert set(files) == {"toy.slow/notes/n.txt", "toy.figure/trace.png"}
    assert files == _files(tmp_path / "local")
    assert "toy.figure/trace.png" in (tmp_path / "remote" / "report.md").read_text()


def test_any_executor_gives_the_same_results(toy_dir, tmp_path):
    ids = ["toy.figure", "toy.raises"]
    _run(toy_dir, tmp_path / "local", ids)
    with ThreadPoolExecutor(1) as pool:
        _run(toy_dir, tmp_path / "pool", ids, executor=pool)
    assert _comparable(tmp_path / "pool") == _comparable(tmp_path / "local")


def test_killed_worker_loses_nothing(client, toy_dir, tmp_path):
    marker = tmp_path / "marker"
    marker.write_text("local")  # the run in this process must not sleep
    ids = ["toy.fails", "toy.dies"]  # the order the file declares them: the order of the results
    assert _run(toy_dir, tmp_path / "local", ids).results[1].status == "passed"
    marker.unlink()
    worker_pids = set(client.run(os.getpid).values())
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("s", _run(toy_dir, tmp_path / "remote", ids, client)))
    thread.start()
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(marker.read_text())
    assert pid in worker_pids
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive()
    assert [r.status for r in box["s"].results] == ["failed", "passed"]
    assert _comparable(tmp_path / "remote") == _comparable(tmp_path / "local")


def test_unsendable_experiment_is_an_error_record(client, tmp_path):
    lock = threading.Lock()
    with isolated_registry():

        @experiment(id="toy.lock", checks="c", criterion="k", quick={}, full={})
        def holds_a_lock(params, *, seed, outdir):
            with lock:
                return Outcome(checks=[Check("x", 0.0, "<", 1.0)])

        @experiment(id="toy.ok", checks="c", criterion="k", quick={}, full={})
        def ok(params, *, seed, outdir):
            return Outcome(checks=[Check("x", 0.0, "<", 1.0)])

        summary = run_experiments(None, outdir=tmp_path, progress=False, discover=False, executor=client)
    assert [(r.id, r.status) for r in summary.results] == [("toy.lock", "error"), ("toy.ok", "passed")]
    assert "could not run on the cluster" in summary.results[0].error
    assert "lock" in summary.results[0].error


def test_numba_threads_are_set_in_each_task(client):
    import numba

    assert submit(client, with_numba_threads(numba.get_num_threads)).result() == 1
    want = min(2, client.run(lambda: numba.config.NUMBA_NUM_THREADS).popitem()[1])
    assert submit(client, with_numba_threads(numba.get_num_threads, 2)).result() == want
    with pytest.raises(ValueError, match="n_threads"):
        with_numba_threads(numba.get_num_threads, 0)


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="executor must be"):
        run_experiments(None, outdir=tmp_path / "x", progress=False, executor="local")
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="n_workers"):
        with local_cluster(0):
            pass
    with pytest.raises(ValueError, match="address must look like tcp://HOST:PORT"):
        connect("foo://x")
    with pytest.raises(ValueError, match="timeout"):
        connect("tcp://127.0.0.1:1", timeout=0)


def test_unreachable_scheduler(tmp_path, monkeypatch, capsys):
    with pytest.raises(SchedulerUnreachableError) as info:
        connect("tcp://127.0.0.1:1", timeout=0.5)
    assert isinstance(info.value, ConnectionError)
    assert "'tcp://127.0.0.1:1'" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setattr(cluster, "connect", functools.partial(connect, timeout=0.5))
    out = tmp_path / "rep"
    assert main(["validate", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deeplimits validate: error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'")
    assert "\n" not in err
    assert not out.exists()  # nothing started, nothing written


def test_workers_and_scheduler_exclude_each_other(capsys):
    assert main(["validate", "--workers", "2", "--scheduler", "tcp://h:1"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["validate", "--workers", "0"]) == 2
    assert "--workers must be a positive integer" in capsys.readouterr().err


def test_missing_dask_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ImportError, match="deeplimits\\[distributed\\]"):
        require_distributed()
    assert main(["validate", "--workers", "2", "--out", str(tmp_path / "rep"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert INSTALL_HINT in err and len(err.strip().splitlines()) == 1


def test_importing_deeplimits_does_not_import_dask():
    code = (
        "import sys, deeplimits, deeplimits.cli, deeplimits.parallel.cluster, deeplimits.validation.runner;"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_workers_writes_the_results_of_a_run_in_one_process(tmp_path):
    # The two fastest real experiments (a few seconds each with --quick).
    only = ["--only", "sde.gbm_strong", "sde.ou_weak", "--no-progress"]
    with isolated_registry(empty=False):
        assert main(["validate", *only, "--out", str(tmp_path / "local")]) == 0
        assert main(["validate", *only, "--workers", "2", "--out", str(tmp_path / "remote")]) == 0
    assert _comparable(tmp_path / "remote") == _comparable(tmp_path / "local")
    assert set(_files(tmp_path / "remote")) == set(_files(tmp_path / "local")) != set()
