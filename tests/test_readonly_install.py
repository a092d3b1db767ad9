"""A read-only install imports: Numba's cache falls back to a writable directory.

The simulation has to hold for root too (tests often run as root in containers, where
``chmod`` does not stop writes).  So the package is copied to a temporary folder in which
every ``__pycache__`` is a *regular file* (no cache directory can be created next to any
module, whoever runs), and ``HOME`` points below a regular file (the user cache directory
``~/.cache/numba`` cannot be created either).  As a non-root user the copied folders are
also made read-only.  A control run with the fallback switched off shows that the
simulation reproduces the failure ("no locator available") it guards against.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import deeplimits

PACKAGE = Path(deeplimits.__file__).resolve().parent


def _read_only_install(tmp_path: Path, *, fallback: bool = True) -> tuple[Path, dict[str, str]]:
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "deeplimits", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not fallback:  # control: the package as it was before the fallback existed
        cache = site / "deeplimits" / "_numba_cache.py"
        head = "def configure() -> str | None:\n"
        text = cache.read_text()
        assert head in text
        cache.write_text(text.replace(head, head + "    return None\n"))
    package_dirs = [Path(d) for d, _, files in os.walk(site / "deeplimits") if "__init__.py" in files]
    for d in package_dirs:
        (d / "__pycache__").write_text("a file where the cache directory would go\n")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        for d in package_dirs:
            d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    blocker = tmp_path / "not_a_home"
    blocker.write_text("HOME points below this regular file, so ~/.cache cannot be created\n")
    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    env.update(
        HOME=str(blocker / "home"),
        TMPDIR=str(tmp_path / "tmp"),  # where the fallback goes: fresh, and removed with tmp_path
        PYTHONPATH=str(site),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return site, env


def _restore_permissions(site: Path) -> None:
    for d, _, _ in os.walk(site):
        Path(d).chmod(0o755)


def _run(code: str, env: dict[str, str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", code]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


CHECK = """
import deeplimits, numba, numpy as np
from numba.core import config
import deeplimits.rng as rng
print(deeplimits.__file__)
print(config.CACHE_DIR)
print(int(rng.stream_state(np.uint64(1), np.uint64(0))))  # compiles and caches a cache=True kernel
"""


def test_read_only_install_imports_with_a_fallback_cache(tmp_path):
    site, env = _read_only_install(tmp_path)
    try:
        r = _run(CHECK, env, tmp_path)
    finally:
        _restore_permissions(site)
    assert r.returncode == 0, r.stderr
    package_file, cache_dir, _ = r.stdout.split()
    assert Path(package_file).resolve().parent == (site / "deeplimits").resolve()  # the copy, not the checkout
    assert Path(cache_dir).parent == tmp_path / "tmp" and Path(cache_dir).name.startswith("deeplimits-numba-cache")
    assert list(Path(cache_dir).rglob("*.nbi")), "the kernel was not cached in the fallback directory"
    # Said once, in a warning that names the directory and NUMBA_CACHE_DIR.
    assert r.stderr.count("RuntimeWarning") == 1 and cache_dir in r.stderr and "NUMBA_CACHE_DIR" in r.stderr


def test_the_simulation_reproduces_the_failure_without_the_fallback(tmp_path):
    site, env = _read_only_install(tmp_path, fallback=False)
    try:
        r = _run("import deeplimits.rng", env, tmp_path)
    finally:
        _restore_permissions(site)
    assert r.returncode != 0 and "no locator available" in r.stderr, r.stderr


def test_numba_cache_dir_set_by_the_user_is_respected(tmp_path):
    site, env = _read_only_install(tmp_path)
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    try:
        r = _run(CHECK, env, tmp_path)
    finally:
        _restore_permissions(site)
    assert r.returncode == 0, r.stderr
    assert "RuntimeWarning" not in r.stderr and list((tmp_path / "mine").rglob("*.nbi"))


@pytest.mark.slow
def test_read_only_install_imports_deeplimits_sde(tmp_path):
    """``import deeplimits.sde`` as in the issue (slow: the engine's kernels compile into an empty cache)."""
    site, env = _read_only_install(tmp_path)
    try:
        r = _run("import deeplimits.sde", env, tmp_path, timeout=600)
    finally:
        _restore_permissions(site)
    assert r.returncode == 0, r.stderr
    assert "no locator available" not in r.stderr and r.stderr.count("RuntimeWarning") == 1
