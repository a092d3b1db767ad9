"""Monte-Carlo walkers against the exact chain; reproducibility across thread counts."""

import numba
import numpy as np
import pytest
from scipy.stats import norm

from deeplimits.capacity import ConvLayer, propagate, residual_stack, run_walkers, walker_capacity


def _max_z(exact, est, n):
    """Largest standardised deviation over bins with n*p >= 10 (normal regime), the rest pooled.

    Each bin count is Binomial(n, p): sd = sqrt(p (1 - p) / n).  The pooled remainder and the
    dead fraction are further binomial bins.
    """
    p = exact.ravel()
    q = est.ravel()
    big = n * p >= 10
    bins_p = list(p[big]) + [p[~big].sum(), 1 - p.sum()]
    bins_q = list(q[big]) + [q[~big].sum(), 1 - q.sum()]
    z = [abs(a - b) / np.sqrt(b * (1 - b) / n) for a, b in zip(bins_q, bins_p) if n * b >= 10]
    return max(z), len(z)


def _threshold(m):
    # Bonferroni over m bins: family-wise false-alarm probability 1e-3 for a correct sampler.
    return norm.isf(1e-3 / (2 * m))


CASES = {
    "periodic_1d": (residual_stack([1.0, 2.0, 1.0], 40, a=2.0), (30,), (15,)),
    "sink_absorbing_causal_dilated": (residual_stack([1.0, 0.5, 2.0], 25, a=2.5, causal=True, dilation=2,
                                                     bias=0.6, padding="zero"), (40,), (35,)),
    "reflecting_1d": (residual_stack([1.0, 1.0, 1.0], 60, a=3.0, padding="reflecting"), (12,), (2,)),
    "periodic_2d": (residual_stack(np.array([[0.5, 1.0, 0.5], [1.0, 2.0, 1.0], [0.5, 1.0, 0.5]]), 20, a=2.0),
                    (11, 9), (5, 4)),
    "varied_plain_and_residual": ((ConvLayer([1.0, 1.0]), ConvLayer([1.0, 2.0, 1.0], alpha=0.5, bias=0.3),
                                   ConvLayer([2.0, 1.0, 1.0], causal=True, padding="zero"),
                                   ConvLayer([1.0, 3.0, 1.0], alpha=0.9, dilation=3)), (20,), (10,)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_walkers_match_exact_chain(case):
    layers, shape, at = CASES[case]
    c = np.zeros(shape)
    c[at] = 1.0
    exact = propagate(layers, c)
    n = 200_000
    est = walker_capacity(layers, c, n, seed=11)
    z, m = _max_z(exact, est, n)
    assert z < _threshold(m), (z, m)


def test_walkers_random_start_distribution():
    layers = residual_stack([1.0, 1.0, 1.0], 10, a=1.0)
    c = np.random.default_rng(2).uniform(size=16)
    c /= c.sum()
    n = 100_000
    z, m = _max_z(propagate(layers, c), walker_capacity(layers, c, n, seed=5), n)
    assert z < _threshold(m)


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
