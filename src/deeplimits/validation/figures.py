"""Saving experiment figures: one convention for every ``validation/*_experiments.py`` file."""

from __future__ import annotations

from pathlib import Path

__all__ = ["save_figure"]


def save_figure(fig, outdir, name, *, dpi=110):
    """Lay out ``fig``, write it as ``outdir/name`` and close it.

    Closing matters: a validation run draws dozens of figures, and pyplot keeps
    every open one alive.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    outdir : str or os.PathLike
        The experiment's output folder (the ``outdir`` it was called with).
    name : str
        File name, e.g. ``"sde_gbm_strong.png"``.
    dpi : int, optional
        Resolution; default 110.

    Returns
    -------
    pathlib.Path
        The written file, for :attr:`Outcome.figures`.
    """
    import matplotlib.pyplot as plt

    path = Path(outdir) / name
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
