"""Streaming summaries of the network simulators: agreement with the networks, bit-identity across chunkings."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from deeplimits.networks import gram_from_correlation, relu_mlp, resnet, summarise_networks
from deeplimits.networks import summaries as network_summaries
from deeplimits.sde import Histogram, Moments, Quantiles, Reducer

GRAM = np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.1], [0.2, 0.1, 1.5]])


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 100 networks, so that small runs cross block boundaries."""
    monkeypatch.setattr(network_summaries, "BLOCK_NETS", 100)


def _col_max(v):
    return v.max(axis=0)


def _spec():
    return [
        Moments(order=3),
        Histogram(np.linspace(0.0, 1.0, 11)),
        Quantiles([0.1, 0.9]),
        Reducer(_col_max, np.maximum),
    ]


def test_states_order_and_summaries_agree_with_the_networks(small_blocks):
    b = resnet(GRAM, 16, 6, 450, seed=2, first_path=5, save=[0, 3, 6])
    s = b.states()
    assert s.shape == (450, 3, 6)
    np.testing.assert_array_equal(s[..., :3], b.sqnorm)
    np.testing.assert_array_equal(s[..., 3:], b.one_minus_corr[..., [0, 0, 1], [1, 2, 2]])
    save = {"save": [0, 3, 6]}
    sol = summarise_networks(resnet, GRAM, 16, 6, 450, summary=_spec(), seed=2, first_path=5, options=save)
    np.testing.assert_array_equal(sol.ts, [0.0, 3.0, 6.0])
    np.testing.assert_allclose(sol.moments.mean, s.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(sol.moments.var[1:], s.var(axis=0, ddof=1)[1:], rtol=1e-11)
    np.testing.assert_array_equal(sol.histogram.counts[2, 3], np.histogram(s[:, 2, 3], np.linspace(0.0, 1.0, 11))[0])
    np.testing.assert_array_equal(sol.summaries[3], s.max(axis=0))
    assert sol.stats["n_nets"] == 450 and sol.stats["arch"] == "resnet" and sol.stats["first_path"] == 5


@pytest.mark.parametrize("chunk_size", [1, 99, 130])
def test_bit_identical_for_any_chunk_size_and_executor(small_blocks, chunk_size):
    g = gram_from_correlation(0.5)
    whole = summarise_networks(relu_mlp, g, 32, 8, 400, summary=_spec(), seed=3)
    with ThreadPoolExecutor(2) as ex:
        size = max(chunk_size, 40)  # one network per task would only slow the test down
        split = summarise_networks(relu_mlp, g, 32, 8, 400, summary=_spec(), seed=3, executor=ex, chunk_size=size)
    local = summarise_networks(relu_mlp, g, 32, 8, 400, summary=_spec(), seed=3, chunk_size=chunk_size)
    for other in (split, local):
        assert np.array_equal(other.moments.mean, whole.moments.mean)
        assert np.array_equal(other.moments.var, whole.moments.var)
        assert np.array_equal(other.quantiles.values, whole.quantiles.values)
        assert np.array_equal(other.histogram.counts, whole.histogram.counts)
        assert other.stats["n_nets"] == 400


def test_bad_arguments_name_what_is_wrong():
    g = gram_from_correlation(0.5)
    with pytest.raises(TypeError, match="simulator"):
        summarise_networks("relu_mlp", g, 8, 2, 10, summary=Moments())
    with pytest.raises(TypeError, match="summary"):
        summarise_networks(relu_mlp, g, 8, 2, 10, summary="mean")
    with pytest.raises(ValueError, match="n_nets"):
        summarise_networks(relu_mlp, g, 8, 2, 2.5, summary=Moments())
    with pytest.raises(TypeError, match="progress"):
        summarise_networks(relu_mlp, g, 8, 2, 10, summary=Moments(), options={"progress": True})
    with pytest.raises(ValueError, match="width"):
        summarise_networks(relu_mlp, g, 0, 2, 10, summary=Moments())
