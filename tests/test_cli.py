"""Tests of the ``deeplimits`` command line and of the README's set-up commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FAILING_TOYS

import deeplimits
from deeplimits.cli import main

SRC = Path(deeplimits.__file__).resolve().parents[1]
REPO = SRC.parent

TOY = (
    textwrap.dedent("""
    from deeplimits.validation import Check, Outcome, experiment

    @experiment(id="toy.ok", checks="a check that holds", criterion="0 < 1", quick={}, full={})
    def ok(params, *, seed, outdir):
        return Outcome(checks=[Check("zero", 0.0, "<", 1.0)])
""")
    + FAILING_TOYS
)


@pytest.fixture
def toy_dir(write_experiments):
    return write_experiments("toy_experiments", TOY)


def _validate(toy_dir, out, *extra):
    return main(["validate", "--experiments", str(toy_dir), "--out", str(out), "--no-progress", *extra])


def test_validate_exit_codes(toy_dir, tmp_path, capsys):
    assert _validate(toy_dir, tmp_path / "a", "--only", "toy.ok") == 0
    out = capsys.readouterr().out
    assert "toy.ok" in out and "PASSED: 1/1" in out
    # A failing experiment and one that raises both give exit code 1; the run goes through all three.
    assert _validate(toy_dir, tmp_path / "b") == 1
    captured = capsys.readouterr()
    assert "FAILED: 1/3" in captured.out and "toy.fails, toy.raises" in captured.err
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [e["status"] for e in doc["experiments"]] == ["passed", "failed", "error"]
    assert "ZeroDivisionError: bug in toy" in doc["experiments"][2]["error"]
    assert (tmp_path / "b" / "report.md").is_file()


def test_validate_options(toy_dir, tmp_path):
    assert _validate(toy_dir, tmp_path / "c", "--full", "--seed", "7", "--only", "toy.o*", "toy.ok") == 0
    doc = json.loads((tmp_path / "c" / "results.json").read_text())
    assert doc["mode"] == "full" and doc["seed"] == 7 and [e["id"] for e in doc["experiments"]] == ["toy.ok"]
    assert doc["selection"] == ["toy.o*", "toy.ok"]


def test_usage_errors_exit_2(toy_dir, tmp_path, capsys):
    assert _validate(toy_dir, tmp_path / "d", "--only", "toy.nothing") == 2
    err = capsys.readouterr().err
    assert "no experiment matches 'toy.nothing'" in err
    assert all(eid in err for eid in ("toy.ok", "toy.fails", "toy.raises"))  # lists what is available
    assert not (tmp_path / "d").exists()
    assert _validate(toy_dir, tmp_path / "e", "--quick", "--full") == 2
    assert _validate(toy_dir, tmp_path / "e", "--seed", "-3") == 2
    assert "non-negative integer" in capsys.readouterr().err
    assert main(["validate", "--experiments", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", "--experiments", str(empty), "--out", str(tmp_path / "f")]) == 2
    assert main(["list", "--experiments", str(empty)]) == 2
    assert capsys.readouterr().err.count("no validation experiments found") == 2
    assert main(["frobnicate"]) == 2
    assert main([]) == 2  # no command: help on stderr
    assert "validation run" in capsys.readouterr().err


def test_list(toy_dir, capsys):
    assert main(["list", "--experiments", str(toy_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"id\s+area\s+checks", lines[0])
    assert re.match(r"toy\.ok\s+toy\s+a check that holds$", lines[1])
    assert re.match(r"toy\.raises\s+toy\s+an experiment that raises$", lines[3])
    assert lines[-1].startswith("3 experiments from")
    (toy_dir / "broken_experiments.py").write_text("raise ImportError('broken on purpose')\n")
    assert main(["list", "--experiments", str(toy_dir)]) == 1  # a file that does not import is an error
    assert "broken_experiments.py failed to import" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"deeplimits {deeplimits.__version__}"


def _run_module(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "deeplimits", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_python_m_help_is_for_newcomers(tmp_path):
    top = _run_module("--help", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert "validation run" in top.stdout and "validate" in top.stdout and "list" in top.stdout
    sub = _run_module("validate", "--help", cwd=tmp_path)
    assert sub.returncode == 0, sub.stderr
    for text in (
        "results.json",
        "report.md",
        "--quick",
        "--full",
        "--only",
        "--out",
        "--seed",
        "--experiments",
        "--no-progress",
        "validation-report",
        "exit codes:",
        "  0    every selected experiment passed",
        "  1    some experiment failed",
        "  2    usage or output error",
        "in use by another run",
    ):
        assert text in sub.stdout, text
    assert "exit codes:" in top.stdout


def test_python_m_exit_code_of_failed_run(toy_dir, tmp_path):
    r = _run_module(
        "validate", "--experiments", str(toy_dir), "--only", "toy.fails", "--out", "rep", "--no-progress", cwd=tmp_path
    )
    assert r.returncode == 1, r.stderr
    assert json.loads((tmp_path / "rep" / "results.json").read_text())["passed"] is False


# ---------------------------------------------------------------- README set-up commands


def _readme_code_blocks():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)


def _needs_checkout():
    if not (REPO / "README.md").is_file() or not (REPO / ".ci" / "run").is_file():
        pytest.skip("not a source checkout")


def test_readme_test_command_is_the_ci_command():
    _needs_checkout()
    ci_commands = [
        ln.strip()
        for ln in (REPO / ".ci" / "run").read_text().splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    setup = [b.strip() for b in _readme_code_blocks() if "pip install" in b]
    assert len(setup) == 2, "README must have exactly two set-up commands"
    main_job, tests = setup
    assert "\n" not in tests and tests in ci_commands  # verbatim, as one line
    assert "pytest" in tests and "not slow" in tests
    assert "\n" not in main_job and main_job.endswith("deeplimits validate --quick --out validation-report")
    assert main_job.startswith("python3 -m pip install torch==2.13.0 && ")


def test_readme_has_no_other_install_commands():
    _needs_checkout()
    text = (REPO / "README.md").read_text()
    assert text.count("pip install") == 4  # two in each of the two set-up commands, nowhere else


def _readme_example(tmp_path):
    _needs_checkout()
    pytest.importorskip("deeplimits.sde")
    block = next(b for b in _readme_code_blocks() if "from deeplimits.sde import" in b)
    path = tmp_path / "readme_example.py"
    path.write_text(block)
    return path


def test_readme_api_example_matches_the_engine_api(tmp_path, monkeypatch, capsys):
    """Fast: the README example builds its SDE and calls ``solve`` with arguments the real signature accepts.

    ``solve`` is replaced by a stub (the Numba compilation of the engine's kernels takes tens of
    seconds from a cold cache); the slow test below runs it for real.
    """
    import inspect
    import runpy
    from types import SimpleNamespace

    import numpy as np

    import deeplimits.sde as sde_mod

    path = _readme_example(tmp_path)
    signature = inspect.signature(sde_mod.solve)
    calls = []

    def stub(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        calls.append(bound.arguments)
        return SimpleNamespace(ys=np.full((bound.arguments["n_paths"], 1, 1), np.exp(0.5)))

    monkeypatch.setattr(sde_mod, "solve", stub)
    runpy.run_path(str(path), run_name="readme_example")
    assert len(calls) == 1 and isinstance(calls[0]["sde"], sde_mod.SDE)
    assert calls[0]["scheme"] in sde_mod.SCHEMES
    assert float(capsys.readouterr().out) == pytest.approx(np.exp(0.5))


@pytest.mark.slow
def test_readme_api_example_runs(tmp_path):
    """The README's SDE example runs, as a user would run it, and prints E[Y_1] of geometric Brownian motion."""
    import math

    path = _readme_example(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, path.name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    # mu = 0.5, sigma = 0.8: E[Y_1] = e^0.5, Var[Y_1] = e^1 (e^0.64 - 1) = 2.44, so with 10_000 paths
    # se = 0.0156; the Euler bias (1 + mu h)^N - e^mu = -8e-4 at h = 1/256 is negligible: 4 se = 0.0625.
    se = math.sqrt(math.e * (math.exp(0.64) - 1) / 10_000)
    assert abs(float(r.stdout.split()[-1]) - math.exp(0.5)) < 4 * se


NEEDS_TORCH = textwrap.dedent("""
    from deeplimits.validation import Check, Outcome, experiment

    @experiment(id="opt.ok", checks="a check that holds", criterion="0 < 1", quick={}, full={})
    def ok(params, *, seed, outdir):
        return Outcome(checks=[Check("zero", 0.0, "<", 1.0)])

    @experiment(id="opt.torch", checks="needs torch", criterion="none", quick={}, full={})
    def needs_torch(params, *, seed, outdir):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    @experiment(id="opt.typo", checks="imports a module that does not exist", criterion="none", quick={}, full={})
    def typo(params, *, seed, outdir):
        import deeplimits_no_such_module  # noqa: F401
""")


def test_missing_optional_dependency_is_skipped_with_install_command(write_experiments, tmp_path, capsys):
    exps = write_experiments("opt_experiments", NEEDS_TORCH)
    assert _validate(exps, tmp_path / "a", "--only", "opt.ok", "opt.torch") == 0
    captured = capsys.readouterr()
    assert re.search(r"opt\.torch\s+SKIPPED", captured.out) and "1 skipped" in captured.out
    assert 'skipped opt.torch: needs the optional dependency torch: pip install "deeplimits[torch]"' in captured.err
    # A missing module that is no optional dependency of the package is a bug: an error, exit code 1.
    assert _validate(exps, tmp_path / "b", "--only", "opt.typo") == 1
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert doc["experiments"][0]["status"] == "error" and "deeplimits_no_such_module" in doc["experiments"][0]["error"]


def test_list_filters_by_area_and_pattern_and_wraps(toy_dir, write_experiments, capsys, monkeypatch):
    assert write_experiments("opt_experiments", NEEDS_TORCH) == toy_dir
    assert main(["list", "--experiments", str(toy_dir), "--area", "opt"]) == 0
    out = capsys.readouterr().out
    assert "opt.ok" in out and "opt.torch" in out and "toy.ok" not in out
    assert out.splitlines()[-1].startswith("3 of 6 experiments from")
    assert main(["list", "--experiments", str(toy_dir), "toy.f*"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-2]]
    assert ids == ["toy.fails"]
    assert main(["list", "--experiments", str(toy_dir), "RAISES"]) == 0  # a word of the description, any case
    assert "toy.raises" in capsys.readouterr().out
    assert main(["list", "--experiments", str(toy_dir), "--area", "nope"]) == 2
    assert "no experiment matches (areas: opt, toy)" in capsys.readouterr().err
    monkeypatch.setenv("COLUMNS", "50")
    assert main(["list", "--experiments", str(toy_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines[:-1]) <= 50
    assert any(line.startswith(" " * 10) for line in lines)  # a wrapped description continues indented
