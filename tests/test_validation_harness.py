"""Tests of the validation harness: discovery, runner, results.json and report.md.

Toy experiments are written into a temporary folder and imported by the harness's own
discovery, inside ``isolated_registry`` so that nothing leaks into the global registry.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from deeplimits.validation import Check, Outcome, experiment, isolated_registry, registry, save_figure
from deeplimits.validation.discovery import (
    SelectionError,
    failure_selected,
    find_experiments_dir,
    load_experiments,
    select_ids,
)
from deeplimits.validation.report import to_jsonable
from deeplimits.validation.runner import run_experiments

TOY = textwrap.dedent("""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from deeplimits.validation import Check, Outcome, experiment

    @experiment(id="toy.mean", checks="the sample mean of N(0,1) is near 0",
                criterion="|mean| < 4/sqrt(n) (4 standard errors)", quick=dict(n=400), full=dict(n=40000))
    def mean(params, *, seed, outdir):
        n = params["n"]
        x = np.random.default_rng(seed).standard_normal(n)
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.hist(x, 20)
        path = outdir / "toy mean hist.png"
        fig.savefig(path, dpi=30)
        return Outcome(checks=[Check("abs_mean", np.float64(abs(x.mean())), "<", 4 / np.sqrt(n), note="4 se"),
                               Check("var", x.var(), "in", (0.5, 1.5))],
                       metrics={"n_used": np.int64(n), "quantiles": np.quantile(x, [0.1, 0.5, 0.9]),
                                "fit": {"slope": np.float64(0.5), "ci": (0.4, 0.6)},
                                "undefined": float("nan"), "blowup": np.float32("inf")},
                       figures=[path], summary="Mean of standard normals.")

    @experiment(id="toy.fails", checks="a check that does not hold", criterion="x < 0",
                quick={}, full={})
    def fails(params, *, seed, outdir):
        return Outcome(checks=[Check("x", 1.0, "<", 0.0, note="always false")])

    @experiment(id="toy.raises", checks="an experiment with a bug", criterion="none", quick={}, full={})
    def raises(params, *, seed, outdir):
        raise RuntimeError("kaboom in toy")

    @experiment(id="other.last", checks="runs after the failures", criterion="1 > 0", quick={"k": 1}, full={"k": 2})
    def last(params, *, seed, outdir):
        return Outcome(checks=[Check("one", 1, ">", 0)], metrics={"seed_seen": seed, "k": params["k"]})
""")


@pytest.fixture
def toy_dir(write_experiments):
    d = write_experiments("toy_experiments", TOY)
    (d / "not_an_experiment_file.py").write_text("raise RuntimeError('must not be imported')\n")
    return d


def _strict_load(path: Path):
    def reject(token):
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(path.read_text(), parse_constant=reject)


def test_isolated_registry_restores_contents():
    before = dict(registry)
    with isolated_registry():
        assert registry == {}

        @experiment(id="tmp.x", checks="c", criterion="k", quick={}, full={})
        def x(params, *, seed, outdir):
            return Outcome(checks=[Check("v", 0.0, "<", 1.0)])

        assert "tmp.x" in registry
    assert registry == before and "tmp.x" not in registry


def test_full_run_records_every_outcome(toy_dir, tmp_path):
    out = tmp_path / "report"
    summary = run_experiments(None, mode="quick", seed=3, outdir=out, progress=False, experiments_dir=toy_dir)
    assert not summary.passed
    assert [r.id for r in summary.results] == ["toy.mean", "toy.fails", "toy.raises", "other.last"]
    assert [r.status for r in summary.results] == ["passed", "failed", "error", "passed"]
    assert summary.failed_ids == ["toy.fails", "toy.raises"]
    # The exception is recorded with its traceback (user frames only) and the run went on.
    err = summary.results[2].error
    assert "RuntimeError: kaboom in toy" in err and "toy_experiments.py" in err and "runner.py" not in err
    assert summary.results[3].metrics == {"one": 1, "seed_seen": 3, "k": 1}


def test_results_json_schema(toy_dir, tmp_path):
    out = tmp_path / "report"
    run_experiments(
        ["toy.mean", "toy.fails"], mode="quick", seed=0, outdir=out, progress=False, experiments_dir=toy_dir
    )
    doc = _strict_load(out / "results.json")
    for key in (
        "schema_version",
        "deeplimits_version",
        "mode",
        "seed",
        "started",
        "seconds",
        "complete",
        "experiments_dir",
        "selection",
        "environment",
        "passed",
        "n_experiments",
        "n_passed",
        "n_failed",
        "nonfinite_values",
        "experiments",
    ):
        assert key in doc, key
    assert doc["mode"] == "quick" and doc["seed"] == 0 and doc["complete"] is True
    assert doc["passed"] is False and (doc["n_experiments"], doc["n_passed"], doc["n_failed"]) == (2, 1, 1)
    assert doc["selection"] == ["toy.mean", "toy.fails"]
    mean, fails = doc["experiments"]
    for key in (
        "id",
        "area",
        "checks",
        "criterion",
        "mode",
        "params",
        "status",
        "passed",
        "seconds",
        "metrics",
        "thresholds",
        "figures",
        "summary",
        "error",
        "warnings",
        "source",
        "nonfinite",
    ):
        assert key in mean, key
    assert mean["id"] == "toy.mean" and mean["area"] == "toy" and mean["params"] == {"n": 400}
    assert mean["checks"] == "the sample mean of N(0,1) is near 0"
    assert mean["passed"] is True and mean["seconds"] > 0
    # Thresholds come from the Check objects; numpy values are plain JSON numbers.
    assert mean["thresholds"]["abs_mean"] == {
        "op": "<",
        "threshold": pytest.approx(4 / np.sqrt(400)),
        "passed": True,
        "note": "4 se",
    }
    assert mean["thresholds"]["var"]["threshold"] == [0.5, 1.5]
    assert isinstance(mean["metrics"]["abs_mean"], float) and mean["metrics"]["n_used"] == 400
    assert len(mean["metrics"]["quantiles"]) == 3
    assert mean["metrics"]["fit"] == {"slope": 0.5, "ci": [0.4, 0.6]}  # nesting kept in JSON
    # NaN and inf become null, with a flag saying where and what they were.
    assert mean["metrics"]["undefined"] is None and mean["metrics"]["blowup"] is None
    assert mean["nonfinite"] == {"metrics.undefined": "nan", "metrics.blowup": "inf"}
    assert doc["nonfinite_values"] is True
    # Figures: relative to the report folder, inside the experiment's own subfolder.
    assert mean["figures"] == ["toy.mean/toy mean hist.png"]
    assert (out / mean["figures"][0]).is_file()
    assert fails["passed"] is False and fails["status"] == "failed"
    assert fails["thresholds"]["x"]["passed"] is False


def test_report_md_contents(toy_dir, tmp_path):
    out = tmp_path / "report"
    run_experiments(None, mode="quick", seed=0, outdir=out, progress=False, experiments_dir=toy_dir)
    md = (out / "report.md").read_text()
    lines = md.splitlines()
    assert lines[0] == "# deeplimits validation report"
    assert "**FAILED**: 2 of 4 experiments passed." in md
    # Summary table at the top, before the first experiment section.
    table_at = md.index("| experiment | verdict | claim | measured | criterion | resolution | seconds |")
    assert table_at < md.index("## toy.mean")
    assert "| [toy.mean](#exp-toy-mean) | PASS |" in md
    assert "| [toy.fails](#exp-toy-fails) | FAIL |" in md
    assert "| [toy.raises](#exp-toy-raises) | ERROR |" in md
    for eid in ("toy.mean", "toy.fails", "toy.raises", "other.last"):
        assert f"## {eid} — " in md
    assert "**What it checks:** the sample mean of N(0,1) is near 0" in md
    assert "**Pass criterion (fixed in advance):** |mean| < 4/sqrt(n) (4 standard errors)" in md
    assert "| metric | value | op | threshold | passed | note |" in md
    assert "| var | " in md and "| in | [0.5, 1.5] | yes |" in md
    assert "| x | 1 | < | 0 | **no** | always false |" in md
    assert "| quantiles | [" in md  # other metrics table
    assert "| fit.slope | 0.5 |" in md and "| fit.ci | [0.4, 0.6] |" in md  # nested dicts flattened
    # The figure is embedded with a relative, URL-quoted link that resolves to the file.
    assert "![toy.mean: toy mean hist.png](toy.mean/toy%20mean%20hist.png)" in md
    assert "RuntimeError: kaboom in toy" in md
    assert "Mean of standard normals." in md


def test_only_glob_and_area_selection(toy_dir, tmp_path):
    s = run_experiments(["toy.*"], outdir=tmp_path / "a", progress=False, experiments_dir=toy_dir)
    assert [r.id for r in s.results] == ["toy.mean", "toy.fails", "toy.raises"]
    s = run_experiments("other", outdir=tmp_path / "b", progress=False, experiments_dir=toy_dir)
    assert [r.id for r in s.results] == ["other.last"] and s.passed
    assert s.results[0].params == {"k": 1}
    s = run_experiments(["*mean"], mode="full", seed=1, outdir=tmp_path / "c", progress=False, experiments_dir=toy_dir)
    assert s.passed and s.results[0].params == {"n": 40000} and s.results[0].mode == "full"


def test_unknown_id_raises_selection_error_listing_ids(toy_dir, tmp_path):
    with pytest.raises(SelectionError, match="no experiment matches 'toy.nope'") as info:
        run_experiments(["toy.mean", "toy.nope"], outdir=tmp_path / "r", progress=False, experiments_dir=toy_dir)
    assert "toy.mean" in str(info.value) and "other.last" in str(info.value)
    assert not (tmp_path / "r").exists()  # nothing was run or written


def test_select_ids_rules():
    ids = ["sde.gbm_strong", "sde.ou_weak", "corr.limit"]
    assert select_ids(None, ids) == ids and select_ids([], ids) == ids
    assert select_ids(["corr.limit", "sde.*"], ids) == ids  # order of `available`, not of the patterns
    assert select_ids(["*weak*", "sde.ou_weak"], ids) == ["sde.ou_weak"]  # no duplicates
    assert select_ids(["sde"], ids) == ["sde.gbm_strong", "sde.ou_weak"]
    assert select_ids(["SDE.*", "corr.limit"], ids, tolerate=["SDE.*"]) == ["corr.limit"]
    with pytest.raises(SelectionError, match="Available experiment ids"):
        select_ids(["SDE.*"], ids)  # case-sensitive
    with pytest.raises(SelectionError, match="empty"):
        select_ids([""], ids)


def test_import_failure_is_a_failed_pseudo_experiment(toy_dir, tmp_path, capsys):
    (toy_dir / "broken_experiments.py").write_text("import no_such_module_for_deeplimits_tests\n")
    load = load_experiments(toy_dir)
    assert [f.pseudo_id for f in load.failures] == ["broken_experiments.py:import"]
    assert "toy.mean" in registry  # the other file still registered its experiments
    s = run_experiments(None, outdir=tmp_path / "r", progress=False, experiments_dir=toy_dir)
    rec = s.results[0]
    assert rec.id == "broken_experiments.py:import" and rec.status == "error" and not rec.passed
    assert "no_such_module_for_deeplimits_tests" in rec.error
    assert "broken_experiments.py failed to import" in capsys.readouterr().err
    # Selecting the broken area includes the failure (and is not a usage error) ...
    s = run_experiments(["broken.*"], outdir=tmp_path / "r2", progress=False, experiments_dir=toy_dir)
    assert [r.id for r in s.results] == ["broken_experiments.py:import"] and not s.passed
    # ... selecting another area runs it alone, with the failure printed as a warning.
    s = run_experiments(["toy.mean"], outdir=tmp_path / "r3", progress=False, experiments_dir=toy_dir)
    assert [r.id for r in s.results] == ["toy.mean"] and s.passed
    assert "not selected" in capsys.readouterr().err
    f = load.failures[0]
    assert failure_selected(f, None) and failure_selected(f, ["*"]) and failure_selected(f, ["broken"])
    assert not failure_selected(f, ["toy.*"])


def test_duplicate_id_in_two_files_is_an_import_failure(toy_dir):
    (toy_dir / "zz_experiments.py").write_text(
        textwrap.dedent("""
        from deeplimits.validation import experiment
        @experiment(id="toy.mean", checks="dup", criterion="dup", quick={}, full={})
        def dup(params, *, seed, outdir):
            pass
    """)
    )
    load = load_experiments(toy_dir)
    assert len(load.failures) == 1 and "duplicate experiment id 'toy.mean'" in load.failures[0].traceback
    assert registry["toy.mean"].source.endswith("toy_experiments.py")
    # Re-importing the same file is not a duplicate.
    assert load_experiments(toy_dir).failures[0].path.name == "zz_experiments.py"
    assert load.ids_by_file[toy_dir.resolve() / "toy_experiments.py"] == [
        "toy.mean",
        "toy.fails",
        "toy.raises",
        "other.last",
    ]


def test_outcome_problems_are_errors(tmp_path, clean_registry):
    @experiment(id="bad.nochecks", checks="c", criterion="k", quick={}, full={})
    def nochecks(params, *, seed, outdir):
        return Outcome(checks=[])

    @experiment(id="bad.nofigure", checks="c", criterion="k", quick={}, full={})
    def nofigure(params, *, seed, outdir):
        return Outcome(checks=[Check("v", 0.0, "<", 1.0)], figures=[outdir / "never_written.png"])

    @experiment(id="bad.wrongtype", checks="c", criterion="k", quick={}, full={})
    def wrongtype(params, *, seed, outdir):
        return {"v": 0.0}

    @experiment(id="bad.nanvalue", checks="c", criterion="k", quick={}, full={})
    def nanvalue(params, *, seed, outdir):
        return Outcome(checks=[Check("v", float("nan"), "<", 1.0)])

    s = run_experiments(None, outdir=tmp_path / "r", progress=False, discover=False)
    by_id = {r.id: r for r in s.results}
    assert by_id["bad.nochecks"].status == "error" and "no Check" in by_id["bad.nochecks"].error
    assert by_id["bad.nofigure"].status == "error" and "never_written.png" in by_id["bad.nofigure"].error
    assert by_id["bad.wrongtype"].status == "error" and "expected Outcome" in by_id["bad.wrongtype"].error
    assert by_id["bad.nanvalue"].status == "failed"  # NaN never passes a comparison
    doc = _strict_load(tmp_path / "r" / "results.json")
    assert doc["experiments"][3]["nonfinite"] == {"metrics.v": "nan"}


def test_resolution_is_recorded_and_perturb_reaches_the_experiment(tmp_path, clean_registry):
    @experiment(
        id="toy.limit",
        checks="c",
        criterion="k",
        quick={"n": 1},
        full={"n": 2},
        resolution={"quick": "10 % in the drift", "full": "2 % in the drift"},
        perturbable=("drift",),
    )
    def limit(params, *, seed, outdir):
        drift = params.get("perturb", {}).get("drift", 1.0)
        return Outcome(checks=[Check("drift_error", abs(drift - 1.0), "<", 0.05)])

    @experiment(id="toy.plain", checks="c", criterion="k", quick={}, full={})
    def plain(params, *, seed, outdir):
        return Outcome(checks=[Check("v", 0.0, "<", 1.0)])

    exp = registry["toy.limit"]
    assert exp.resolution == {"quick": "10 % in the drift", "full": "2 % in the drift"}
    assert exp.run("quick", outdir=tmp_path / "a").passed
    assert not exp.run("quick", outdir=tmp_path / "b", perturb={"drift": 1.1}).passed
    with pytest.raises(ValueError, match="cannot perturb"):
        registry["toy.plain"].run("quick", outdir=tmp_path / "c", perturb={"drift": 1.1})
    for mode in ("quick", "full"):
        run_experiments(None, mode=mode, outdir=tmp_path / mode, progress=False, discover=False)
        recs = {r["id"]: r for r in _strict_load(tmp_path / mode / "results.json")["experiments"]}
        assert recs["toy.limit"]["resolution"] == exp.resolution[mode]
        assert recs["toy.plain"]["resolution"] is None


def test_bad_resolution_and_perturbable_declarations(clean_registry):
    with pytest.raises(ValueError, match="resolution"):
        experiment(id="toy.r", checks="c", criterion="k", quick={}, full={}, resolution={"fast": "10 %"})
    with pytest.raises(ValueError, match="resolution"):
        experiment(id="toy.r", checks="c", criterion="k", quick={}, full={}, resolution={"quick": ""})
    with pytest.raises(TypeError, match="resolution"):
        experiment(id="toy.r", checks="c", criterion="k", quick={}, full={}, resolution="10 %")
    with pytest.raises(TypeError, match="perturbable"):
        experiment(id="toy.r", checks="c", criterion="k", quick={}, full={}, perturbable="drift")


def test_figure_written_outside_outdir_is_copied_in(tmp_path, clean_registry):
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"\x89PNG\r\n\x1a\n")

    @experiment(id="fig.outside", checks="c", criterion="k", quick={}, full={})
    def outside(params, *, seed, outdir):
        return Outcome(checks=[Check("v", 0.0, "<", 1.0)], figures=[elsewhere])

    s = run_experiments(None, outdir=tmp_path / "r", progress=False, discover=False)
    assert s.passed and s.results[0].figures == ["fig.outside/elsewhere.png"]
    assert (tmp_path / "r" / "fig.outside" / "elsewhere.png").is_file()


def test_bad_arguments(tmp_path, clean_registry):
    with pytest.raises(ValueError, match="mode"):
        run_experiments(None, mode="medium", outdir=tmp_path, discover=False)
    for seed, error in ((-1, ValueError), (1.5, ValueError), (True, TypeError), ("3", TypeError)):
        with pytest.raises(error, match="seed"):
            run_experiments(None, seed=seed, outdir=tmp_path, discover=False)
    with pytest.raises(LookupError, match="no validation experiments"):
        run_experiments(None, outdir=tmp_path, discover=False)
    with pytest.raises(ValueError, match="experiments folder"):
        run_experiments(None, outdir=tmp_path, experiments_dir=tmp_path / "missing")
    with pytest.raises(ValueError, match="op="):
        Check("v", 1.0, "==", 1.0)
    with pytest.raises(ValueError, match="threshold=\\(low, high\\)"):
        Check("v", 1.0, "in", 1.0)
    with pytest.raises(ValueError, match="area.name"):
        experiment(id="nodot", checks="", criterion="", quick={}, full={})


def test_default_experiments_dir_is_the_experiments_subpackage():
    import deeplimits.experiments

    assert find_experiments_dir() == Path(deeplimits.experiments.__file__).resolve().parent


def test_to_jsonable_conversions():
    nonfinite = {}
    doc = to_jsonable(
        {
            "a": np.arange(2),
            "b": (np.float32(0.5), np.bool_(True)),
            "c": Path("x/y.png"),
            "d": {1: -np.inf},
            "e": np.array([[np.nan]]),
            "f": object,
        },
        nonfinite=nonfinite,
    )
    assert doc["a"] == [0, 1] and doc["b"] == [0.5, True] and doc["c"] == "x/y.png"
    assert doc["d"] == {"1": None} and doc["e"] == [[None]] and isinstance(doc["f"], str)
    assert nonfinite == {"d.1": "-inf", "e[0][0]": "nan"}
    json.dumps(doc, allow_nan=False)


def test_docs_example_experiment_runs_and_passes(tmp_path, clean_registry):
    """The experiment shown in docs/validation.md works as written."""
    doc = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
    if not doc.is_file():
        pytest.skip("not a source checkout")
    blocks = [b for b in doc.read_text().split("```python\n")[1:] if b.startswith("# validation/demo_experiments.py")]
    assert len(blocks) == 1
    exps = tmp_path / "exps"
    exps.mkdir()
    (exps / "demo_experiments.py").write_text(blocks[0].split("```")[0])
    s = run_experiments(["demo.mean"], outdir=tmp_path / "r", progress=False, experiments_dir=exps)
    assert s.passed, s.results[0].error
    assert s.results[0].figures == ["demo.mean/demo_mean.png"]


def test_repository_experiment_files_import_and_declare_everything(clean_registry):
    """Every validation/*_experiments.py of this checkout imports and declares a complete experiment."""
    directory = find_experiments_dir()
    if directory is None:
        pytest.skip("no experiments folder")
    load = load_experiments(directory)
    assert not load.failures, "\n".join(f.traceback for f in load.failures)
    for eid, exp in registry.items():
        assert exp.checks.strip() and exp.criterion.strip(), eid
        assert isinstance(exp.quick, dict) and isinstance(exp.full, dict), eid
        assert callable(exp.func), eid


def test_save_figure_writes_png_and_closes_the_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path, "line.png", dpi=50)
    assert path == tmp_path / "line.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.number not in plt.get_fignums()
