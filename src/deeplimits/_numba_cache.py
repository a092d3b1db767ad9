"""Make Numba's on-disk cache work for read-only installs.

Numba caches compiled kernels next to the package (``__pycache__``) or, when
that is not writable, in the user's cache directory.  When neither is writable
(a read-only install with an unwritable ``$HOME``), every ``cache=True``
function would fail at import with "no locator available".  Before any kernel
is defined, :func:`configure` checks both places and, if needed, points Numba
at a writable temporary directory, saying so once in a warning.  Set
``NUMBA_CACHE_DIR`` to choose the directory yourself.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

__all__ = ["configure"]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def _private(path: Path) -> bool:
    """Whether ``path`` is a directory owned by this user that nobody else can write to."""
    if not hasattr(os, "getuid"):
        return True
    st = path.stat()
    return path.is_dir() and not path.is_symlink() and st.st_uid == os.getuid() and not st.st_mode & 0o022


def configure() -> str | None:
    """Choose a writable Numba cache directory if the default places are not writable.

    Returns the directory chosen, or None when Numba's defaults (or a
    user-given ``NUMBA_CACHE_DIR``) are used.
    """
    from numba.core import config

    if config.CACHE_DIR or os.environ.get("NUMBA_CACHE_DIR"):  # type: ignore[attr-defined]
        return None
    package_dir = Path(__file__).resolve().parent
    if _writable(package_dir / "__pycache__"):
        return None
    from numba.misc.appdirs import AppDirs

    if _writable(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)):
        return None
    fallback = Path(tempfile.gettempdir()) / f"deeplimits-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    if not _writable(fallback) or not _private(fallback):
        # Numba loads (and so runs) whatever sits in its cache: never trust a shared directory that another
        # user could have created first; fall back to a fresh private one.
        try:
            fallback = Path(tempfile.mkdtemp(prefix="deeplimits-numba-cache-"))
        except OSError:
            return None  # nothing writable: Numba will report it
    config.CACHE_DIR = str(fallback)  # type: ignore[attr-defined]
    warnings.warn(
        f"deeplimits: the package directory and the user cache directory are not writable; compiled kernels are "
        f"cached in {fallback} (set NUMBA_CACHE_DIR to choose another directory)",
        RuntimeWarning,
        stacklevel=3,
    )
    return str(fallback)
