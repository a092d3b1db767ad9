"""Bad input to the public API of deeplimits.capacity: each case raises a clear error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from deeplimits.capacity import (
    ConvLayer,
    ConvResNet,
    DriftDiffusion1D,
    DriftDiffusion2D,
    Grid1D,
    Grid2D,
    MasterEquation,
    ScalingLaw,
    activation,
    capacity_profile,
    chain_moments,
    classify_regime,
    decoupling_coefficient,
    growth_exponent,
    kfe_coefficients,
    kramers_moyal,
    lattice_1d,
    lattice_2d,
    master_equation_periodic,
    master_exact_periodic,
    plain_stack,
    propagate,
    residual_stack,
    run_walkers,
    solve_kfe,
    spread,
    spread_vs_depth,
    walker_capacity,
)

STACK = residual_stack([1.0, 2.0, 1.0], 8, a=1.0)
C1 = np.eye(11)[5]
G1 = Grid1D(0.0, 1.0, 20)
DD1 = DriftDiffusion1D(G1, v=0.1, D=0.1)
ME = MasterEquation(lattice_1d(9), [-1, 1], [0.5, 0.5])
NET = ConvResNet([1.0, 1.0, 1.0], depth=2, channels=2, alpha=0.3, grid=9)

ONES = np.ones(20)

CASES = {
    # chain and layers
    "layer_taps_nan": (lambda: ConvLayer([1.0, np.nan, 1.0]), ValueError, "taps"),
    "layer_alpha_negative": (lambda: ConvLayer([1.0, 1.0], alpha=-0.5), ValueError, "alpha"),
    "layer_alpha_string": (lambda: ConvLayer([1.0, 1.0], alpha="big"), TypeError, "alpha"),
    "layer_dilation_fraction": (lambda: ConvLayer([1.0, 1.0], dilation=1.5), ValueError, "dilation"),
    "layer_dilation_zero": (lambda: ConvLayer([1.0, 1.0], dilation=0), ValueError, "dilation"),
    "layer_padding_unknown": (lambda: ConvLayer([1.0, 1.0], padding="mirror"), ValueError, "padding"),
    "layer_decoupling_zero": (lambda: ConvLayer([1.0, 1.0], alpha=0.1, decoupling=0.0), ValueError, "decoupling"),
    "scaling_a_negative": (lambda: ScalingLaw(-1.0, 0.5), ValueError, "a must"),
    "scaling_beta_inf": (lambda: ScalingLaw(1.0, np.inf), ValueError, "beta"),
    "residual_depth_fraction": (lambda: residual_stack([1.0, 1.0], 2.7, a=1.0), ValueError, "depth"),
    "residual_depth_negative": (lambda: residual_stack([1.0, 1.0], -1, a=1.0), ValueError, "depth"),
    "residual_depth_bool": (lambda: residual_stack([1.0, 1.0], True, a=1.0), TypeError, "depth"),
    "plain_depth_string": (lambda: plain_stack([1.0, 1.0], "4"), TypeError, "depth"),
    "propagate_negative_capacity": (lambda: propagate(STACK, -C1), ValueError, "c_out"),
    "propagate_nan_capacity": (lambda: propagate(STACK, np.full(11, np.nan)), ValueError, "c_out"),
    "propagate_wrong_ndim": (lambda: propagate(STACK, np.ones((11, 11))), ValueError, "c_out"),
    "propagate_method": (lambda: propagate(STACK, C1, method="magic"), ValueError, "method"),
    "propagate_not_layers": (lambda: propagate([np.ones(3)], C1), ValueError, r"layers\[0\]"),
    "chain_moments_not_layers": (lambda: chain_moments(["layer"]), ValueError, r"layers\[0\]"),
    # walkers
    "walkers_n_fraction": (lambda: run_walkers(STACK, C1, 2.7), ValueError, "n_walkers"),
    "walkers_n_zero": (lambda: run_walkers(STACK, C1, 0), ValueError, "n_walkers"),
    "walkers_seed_fraction": (lambda: run_walkers(STACK, C1, 10, seed=1.5), ValueError, "seed"),
    "walkers_seed_negative": (lambda: run_walkers(STACK, C1, 10, seed=-1), ValueError, "seed"),
    "walkers_seed_string": (lambda: run_walkers(STACK, C1, 10, seed="0"), TypeError, "seed"),
    "walkers_first_path_negative": (lambda: run_walkers(STACK, C1, 10, first_path=-1), ValueError, "first_path"),
    "walkers_first_path_fraction": (lambda: walker_capacity(STACK, C1, 10, first_path=0.5), ValueError, "first_path"),
    "walkers_zero_mass": (lambda: run_walkers(STACK, np.zeros(11), 10), ValueError, "c_out"),
    "walkers_huge": (lambda: run_walkers(STACK, C1, 10**15), MemoryError, "walker"),
    # networks
    "activation_unknown": (lambda: activation("gelu"), ValueError, "activation"),
    "activation_omega_zero": (lambda: activation("sin", omega=0.0), ValueError, "omega"),
    "decoupling_variance_negative": (lambda: decoupling_coefficient("tanh", variance=-1.0), ValueError, "variance"),
    "decoupling_n_nodes_fraction": (lambda: decoupling_coefficient("tanh", n_nodes=10.5), ValueError, "n_nodes"),
    "net_channels_fraction": (lambda: ConvResNet([1.0, 1.0], 2, 2.5, 0.1, 8), ValueError, "channels"),
    "net_seed_fraction": (lambda: ConvResNet([1.0, 1.0], 2, 2, 0.1, 8, seed=1.5), ValueError, "seed"),
    "net_dtype": (lambda: ConvResNet([1.0, 1.0], 2, 2, 0.1, 8, dtype="int8"), ValueError, "dtype"),
    "net_huge": (lambda: ConvResNet([1.0, 1.0], 2, 10**6, 0.1, 8), MemoryError, "weights"),
    "profile_n_inputs_fraction": (lambda: capacity_profile(NET, 2.7), ValueError, "n_inputs"),
    "profile_n_inputs_one": (lambda: capacity_profile(NET, 1), ValueError, "n_inputs"),
    "profile_seed_fraction": (lambda: capacity_profile(NET, 4, seed=1.5), ValueError, "seed"),
    "profile_batch_zero": (lambda: capacity_profile(NET, 4, batch=0), ValueError, "batch"),
    "profile_first_path_negative": (lambda: capacity_profile(NET, 4, first_path=-2), ValueError, "first_path"),
    "profile_not_a_net": (lambda: capacity_profile("net", 4), TypeError, "net"),
    # limits and regimes
    "kfe_coefficients_depth_fraction": (lambda: kfe_coefficients(STACK[0], 2.5), ValueError, "depth"),
    "kramers_moyal_rate_negative": (lambda: kramers_moyal([-1, 1], [0.5, 0.5], rate=-1.0), ValueError, "rate"),
    "kramers_moyal_weights_nan": (lambda: kramers_moyal([-1, 1], [np.nan, 0.5], rate=1.0), ValueError, "weights"),
    "master_periodic_t_negative": (
        lambda: master_equation_periodic(kfe_coefficients(STACK[0], 8), C1, -1.0),
        ValueError,
        "t",
    ),
    "spread_negative_entries": (lambda: spread([0.5, -0.25, 0.5]), ValueError, "c must"),
    "spread_all_negative": (lambda: spread([-1.0, -2.0]), ValueError, "c must"),
    "spread_zero_mass": (lambda: spread([0.0, 0.0]), ValueError, "c must"),
    "spread_nan": (lambda: spread([1.0, np.nan]), ValueError, "c must"),
    "spread_3d": (lambda: spread(np.ones((2, 2, 2))), ValueError, "c must"),
    "spread_vs_depth_fraction": (lambda: spread_vs_depth([1.0, 2.0, 1.0], [4, 8.5], 1.0, 0.5), ValueError, "depths"),
    "spread_vs_depth_zero": (lambda: spread_vs_depth([1.0, 2.0, 1.0], [0, 8], 1.0, 0.5), ValueError, "depths"),
    "growth_exponent_zero_spread": (lambda: growth_exponent([4, 8], [1.0, 0.0]), ValueError, "spreads"),
    "growth_exponent_one_depth": (lambda: growth_exponent([4], [1.0]), ValueError, "depths"),
    "growth_exponent_lengths": (lambda: growth_exponent([4, 8, 16], [1.0, 2.0]), ValueError, "depths and spreads"),
    "classify_tol_zero": (lambda: classify_regime(0.3, tol=0.0), ValueError, "tol"),
    "classify_exponent_nan": (lambda: classify_regime(np.nan), ValueError, "exponent"),
    # KFE grids, equations, solvers
    "grid_n_fraction": (lambda: Grid1D(0.0, 1.0, 10.5), ValueError, "n"),
    "grid_reversed": (lambda: Grid1D(1.0, 0.0, 10), ValueError, "x_max"),
    "grid_boundary": (lambda: Grid1D(0.0, 1.0, 10, "open"), ValueError, "boundary"),
    "grid2d_parts": (lambda: Grid2D(G1, "grid"), ValueError, "gx and gy"),
    "lattice_2d_small": (lambda: lattice_2d(2, 5), ValueError, "n"),
    "dd1_D_negative": (lambda: DriftDiffusion1D(G1, D=-1.0), ValueError, "D must"),
    "dd1_advection": (lambda: DriftDiffusion1D(G1, advection="weno"), ValueError, "advection"),
    "dd2_D_shape": (lambda: DriftDiffusion2D(Grid2D.square(0, 1, 5), D=np.ones(3)), ValueError, "D must"),
    "me_weights_sum": (lambda: MasterEquation(lattice_1d(9), [-1, 1], [0.5, 0.6]), ValueError, "weights"),
    "me_offsets_fraction": (lambda: MasterEquation(lattice_1d(9), [-1.5, 1], [0.5, 0.5]), ValueError, "offsets"),
    "solve_n_steps_fraction": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=2.7), ValueError, "n_steps"),
    "solve_n_steps_zero": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=0), ValueError, "n_steps"),
    "solve_dt_nan": (lambda: solve_kfe(DD1, ONES, 1.0, dt=np.nan), ValueError, "dt"),
    "solve_t_end_nan": (lambda: solve_kfe(DD1, np.ones(20), np.nan, n_steps=4), ValueError, "t_end"),
    "solve_t_end_before_t0": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, t0=2.0), ValueError, "t_end"),
    "solve_c0_nan": (lambda: solve_kfe(DD1, np.full(20, np.nan), 1.0, n_steps=4), ValueError, "c0"),
    "solve_c0_shape": (lambda: solve_kfe(DD1, np.ones(21), 1.0, n_steps=4), ValueError, "c0"),
    "solve_scheme_old_name": (
        lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, scheme="explicit"),
        ValueError,
        "scheme",
    ),
    "solve_saveat_off_grid": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, saveat=[0.3]), ValueError, "saveat"),
    "solve_saveat_outside": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, saveat=[1.5]), ValueError, "saveat"),
    "solve_saveat_decreasing": (
        lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, saveat=[1.0, 0.5]),
        ValueError,
        "saveat",
    ),
    "solve_saveat_nan": (lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, saveat=[np.nan]), ValueError, "saveat"),
    "solve_substeps_int": (
        lambda: solve_kfe(DD1, ONES, 1.0, n_steps=4, scheme="euler", substeps=1),
        TypeError,
        "substeps",
    ),
    "solve_theta_out_of_range": (
        lambda: solve_kfe(
            DriftDiffusion2D(Grid2D.square(0, 1, 5)), np.ones((5, 5)), 1.0, n_steps=4, scheme="douglas", theta=1.5
        ),
        ValueError,
        "theta",
    ),
    "solve_not_an_equation": (lambda: solve_kfe("eq", np.ones(20), 1.0, n_steps=4), TypeError, "eq must"),
    "master_scheme": (lambda: solve_kfe(ME, np.ones(9), 1.0, n_steps=4, scheme="rk4"), ValueError, "scheme"),
    "master_c0_negative_shape": (lambda: solve_kfe(ME, np.ones(8), 1.0, n_steps=4), ValueError, "c0"),
    "master_exact_t_end_nan": (lambda: master_exact_periodic(ME, np.ones(9), np.nan), ValueError, "t_end"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_naming_the_argument(case):
    fn, exc, match = CASES[case]
    with pytest.raises(exc, match=match):
        fn()


def test_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, 2**64, 2**100])
def test_wide_seeds_work(seed):
    a = run_walkers(STACK, C1, 50, seed=seed)
    assert a.alive.all() and a.positions.shape == (50, 1)
    est = capacity_profile(NET, 3, seed=seed)
    assert np.isfinite(est.profile).all()
    assert ConvResNet([1.0, 1.0], 2, 2, 0.1, 8, seed=seed).weights.shape == (2, 2, 2, 2)
