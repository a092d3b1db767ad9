"""Monte-Carlo entry points run in chunks (deeplimits.parallel): bit-identical to the one-piece run.

Every entry point is compared with its one-piece run for several chunk sizes (1, a non-divisor of the
number of paths, more than the number of paths), here and on a spawn-started process pool.
"""

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import fields, is_dataclass

import numba
import numpy as np
import pytest

from deeplimits._solution import Solution
from deeplimits.capacity import (
    CapacityEstimate,
    ConvResNet,
    WalkerResult,
    capacity_profile,
    residual_stack,
    run_walkers,
    walker_capacity,
)
from deeplimits.convergence import strong_order, weak_order
from deeplimits.correlation import sample_covariance, sample_q
from deeplimits.correlation.depth import sample_one_layer
from deeplimits.correlation.shaped_sde import sample_correlation
from deeplimits.correlation.unshaped import J_sde
from deeplimits.networks import gram_from_correlation, relu_mlp, resnet, shaped_mlp
from deeplimits.parallel import ChunkError, combine_chunks, path_chunks, run_in_chunks
from deeplimits.resnet import exact_resnets, random_resnets
from deeplimits.sde import brownian_increments, kernels, solve, uniform_grid
from deeplimits.sde.models import gbm

N = 7
G = uniform_grid(0.0, 1.0, 16)
GRAM = gram_from_correlation(0.4)
STACK = residual_stack([1.0, 2.0, 1.0], 8, a=1.0)
C_OUT = np.eye(9)[4]
NET = ConvResNet([1.0, 1.0, 1.0], depth=2, channels=2, alpha=0.3, grid=7, seed=0, activation="relu")
DW = brownian_increments(G, n_paths=N, seed=4)
Y0 = np.linspace(0.5, 1.5, N)[:, None]
V0 = np.array([[1.0, 0.3], [0.3, 2.0]])
H0 = np.array([[1.0, 2.0, 3.0]])  # Y0 @ H0: one input per network

RUNS = {
    "solve euler": lambda **kw: solve(gbm(), [1.0], G, n_paths=N, seed=3, first_path=2, **kw),
    "solve milstein": lambda **kw: solve(J_sde(), [0.0], G, n_paths=N, seed=3, scheme="milstein", **kw),
    "solve dW and y0 rows": lambda **kw: solve(gbm(), Y0, G, dW=DW, scheme="milstein", **kw),
    "relu_mlp gram": lambda **kw: relu_mlp(GRAM, 6, 3, N, seed=1, first_path=5, **kw),
    "relu_mlp dense": lambda **kw: relu_mlp(GRAM, 6, 3, N, engine="dense", seed=1, **kw),
    "shaped_mlp dense": lambda **kw: shaped_mlp(GRAM, 6, 3, N, engine="dense", seed=1, save="last", **kw),
    "resnet gram": lambda **kw: resnet(GRAM, 6, 3, N, seed=1, **kw),
    "run_walkers": lambda **kw: run_walkers(STACK, C_OUT, N, seed=2, first_path=3, **kw),
    "walker_capacity": lambda **kw: walker_capacity(STACK, C_OUT, N, seed=2, **kw),
    "capacity_profile": lambda **kw: capacity_profile(NET, N, seed=1, batch=1, **kw),
    "random_resnets iid": lambda **kw: random_resnets("res3", N, 3, 4, 0.5, seed=2, **kw),
    "random_resnets fgn": lambda **kw: random_resnets("res1", N, 3, 4, 0.5, "fgn", hurst=0.7, h0=Y0 @ H0, **kw),
    "exact_resnets": lambda **kw: exact_resnets("cohen", N, 3, 4, 0.5, seed=2, save_trajectories=True, **kw),
    "sample_q": lambda **kw: sample_q([0.25, 0.5], n_paths=N, seed=7, n_steps_per_unit=16, **kw),
    "sample_correlation": lambda **kw: sample_correlation(0.4, 1.0, n_paths=N, seed=7, n_steps=8, **kw),
    "sample_covariance": lambda **kw: sample_covariance(V0, 1.0, n_paths=N, seed=7, n_steps=8, first_path=1, **kw),
    "sample_one_layer": lambda **kw: sample_one_layer(0.3, 20, N, seed=7, **kw),
    "strong_order": lambda **kw: strong_order(gbm(), [1.0], 1.0, n_steps=(4, 8), ref_factor=2, n_paths=N, **kw),
    "weak_order": lambda **kw: weak_order(
        gbm(), [1.0], 1.0, lambda y: y[:, 0] ** 2, n_steps=(4, 8), ref_factor=2, n_paths=N, n_boot=100, **kw
    ),
}

# run metadata that depends on the run, not on the paths
TIMING = {"wall_time", "path_steps_per_second", "n_chunks"}


def assert_same(a, b, where="result"):
    """Exact equality of results: arrays bit for bit (NaN where NaN), stats except timings."""
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        keys = set(a) - TIMING
        assert keys == set(b) - TIMING, where
        for k in keys:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif is_dataclass(a):
        for f in fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def pool():
    # spawn: a pool forked after Numba's OpenMP threads started would die on its first kernel
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        yield ex


@pytest.mark.parametrize("name", sorted(RUNS))
def test_local_chunks_are_bit_identical(name):
    whole = RUNS[name]()
    for chunk_size in (1, 3, 50):
        assert_same(RUNS[name](chunk_size=chunk_size), whole, f"{name}, chunk_size={chunk_size}")


@pytest.mark.parametrize("name", sorted(RUNS))
def test_process_pool_chunks_are_bit_identical(name, pool):
    assert_same(RUNS[name](executor=pool, chunk_size=3), RUNS[name](), name)


def test_default_chunk_size_with_an_executor(pool):
    split = relu_mlp(GRAM, 6, 3, 70, seed=1, executor=pool)
    assert split.stats["n_chunks"] == 24  # ceil(70 / DEFAULT_TASKS) = 3 networks per chunk
    assert_same(split, relu_mlp(GRAM, 6, 3, 70, seed=1))


def test_combined_stats():
    whole = solve(gbm(), [1.0], G, n_paths=N, seed=3, first_path=2)
    split = solve(gbm(), [1.0], G, n_paths=N, seed=3, first_path=2, chunk_size=3)
    assert split.stats["n_chunks"] == 3
    for key in ("n_paths", "n_failed", "n_exits", "first_path", "seed", "n_steps", "scheme"):
        assert split.stats[key] == whole.stats[key], key
    assert split.stats["wall_time"] > 0
    nets = relu_mlp(GRAM, 6, 3, N, seed=1, chunk_size=2)
    assert nets.stats["n_nets"] == N and nets.sqnorm.shape[0] == N and nets.params["c"] == 2.0


def _parts():
    return [solve(gbm(), [1.0], G, n_paths=n, seed=3, first_path=k) for n, k in ((2, 0), (3, 2))]


def test_concat_refuses_inconsistent_parts():
    a, b = _parts()
    assert Solution.concat([a, b]).stats["n_paths"] == 5
    with pytest.raises(ValueError, match="not consecutive"):
        Solution.concat([b, a])
    with pytest.raises(ValueError, match="output times"):
        Solution.concat([a, solve(gbm(), [1.0], uniform_grid(0.0, 2.0, 16), n_paths=3, seed=3, first_path=2)])
    with pytest.raises(ValueError, match="seed"):
        Solution.concat([a, solve(gbm(), [1.0], G, n_paths=3, seed=4, first_path=2)])
    with pytest.raises(ValueError, match="at least one"):
        Solution.concat([])
    est = capacity_profile(NET, 4)
    with pytest.raises(ValueError, match="deterministic"):
        CapacityEstimate.concat([est, est])
    with pytest.raises(TypeError, match="cannot combine"):
        combine_chunks([{"a": 1}])
    walkers = run_walkers(STACK, C_OUT, 3)
    with pytest.raises(ValueError, match="lattices"):
        WalkerResult.concat([walkers, run_walkers(STACK, np.eye(11)[5], 3)])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: solve(gbm(), [1.0], G, n_paths=N, chunk_size=0), ValueError, "chunk_size"),
        (lambda: solve(gbm(), [1.0], G, n_paths=N, chunk_size=2.5), ValueError, "chunk_size"),
        (lambda: solve(gbm(), [1.0], G, n_paths=N, executor=object()), TypeError, "executor"),
        (lambda: relu_mlp(GRAM, 6, 3, N, chunk_size=0), ValueError, "chunk_size"),
        (lambda: relu_mlp(GRAM, 6, 3, N, chunk_size=2.5), ValueError, "chunk_size"),
        (lambda: relu_mlp(GRAM, 6, 3, N, executor=object()), TypeError, "executor"),
        (lambda: relu_mlp(GRAM, 6, 3, 0, chunk_size=2), ValueError, "n_nets"),
        (lambda: capacity_profile(NET, 8, batch=2, chunk_size=3), ValueError, "multiple of batch"),
        (lambda: capacity_profile(NET, 8, chunk_size=0), ValueError, "chunk_size"),
        (lambda: solve(gbm(), Y0, G, n_paths=N + 1, chunk_size=2), ValueError, "y0"),
        (lambda: path_chunks(5, 0), ValueError, "chunk_size"),
        (lambda: path_chunks(5, 2, first_path=-1), ValueError, "first_path"),
        (lambda: run_in_chunks(np.zeros, n_paths=4, executor=object()), TypeError, "executor"),
        (lambda: run_in_chunks(np.zeros, n_paths=4, threads_per_task=0), ValueError, "threads_per_task"),
        (lambda: run_in_chunks(None, n_paths=4), TypeError, "func"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _bad_increments():
    dW = DW.copy()
    dW[5, 3, 0] = np.nan
    return dW


def test_failed_chunk_names_its_path_range(pool):
    for executor in (None, pool):
        with pytest.raises(ValueError, match=r"solve failed on paths \[14, 16\).*dW") as info:
            solve(gbm(), [1.0], G, dW=_bad_increments(), first_path=10, chunk_size=2, executor=executor)
        assert isinstance(info.value.__cause__, ValueError)


def test_error_without_a_message_constructor_becomes_chunk_error():
    class Strict(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    def fail(n_paths, first_path):
        raise Strict(1, 2)

    with pytest.raises(ChunkError, match=r"fail failed on paths \[0, 2\)") as info:
        run_in_chunks(fail, n_paths=4, chunk_size=2)
    assert isinstance(info.value.__cause__, Strict)


def _threads(n_paths, first_path):
    return np.full(n_paths, numba.get_num_threads())


def test_threads_per_task_is_set_inside_the_task_and_restored():
    before = numba.get_num_threads()
    assert run_in_chunks(_threads, n_paths=3, chunk_size=1, threads_per_task=1).tolist() == [1, 1, 1]
    assert numba.get_num_threads() == before
    assert run_in_chunks(_threads, n_paths=2).tolist() == [before] * 2  # local default: Numba's setting
    with ThreadPoolExecutor(1) as ex:  # with an executor the default is one thread per task
        assert run_in_chunks(_threads, n_paths=2, executor=ex).tolist() == [1, 1]


def _kernel_cache_misses(n_paths, first_path):
    for seed in range(3):
        solve(gbm(), [1.0], G, n_paths=n_paths, seed=seed, first_path=first_path)
    return np.array([sum(kernels.euler_kernel.stats.cache_misses.values())])


def test_pool_workers_load_the_kernels_from_the_cache(pool):
    solve(gbm(), [1.0], G, n_paths=2)  # compiled (or loaded) here, so the on-disk cache exists
    misses = run_in_chunks(_kernel_cache_misses, n_paths=4, chunk_size=1, executor=pool)
    assert misses.tolist() == [0, 0, 0, 0]
