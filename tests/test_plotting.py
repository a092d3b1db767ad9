"""The house style and the public plotting helpers of deeplimits.plotting."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from deeplimits.capacity.kfe import Grid2D, KFEResult, lattice_1d
from deeplimits.convergence import OrderResult
from deeplimits.plotting import (
    ci_label,
    legend_outside,
    plot_kfe_profiles,
    plot_law,
    plot_orders,
    plot_regime_map,
    savefig,
    series_style,
)
from deeplimits.resnet.regimes import RegimeMap


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _order(label, ci=(0.978, 0.983)):
    hs = np.array([0.1, 0.05, 0.025, 0.0125])
    return OrderResult("strong", label, hs, hs.copy(), 0.01 * hs, 0.98, ci, 1.0, 100, label)


def test_palette_has_at_least_12_distinct_styles_and_distinct_colours_first():
    styles = [tuple(series_style(i).values()) for i in range(60)]
    assert len(set(styles)) == 60
    assert len({series_style(i)["color"] for i in range(10)}) == 10


def test_ci_label_uses_enough_digits_and_omits_missing_intervals():
    assert ci_label(0.98, 0.9775, 0.9826) == "0.980 [0.978, 0.983]"
    assert ci_label(0.98, 0.9801, 0.98012) == "0.98000 [0.98010, 0.98012]"
    assert "nan" not in ci_label(1.0, np.nan, np.nan)


def test_plot_orders_returns_figure_with_legend_outside_and_labelled_axes():
    fig = plot_orders([_order(f"scheme {i}") for i in range(15)] + [_order("no CI", (np.nan, np.nan))])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "scheme 0: 0.980 [0.978, 0.983]" and texts[-1] == "no CI: 0.98"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert "step size h" in ax.get_xlabel() and "error" in ax.get_ylabel()
    # The labelled x ticks are the step sizes, as fractions, and none overlap.
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels == ["1/80", "1/40", "1/20", "1/10"]


def test_plot_orders_draws_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot_orders([_order("a")], ax=axes[1], title="t") is fig
    assert axes[1].get_title() == "t" and not axes[0].lines


def test_savefig_keeps_outside_legend_in_the_image(tmp_path):
    fig = plot_orders([_order("a long label that sits outside the axes")])
    path = savefig(fig, tmp_path / "orders.png", dpi=50)
    width = plt.imread(path).shape[1]
    assert width > fig.get_size_inches()[0] * 50  # the legend widened the image: nothing was clipped


def test_plot_law_kfe_profiles_and_regime_map_return_figures():
    rng = np.random.default_rng(0)
    fig = plot_law({"n = 64": rng.normal(size=300)}, density=([0, 1], [0.4, 0.2]), xlabel="y (1)")
    assert isinstance(fig, Figure) and fig.axes[0].get_xlabel() == "y (1)"
    res = KFEResult(ts=np.array([0.0, 0.5, 1.0]), ys=np.full((3, 5), 0.2), grid=lattice_1d(5))
    fig = plot_kfe_profiles(res, depths=[1.0], references={"chain": (np.arange(5), np.full(5, 0.2))})
    assert [ln.get_label() for ln in fig.axes[0].lines] == ["KFE, depth t = 1", "chain"]
    assert "capacity" in fig.axes[0].get_ylabel()
    two_d = KFEResult(ts=np.array([0.0]), ys=np.ones((1, 3, 3)), grid=Grid2D.square(0.0, 1.0, 3))
    with pytest.raises(ValueError, match="1-D KFE solution"):
        plot_kfe_profiles(two_d)
    m = RegimeMap(np.array([0.2, 0.8]), np.array([0.3, 0.6]), (16, 64), np.zeros((2, 2, 2)), np.zeros((2, 2)))
    fig = plot_regime_map(m)
    assert "L = 64" in fig.axes[0].get_title() and len(fig.axes) == 2  # the map and its colour bar


def test_legend_outside_without_labels_is_none():
    _, ax = plt.subplots()
    ax.plot([0, 1])
    assert legend_outside(ax) is None
