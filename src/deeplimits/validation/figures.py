"""Saving experiment figures: one convention for every experiment module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._atomic import atomic_copy, atomic_write

__all__ = ["collect_figures", "save_figure"]


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
    if fig.get_layout_engine() is None:  # figures made with layout="constrained" keep their own layout
        fig.tight_layout()
    fmt = path.suffix[1:] or None
    try:
        # A tight bounding box keeps legends placed outside the axes and long labels in the image.
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


def _resolve_figure(fig: Any, exp_dir: Path) -> Path:
    p = Path(fig)
    if p.is_absolute():
        return p
    # Relative paths: relative to the experiment's folder first, then to the working directory.
    return exp_dir / p if (exp_dir / p).exists() or not p.exists() else p.resolve()


def collect_figures(figs: list, exp_dir: Path, outdir: Path) -> tuple[list[str], list[str]]:
    """The figures an experiment listed, as paths relative to the run's ``outdir``, and those missing.

    A relative path is looked up in the experiment's folder ``exp_dir`` first, then in the
    working directory; a figure written outside ``outdir`` is copied into ``exp_dir`` so that
    the report's links stay relative.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()).resolve()
    >>> (out / "e").mkdir()
    >>> _ = (out / "e" / "a.png").write_bytes(b"x")
    >>> collect_figures(["a.png", "b.png"], out / "e", out)
    (['e/a.png'], ['b.png'])
    """
    rel, missing = [], []
    for fig in figs:
        p = _resolve_figure(fig, exp_dir)
        if not p.is_file():
            missing.append(str(fig))
            continue
        p = p.resolve()
        try:
            rel.append(p.relative_to(outdir).as_posix())
        except ValueError:  # written outside the report folder: copy it in so links stay relative
            target = atomic_copy(p, exp_dir / p.name)
            rel.append(target.relative_to(outdir).as_posix())
    return rel, missing
