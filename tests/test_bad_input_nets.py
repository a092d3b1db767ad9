"""Bad input to deeplimits.networks and deeplimits.resnet raises a clear error naming the argument.

Every case asserts the exception type and that the message names the offending argument; none may
return NaN, inf or a wrong finite answer.  A few regression cases check that inputs that used to be
mishandled now give the right answer (a Gram matrix of magnitude 1e160, seeds >= 2**64).
"""

import numpy as np
import pytest

from deeplimits.networks import (
    gram_from_correlation,
    he_normalisation,
    leaky_mlp,
    leaky_relu,
    relu_mlp,
    resnet,
    shaped_mlp,
    shaped_slopes,
)
from deeplimits.resnet import (
    SmoothWeightFunction,
    alternative_ode,
    cohen_mean_drift,
    critical_beta,
    diffusive_sde,
    estimate_scaling,
    exact_resnets,
    fgn_weights,
    gaussian_moment,
    iid_weights,
    neural_ode,
    neural_sde,
    norm_moments,
    norm_moments_limit,
    norm_sde_law,
    random_resnets,
    rbf_gp_weights,
    regime_map,
    simulate_resnets,
    smooth_resnet,
)

G = gram_from_correlation(0.5)
NET = dict(width=4, depth=3, n_nets=2)
RES = dict(variant="res1", n_nets=2, width=3, depth=4, beta=0.5)
# Three depths: estimate_scaling refuses two (their intervals under-cover).
SCALING = {d: np.ones((d, 3)) + np.arange(d)[:, None] for d in (8, 16, 32)}


def _net(f, **kw):
    return lambda: f(G, **(NET | kw))


def _res(f, **kw):
    return lambda: f(**(RES | kw))


CASES = [
    # --- networks: sizes, seeds, engine, save ---------------------------------------------------------------
    ("relu_width_0", _net(relu_mlp, width=0), ValueError, "width"),
    ("relu_width_2.5", _net(relu_mlp, width=2.5), ValueError, "width"),
    ("relu_width_inf", _net(relu_mlp, width=np.inf), ValueError, "width"),
    ("relu_width_str", _net(relu_mlp, width="abc"), TypeError, "width"),
    ("relu_width_1e12", _net(relu_mlp, width=10**12), MemoryError, "width"),
    ("dense_width_1e7", _net(relu_mlp, width=10**7, engine="dense"), MemoryError, "width"),
    ("relu_n_nets_huge", _net(relu_mlp, n_nets=10**15), MemoryError, "n_nets"),
    ("relu_depth_0", _net(relu_mlp, depth=0), ValueError, "depth"),
    ("relu_depth_nan", _net(relu_mlp, depth=np.nan), ValueError, "depth"),
    ("relu_n_nets_0", _net(relu_mlp, n_nets=0), ValueError, "n_nets"),
    ("relu_n_nets_2.7", _net(relu_mlp, n_nets=2.7), ValueError, "n_nets"),
    ("relu_n_nets_none", _net(relu_mlp, n_nets=None), TypeError, "n_nets"),
    ("relu_seed_neg", _net(relu_mlp, seed=-1), ValueError, "seed"),
    ("relu_seed_1.5", _net(relu_mlp, seed=1.5), ValueError, "seed"),
    ("relu_seed_nan", _net(relu_mlp, seed=np.nan), ValueError, "seed"),
    ("relu_seed_bool", _net(relu_mlp, seed=True), TypeError, "seed"),
    ("relu_seed_str", _net(relu_mlp, seed="0"), TypeError, "seed"),
    ("relu_first_path_neg", _net(relu_mlp, first_path=-1), ValueError, "first_path"),
    ("relu_first_path_0.5", _net(relu_mlp, first_path=0.5), ValueError, "first_path"),
    ("relu_engine", _net(relu_mlp, engine="sparse"), ValueError, "engine"),
    ("relu_save_out_of_range", _net(relu_mlp, save=[7]), ValueError, "save"),
    ("relu_save_negative", _net(relu_mlp, save=[-1]), ValueError, "save"),
    ("relu_save_fraction", _net(relu_mlp, save=[1.5]), ValueError, "save"),
    ("relu_save_nan", _net(relu_mlp, save=[np.nan]), ValueError, "save"),
    ("relu_save_empty", _net(relu_mlp, save=[]), ValueError, "save"),
    ("resnet_width_0", _net(resnet, width=0), ValueError, "width"),
    ("resnet_seed_1.5", _net(resnet, seed=1.5), ValueError, "seed"),
    ("resnet_dense_first_path", _net(resnet, engine="dense", first_path=-2), ValueError, "first_path"),
    ("resnet_sigma_r_0", _net(resnet, sigma_r=0.0), ValueError, "sigma_r"),
    ("resnet_sigma_r_nan", _net(resnet, sigma_r=np.nan), ValueError, "sigma_r"),
    ("resnet_sigma_r_neg", _net(resnet, sigma_r=-1.0), ValueError, "sigma_r"),
    ("resnet_sigma_r_str", _net(resnet, sigma_r="x"), TypeError, "sigma_r"),
    # --- networks: Gram matrices --------------------------------------------------------------------------------
    ("gram_1x1", lambda: relu_mlp(np.eye(1), **NET), ValueError, "gram0"),
    ("gram_not_square", lambda: relu_mlp(np.ones((2, 3)), **NET), ValueError, "gram0"),
    ("gram_asymmetric", lambda: relu_mlp([[1.0, 0.5], [0.4, 1.0]], **NET), ValueError, "gram0"),
    ("gram_corr_above_1", lambda: relu_mlp([[1.0, 1.5], [1.5, 1.0]], **NET), ValueError, "gram0"),
    ("gram_zero_diagonal", lambda: relu_mlp([[1.0, 0.0], [0.0, 0.0]], **NET), ValueError, "gram0"),
    (
        "gram_not_psd",
        lambda: resnet([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]], **NET),
        ValueError,
        "gram0",
    ),
    ("gram_nan", lambda: relu_mlp([[1.0, np.nan], [np.nan, 1.0]], **NET), ValueError, "gram0"),
    ("gram_inf", lambda: resnet([[1.0, 0.5], [0.5, np.inf]], **NET), ValueError, "gram0"),
    ("gram_strings", lambda: relu_mlp([["a", "b"], ["c", "d"]], **NET), TypeError, "gram0"),
    ("gram_stack", lambda: relu_mlp(np.stack([np.eye(2)] * 2), **NET), ValueError, "gram0"),
    ("gram_1e160_not_psd", lambda: relu_mlp(1e160 * np.array([[1.0, 1.5], [1.5, 1.0]]), **NET), ValueError, "gram0"),
    # --- networks: activations and helpers ----------------------------------------------------------------------
    ("leaky_s_plus_nan", _net(leaky_mlp, s_plus=np.nan), ValueError, "s_plus"),
    ("leaky_s_minus_inf", _net(leaky_mlp, s_minus=np.inf), ValueError, "s_minus"),
    ("leaky_s_plus_str", _net(leaky_mlp, s_plus="x"), TypeError, "s_plus"),
    ("leaky_negative_slope", _net(leaky_mlp, s_plus=-1.0, s_minus=1.0), ValueError, "s_plus, s_minus"),
    ("leaky_zero_activation", _net(leaky_mlp, s_plus=0.0, s_minus=0.0), ValueError, "s_plus, s_minus"),
    ("shaped_non_monotone", _net(shaped_mlp, width=16, c_minus=-5.0), ValueError, "s_plus, s_minus"),
    ("shaped_depth_non_monotone", _net(shaped_mlp, width=400, c_minus=-5.0, shaping="depth"), ValueError, "s_minus"),
    ("shaped_shaping", _net(shaped_mlp, shaping="both"), ValueError, "shaping"),
    ("shaped_c_plus_nan", _net(shaped_mlp, width=16, c_plus=np.nan), ValueError, "c_plus"),
    ("shaped_slopes_inf", lambda: shaped_slopes(np.inf, 0.0, 10), ValueError, "c_plus"),
    ("shaped_slopes_scale", lambda: shaped_slopes(0.0, 0.0, 2.5), ValueError, "scale"),
    ("he_normalisation_zero", lambda: he_normalisation(0.0, 0.0), ValueError, "s_plus, s_minus"),
    ("leaky_relu_slope_nan", lambda: leaky_relu([1.0], s_plus=np.nan), ValueError, "s_plus"),
    ("rho_above_1", lambda: gram_from_correlation(1.0001), ValueError, "rho"),
    ("rho_below_-1", lambda: gram_from_correlation(-1.5), ValueError, "rho"),
    ("rho_nan", lambda: gram_from_correlation(np.nan), ValueError, "rho"),
    ("rho_str", lambda: gram_from_correlation("x"), TypeError, "rho"),
    ("sqnorm_negative", lambda: gram_from_correlation(0.1, -1.0), ValueError, "sqnorm"),
    ("sqnorm_inf", lambda: gram_from_correlation(0.1, (1.0, np.inf)), ValueError, "sqnorm"),
    # --- resnet: simulators ---------------------------------------------------------------------------------
    ("random_variant", _res(random_resnets, variant="res2"), ValueError, "variant"),
    ("random_activation", _res(random_resnets, activation="gelu"), ValueError, "activation"),
    ("random_n_nets_2.7", _res(random_resnets, n_nets=2.7), ValueError, "n_nets"),
    ("random_width_0", _res(random_resnets, width=0), ValueError, "width"),
    ("random_width_huge", _res(random_resnets, width=10**8), MemoryError, "width"),
    (
        "random_traj_huge",
        _res(random_resnets, n_nets=10**6, depth=10**6, save_trajectories=True),
        MemoryError,
        "n_nets",
    ),
    ("random_depth_bool", _res(random_resnets, depth=True), TypeError, "depth"),
    ("random_beta_neg", _res(random_resnets, beta=-0.5), ValueError, "beta"),
    ("random_gamma_nan", _res(random_resnets, gamma=np.nan), ValueError, "gamma"),
    ("random_bias_std_neg", _res(random_resnets, bias_std=-1.0), ValueError, "bias_std"),
    ("random_seed_1.5", _res(random_resnets, seed=1.5), ValueError, "seed"),
    ("random_seed_neg", _res(random_resnets, seed=-3), ValueError, "seed"),
    ("random_first_path_neg", _res(random_resnets, first_path=-1), ValueError, "first_path"),
    ("random_weights", _res(random_resnets, weights="sparse"), ValueError, "weights"),
    ("random_fgn_no_hurst", _res(random_resnets, weights="fgn"), ValueError, "hurst"),
    ("random_fgn_hurst_1", _res(random_resnets, weights="fgn", hurst=1.0), ValueError, "hurst"),
    ("random_smooth_lengthscale", _res(random_resnets, weights="smooth", lengthscale=0.0), ValueError, "lengthscale"),
    ("random_chunk_size_0", _res(random_resnets, weights="smooth", chunk_size=0), ValueError, "chunk_size"),
    ("random_h0_shape", _res(random_resnets, h0=np.ones(5)), ValueError, "h0"),
    ("random_h0_nan", _res(random_resnets, h0=[1.0, np.nan, 0.0]), ValueError, "h0"),
    ("random_save_int", _res(random_resnets, save_trajectories=1), TypeError, "save_trajectories"),
    ("exact_traj_huge", _res(exact_resnets, n_nets=10**6, depth=10**6, save_trajectories=True), MemoryError, "n_nets"),
    ("batch_index_not_saved", lambda: relu_mlp(G, 4, 3, 2, save=[0, 3]).index(2), ValueError, "t=2"),
    ("exact_seed_1.5", _res(exact_resnets, seed=1.5), ValueError, "seed"),
    ("exact_depth_0", _res(exact_resnets, depth=0), ValueError, "depth"),
    ("exact_first_path_str", _res(exact_resnets, first_path="0"), TypeError, "first_path"),
    (
        "simulate_alpha_nan",
        lambda: simulate_resnets(np.ones((1, 2)), "res1", np.nan, V=np.zeros((1, 2, 2, 2))),
        ValueError,
        "alpha",
    ),
    ("simulate_missing_V", lambda: simulate_resnets(np.ones((1, 2)), "res1", 0.5), ValueError, "V"),
    (
        "simulate_V_shape",
        lambda: simulate_resnets(np.ones((1, 2)), "res1", 0.5, V=np.zeros((1, 2, 3, 3))),
        ValueError,
        "V",
    ),
    (
        "simulate_V_nan",
        lambda: simulate_resnets(np.ones((1, 2)), "res1", 0.5, V=np.full((1, 2, 2, 2), np.nan)),
        ValueError,
        "V",
    ),
    ("simulate_h0_1d", lambda: simulate_resnets(np.ones(2), "res1", 0.5, V=np.zeros((1, 2, 2, 2))), ValueError, "h0"),
    # --- resnet: weights ------------------------------------------------------------------------------------
    ("iid_n_nets_2.7", lambda: iid_weights(2.7, 4, (2, 2)), ValueError, "n_nets"),
    ("iid_seed_1.5", lambda: iid_weights(2, 4, (2, 2), seed=1.5), ValueError, "seed"),
    ("iid_shape_0", lambda: iid_weights(2, 4, (0, 2)), ValueError, "shape"),
    ("iid_scale_neg", lambda: iid_weights(2, 4, (2,), scale=-1.0), ValueError, "scale"),
    ("iid_first_path_neg", lambda: iid_weights(2, 4, (2,), first_path=-1), ValueError, "first_path"),
    ("iid_huge", lambda: iid_weights(10**6, 10**6, (10**3,)), MemoryError, "n_nets"),
    ("rbf_lengthscale_0", lambda: rbf_gp_weights(2, 4, (2,), 0.0), ValueError, "lengthscale"),
    ("fgn_hurst_0", lambda: fgn_weights(2, 4, (2,), 0.0), ValueError, "hurst"),
    ("fgn_depth_1.5", lambda: fgn_weights(2, 1.5, (2,), 0.3), ValueError, "depth"),
    ("smooth_fn_features", lambda: SmoothWeightFunction((2, 2), n_features=0), ValueError, "n_features"),
    ("smooth_fn_seed", lambda: SmoothWeightFunction((2, 2), seed=-1), ValueError, "seed"),
    # --- resnet: limits, moments, regimes -------------------------------------------------------------------------
    ("neural_sde_width", lambda: neural_sde("res1", "tanh", 0), ValueError, "width"),
    ("neural_sde_bias", lambda: neural_sde("cohen", "tanh", 3, bias_std=np.inf), ValueError, "bias_std"),
    ("neural_sde_cohen_relu", lambda: neural_sde("cohen", "relu", 3), ValueError, "activation"),
    ("norm_sde_law_variant", lambda: norm_sde_law("res9", "linear", 3), ValueError, "variant"),
    ("diffusive_relu", lambda: diffusive_sde("relu", 3), ValueError, "activation"),
    ("diffusive_weight_std", lambda: diffusive_sde("tanh", 3, weight_std=-1.0), ValueError, "weight_std"),
    ("diffusive_correction", lambda: diffusive_sde("tanh", 3, drift_correction="yes"), TypeError, "drift_correction"),
    ("gaussian_moment_q", lambda: gaussian_moment("tanh", -1.0), ValueError, "q"),
    ("gaussian_moment_power", lambda: gaussian_moment("tanh", 1.0, power=1.5), ValueError, "power"),
    ("cohen_drift_depth", lambda: cohen_mean_drift("relu", 1.0, 0), ValueError, "depth"),
    ("norm_moments_beta", lambda: norm_moments("res1", "linear", 3, 8, -1.0), ValueError, "beta"),
    ("norm_moments_h0", lambda: norm_moments("res1", "linear", 3, 8, 0.5, h0_norm=np.nan), ValueError, "h0_norm"),
    ("norm_moments_limit_width", lambda: norm_moments_limit("res1", "linear", 1.5), ValueError, "width"),
    ("critical_beta_hurst", lambda: critical_beta(1.2), ValueError, "hurst"),
    ("regime_map_depths", lambda: regime_map([0.5], [0.5], depths=(64,)), ValueError, "depths"),
    ("regime_map_depth_order", lambda: regime_map([0.5], [0.5], depths=(64, 8)), ValueError, "depths"),
    ("regime_map_seed", lambda: regime_map([0.5], [0.5], depths=(4, 8), seed=1.5), ValueError, "seed"),
    ("regime_map_betas", lambda: regime_map([-0.5], [0.5], depths=(4, 8)), ValueError, "betas"),
    ("neural_ode_h0", lambda: neural_ode("res1", "tanh", [np.nan], V=lambda t: np.eye(1)), ValueError, "h0"),
    (
        "neural_ode_t_eval",
        lambda: neural_ode("res1", "tanh", [1.0], V=lambda t: np.eye(1), t_eval=[1.0, 0.5]),
        ValueError,
        "t_eval",
    ),
    ("neural_ode_missing_V", lambda: neural_ode("res1", "tanh", [1.0]), ValueError, "V"),
    ("alternative_ode_A", lambda: alternative_ode("tanh", [1.0], A=np.eye(1)), TypeError, "A"),
    (
        "alternative_ode_rtol",
        lambda: alternative_ode("tanh", [1.0], A=lambda t: np.eye(1), rtol=0.0),
        ValueError,
        "rtol",
    ),
    ("smooth_resnet_depth", lambda: smooth_resnet("res1", "tanh", [1.0], 0), ValueError, "depth"),
    # --- resnet: estimate_scaling ---------------------------------------------------------------------------
    ("scaling_n_boot_small", lambda: estimate_scaling(SCALING, n_boot=10), ValueError, "n_boot"),
    ("scaling_n_boot_float", lambda: estimate_scaling(SCALING, n_boot=60.5), ValueError, "n_boot"),
    ("scaling_level_1", lambda: estimate_scaling(SCALING, level=1.0), ValueError, "level"),
    ("scaling_seed_1.5", lambda: estimate_scaling(SCALING, seed=1.5), ValueError, "seed"),
    ("scaling_one_depth", lambda: estimate_scaling({8: SCALING[8]}), ValueError, "weights_by_depth"),
    (
        "scaling_key_mismatch",
        lambda: estimate_scaling({9: SCALING[8], 16: SCALING[16]}),
        ValueError,
        "weights_by_depth",
    ),
    (
        "scaling_nan",
        lambda: estimate_scaling({8: np.full((8, 3), np.nan), 16: SCALING[16]}),
        ValueError,
        "weights_by_depth",
    ),
    ("scaling_not_mapping", lambda: estimate_scaling(5), TypeError, "weights_by_depth"),
    (
        "scaling_state_dict",
        lambda: estimate_scaling({"w1": np.ones(3), "w2": np.ones(3)}),
        ValueError,
        "weights_by_depth",
    ),
    ("scaling_one_layer", lambda: estimate_scaling([np.ones((1, 3)), np.ones((4, 3))]), ValueError, "weights_by_depth"),
    ("scaling_shapes", lambda: estimate_scaling([np.ones((8, 3)), np.ones((16, 4))]), ValueError, "weights_by_depth"),
    ("scaling_strings", lambda: estimate_scaling([["a", "b"], ["c", "d"]]), TypeError, "weights_by_depth"),
    ("scaling_pattern", lambda: estimate_scaling(SCALING, pattern="("), ValueError, "pattern"),
]


@pytest.mark.parametrize(("call", "exc", "name"), [pytest.param(c, e, n, id=i) for i, c, e, n in CASES])
def test_bad_input_raises_naming_the_argument(call, exc, name):
    with pytest.raises(exc, match=name) as info:
        call()
    assert name in str(info.value)


def test_gram_1e160_keeps_its_correlation():
    # np.outer of the diagonal used to overflow and turn rho = 0.5 into 0
    for engine in ("gram", "dense"):
        b = relu_mlp(gram_from_correlation(0.5, 1e160), 32, 2, 3, engine=engine, seed=0)
        np.testing.assert_allclose(b.corr[:, 0, 0, 1], 0.5, rtol=1e-12)
        assert np.all(np.isfinite(b.sqnorm)) and np.all(np.isfinite(b.ys))
        small = relu_mlp(gram_from_correlation(0.5), 32, 2, 3, engine=engine, seed=0)
        # the networks are positively homogeneous: the same seed gives the same correlations at any scale
        # (NaN marks a dead column, only possible at tiny widths, in both or in neither)
        np.testing.assert_allclose(b.corr, small.corr, rtol=1e-9, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(b.sqnorm, 1e160 * small.sqnorm, rtol=1e-9)


def test_gram_from_correlation_1e160_is_finite():
    g = gram_from_correlation(0.5, 1e160)
    assert np.all(np.isfinite(g)) and g[0, 1] == 0.5e160


@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, 2**64, 2**100])
def test_wide_seeds_work(seed):
    for engine in ("gram", "dense"):
        a = relu_mlp(G, 4, 2, 2, engine=engine, seed=seed)
        assert np.all(np.isfinite(a.ys))
        assert not np.array_equal(a.ys, relu_mlp(G, 4, 2, 2, engine=engine, seed=0).ys)
    for f in (random_resnets, exact_resnets):
        out = f("res1", 2, 3, 4, 0.5, seed=seed)
        assert np.all(np.isfinite(out.ys))
    assert np.all(np.isfinite(random_resnets("res1", 2, 3, 4, 0.5, "fgn", hurst=0.3, seed=seed).ys))


def test_exact_simulator_needs_no_dense_weights():
    # O(d) per layer: a width whose d x d weights would not fit is fine for the exact simulator
    out = exact_resnets("res1", 1, 10**6, 2, 0.5, activation="linear")
    assert out.final.shape == (1, 10**6) and np.all(np.isfinite(out.norms))


def test_at_least_40_cases():
    assert len(CASES) >= 40
