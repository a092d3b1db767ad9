"""Monte-Carlo walkers against the exact chain; reproducibility across thread counts."""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest
from scipy.stats import chi2

from deeplimits.capacity import (
    ConvLayer,
    propagate,
    residual_stack,
    run_walkers,
    walker_capacity,
    walkers,
)


def _chi2_pvalue(exact, est, n):
    """Multinomial chi-square goodness of fit of the walker histogram to the exact chain.

    Bins with n p >= 100 (binomial skewness < 0.1) are kept, the rest pooled, and the dead
    fraction is one more bin; (bins - 1) degrees of freedom.
    """
    p = exact.ravel()
    q = est.ravel()
    big = n * p >= 100
    bp = np.array(list(p[big]) + [p[~big].sum(), max(1 - p.sum(), 0.0)])
    bq = np.array(list(q[big]) + [q[~big].sum(), 1 - q.sum()])
    keep = bp > 0
    bp, bq = bp[keep], bq[keep]
    return chi2.sf(n * np.sum((bq - bp) ** 2 / bp), len(bp) - 1)


CASES = {
    "periodic_1d": (residual_stack([1.0, 2.0, 1.0], 40, a=2.0), (30,), (15,)),
    "sink_absorbing_causal_dilated": (
        residual_stack([1.0, 0.5, 2.0], 25, a=2.5, causal=True, dilation=2, bias=0.6, padding="zero"),
        (40,),
        (35,),
    ),
    "reflecting_1d": (residual_stack([1.0, 1.0, 1.0], 60, a=3.0, padding="reflecting"), (12,), (2,)),
    "periodic_2d": (
        residual_stack(np.array([[0.5, 1.0, 0.5], [1.0, 2.0, 1.0], [0.5, 1.0, 0.5]]), 20, a=2.0),
        (11, 9),
        (5, 4),
    ),
    "varied_plain_and_residual": (
        (
            ConvLayer([1.0, 1.0]),
            ConvLayer([1.0, 2.0, 1.0], alpha=0.5, bias=0.3),
            ConvLayer([2.0, 1.0, 1.0], causal=True, padding="zero"),
            ConvLayer([1.0, 3.0, 1.0], alpha=0.9, dilation=3),
        ),
        (20,),
        (10,),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_walkers_match_exact_chain(case):
    layers, shape, at = CASES[case]
    c = np.zeros(shape)
    c[at] = 1.0
    exact = propagate(layers, c)
    n = 200_000
    est = walker_capacity(layers, c, n, seed=11)
    # a correct sampler fails with probability 1e-3 per case
    assert _chi2_pvalue(exact, est, n) > 1e-3


def test_walkers_random_start_distribution():
    layers = residual_stack([1.0, 1.0, 1.0], 10, a=1.0)
    c = np.random.default_rng(2).uniform(size=16)
    c /= c.sum()
    n = 100_000
    assert _chi2_pvalue(propagate(layers, c), walker_capacity(layers, c, n, seed=5), n) > 1e-3


def test_bit_identical_across_thread_counts():
    layers, shape, at = CASES["sink_absorbing_causal_dilated"]
    c = np.zeros(shape)
    c[at] = 1.0
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        r1 = run_walkers(layers, c, 5000, seed=3)
        numba.set_num_threads(default)
        r2 = run_walkers(layers, c, 5000, seed=3)
    finally:
        numba.set_num_threads(default)
    assert np.array_equal(r1.positions, r2.positions)
    assert np.array_equal(r1.alive, r2.alive)
    assert np.array_equal(r1.death_layer, r2.death_layer)
    r3 = run_walkers(layers, c, 5000, seed=4)
    assert not np.array_equal(r1.positions, r3.positions)


def test_walker_bad_input():
    layers = residual_stack([1.0, 1.0, 1.0], 3, a=1.0)
    with pytest.raises(ValueError, match="n_walkers"):
        run_walkers(layers, np.ones(5), 0)
    with pytest.raises(ValueError, match="seed"):
        run_walkers(layers, np.ones(5), 10, seed=-1)
    with pytest.raises(ValueError, match="positive total mass"):
        run_walkers(layers, np.zeros(5), 10)
    with pytest.raises(ValueError, match="layers must be non-empty"):
        run_walkers((), np.ones(5), 10)


def test_goodness_of_fit_has_power():
    # Negative control: walkers of a stack whose residual weight is 5% larger are rejected.
    layers = residual_stack([1.0, 2.0, 1.0], 40, a=2.0)
    wrong = residual_stack([1.0, 2.0, 1.0], 40, a=2.1)
    c = np.zeros(30)
    c[15] = 1.0
    n = 200_000
    assert _chi2_pvalue(propagate(layers, c), walker_capacity(wrong, c, n, seed=1), n) < 1e-6


@pytest.mark.parametrize("k", [1, 137, 999])
def test_split_batches_are_bit_identical(k):
    """Walker i draws from stream (seed, first_path + i): two batches reproduce one run exactly."""
    stack = residual_stack(np.ones((3, 3)), 12, a=1.5, padding="zero", bias=0.2)
    c = np.zeros((9, 9))
    c[4, 4] = 1.0
    whole = run_walkers(stack, c, 1000, seed=2**64 - 5)
    a = run_walkers(stack, c, k, seed=2**64 - 5)
    b = run_walkers(stack, c, 1000 - k, seed=2**64 - 5, first_path=k)
    for field in ("positions", "alive", "death_layer"):
        assert np.array_equal(getattr(whole, field), np.concatenate([getattr(a, field), getattr(b, field)]))
    sums = walker_capacity(stack, c, k, seed=3) * k + walker_capacity(stack, c, 1000 - k, seed=3, first_path=k) * (
        1000 - k
    )
    np.testing.assert_allclose(sums, walker_capacity(stack, c, 1000, seed=3) * 1000, atol=1e-9)


# ----------------------------------------------------------------------------- streaming counts


@pytest.fixture
def small_walker_blocks(monkeypatch):
    """Blocks of 1,000 walkers, so that small runs cross block boundaries."""
    monkeypatch.setattr(walkers, "BLOCK_WALKERS", 1000)


def test_streamed_capacity_equals_the_walkers_it_replaces(small_walker_blocks):
    stack, c = residual_stack([1.0, 2.0, 1.0], 16, a=1.0), np.eye(9)[4]
    res = run_walkers(stack, c, 4321, seed=3, first_path=17)
    est = walker_capacity(stack, c, 4321, seed=3, first_path=17)  # 5 blocks of 1,000 walkers
    assert np.array_equal(est, res.capacity())
    assert np.isclose(est.sum() * 4321, res.alive.sum(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("chunk_size", [1, 999, 2500])
def test_streamed_capacity_bit_identical_for_any_chunking_and_executor(small_walker_blocks, chunk_size):
    stack, c = residual_stack([1.0, 0.5, 2.0], 8, a=2.5, bias=0.6, padding="zero"), np.eye(7)[3]
    whole = walker_capacity(stack, c, 3000, seed=5)
    assert whole.sum() < 1.0  # the sinks absorb walkers: counts below n_walkers are merged too
    with ThreadPoolExecutor(2) as ex:
        split = walker_capacity(stack, c, 3000, seed=5, executor=ex, chunk_size=max(chunk_size, 700))
    assert np.array_equal(split, whole)
    assert np.array_equal(walker_capacity(stack, c, 3000, seed=5, chunk_size=chunk_size), whole)
    with pytest.raises(TypeError, match="save"):
        walker_capacity(stack, c, 10, save="all")
