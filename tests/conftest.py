"""Fixtures shared by the tests of the validation harness and the command line."""

from __future__ import annotations

import sys
import textwrap

import pytest
from hypothesis import settings

from deeplimits.validation import isolated_registry, registry

# Property tests draw the same examples on every run (the project's rule: fixed seeds), so a CI
# verdict never depends on which random examples hypothesis happened to try.
settings.register_profile("deeplimits", derandomize=True, database=None)
settings.load_profile("deeplimits")

# Experiment source shared by the command-line and cluster tests: a check that fails and an
# experiment that raises (the file that uses it imports Check, Outcome and experiment).
FAILING_TOYS = textwrap.dedent("""
    @experiment(id="toy.fails", checks="a check that fails", criterion="1 < 0", quick={}, full={})
    def fails(params, *, seed, outdir):
        return Outcome(checks=[Check("one", 1.0, "<", 0.0)])

    @experiment(id="toy.raises", checks="an experiment that raises", criterion="none", quick={}, full={})
    def raises(params, *, seed, outdir):
        raise ZeroDivisionError("bug in toy")
""")


@pytest.fixture
def clean_registry():
    """Empty registry during the test; the previous contents, sys.path and sys.modules restored after."""
    path_before, mods_before = list(sys.path), set(sys.modules)
    with isolated_registry():
        yield registry
    sys.path[:] = path_before
    for name in set(sys.modules) - mods_before:
        if name.endswith("_experiments"):
            del sys.modules[name]


@pytest.fixture
def write_experiments(tmp_path, clean_registry):
    """``write_experiments(module, source)`` writes ``tmp_path/exps/<module>.py`` and returns that folder.

    The registry is empty during the test; the modules the test imports from the folder are forgotten after.
    """
    folder = tmp_path / "exps"

    def write(module, source):
        folder.mkdir(exist_ok=True)
        (folder / f"{module}.py").write_text(source)
        return folder

    yield write
    for path in folder.glob("*.py"):
        sys.modules.pop(path.stem, None)
