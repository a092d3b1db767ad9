"""Chunks of Monte-Carlo paths on a dask.distributed cluster: bit-identical to the one-piece run."""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from deeplimits.networks import gram_from_correlation, relu_mlp  # noqa: E402
from deeplimits.parallel import as_executor  # noqa: E402
from deeplimits.sde import brownian_increments, solve, uniform_grid  # noqa: E402
from deeplimits.sde.models import gbm  # noqa: E402

G = uniform_grid(0.0, 1.0, 16)
GRAM = gram_from_correlation(0.4)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_client_is_turned_into_its_executor(client):
    executor = as_executor(client)
    assert callable(executor.submit) and executor is not client


@pytest.mark.parametrize("scheme", ["euler", "milstein"])
def test_solve_on_the_cluster_is_bit_identical(client, scheme):
    whole = solve(gbm(), [1.0], G, n_paths=9, seed=3, first_path=4, scheme=scheme)
    for executor in (client, client.get_executor()):
        split = solve(gbm(), [1.0], G, n_paths=9, seed=3, first_path=4, scheme=scheme, executor=executor, chunk_size=2)
        assert np.array_equal(split.ys, whole.ys)
        assert split.stats["n_chunks"] == 5
        for key in ("n_paths", "n_failed", "n_exits", "first_path"):
            assert split.stats[key] == whole.stats[key]


@pytest.mark.parametrize("engine", ["gram", "dense"])
def test_network_engine_on_the_cluster_is_bit_identical(client, engine):
    whole = relu_mlp(GRAM, 6, 3, 7, engine=engine, seed=1)
    split = relu_mlp(GRAM, 6, 3, 7, engine=engine, seed=1, executor=client, chunk_size=3)
    for name in ("ys", "sqnorm", "one_minus_corr"):
        assert np.array_equal(getattr(split, name), getattr(whole, name), equal_nan=True)
    assert split.stats["n_nets"] == 7


def test_failed_task_names_its_path_range(client):
    dW = brownian_increments(G, n_paths=6, seed=2)
    dW[4, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"solve failed on paths \[4, 6\)") as info:
        solve(gbm(), [1.0], G, dW=dW, executor=client, chunk_size=2)
    assert isinstance(info.value.__cause__, ValueError)
