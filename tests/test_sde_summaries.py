"""Streaming summaries of ``solve``: exact agreement with the paths, bit-identity across chunk sizes."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from deeplimits.sde import (
    Histogram,
    Moments,
    Quantiles,
    Reducer,
    SummarySolution,
    models,
    solve,
    summaries,
    uniform_grid,
)

GRID = uniform_grid(0.0, 1.0, 8)
SAVE = [0.0, 0.5, 1.0]
EDGES = np.linspace(-2.0, 3.0, 21)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 100 paths, so that small runs cross many block boundaries."""
    monkeypatch.setattr(summaries, "BLOCK_PATHS", 100)


def _run(n_paths=1234, **kw):
    spec = [Moments(order=4), Histogram(EDGES)]
    return solve(models.ornstein_uhlenbeck(), [1.0], GRID, saveat=SAVE, n_paths=n_paths, seed=7, summary=spec, **kw)


def _equal(a: SummarySolution, b: SummarySolution) -> bool:
    ma, mb = a.moments, b.moments
    same = [
        np.array_equal(x, y, equal_nan=True)
        for x, y in zip(
            (ma.count, ma.mean, ma.var, ma.skewness, ma.kurtosis),
            (mb.count, mb.mean, mb.var, mb.skewness, mb.kurtosis),
            strict=True,
        )
    ]
    return all(same) and np.array_equal(a.histogram.counts, b.histogram.counts)


def test_summaries_agree_with_the_paths(small_blocks):
    sol = _run()
    ys = solve(models.ornstein_uhlenbeck(), [1.0], GRID, saveat=SAVE, n_paths=1234, seed=7).ys
    m = sol.moments
    np.testing.assert_array_equal(m.count, np.full((3, 1), 1234))
    np.testing.assert_allclose(m.mean, ys.mean(axis=0), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(m.var[1:], ys.var(axis=0, ddof=1)[1:], rtol=1e-12)
    d = ys[:, 1:] - ys[:, 1:].mean(axis=0)
    pop = (d**2).mean(axis=0)
    np.testing.assert_allclose(m.skewness[1:], (d**3).mean(axis=0) / pop**1.5, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m.kurtosis[1:], (d**4).mean(axis=0) / pop**2 - 3.0, rtol=1e-10)
    h = sol.histogram
    for j in range(3):
        np.testing.assert_array_equal(h.counts[j, 0], np.histogram(ys[:, j, 0], EDGES)[0])
        below, above = int((ys[:, j, 0] < EDGES[0]).sum()), int((ys[:, j, 0] > EDGES[-1]).sum())
        assert h.outside[j, 0].tolist() == [below, above, 0]
    # 12 whole blocks of 100 merged along the tree into nodes of 8 and 4 blocks, and the 34 paths of block 12
    assert sol.stats["n_paths"] == 1234 and [seg[:4] for seg in sol.segments] == [
        (3, 0, 0, 800),
        (2, 2, 800, 1200),
        (0, 12, 1200, 1234),
    ]


@pytest.mark.parametrize("chunk_size", [3, 37, 100, 250, 1233])
def test_bit_identical_for_any_chunk_size(small_blocks, chunk_size):
    whole = _run()
    assert _equal(_run(chunk_size=chunk_size), whole)


def test_bit_identical_with_an_executor_and_an_offset_start(small_blocks):
    whole = _run(n_paths=500, first_path=30)
    with ThreadPoolExecutor(2) as ex:
        split = _run(n_paths=500, first_path=30, executor=ex, chunk_size=64)
    assert _equal(split, whole) and split.stats["n_chunks"] == 8
    joined = SummarySolution.concat([_run(n_paths=170, first_path=30), _run(n_paths=330, first_path=200)])
    assert _equal(joined, whole)


def test_real_block_size_and_per_path_start():
    n = summaries.BLOCK_PATHS + 5
    y0 = np.linspace(0.5, 1.5, n)[:, None]
    kw = dict(saveat=[1.0], seed=1, summary=Moments())
    a = solve(models.ornstein_uhlenbeck(), y0, uniform_grid(0.0, 1.0, 2), **kw)
    b = solve(models.ornstein_uhlenbeck(), y0, uniform_grid(0.0, 1.0, 2), chunk_size=40_000, **kw)
    assert np.array_equal(a.moments.mean, b.moments.mean) and np.array_equal(a.moments.var, b.moments.var)
    ys = solve(models.ornstein_uhlenbeck(), y0, uniform_grid(0.0, 1.0, 2), saveat=[1.0], seed=1).ys
    np.testing.assert_allclose(a.moments.mean, ys.mean(axis=0), rtol=1e-12)


def test_failed_paths_are_left_out_of_moments_and_counted(small_blocks):
    y0 = np.ones((150, 1))
    y0[3] = 1e308  # GBM overflows to inf on this path
    spec = [Moments(), Histogram(EDGES)]
    with pytest.warns(RuntimeWarning, match="failed"):
        sol = solve(models.gbm(), y0, GRID, saveat=[1.0], seed=0, nonfinite="keep", summary=spec)
    assert sol.stats["n_failed"] == 1
    assert sol.moments.count[0, 0] == 149
    assert sol.histogram.outside[0, 0, 2] == 1
    with pytest.raises(ValueError, match="path 3"):
        solve(models.gbm(), y0, GRID, seed=0, summary=spec)


def test_bad_summary_arguments():
    with pytest.raises(TypeError, match="summary"):
        solve(models.gbm(), [1.0], GRID, summary="mean")
    with pytest.raises(ValueError, match="order"):
        Moments(order=5)
    with pytest.raises(ValueError, match="edges"):
        Histogram([1.0, 0.0])
    with pytest.raises(AttributeError, match="Histogram"):
        _ = solve(models.gbm(), [1.0], GRID, n_paths=3, summary=Moments()).histogram


# ----------------------------------------------------------------------------- quantile sketch and user reducers

PROBS = [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0]


def _row_max(v):
    return v.max(axis=0)


def _run_sketches(n_paths=1234, **kw):
    spec = [Quantiles(PROBS, relative_accuracy=0.01), Reducer(reduce=_row_max, merge=np.maximum, name="max")]
    return solve(models.ornstein_uhlenbeck(), [1.0], GRID, saveat=SAVE, n_paths=n_paths, seed=7, summary=spec, **kw)


def test_quantiles_are_within_the_relative_accuracy_of_the_order_statistics(small_blocks):
    sol = _run_sketches()
    ys = solve(models.ornstein_uhlenbeck(), [1.0], GRID, saveat=SAVE, n_paths=1234, seed=7).ys
    q = sol.quantiles
    assert q.values.shape == (3, 1, len(PROBS)) and np.all(q.count == 1234) and np.all(q.nonfinite == 0)
    # the OU paths cross 0 by t = 1, so both signs of the sketch are used
    assert (ys[:, 2, 0] < 0).any() and (ys[:, 2, 0] > 0).any()
    for j in range(3):
        x = np.sort(ys[:, j, 0])
        exact = x[np.floor(np.asarray(PROBS) * (x.size - 1)).astype(int)]
        # DDSketch guarantee |q - x_(r)| <= alpha |x_(r)|; 1e-12 covers the rounding of log/ceil at bucket edges
        np.testing.assert_array_less(np.abs(q.values[j, 0] - exact), 0.01 * np.abs(exact) * (1 + 1e-12) + 1e-300)
    np.testing.assert_array_equal(sol.summaries[1], ys.max(axis=0))


def test_quantile_sketch_counts_zeros_and_nonfinite_states():
    spec = Quantiles([0.0, 0.5, 1.0], relative_accuracy=0.05)
    v = np.array([-2.0, 0.0, 0.0, 3.0, np.inf])[:, None, None]
    res = spec.finish(spec.reduce(v))
    assert res.count[0, 0] == 4 and res.nonfinite[0, 0] == 1
    assert res.values[0, 0, 1] == 0.0  # rank floor(0.5 * 3) = 1 is a zero
    np.testing.assert_allclose(res.values[0, 0, [0, 2]], [-2.0, 3.0], rtol=0.05)
    empty = spec.finish(spec.reduce(np.full((2, 1, 1), np.nan)))
    assert np.isnan(empty.values).all() and empty.count[0, 0] == 0


@pytest.mark.parametrize("chunk_size", [3, 100, 777])
def test_sketches_bit_identical_for_any_chunk_size_and_executor(small_blocks, chunk_size):
    whole = _run_sketches()
    with ThreadPoolExecutor(2) as ex:
        split = _run_sketches(chunk_size=chunk_size, executor=ex)
    assert np.array_equal(split.quantiles.values, whole.quantiles.values)
    assert np.array_equal(split.summaries[1], whole.summaries[1])


def test_bad_sketch_arguments():
    with pytest.raises(ValueError, match="probs"):
        Quantiles([0.5, 1.5])
    with pytest.raises(ValueError, match="probs"):
        Quantiles([])
    for bad in (0.0, 0.7, float("nan")):
        with pytest.raises(ValueError, match="relative_accuracy"):
            Quantiles([0.5], relative_accuracy=bad)
    with pytest.raises(TypeError, match="reduce"):
        Reducer(reduce=3, merge=np.maximum)
    with pytest.raises(TypeError, match="name"):
        Reducer(reduce=_row_max, merge=np.maximum, name="")
    with pytest.raises(AttributeError, match="Quantiles"):
        _ = solve(models.gbm(), [1.0], GRID, n_paths=3, summary=Moments()).quantiles
