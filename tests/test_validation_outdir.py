"""``deeplimits validate`` never loses a result: one run per ``--out``, atomic files, early checks.

The end-to-end tests run the real command in subprocesses on a folder of trivial
experiments (``--experiments``), so they take seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import deeplimits
from deeplimits.cli import main
from deeplimits.validation import OutputDirError, OutputDirInUseError
from deeplimits.validation._atomic import atomic_write, atomic_write_text, prepare_outdir
from deeplimits.validation._lock import LOCK_NAME, RunLock, pid_alive

SRC = Path(deeplimits.__file__).resolve().parents[1]

# Each experiment appends its id to $DL_MARK (so a test can tell whether any experiment ran)
# and sleeps params["sleep"] seconds (so that runs overlap).
EXPERIMENTS = textwrap.dedent("""
    import os, time
    from deeplimits.validation import Check, Outcome, experiment

    def _mark(eid, sleep):
        with open(os.environ["DL_MARK"], "a") as fh:
            fh.write(eid + "\\n")
        time.sleep(sleep)
        return Outcome(checks=[Check("zero", 0.0, "<", 1.0)], metrics={"eid": eid})

    def _sleeper(eid, sleep):
        @experiment(id=eid, checks=f"{eid} ran", criterion="0 < 1", quick={"sleep": sleep}, full={"sleep": sleep})
        def run(params, *, seed, outdir):
            return _mark(eid, params["sleep"])

        return run

    for _eid in ("slow.a", "slow.b", "slow.c", "slow.d"):
        _sleeper(_eid, 0.4)
    _sleeper("hang.forever", 600)

    @experiment(id="io.break", checks="i", criterion="0 < 1", quick={}, full={})
    def io_break(params, *, seed, outdir):
        # Simulates an I/O failure of the report folder in the middle of a run.
        report = outdir.parent / "report.md"
        report.unlink(missing_ok=True)
        report.mkdir()
        return _mark("io.break", 0)
""")
SLOW = ["slow.a", "slow.b", "slow.c", "slow.d"]


@pytest.fixture
def exps(write_experiments):
    return write_experiments("outdir_experiments", EXPERIMENTS)


@pytest.fixture
def mark(tmp_path, monkeypatch):
    path = tmp_path / "ran.txt"
    monkeypatch.setenv("DL_MARK", str(path))
    return path


def _ran(mark: Path) -> list[str]:
    return mark.read_text().split() if mark.exists() else []


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")


def _start(exps: Path, out: Path, *only: str) -> subprocess.Popen:
    args = ["validate", "--experiments", str(exps), "--out", str(out), "--no-progress", "--only", *only]
    return subprocess.Popen(
        [sys.executable, "-m", "deeplimits", *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=180)
    return p.returncode, out, err


def _wait_for(condition, what: str, timeout: float = 120.0) -> None:
    t_end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > t_end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _results(out: Path) -> dict | None:
    try:
        return json.loads((out / "results.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _assert_one_line_error(err: str, *fragments: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("deeplimits validate: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, err)


def _no_leftovers(out: Path) -> None:
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.endswith(".tmp") or ".tmp." in n or n.startswith(LOCK_NAME)], names


# ---------------------------------------------------------------- two runs, one --out


def test_second_run_into_a_folder_in_use_is_refused(exps, mark, tmp_path):
    out = tmp_path / "out"
    first = _start(exps, out, "slow.*")
    _wait_for(lambda: (out / LOCK_NAME).exists() or first.poll() is not None, "the first run to hold the folder")
    second = _start(exps, out, "slow.*")
    rc2, _, err2 = _finish(second)
    rc1, out1, err1 = _finish(first)
    assert rc1 == 0, err1
    assert rc2 == 2, err2
    _assert_one_line_error(err2, "--out", "in use by another validation run", f"pid {first.pid}")
    doc = _results(out)
    assert doc is not None and doc["complete"] and doc["passed"]
    assert [e["id"] for e in doc["experiments"]] == SLOW  # every result of the run that finished
    assert sorted(_ran(mark)) == SLOW  # the refused run ran nothing
    _no_leftovers(out)


def test_two_simultaneous_runs_lose_nothing(exps, mark, tmp_path):
    out = tmp_path / "out"
    runs = [_start(exps, out, "slow.*") for _ in range(2)]
    codes = [_finish(p) for p in runs]
    rcs = sorted(rc for rc, _, _ in codes)
    assert rcs in ([0, 0], [0, 2]), codes
    for rc, _, err in codes:
        if rc == 2:
            _assert_one_line_error(err, "in use by another validation run")
    doc = _results(out)
    assert doc is not None and doc["complete"] and doc["passed"]
    assert [e["id"] for e in doc["experiments"]] == SLOW
    # Each experiment ran once per run that completed: nothing was run and then thrown away.
    assert sorted(_ran(mark)) == sorted(SLOW * rcs.count(0))
    assert (out / "report.md").read_text().count("## slow.") == 4
    _no_leftovers(out)


# ---------------------------------------------------------------- killed runs


def _interrupted(exps: Path, out: Path, sig: int) -> subprocess.Popen:
    """A run of slow.a then hang.forever, sent ``sig`` once the result of slow.a is written."""
    p = _start(exps, out, "slow.a", "hang.forever")
    _wait_for(lambda: (_results(out) or {}).get("n_experiments") == 1 or p.poll() is not None, "the first result")
    p.send_signal(sig)
    return p


def _assert_only_first_result(out: Path) -> None:
    doc = _results(out)
    assert doc is not None and doc["complete"] is False and [e["id"] for e in doc["experiments"]] == ["slow.a"]


def test_sigkill_mid_run_leaves_valid_files_and_a_stale_lock_is_taken_over(exps, mark, tmp_path):
    out = tmp_path / "out"
    p = _interrupted(exps, out, signal.SIGKILL)
    p.wait(timeout=60)  # reaped: its pid no longer exists
    _assert_only_first_result(out)
    report = (out / "report.md").read_text()
    assert report.startswith("# deeplimits validation report") and "run incomplete" in report
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == p.pid  # left behind by the killed run
    # The next run takes the stale lock over (with a warning) and releases it at the end.
    rc, _, err = _finish(_start(exps, out, "slow.b"))
    assert rc == 0, err
    assert f"deeplimits validate: warning: --out '{out}': took over the lock" in err and f"pid {p.pid}" in err
    assert [e["id"] for e in _results(out)["experiments"]] == ["slow.b"]
    _no_leftovers(out)


def test_sigterm_keeps_finished_results_and_releases_the_folder(exps, mark, tmp_path):
    out = tmp_path / "out"
    rc, _, err = _finish(_interrupted(exps, out, signal.SIGTERM))
    assert rc == 130, err
    assert "partial results in" in err
    _assert_only_first_result(out)
    _no_leftovers(out)


# ---------------------------------------------------------------- --out checked before anything runs


def test_out_under_a_regular_file_is_refused_before_any_experiment(exps, mark, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n")
    # A path whose parent is a regular file cannot be created, even by root.
    r = subprocess.run(
        [sys.executable, "-m", "deeplimits", "validate", "--experiments", str(exps), "--out", str(blocker / "out")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 2, r.stderr
    _assert_one_line_error(r.stderr, "--out", str(blocker / "out"), "cannot be created")
    assert _ran(mark) == []


def test_out_that_is_a_file_is_refused(exps, mark, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["validate", "--experiments", str(exps), "--out", str(blocker), "--no-progress"]) == 2
    _assert_one_line_error(capsys.readouterr().err, "--out", "exists and is not a folder")
    assert _ran(mark) == [] and blocker.read_text() == "x"


def test_read_only_out_is_refused(exps, mark, tmp_path, capsys):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root from writing (the regular-file tests cover this)")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["validate", "--experiments", str(exps), "--out", str(ro), "--no-progress"]) == 2
        _assert_one_line_error(capsys.readouterr().err, "--out", "not writable")
        assert main(["validate", "--experiments", str(exps), "--out", str(ro / "sub"), "--no-progress"]) == 2
        _assert_one_line_error(capsys.readouterr().err, "--out", "cannot be created")
    finally:
        ro.chmod(0o700)
    assert _ran(mark) == []


@pytest.mark.parametrize(("name", "make"), [("results.json", "mkdir"), ("report.md", "mkdir"), ("slow.a", "file")])
def test_output_names_in_the_way_are_refused_before_any_experiment(exps, mark, tmp_path, capsys, name, make):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).mkdir() if make == "mkdir" else (out / name).write_text("x")
    assert main(["validate", "--experiments", str(exps), "--out", str(out), "--only", "slow.a", "--no-progress"]) == 2
    _assert_one_line_error(capsys.readouterr().err, "--out", name, "is in the way")
    assert _ran(mark) == []


def test_io_failure_mid_run_is_one_line_exit_2(exps, mark, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["validate", "--experiments", str(exps), "--out", str(out), "--only", "io.break", "--no-progress"])
    assert rc == 2
    _assert_one_line_error(capsys.readouterr().err, "--out", "cannot write", "report.md")
    assert not (out / LOCK_NAME).exists()  # released even on failure


# ---------------------------------------------------------------- the lock and the atomic writes


def test_lock_is_exclusive_and_released(tmp_path):
    with RunLock(tmp_path) as lock:
        info = json.loads(lock.path.read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname() and lock.held
        with pytest.raises(OutputDirInUseError, match=f"pid {os.getpid()}"):
            RunLock(tmp_path).acquire()
    assert not lock.held and not (tmp_path / LOCK_NAME).exists()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    assert not pid_alive(p.pid)
    return p.pid


def test_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path):
    pid = _dead_pid()
    stale = {"pid": pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00Z", "token": "x"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(stale))
    with pytest.warns(RuntimeWarning, match=f"took over the lock .*pid {pid}"), RunLock(tmp_path) as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (json.dumps({"pid": 1, "host": "some-other-host", "started": "t", "token": "x"}), "some-other-host"),
        ("", "cannot be read"),
        ("{not json", "cannot be read"),
    ],
)
def test_locks_that_cannot_be_judged_are_never_taken_over(tmp_path, content, match):
    (tmp_path / LOCK_NAME).write_text(content)
    with pytest.raises(OutputDirInUseError, match=match):
        RunLock(tmp_path).acquire()
    assert (tmp_path / LOCK_NAME).read_text() == content


def test_release_never_removes_another_runs_lock(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    other = {"pid": os.getpid(), "host": socket.gethostname(), "started": "t", "token": "someone-else"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(other))
    lock.release()
    assert json.loads((tmp_path / LOCK_NAME).read_text())["token"] == "someone-else"


def test_concurrent_atomic_writers_never_collide_and_readers_see_whole_files(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_text(target, json.dumps({"writer": -1, "pad": "x" * 100_000}))
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(k: int) -> None:
        try:
            for i in range(25):
                atomic_write_text(target, json.dumps({"writer": k, "i": i, "pad": "x" * 100_000}))
        except BaseException as exc:  # reported below
            errors.append(exc)

    def reader() -> None:
        while not stop.is_set():
            try:
                json.loads(target.read_text())
            except BaseException as exc:  # reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    watch = threading.Thread(target=reader)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watch.join()
    assert errors == []
    assert json.loads(target.read_text())["i"] == 24
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left


def test_failed_atomic_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputDirError, match="cannot write .*report.md.*No space left on device"):
        atomic_write(target, broken)
    with pytest.raises(ZeroDivisionError):
        atomic_write(target, lambda tmp: 1 / 0)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_prepare_outdir_creates_nested_folders(tmp_path):
    out = prepare_outdir(tmp_path / "a" / "b", files=("results.json",), folders=("x.y",))
    assert out.is_dir() and out == (tmp_path / "a" / "b").resolve()


def _race(lock: RunLock, start: threading.Barrier, outcomes: list[str]) -> None:
    start.wait()
    try:
        lock.acquire()
        outcomes.append("won")
    except OutputDirInUseError:
        outcomes.append("refused")


@pytest.mark.filterwarnings("ignore:outdir.*took over the lock:RuntimeWarning")
def test_a_stale_lock_is_taken_over_by_exactly_one_of_many_racing_runs(tmp_path):
    pid = _dead_pid()
    for round_ in range(10):
        folder = tmp_path / f"r{round_}"
        folder.mkdir()
        stale = {"pid": pid, "host": socket.gethostname(), "started": "t", "token": f"stale{round_}"}
        (folder / LOCK_NAME).write_text(json.dumps(stale))
        locks = [RunLock(folder) for _ in range(8)]
        outcomes: list[str] = []
        start = threading.Barrier(len(locks))
        threads = [threading.Thread(target=_race, args=(lock, start, outcomes)) for lock in locks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["refused"] * 7 + ["won"], outcomes
        winner = next(lock for lock in locks if lock.held)
        assert json.loads((folder / LOCK_NAME).read_text())["token"] != f"stale{round_}"
        winner.release()
        assert sorted(p.name for p in folder.iterdir()) == []  # no lock and no moved-aside file left
