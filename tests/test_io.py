"""Results in the ecosystem's formats: xarray Datasets, NetCDF and .npz files, short reprs."""

from __future__ import annotations

import numpy as np
import pytest

from deeplimits._solution import Solution
from deeplimits.capacity.kfe import Grid1D, Grid2D, KFEResult, lattice_1d
from deeplimits.networks import gram_from_correlation, relu_mlp
from deeplimits.resnet import random_resnets
from deeplimits.sde import models, solve, uniform_grid


def _same(a, b):
    assert type(a) is type(b)
    np.testing.assert_array_equal(a.ts, b.ts)
    np.testing.assert_array_equal(a.ys, b.ys)
    assert a.stats == b.stats


@pytest.fixture(scope="module")
def sde_solution():
    return solve(models.gbm(1.0, 0.5), [1.0], uniform_grid(0.0, 1.0, 16), n_paths=5, seed=3)


def test_solution_to_xarray_has_named_dims_and_round_trips_through_netcdf(sde_solution, tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("netCDF4")
    ds = sde_solution.to_xarray()
    assert ds["ys"].dims == ("path", "time", "dim")
    assert dict(ds.sizes) == {"path": 5, "time": 17, "dim": 1}
    np.testing.assert_array_equal(ds["time"].values, sde_solution.ts)
    assert ds.attrs["deeplimits_type"] == "Solution"
    path = sde_solution.save(tmp_path / "gbm.nc")
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back["ys"].values, sde_solution.ys)
    _same(Solution.load(path), sde_solution)


def test_solution_npz_round_trip_without_xarray(sde_solution, tmp_path):
    _same(Solution.load(sde_solution.save(tmp_path / "gbm.npz")), sde_solution)
    with pytest.raises(ValueError, match="must end in .npz or .nc"):
        sde_solution.save(tmp_path / "gbm.csv")


@pytest.mark.parametrize("suffix", [".npz", ".nc"])
def test_network_and_resnet_batches_round_trip(tmp_path, suffix):
    if suffix == ".nc":
        pytest.importorskip("xarray")
        pytest.importorskip("netCDF4")
    nets = relu_mlp(gram_from_correlation(0.5), width=8, depth=3, n_nets=2, seed=1)
    back = Solution.load(nets.save(tmp_path / f"nets{suffix}"))
    _same(back, nets)
    np.testing.assert_array_equal(back.one_minus_corr, nets.one_minus_corr)
    assert back.params == nets.params
    res = random_resnets("res1", n_nets=3, width=2, depth=4, beta=0.5, seed=1)
    back = Solution.load(res.save(tmp_path / f"res{suffix}"))
    _same(back, res)
    np.testing.assert_array_equal(back.norms, res.norms)
    assert back.params == res.params


def test_kfe_result_keeps_its_grid_and_coordinates(tmp_path):
    for grid in (lattice_1d(4), Grid2D(Grid1D(0.0, 1.0, 3), Grid1D(0.0, 2.0, 4, "reflecting"))):
        res = KFEResult(ts=np.array([0.0, 1.0]), ys=np.ones((2, *grid.shape)), grid=grid, stats={"dt": np.nan})
        back = Solution.load(res.save(tmp_path / "kfe.npz"))
        assert back.grid == grid and np.isnan(back.stats["dt"])
        np.testing.assert_array_equal(back.ys, res.ys)
    pytest.importorskip("xarray")
    ds = res.to_xarray()
    assert ds["ys"].dims == ("depth", "x", "y")
    np.testing.assert_allclose(ds["y"].values, grid.gy.x)


def test_load_refuses_another_type(tmp_path, sde_solution):
    path = sde_solution.save(tmp_path / "gbm.npz")
    with pytest.raises(ValueError, match="holds a Solution, not a KFEResult"):
        KFEResult.load(path)


def test_reprs_show_shapes_not_arrays():
    nets = relu_mlp(gram_from_correlation(0.5), width=8, depth=3, n_nets=200, seed=1)
    res = random_resnets("res1", n_nets=200, width=2, depth=4, beta=0.5, seed=1)
    for obj in (nets, res, KFEResult(ts=np.array([0.0, 1.0]), ys=np.ones((2, 4)), grid=lattice_1d(4))):
        text = repr(obj)
        assert len(text) < 300 and "array(" not in text and "\n" not in text
