"""The campaign's kernels compiled ahead in a background process (deeplimits.validation.precompile)."""

from __future__ import annotations

import argparse
import inspect

import pytest

from deeplimits import cli
from deeplimits.validation import precompile


def test_precompile_writes_the_kernel_to_numba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # the spawned process reads it when it imports numba
    proc = precompile.start_precompile(
        ["deeplimits.sde.evaluate.eval_drift_batch", "deeplimits.correlation.depth._one_layer_kernel"]
    )
    proc.join(300)
    assert proc.exitcode == 0
    for kernel in ("eval_drift_batch", "_one_layer_kernel"):  # a lazy kernel and one with a listed signature
        written = sorted(p.name for p in tmp_path.rglob(f"*{kernel}*"))
        assert any(n.endswith(".nbi") for n in written) and any(n.endswith(".nbc") for n in written), written
        assert not any(".tmp." in n for n in written)  # Numba renames complete files into place


def test_listed_signatures_fit_their_kernels():
    for name, signature in precompile.CAMPAIGN_KERNELS.items():
        kernel = precompile._kernel(name)
        if signature is None:
            assert kernel.signature is not None, name  # a lazy kernel with its own signature
        else:
            assert len(inspect.signature(kernel.py_func).parameters) == len(signature), name


def test_precompile_names_are_checked():
    with pytest.raises(ValueError, match="CAMPAIGN_KERNELS"):
        precompile.start_precompile(["deeplimits.sde.kernels.no_such_kernel"])
    with pytest.raises(ValueError, match="CAMPAIGN_KERNELS"):
        precompile.compile_kernels([3])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("argv", "started"),
    [
        ([], True),
        (["--only", "sde.*"], False),
        (["--experiments", "somewhere"], False),
        (["--workers", "2"], False),
        (["--precompile", False], False),
    ],
)
def test_only_a_whole_local_campaign_precompiles(argv, started, monkeypatch):
    calls = []

    class Dummy:
        def terminate(self):
            calls.append("terminate")

        def join(self):
            calls.append("join")

    monkeypatch.setattr(precompile, "start_precompile", lambda: calls.append("start") or Dummy())
    ns = argparse.Namespace(only=None, experiments=None, workers=None, scheduler=None, precompile=True)
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        setattr(ns, flag.lstrip("-"), [value] if flag == "--only" else value)
    with cli._precompile(ns):
        pass
    assert calls == (["start", "terminate", "join"] if started else [])
