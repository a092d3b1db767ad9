"""Tests of the counter-based random streams (deeplimits.rng)."""

import numba as nb
import numpy as np
import pytest

from deeplimits import rng


def test_normal_moments_within_4_standard_errors():
    n = 400_000
    z = rng.normal_array(7, (400, 1000)).ravel()
    assert z.size == n
    # 4 standard errors: mean se = 1/sqrt(n); variance se = sqrt(2/n); 4th moment se = sqrt(96/n)
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(np.mean(z**4) - 3) < 4 * np.sqrt(96 / n)


def test_uniform_open_interval_and_mean():
    u = rng.uniform_array(3, (100, 1000))
    assert u.min() > 0 and u.max() < 1
    n = u.size
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)


def test_streams_uncorrelated():
    z = rng.normal_array(11, (2000, 64))
    c = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert abs(c) < 4 / np.sqrt(2000)


def test_same_seed_bit_identical_and_thread_independent():
    a = rng.normal_array(5, (64, 33))
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        b = rng.normal_array(5, (64, 33))
    finally:
        nb.set_num_threads(old)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, rng.normal_array(6, (64, 33)))


def test_row_i_is_stream_i():
    a = rng.normal_array(9, (10, 8))
    b = rng.normal_array(9, (3, 8))
    assert np.array_equal(a[:3], b)


def test_first_stream_draws_a_batch_in_chunks_with_the_same_numbers():
    whole = rng.normal_array(9, (10, 7))
    chunks = [rng.normal_array(9, (4, 7), first_stream=0), rng.normal_array(9, (6, 7), first_stream=4)]
    assert np.array_equal(np.concatenate(chunks), whole)
    assert np.array_equal(rng.uniform_array(9, (3, 5), first_stream=2), rng.uniform_array(9, (5, 5))[2:])


def test_fill_normals_matches_row_of_normal_array():
    # odd length: the last pair's second value is discarded, as in normal_array
    @nb.njit
    def draw(seed, stream, m):
        out = np.empty(m)
        rng.fill_normals(rng.stream_state(seed, stream), out)
        return out

    assert np.array_equal(draw(3, 5, 7), rng.normal_array(3, (6, 7))[5])


def test_bad_seed_and_shape():
    with pytest.raises(ValueError, match="seed"):
        rng.normal_array(-1, (2, 2))
    with pytest.raises(ValueError, match="shape"):
        rng.uniform_array(0, (2, -1))
    with pytest.raises(ValueError, match="first_stream"):
        rng.normal_array(0, (2, 2), first_stream=-1)
