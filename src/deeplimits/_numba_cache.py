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


def configure() -> str | None:
    """Choose a writable Numba cache directory if the default places are not writable.

    Returns the directory chosen, or None when Numba's defaults (or a
    user-given ``NUMBA_CACHE_DIR``) are used.
    """
    from numba.core import config

    if config.CACHE_DIR or os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package_dir = Path(__file__).resolve().parent
    if _writable(package_dir / "__pycache__"):
        return None
    from numba.misc.appdirs import AppDirs

    if _writable(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)):
        return None
    fallback = Path(tempfile.gettempdir()) / f"deeplimits-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    if not _writable(fallback):
        return None  # nothing writable: Numba will report it
    config.CACHE_DIR = str(fallback)
    warnings.warn(
        f"deeplimits: the package directory and the user cache directory are not writable; compiled kernels are "
        f"cached in {fallback} (set NUMBA_CACHE_DIR to choose another directory)",
        RuntimeWarning,
        stacklevel=3,
    )
    return str(fallback)
