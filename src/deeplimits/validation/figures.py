"""Saving experiment figures: one convention for every experiment module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._atomic import atomic_write

__all__ = ["save_figure"]


def save_figure(fig: Any, outdir: str | os.PathLike[str], name: str, *, dpi: int = 110) -> Path:
    """Lay out ``fig``, write it as ``outdir/name`` (atomically) and close it.

    The image is written to a temporary file in ``outdir`` and then moved over
    ``outdir/name``, so a run that is killed never leaves a truncated PNG.  Closing
    matters: a validation run draws dozens of figures, and pyplot keeps every open
    one alive.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    outdir : str or os.PathLike
        The experiment's output folder (the ``outdir`` it was called with).
    name : str
        File name, e.g. ``"sde_gbm_strong.png"``; its suffix sets the format.
    dpi : int, optional
        Resolution; default 110.

    Returns
    -------
    pathlib.Path
        The written file, for :attr:`Outcome.figures`.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.figure
    >>> fig = matplotlib.figure.Figure(figsize=(1, 1))
    >>> _ = fig.add_subplot().plot([0, 1])
    >>> path = save_figure(fig, tempfile.mkdtemp(), "line.png", dpi=20)
    >>> path.name, path.read_bytes()[:4]
    ('line.png', b'\\x89PNG')
    """
    import matplotlib.pyplot as plt

    from .._checks import check_int

    dpi = check_int(dpi, "dpi", minimum=1)
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise ValueError(f"name must be a file name without folders, got {name!r}")
    path = Path(outdir) / name
    fig.tight_layout()
    fmt = path.suffix[1:] or None
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
    finally:
        plt.close(fig)
    return path
