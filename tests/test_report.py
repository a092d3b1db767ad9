"""The report of a validation run reads cleanly: no NaN, no absolute path, no internal warning, an HTML copy."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import deeplimits
from deeplimits.convergence import OrderResult
from deeplimits.validation import Check, Outcome, experiment, isolated_registry, save_figure
from deeplimits.validation.runner import run_experiments

PACKAGE_ROOT = str(Path(deeplimits.__file__).resolve().parent.parent)


def _declare_toys() -> None:
    @experiment(id="toy.orders", checks="an order without an interval", criterion="in [0.8, 1.2]", quick={}, full={})
    def orders(params, *, seed, outdir):
        hs = np.array([0.1, 0.05, 0.025])
        r = OrderResult("weak", "toy", hs, hs.copy(), np.zeros(3), 1.0, (np.nan, np.nan), 1.0, 10, "toy scheme")
        fig, ax = plt.subplots()
        ax.plot(hs, hs)
        return Outcome(
            # the same value as a check and as a metric: no conflict, no warning
            checks=[Check("order", r.order, "in", (0.8, 1.2))],
            metrics={"order": r.order, "toy scheme": r.as_dict()},
            figures=[save_figure(fig, outdir, "toy orders.png")],
        )

    @experiment(id="toy.needs_torch", checks="needs an optional dependency", criterion="none", quick={}, full={})
    def needs_torch(params, *, seed, outdir):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")


def _assert_clean(text: str, out: Path) -> None:
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", text)  # embedded figures are no text
    assert "nan" not in text.lower()
    for root in {str(out), str(out.resolve()), PACKAGE_ROOT, os.getcwd()}:
        assert root not in text
    assert "Warnings raised" not in text and "check name" not in text


def test_toy_report_is_clean_and_skips_missing_dependency(tmp_path):
    out = tmp_path / "rep"
    with isolated_registry():
        _declare_toys()
        summary = run_experiments(None, outdir=out, progress=False, discover=False)
    assert summary.passed and summary.skipped_ids == ["toy.needs_torch"] and summary.failed_ids == []
    doc = json.loads((out / "results.json").read_text())
    assert doc["passed"] and doc["n_skipped"] == 1 and not doc["nonfinite_values"]
    orders = doc["experiments"][0]
    assert orders["metrics"]["toy scheme"]["ci"] is None and orders["warnings"] == []
    skipped = doc["experiments"][1]
    assert skipped["status"] == "skipped" and 'pip install "deeplimits[torch]"' in skipped["error"]

    md = (out / "report.md").read_text()
    _assert_clean(md, out)
    # The summary table comes first, with the claim, the measured value and the verdict.
    table = md.index("| experiment | verdict | claim | measured | criterion | resolution | seconds |")
    assert table < md.index("## toy.orders")
    assert "| [toy.orders](#exp-toy-orders) | PASS | an order without an interval | 1/1 checks pass; closest to " in md
    assert "threshold: order = 1 (in [0.8, 1.2]) |" in md
    assert "| [toy.needs_torch](#exp-toy-needs_torch) | SKIPPED |" in md
    assert "| toy scheme.ci | n/a |" in md
    assert "![toy.orders: toy orders.png](toy.orders/toy%20orders.png)" in md

    page = (out / "report.html").read_text()
    _assert_clean(page, out)
    assert page.startswith("<!DOCTYPE html>") and page.count('src="data:image/png;base64,') == 1
    assert ">toy scheme.ci</td>" in page and "<strong>PASSED</strong>" in page


def test_resolution_column_when_declared(tmp_path):
    from deeplimits.validation.report import write_report_md
    from deeplimits.validation.report_layout import report_blocks

    out = tmp_path / "rep"
    with isolated_registry():
        _declare_toys()
        run_experiments(["toy.orders"], outdir=out, progress=False, discover=False)
    doc = json.loads((out / "results.json").read_text())
    doc["experiments"][0]["resolution"] = {"quick": "3 step sizes", "full": "6 step sizes"}
    write_report_md(doc, out / "report.md")
    md = (out / "report.md").read_text()
    assert re.search(r"\| PASS \| .* \| 3 step sizes \| [0-9.]+ \|", md)
    assert "**Resolution:** quick: 3 step sizes; full: 6 step sizes" in md
    assert [b.kind for b in report_blocks(doc)][:4] == ["heading", "para", "items", "table"]


@pytest.mark.parametrize("eid", ["cap.chain_to_kfe", "sde.gbm_strong"])
def test_quick_run_of_package_experiment_reads_cleanly(tmp_path, eid):
    out = tmp_path / "rep"
    summary = run_experiments([eid], outdir=out, progress=False)
    assert summary.passed, summary
    _assert_clean((out / "report.md").read_text(), out)
    _assert_clean((out / "report.html").read_text(), out)


def test_temporary_report_files_of_a_killed_run_are_removed(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    stale = [out / ".report.html.k1ll3d.tmp.html", out / ".results.json.k1ll3d.tmp.json"]
    for p in stale:
        p.write_text("half")
    keep = out / "notes.tmp.html"  # not a temporary file of ours
    keep.write_text("mine")
    with isolated_registry():
        _declare_toys()
        run_experiments(["toy.orders"], outdir=out, progress=False, discover=False)
    assert not any(p.exists() for p in stale) and keep.read_text() == "mine"
