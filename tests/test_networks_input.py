"""Bad input to deeplimits.networks gives a ValueError naming the argument."""

import numpy as np
import pytest

from deeplimits.networks import gram_from_correlation, leaky_mlp, relu_mlp, resnet, shaped_mlp, shaped_slopes

G = gram_from_correlation(0.5)


@pytest.mark.parametrize("engine", ["gram", "dense"])
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(width=0), "width"),
        (dict(width=2.5), "width"),
        (dict(depth=0), "depth"),
        (dict(depth=-3), "depth"),
        (dict(n_nets=0), "n_nets"),
        (dict(seed=-1), "seed"),
        (dict(save=[7]), "save"),
    ],
)
def test_bad_sizes(engine, kw, match):
    args = dict(width=4, depth=3, n_nets=2, engine=engine) | kw
    with pytest.raises(ValueError, match=match):
        relu_mlp(G, **args)
    with pytest.raises(ValueError, match=match):
        resnet(G, **args)


def test_bad_engine():
    with pytest.raises(ValueError, match="engine"):
        relu_mlp(G, 4, 3, 2, engine="sparse")


@pytest.mark.parametrize(
    "gram,match",
    [
        (np.eye(1), "m >= 2"),
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, 0.5], [0.4, 1.0]]), "symmetric"),
        (np.array([[1.0, 1.5], [1.5, 1.0]]), "outside"),
        (np.array([[1.0, 0.0], [0.0, 0.0]]), "positive diagonal"),
        (np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]), "positive semi-definite"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "finite"),
    ],
)
def test_bad_gram(gram, match):
    with pytest.raises(ValueError, match=match):
        relu_mlp(gram, 4, 3, 2)
    with pytest.raises(ValueError, match=match):
        resnet(gram, 4, 3, 2)


def test_bad_correlation_and_norms():
    with pytest.raises(ValueError, match="rho"):
        gram_from_correlation(1.0001)
    with pytest.raises(ValueError, match="rho"):
        gram_from_correlation(-1.5)
    with pytest.raises(ValueError, match="sqnorm"):
        gram_from_correlation(0.1, -1.0)


def test_non_monotone_shaping():
    # s_minus = 1 + c_minus / sqrt(n) < 0 for c_minus < -sqrt(n): non-monotone activation
    with pytest.raises(ValueError, match="non-monotone"):
        shaped_mlp(G, width=16, depth=4, n_nets=2, c_plus=0.0, c_minus=-5.0)
    with pytest.raises(ValueError, match="non-monotone"):
        shaped_mlp(G, width=400, depth=4, n_nets=2, c_minus=-5.0, shaping="depth")
    shaped_mlp(G, width=16, depth=4, n_nets=2, c_minus=-4.0)  # s_minus = 0 is monotone (ReLU-like)
    with pytest.raises(ValueError, match="non-monotone"):
        leaky_mlp(G, 4, 3, 2, s_plus=-1.0, s_minus=1.0)
    with pytest.raises(ValueError, match="zero activation"):
        leaky_mlp(G, 4, 3, 2, s_plus=0.0, s_minus=0.0)
    with pytest.raises(ValueError, match="shaping"):
        shaped_mlp(G, 4, 3, 2, shaping="both")
    with pytest.raises(ValueError, match="finite"):
        shaped_slopes(np.inf, 0.0, 10)


def test_bad_sigma_r():
    with pytest.raises(ValueError, match="sigma_r"):
        resnet(G, 4, 3, 2, sigma_r=0.0)


def test_layer_not_saved():
    b = relu_mlp(G, 4, 3, 2, save=[0, 3])
    with pytest.raises(ValueError, match="not saved"):
        b.layer(2)


def test_shaped_slopes_and_normalisation():
    assert shaped_slopes(1.0, -1.0, 16) == (1.25, 0.75)
    b = shaped_mlp(G, width=16, depth=4, n_nets=2, c_plus=1.0, c_minus=-1.0, shaping="depth")
    assert (b.params["s_plus"], b.params["s_minus"]) == (1.5, 0.5)
    assert b.params["c"] == 2.0 / (1.5**2 + 0.5**2)
    b = shaped_mlp(G, width=16, depth=4, n_nets=2, c_plus=1.0, c_minus=-1.0, shaping="width")
    assert (b.params["s_plus"], b.params["s_minus"]) == (1.25, 0.75)


@pytest.mark.parametrize("engine", ["gram", "dense"])
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(seed=1.5), "seed"),
        (dict(seed=np.nan), "seed"),
        (dict(seed=True), "seed"),
        (dict(seed="0"), "seed"),
        (dict(width="abc"), "width"),
        (dict(width=np.inf), "width"),
        (dict(depth=np.nan), "depth"),
        (dict(n_nets=None), "n_nets"),
        (dict(save=[1.5]), "save"),
        (dict(save=[np.nan]), "save"),
        (dict(save=[]), "save"),
        (dict(save=[-1]), "save"),
    ],
)
def test_bad_types_and_non_finite_sizes(engine, kw, match):
    args = dict(width=4, depth=3, n_nets=2, engine=engine) | kw
    with pytest.raises(ValueError, match=match):
        relu_mlp(G, **args)


@pytest.mark.parametrize(
    "gram,match",
    [
        (np.array([[1.0, 0.5], [0.5, np.inf]]), "finite"),
        ([["a", "b"], ["c", "d"]], "gram0"),
    ],
)
def test_non_finite_or_non_numeric_gram(gram, match):
    with pytest.raises(ValueError, match=match):
        relu_mlp(gram, 4, 3, 2)


@pytest.mark.parametrize("kw", [dict(s_plus=np.nan), dict(s_minus=np.inf), dict(s_plus="x")])
def test_non_finite_slopes(kw):
    with pytest.raises(ValueError, match="s_plus, s_minus"):
        leaky_mlp(G, 4, 3, 2, **kw)


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0, "x"])
def test_non_finite_sigma_r(value):
    with pytest.raises(ValueError, match="sigma_r"):
        resnet(G, 4, 3, 2, sigma_r=value)


def test_non_finite_correlation_norms_and_shaping():
    with pytest.raises(ValueError, match="rho"):
        gram_from_correlation(np.nan)
    with pytest.raises(ValueError, match="rho"):
        gram_from_correlation("x")
    with pytest.raises(ValueError, match="sqnorm"):
        gram_from_correlation(0.1, (1.0, np.inf))
    with pytest.raises(ValueError, match="finite"):
        shaped_mlp(G, 16, 4, 2, c_plus=np.nan)
