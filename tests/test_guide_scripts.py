"""The user guide's scripts run as written (on small parameters) and draw their figures.

Each page of ``docs/guide/`` includes its script from ``docs/guide/scripts/`` (mkdocs snippets), so
the code a reader copies is the code tested here.  The API reference must document every public name.
"""

import importlib
import re
import runpy
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "guide"

# script -> (guide page, figure it writes, optional modules it needs)
SCRIPTS = {
    "own_sde.py": ("own-sde.md", "own_sde_orders.png", ()),
    "unshaped_mlp.py": ("unshaped-mlp.md", "unshaped_mlp.png", ()),
    "shaped_covariance.py": ("shaped-covariance.md", "shaped_covariance.png", ()),
    "capacity.py": ("capacity.md", "capacity.png", ()),
    "resnet_scaling.py": ("resnet-scaling.md", "resnet_scaling.png", ()),
    "trained_model.py": ("trained-model.md", "trained_model.png", ("torch", "sklearn")),
    "validation_campaign.py": ("validation.md", "my-campaign/mine.ou_mean/ou_mean.png", ()),
}
API_PAGES = (
    "sde",
    "correlation",
    "capacity",
    "networks",
    "resnet",
    "convergence",
    "parallel",
    "plotting",
    "validation",
)


def _needs_docs():
    if not GUIDE.is_dir():
        pytest.skip("not a source checkout")


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_guide_script_runs_and_draws_its_figure(script, tmp_path, monkeypatch):
    _needs_docs()
    page, figure, needs = SCRIPTS[script]
    for module in needs:
        pytest.importorskip(module)
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("DEEPLIMITS_GUIDE_SMALL", "1")
    monkeypatch.setenv("DEEPLIMITS_GUIDE_OUT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    from deeplimits.validation import isolated_registry

    try:
        with isolated_registry(empty=False):  # what a script registers does not outlive it
            runpy.run_path(str(GUIDE / "scripts" / script), run_name="__main__")
    finally:
        plt.close("all")
        if "torch" in sys.modules and threads is not None:
            sys.modules["torch"].set_num_threads(threads)  # a script may set it for its own tiny models
    png = tmp_path / figure
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_guide_page_includes_its_script(script):
    _needs_docs()
    page = (GUIDE / SCRIPTS[script][0]).read_text()
    assert f'--8<-- "guide/scripts/{script}"' in page
    assert "deeplimits" in page


def test_every_guide_script_is_tested():
    _needs_docs()
    assert sorted(p.name for p in (GUIDE / "scripts").glob("*.py")) == sorted(SCRIPTS)


@pytest.mark.parametrize("area", API_PAGES)
def test_api_reference_documents_every_public_name(area):
    """Each name of ``deeplimits.<area>.__all__`` (other than submodules) has its entry in docs/api/<area>.md."""
    _needs_docs()
    module = importlib.import_module(f"deeplimits.{area}")
    text = (REPO / "docs" / "api" / f"{area}.md").read_text()
    listed = set(re.findall(r"^ +- (\w+)$", text, flags=re.M))
    listed |= {m.rsplit(".", 1)[1] for m in re.findall(r"^::: ([\w.]+)$", text, flags=re.M)}
    public = [n for n in module.__all__ if not isinstance(getattr(module, n), types.ModuleType)]
    assert [n for n in public if n not in listed] == []
