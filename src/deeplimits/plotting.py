"""The package's figures: one house style and plotting helpers that each return a matplotlib ``Figure``.

House style: series drawn with :func:`series_style` (10 colours x 12 markers, so up to 60
series stay distinct, and the first 10 differ in colour), axes labelled with their units,
legends placed outside the data (:func:`legend_outside`), log axes with labelled major ticks
only at the data's values (:func:`log_ticks`), and figures written with
``bbox_inches="tight"`` (:func:`savefig`) so that no label is clipped.

Helpers: :func:`plot_orders` (convergence orders), :func:`plot_law` (finite systems against
their limit), :func:`plot_kfe_profiles` (capacity profiles of a KFE solve) and
:func:`plot_regime_map` (the depth-scaling regimes of a ResNet).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "COLORS",
    "MARKERS",
    "series_style",
    "legend_outside",
    "log_ticks",
    "savefig",
    "ci_label",
    "draw_orders",
    "plot_orders",
    "plot_law",
    "plot_kfe_profiles",
    "plot_regime_map",
]

#: Colour cycle (matplotlib's ``tab10``): distinct, and readable in grey-scale prints by their markers.
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
#: Marker cycle; its length (12) is prime to that of :data:`COLORS`, so colour+marker pairs repeat after 60.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def series_style(i: int) -> dict[str, str]:
    """Colour and marker of the ``i``-th series of a plot (keyword arguments for ``ax.plot``).

    Examples
    --------
    >>> series_style(0), series_style(10)["marker"] != series_style(0)["marker"]
    ({'color': '#1f77b4', 'marker': 'o'}, True)
    """
    return {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)]}


def legend_outside(ax: Any, *, fontsize: float = 7, **kwargs: Any) -> Any:
    """A legend to the right of ``ax``, outside the data; None when nothing is labelled.

    Examples
    --------
    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> _ = ax.plot([0, 1], label="a")
    >>> legend_outside(ax).get_bbox_to_anchor() is not None
    True
    """
    if not ax.get_legend_handles_labels()[0]:
        return None
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.02, 1.0))
    return ax.legend(fontsize=fontsize, borderaxespad=0.0, **kwargs)


def log_ticks(ax: Any, values: ArrayLike, axis: str = "x", *, min_ratio: float = 1.2) -> None:
    """Label a log axis at ``values`` only (e.g. the widths or depths simulated), without minor labels.

    A value closer than a factor ``min_ratio`` to the previous labelled one keeps its tick
    but not its label, so that labels never overlap.

    Examples
    --------
    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure().add_subplot(xscale="log")
    >>> log_ticks(ax, [16, 64, 256])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['16', '64', '256']
    """
    import matplotlib.ticker as mticker

    v = np.unique(np.asarray(values, dtype=float))
    labels, last = [], -np.inf
    for x in v:
        shown = x >= last * min_ratio
        labels.append(_tick_text(x) if shown else "")
        last = x if shown else last
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(mticker.FixedLocator(v.tolist()))
    target.set_major_formatter(mticker.FixedFormatter(labels))
    target.set_minor_formatter(mticker.NullFormatter())


def _tick_text(x: float) -> str:
    # Step sizes 1/n read better as fractions than as 0.000244141.
    if 0 < x < 1 and abs(1 / x - round(1 / x)) < 1e-9 / x:
        return f"1/{round(1 / x)}"
    return f"{x:.3g}"


def savefig(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` with a tight bounding box (nothing clipped, legends outside kept).

    Examples
    --------
    >>> import tempfile, matplotlib.figure
    >>> fig = matplotlib.figure.Figure(figsize=(2, 2))
    >>> _ = fig.add_subplot().plot([0, 1])
    >>> savefig(fig, os.path.join(tempfile.mkdtemp(), "a.png"), dpi=20).suffix
    '.png'
    """
    path = Path(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def ci_label(value: float, lo: float, hi: float) -> str:
    """``"0.981 [0.978, 0.983]"``: enough decimals that the interval's ends differ; no interval if not finite.

    Examples
    --------
    >>> ci_label(0.98, 0.9775, 0.9826), ci_label(0.5, 0.4, 0.6), ci_label(1.0, float("nan"), float("nan"))
    ('0.980 [0.978, 0.983]', '0.50 [0.40, 0.60]', '1.00')
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{value:.2f}"
    d = 2
    while d < 6 and f"{lo:.{d}f}" == f"{hi:.{d}f}":
        d += 1
    return f"{value:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    # Constrained layout leaves room for the legend outside the axes, even with a plain savefig.
    return plt.subplots(figsize=figsize, layout="constrained")[1]


def draw_orders(ax: Any, results: Sequence[Any], reference_slopes: Sequence[float] | None = None) -> Any:
    """Draw the error curves of :class:`~deeplimits.convergence.OrderResult` s on ``ax``; returns ``ax``."""
    for i, r in enumerate(results):
        st = series_style(i)
        ax.errorbar(
            r.hs, r.errors, yerr=2 * r.stderr, capsize=2, ms=4, **st, label=f"{r.label}: {ci_label(r.order, *r.ci)}"
        )
        slopes = reference_slopes if reference_slopes is not None else ([r.expected] if r.expected else [])
        for p in slopes:
            ax.plot(r.hs, r.errors[-1] * (r.hs / r.hs[-1]) ** p, "--", color=st["color"], alpha=0.5, lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if results:
        log_ticks(ax, np.concatenate([r.hs for r in results]))
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel("step size h (time units)")
    kinds = {r.kind for r in results}
    ax.set_ylabel(
        {"strong": "strong error E|Y_h - Y|", "weak": "weak error |E f(Y_h) - E f(Y)|"}.get(
            next(iter(kinds)) if len(kinds) == 1 else "", "error (strong or weak)"
        )
    )
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_orders(
    results: Sequence[Any],
    ax: Any = None,
    reference_slopes: Sequence[float] | None = None,
    title: str | None = None,
) -> Any:
    """Log-log errors against step size, with 2-standard-error bars and dashed reference slopes.

    The legend (outside the axes) gives each fitted order with its 95% interval, printed with
    as many decimals as it takes for the interval's ends to differ.

    Parameters
    ----------
    results : sequence of OrderResult
        From :func:`~deeplimits.convergence.strong_order` / :func:`~deeplimits.convergence.weak_order`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.
    reference_slopes : sequence of float, optional
        Slopes drawn as dashed lines (default: each result's expected order).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.convergence import OrderResult
    >>> hs = np.array([0.1, 0.05, 0.025])
    >>> r = OrderResult("strong", "euler", hs, hs**0.5, 0.01 * hs, 0.5, (0.49, 0.51), 0.5, 100, "Euler")
    >>> fig = plot_orders([r])
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'Euler: 0.50 [0.49, 0.51]'
    """
    ax = draw_orders(_new_axes(ax, (6.5, 4)), results, reference_slopes)
    legend_outside(ax, title="order [95% CI]; dashed: theory", title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def _finish(ax: Any, xlabel: str, ylabel: str, title: str | None) -> Any:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    legend_outside(ax)
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def plot_law(
    finite: Mapping[str, ArrayLike],
    limit: ArrayLike | None = None,
    *,
    density: tuple[ArrayLike, ArrayLike] | None = None,
    xlabel: str = "value",
    bins: int = 50,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Histograms of finite-system samples against the limit's samples and/or density.

    Parameters
    ----------
    finite : mapping of str to array_like
        Samples of each finite system (e.g. ``{"width 64": q64, "width 256": q256}``).
    limit : array_like, optional
        Samples of the limit (e.g. SDE paths at the same time), drawn as a black step histogram.
    density : (x, pdf), optional
        The limit's density on a grid, drawn as a black line.
    xlabel : str
        Name and unit of the quantity.
    bins : int
        Number of common bins.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The histograms, in the house style.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_law({"n = 64": rng.normal(0.1, 1, 500)}, rng.normal(0, 1, 2000), xlabel="y (1)")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['n = 64 (500 samples)', 'limit (2000 samples)']
    """
    ax = _new_axes(ax, (6.5, 4))
    arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in finite.items()}
    lim = None if limit is None else np.asarray(limit, dtype=float).ravel()
    every = np.concatenate([*arrays.values(), *([] if lim is None else [lim])])
    every = every[np.isfinite(every)]
    lo, hi = np.quantile(every, [0.001, 0.999]) if every.size else (0.0, 1.0)
    edges = np.linspace(lo, hi, bins + 1)
    for i, (name, x) in enumerate(arrays.items()):
        color = series_style(i)["color"]
        ax.hist(x, bins=edges, density=True, histtype="step", lw=1.4, color=color, label=f"{name} ({x.size} samples)")
    if lim is not None:
        ax.hist(lim, bins=edges, density=True, histtype="step", lw=2.2, color="k", label=f"limit ({lim.size} samples)")
    if density is not None:
        ax.plot(*(np.asarray(a, dtype=float) for a in density), "k--", lw=1.5, label="limit density")
    return _finish(ax, xlabel, "probability density (1 / unit of x)", title)


def plot_kfe_profiles(
    result: Any,
    *,
    depths: Sequence[float] | None = None,
    references: Mapping[str, tuple[ArrayLike, ArrayLike]] | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Capacity profiles of a 1-D KFE solve at some output depths, with optional reference profiles.

    Parameters
    ----------
    result : KFEResult
        From :func:`~deeplimits.capacity.solve_kfe` (or the master equation) on a 1-D grid.
    depths : sequence of float, optional
        Output depths to draw (default: all of ``result.ts``).
    references : mapping of str to (x, y), optional
        Other profiles to compare with (e.g. a finite network's capacity), drawn with markers.
    ax, title : matplotlib.axes.Axes and str, optional
        Axes to draw on (default: a new figure) and its title.

    Returns
    -------
    matplotlib.figure.Figure
        The profiles, in the house style.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import KFEResult, lattice_1d
    >>> res = KFEResult(ts=np.array([0.0, 1.0]), ys=np.full((2, 4), 0.25), grid=lattice_1d(4))
    >>> len(plot_kfe_profiles(res).axes[0].lines)
    2
    """
    if np.ndim(result.ys) != 2 or not hasattr(result.grid, "x"):
        raise ValueError(f"result must be a 1-D KFE solution, got a field of shape {np.shape(result.ys)[1:]}")
    x = np.asarray(result.grid.x)
    ax = _new_axes(ax, (6.5, 4))
    for i, t in enumerate(result.ts if depths is None else depths):
        ax.plot(x, result.at(float(t)), "-", color=series_style(i)["color"], lw=1.5, label=f"KFE, depth t = {t:g}")
    for j, (name, (xr, yr)) in enumerate((references or {}).items()):
        st = series_style(j + 1)
        ax.plot(xr, yr, ls="none", ms=4, mfc="none", color=st["color"], marker=st["marker"], label=name)
    return _finish(ax, "position x (input sites)", "capacity (fraction of the output's dependence)", title)


def _cell_edges(x: np.ndarray) -> np.ndarray:
    mid = (x[1:] + x[:-1]) / 2 if x.size > 1 else np.array([])
    first = x[0] - (mid[0] - x[0] if mid.size else 0.5)
    last = x[-1] + (x[-1] - mid[-1] if mid.size else 0.5)
    return np.concatenate([[first], mid, [last]])


def plot_regime_map(regimes: Any, *, depth_index: int = -1, ax: Any = None, clip: float = 4.0) -> Any:
    """Heat map of ``log10 ||h_L - h_0|| / ||h_0||`` over (beta, H), with the critical line beta = H.

    Parameters
    ----------
    regimes : RegimeMap
        From :func:`~deeplimits.resnet.regime_map`.
    depth_index : int
        Which of the map's two depths to show (default the deeper).
    ax : matplotlib.axes.Axes, optional
    clip : float
        Colour range ``[-clip, clip]`` (decades).

    Returns
    -------
    matplotlib.figure.Figure
        The heat map and its colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.resnet.regimes import RegimeMap
    >>> m = RegimeMap(np.array([0.2, 0.8]), np.array([0.5]), (16, 64), np.zeros((1, 2, 2)), np.zeros((1, 2)))
    >>> plot_regime_map(m).axes[0].get_xlabel()
    'beta (depth-scaling exponent)'
    """
    ax = _new_axes(ax, (7, 4.5))
    betas, hursts = np.asarray(regimes.betas, float), np.asarray(regimes.hursts, float)
    z = np.clip(np.asarray(regimes.log10_ratio)[..., depth_index], -clip, clip)
    # cells centred on the grid points, so that the line beta = H is placed exactly
    im = ax.pcolormesh(_cell_edges(betas), _cell_edges(hursts), z, cmap="coolwarm", vmin=-clip, vmax=clip)
    he = _cell_edges(hursts)[[0, -1]]
    ax.plot(he, he, "k--", label="critical line beta = H")
    depth = regimes.depths[depth_index]
    ax.set(xlabel="beta (depth-scaling exponent)", ylabel="H (Hurst index of the weights)")
    ax.set_title(f"log10 median ||h_L - h_0|| / ||h_0|| at depth L = {depth}", fontsize=9)
    ax.figure.colorbar(im, ax=ax, label="log10 relative change (decades)")
    ax.legend(loc="lower right", fontsize=7)
    return ax.figure
