"""Bad input to the validation harness and to ``deeplimits validate``: a clear error naming the argument.

API cases assert the exception type and that the message names the argument; command-line
cases assert exit code 2 and a message on stderr naming the option.  No case may run an
experiment or write a report.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deeplimits.cli import main
from deeplimits.validation import (
    Check,
    Outcome,
    OutputDirError,
    experiment,
    isolated_registry,
    registry,
    run_experiments,
    save_figure,
    select_ids,
)
from deeplimits.validation.discovery import SelectionError, find_experiments_dir, load_experiments
from deeplimits.validation.runner import run_one


@pytest.fixture
def toy(tmp_path):
    """One registered experiment (``toy.ok``) in an isolated registry, and a file in the way at ``tmp/file``."""
    (tmp_path / "file").write_text("a regular file\n")
    with isolated_registry():

        @experiment(id="toy.ok", checks="0 < 1", criterion="0 < 1", quick={}, full={})
        def ok(params, *, seed, outdir):
            raise AssertionError("no experiment may run on bad input")

        yield tmp_path


def _run(tmp: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("outdir", tmp / "out")
    kwargs.setdefault("progress", False)
    kwargs.setdefault("discover", False)
    return run_experiments(**kwargs)


def _check(**kwargs: Any) -> Check:
    args = dict(name="err", value=0.1, op="<", threshold=1.0)
    args.update(kwargs)
    return Check(**args)


def _outcome(**kwargs: Any) -> Outcome:
    args: dict[str, Any] = dict(checks=[_check()])
    args.update(kwargs)
    return Outcome(**args)


def _declare(**kwargs: Any) -> Any:
    args: dict[str, Any] = dict(id="toy.new", checks="c", criterion="k", quick={}, full={})
    args.update(kwargs)
    return experiment(**args)


class _Fig:
    def tight_layout(self) -> None:
        raise AssertionError("must fail before drawing")


# (case id, call(tmp), exception type, regex the message must match: it names the argument)
API_CASES: list[tuple[str, Callable[[Path], Any], type[BaseException], str]] = [
    ("mode-unknown", lambda t: _run(t, mode="medium"), ValueError, "mode must be one of"),
    ("mode-none", lambda t: _run(t, mode=None), ValueError, "mode must be one of"),
    ("seed-negative", lambda t: _run(t, seed=-1), ValueError, "seed must be a non-negative integer"),
    ("seed-fraction", lambda t: _run(t, seed=1.5), ValueError, "seed must be an integer"),
    ("seed-nan", lambda t: _run(t, seed=math.nan), ValueError, "seed must be an integer"),
    ("seed-bool", lambda t: _run(t, seed=True), TypeError, "seed must be an integer"),
    ("seed-str", lambda t: _run(t, seed="3"), TypeError, "seed must be an integer"),
    ("progress-str", lambda t: _run(t, progress="yes"), TypeError, "progress must be True or False"),
    ("discover-int", lambda t: _run(t, discover=1), TypeError, "discover must be True or False"),
    ("ids-int", lambda t: run_experiments(5, outdir=t / "o", discover=False), TypeError, "ids_or_globs"),
    ("ids-mixed", lambda t: _run(t, ids_or_globs=["toy.ok", 3]), TypeError, "ids_or_globs"),
    ("ids-nothing", lambda t: _run(t, ids_or_globs=["nothing.*"]), SelectionError, "'nothing.\\*'"),
    ("ids-empty", lambda t: _run(t, ids_or_globs=[" "]), SelectionError, "empty experiment pattern"),
    ("expdir-missing", lambda t: _run(t, discover=True, experiments_dir=t / "no"), ValueError, "experiments folder"),
    ("expdir-file", lambda t: _run(t, discover=True, experiments_dir=t / "file"), ValueError, "experiments folder"),
    ("expdir-int", lambda t: _run(t, discover=True, experiments_dir=5), TypeError, "experiments folder"),
    ("expdir-empty", lambda t: _run(t, discover=True, experiments_dir=""), ValueError, "experiments folder"),
    ("outdir-under-file", lambda t: _run(t, outdir=t / "file" / "out"), OutputDirError, "outdir .* cannot be created"),
    ("outdir-is-file", lambda t: _run(t, outdir=t / "file"), OutputDirError, "outdir .* is not a folder"),
    ("outdir-none", lambda t: _run(t, outdir=None), TypeError, "outdir must be a folder path"),
    ("outdir-empty", lambda t: _run(t, outdir=""), ValueError, "outdir must be a folder path"),
    ("run_one-exp-str", lambda t: run_one("toy.ok", "quick", 0, t), TypeError, "exp must be an Experiment"),
    ("run_one-mode", lambda t: run_one(registry["toy.ok"], "slow", 0, t), ValueError, "mode must be one of"),
    ("run_one-seed", lambda t: run_one(registry["toy.ok"], "quick", -2, t), ValueError, "seed must be"),
    ("run_one-outdir", lambda t: run_one(registry["toy.ok"], "quick", 0, t / "file"), OutputDirError, "outdir"),
    ("exp.run-mode", lambda t: registry["toy.ok"].run("fast", outdir=t), ValueError, "mode must be one of"),
    ("exp.run-seed", lambda t: registry["toy.ok"].run("quick", seed=2.5, outdir=t), ValueError, "seed must be"),
    ("check-op", lambda t: _check(op="=="), ValueError, "op='=='"),
    ("check-in-scalar", lambda t: _check(op="in", threshold=1.0), ValueError, "threshold=\\(low, high\\)"),
    ("check-in-reversed", lambda t: _check(op="in", threshold=(2, 1)), ValueError, "threshold.*low <= high"),
    ("check-in-three", lambda t: _check(op="in", threshold=(1, 2, 3)), ValueError, "threshold=\\(low, high\\)"),
    ("check-threshold-str", lambda t: _check(threshold="abc"), TypeError, "threshold must be a real number"),
    ("check-threshold-nan", lambda t: _check(threshold=math.nan), ValueError, "threshold must not be NaN"),
    ("check-in-nan", lambda t: _check(op="in", threshold=(0, math.nan)), ValueError, "threshold must not be NaN"),
    ("check-value-str", lambda t: _check(value="0.1"), TypeError, "value must be a real number"),
    ("check-value-none", lambda t: _check(value=None), TypeError, "value must be a real number"),
    ("check-value-list", lambda t: _check(value=[0.1, 0.2]), TypeError, "value must be a real number"),
    ("check-name", lambda t: _check(name=3), TypeError, "Check name must be a non-empty str"),
    ("check-name-empty", lambda t: _check(name=""), TypeError, "Check name must be a non-empty str"),
    ("check-note", lambda t: _check(note=5), TypeError, "note must be a str"),
    ("outcome-checks-single", lambda t: _outcome(checks=_check()), TypeError, "checks must be a list of Check"),
    ("outcome-checks-items", lambda t: _outcome(checks=[1.0]), TypeError, "checks must be a list of Check"),
    ("outcome-metrics", lambda t: _outcome(metrics=[1]), TypeError, "metrics must be a dict"),
    ("outcome-figures-str", lambda t: _outcome(figures="a.png"), TypeError, "figures must be a list"),
    ("outcome-summary", lambda t: _outcome(summary=3), TypeError, "summary must be a str"),
    ("experiment-id-nodot", lambda t: _declare(id="nodot"), ValueError, "id must look like 'area.name'"),
    ("experiment-id-int", lambda t: _declare(id=5), ValueError, "id must look like 'area.name'"),
    ("experiment-id-space", lambda t: _declare(id="a b.c"), ValueError, "id must look like 'area.name'"),
    ("experiment-id-colon", lambda t: _declare(id="a:b.c"), ValueError, "id must look like 'area.name'"),
    ("experiment-id-slash", lambda t: _declare(id="a/b.c"), ValueError, "id must look like 'area.name'"),
    ("experiment-id-dot-only", lambda t: _declare(id=".x"), ValueError, "id must look like 'area.name'"),
    ("experiment-checks", lambda t: _declare(checks=3), TypeError, "checks must be a str"),
    ("experiment-criterion", lambda t: _declare(criterion="  "), ValueError, "criterion must not be empty"),
    ("experiment-quick", lambda t: _declare(quick=[]), TypeError, "quick must be a dict"),
    ("experiment-full", lambda t: _declare(full=None), TypeError, "full must be a dict"),
    ("experiment-func", lambda t: _declare()(42), TypeError, "decorated object must be callable"),
    ("isolated_registry-empty", lambda t: isolated_registry("no").__enter__(), TypeError, "empty must be True"),
    ("select_ids-nothing", lambda t: select_ids(["x.*"], ["a.b"]), SelectionError, "no experiment matches 'x.\\*'"),
    ("find_dir-missing", lambda t: find_experiments_dir(t / "none"), ValueError, "experiments folder"),
    ("load-missing", lambda t: load_experiments(t / "none"), ValueError, "experiments folder"),
    ("save_figure-dpi", lambda t: save_figure(_Fig(), t, "a.png", dpi=0), ValueError, "dpi must be an integer >= 1"),
    ("save_figure-name", lambda t: save_figure(_Fig(), t, "sub/a.png"), ValueError, "name must be a file name"),
]


@pytest.mark.parametrize(("call", "error", "match"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_bad_api_input_raises_naming_the_argument(toy, call, error, match):
    with pytest.raises(error, match=match):
        call(toy)
    assert not (toy / "out").exists()  # nothing was written


TOY_FILE = textwrap.dedent("""
    from deeplimits.validation import Check, Outcome, experiment

    @experiment(id="toy.ok", checks="0 < 1", criterion="0 < 1", quick={}, full={})
    def ok(params, *, seed, outdir):
        raise AssertionError("no experiment may run on bad input")
""")


@pytest.fixture
def toy_dir(tmp_path, write_experiments):
    (tmp_path / "file").write_text("a regular file\n")
    return write_experiments("toy_experiments", TOY_FILE)


# (case id, arguments after "validate --experiments EXPS --no-progress --out TMP/out", text on stderr)
CLI_CASES = [
    ("seed-negative", ["--seed", "-1"], "--seed must be a non-negative integer"),
    ("seed-fraction", ["--seed", "1.5"], "--seed must be a non-negative integer, got '1.5'"),
    ("seed-text", ["--seed", "abc"], "--seed must be a non-negative integer, got 'abc'"),
    ("seed-missing", ["--seed"], "--seed"),
    ("only-nothing", ["--only", "nothing.*"], "no experiment matches 'nothing.*'"),
    ("only-empty", ["--only", ""], "empty experiment pattern"),
    ("quick-and-full", ["--quick", "--full"], "--full: not allowed with argument --quick"),
    ("unknown-option", ["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ("experiments-missing", ["--experiments", "{tmp}/missing"], "experiments folder"),
    ("experiments-file", ["--experiments", "{tmp}/file"], "experiments folder"),
    ("out-under-file", ["--out", "{tmp}/file/out"], "--out '{tmp}/file/out' cannot be created"),
    ("out-is-file", ["--out", "{tmp}/file"], "--out '{tmp}/file' exists and is not a folder"),
    ("out-empty", ["--out", ""], "--out must be a folder path"),
]


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_bad_command_line_exits_2_naming_the_option(toy_dir, tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc = main(["validate", "--experiments", str(toy_dir), "--no-progress", "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_list_with_a_missing_folder_exits_2(tmp_path, capsys):
    assert main(["list", "--experiments", str(tmp_path / "missing")]) == 2
    assert "experiments folder" in capsys.readouterr().err
