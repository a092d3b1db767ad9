"""Bad input to the public functions of deeplimits.correlation: each raises a clear error naming the argument."""

import math

import numpy as np
import pytest

from deeplimits.correlation import covariance_factor_sde, depth, maps, odes, sample_covariance, shaped_sde, unshaped
from deeplimits.correlation.shaped_sde import (
    covariance_drift,
    nu,
    sample_correlation,
)
from deeplimits.correlation.unshaped import (
    mean_inv_q,
    mean_J,
    mean_y,
    q_drift,
    sample_q,
    simulate_J,
    simulate_q_em,
    simulate_q_implicit,
    simulate_y_implicit,
)

G = np.linspace(0.0, 1.0, 9)
G0 = np.linspace(0.1, 1.0, 10)
V0 = np.array([[1.0, 0.5], [0.5, 1.0]])
NAN_DW2 = np.zeros((2, 8, 1))
NAN_DW2[1, 3, 0] = np.nan
G16 = np.linspace(0.0, 1.0, 17)
NAN_DW16 = np.zeros((2, 16, 1))
NAN_DW16[0, 5, 0] = np.nan
NAN_DW3 = np.zeros((2, 4, 3))
NAN_DW3[0, 1, 2] = np.nan

CASES = [
    # sample_q
    ("sample_q t off grid", lambda: sample_q([1e-4]), ValueError, "ts"),
    ("sample_q negative t", lambda: sample_q([-0.5]), ValueError, "t"),
    ("sample_q nan t", lambda: sample_q([np.nan]), ValueError, "t"),
    ("sample_q decreasing", lambda: sample_q([0.5, 0.25]), ValueError, "ts"),
    ("sample_q n_paths 2.7", lambda: sample_q([0.25], n_paths=2.7), ValueError, "n_paths"),
    ("sample_q n_paths 0", lambda: sample_q([0.25], n_paths=0), ValueError, "n_paths"),
    ("sample_q seed 1.5", lambda: sample_q([0.25], n_paths=3, seed=1.5), ValueError, "seed"),
    ("sample_q seed -1", lambda: sample_q([0.25], n_paths=3, seed=-1), ValueError, "seed"),
    ("sample_q first_path -1", lambda: sample_q([0.25], n_paths=3, first_path=-1), ValueError, "first_path"),
    ("sample_q steps 2.5", lambda: sample_q([0.25], n_steps_per_unit=2.5), ValueError, "n_steps_per_unit"),
    # simulate_*
    ("simulate_J n_paths 2.7", lambda: simulate_J(G, n_paths=2.7), ValueError, "n_paths"),
    ("simulate_J seed 1.5", lambda: simulate_J(G, n_paths=2, seed=1.5), ValueError, "seed"),
    ("simulate_J seed -1", lambda: simulate_J(G, n_paths=2, seed=-1), ValueError, "seed"),
    ("simulate_J scheme", lambda: simulate_J(G, scheme="rk4"), ValueError, "scheme"),
    ("simulate_J grid start", lambda: simulate_J(G0), ValueError, "grid"),
    ("simulate_J grid order", lambda: simulate_J(G[::-1]), ValueError, "grid"),
    ("simulate_J dW nan", lambda: simulate_J(G, dW=NAN_DW2), ValueError, "dW"),
    ("simulate_J dW shape", lambda: simulate_J(G, dW=np.zeros((2, 5, 1))), ValueError, "dW"),
    ("simulate_J dW 2-D", lambda: simulate_J(G, dW=np.zeros((2, 8))), ValueError, "dW"),
    ("simulate_J first_path", lambda: simulate_J(G, n_paths=2, first_path=1.5), ValueError, "first_path"),
    ("simulate_q_implicit dW nan", lambda: simulate_q_implicit(G16, dW=NAN_DW16), ValueError, "dW"),
    ("simulate_q_implicit dW inf", lambda: simulate_q_implicit(G16, dW=np.full((1, 16, 1), np.inf)), ValueError, "dW"),
    ("simulate_q_implicit start", lambda: simulate_q_implicit(G0), ValueError, "grid"),
    ("simulate_q_implicit milstein h", lambda: simulate_q_implicit(np.linspace(0, 1, 3)), ValueError, "grid"),
    ("simulate_q_implicit seed", lambda: simulate_q_implicit(G16, n_paths=2, seed=-1), ValueError, "seed"),
    ("simulate_y_implicit y0", lambda: simulate_y_implicit(G, y0=1.0), ValueError, "y0"),
    ("simulate_y_implicit dW nan", lambda: simulate_y_implicit(G, dW=NAN_DW2), ValueError, "dW"),
    ("simulate_q_em start 0", lambda: simulate_q_em(G), ValueError, "grid"),
    ("simulate_q_em q0", lambda: simulate_q_em(G0, q0=-1.0), ValueError, "q0"),
    ("simulate_q_em n_paths", lambda: simulate_q_em(G0, n_paths=2.7), ValueError, "n_paths"),
    # closed forms
    ("q_drift t 0", lambda: q_drift(0.0, 1.0), ValueError, "t"),
    ("q_drift q neg", lambda: q_drift(1.0, -1.0), ValueError, "q"),
    ("mean_J neg", lambda: mean_J(-1.0), ValueError, "t"),
    ("mean_y nan", lambda: mean_y(np.nan), ValueError, "t"),
    ("mean_inv_q 0", lambda: mean_inv_q(0.0), ValueError, "t"),
    # shaped
    ("sample_correlation rho0 1", lambda: sample_correlation(1.0, 1.0), ValueError, "rho0"),
    ("sample_correlation T 0", lambda: sample_correlation(0.5, 0.0), ValueError, "T"),
    ("sample_correlation n_paths", lambda: sample_correlation(0.5, 1.0, n_paths=2.7), ValueError, "n_paths"),
    ("sample_correlation seed", lambda: sample_correlation(0.5, 1.0, n_paths=2, seed=1.5), ValueError, "seed"),
    ("sample_correlation seed -1", lambda: sample_correlation(0.5, 1.0, n_paths=2, seed=-1), ValueError, "seed"),
    ("sample_correlation n_steps", lambda: sample_correlation(0.5, 1.0, n_steps=0), ValueError, "n_steps"),
    ("sample_correlation scheme", lambda: sample_correlation(0.5, 1.0, scheme="rk4"), ValueError, "scheme"),
    ("sample_correlation first_path", lambda: sample_correlation(0.5, 1.0, first_path=-2), ValueError, "first_path"),
    ("sample_covariance dW nan", lambda: sample_covariance(V0, 1.0, n_steps=4, dW=NAN_DW3), ValueError, "dW"),
    ("sample_covariance dW shape", lambda: sample_covariance(V0, 1.0, n_steps=5, dW=NAN_DW3), ValueError, "dW"),
    ("sample_covariance V0 sym", lambda: sample_covariance([[1.0, 0.5], [0.2, 1.0]], 1.0), ValueError, "V0"),
    ("sample_covariance V0 singular", lambda: sample_covariance(np.ones((2, 2)), 1.0), ValueError, "V0"),
    ("sample_covariance V0 nan", lambda: sample_covariance([[1.0, np.nan], [np.nan, 1.0]], 1.0), ValueError, "V0"),
    ("sample_covariance n_paths", lambda: sample_covariance(V0, 1.0, n_paths=2.7), ValueError, "n_paths"),
    ("sample_covariance seed", lambda: sample_covariance(V0, 1.0, n_paths=2, seed=1.5), ValueError, "seed"),
    ("sample_covariance seed -1", lambda: sample_covariance(V0, 1.0, n_paths=2, seed=-1), ValueError, "seed"),
    (
        "sample_covariance first_path",
        lambda: sample_covariance(V0, 1.0, n_paths=2, first_path=0.5),
        ValueError,
        "first_path",
    ),
    ("covariance_factor_sde m", lambda: covariance_factor_sde(1.5, 1.0), ValueError, "m"),
    ("covariance_factor_sde kappa", lambda: covariance_factor_sde(2, -1.0), ValueError, "kappa"),
    ("covariance_drift nan", lambda: covariance_drift([[np.nan]], 1.0), ValueError, "V"),
    ("nu rho", lambda: nu(1.5, 1.0), ValueError, "rho"),
    ("nu kappa", lambda: nu(0.5, math.inf), ValueError, "kappa"),
    # maps
    ("corr_map rho", lambda: maps.corr_map(1.5), ValueError, "rho"),
    ("corr_map_u u", lambda: maps.corr_map_u(-0.5), ValueError, "u"),
    ("depth_recursion depth", lambda: depth.depth_recursion_u(0.5, 2.5), ValueError, "depth"),
    ("relu_asymptote order", lambda: depth.relu_asymptote(10.0, order=2), ValueError, "order"),
    ("sample_one_layer n", lambda: depth.sample_one_layer(0.3, 2.7, 10), ValueError, "n"),
    ("sample_one_layer seed", lambda: depth.sample_one_layer(0.3, 5, 10, seed=-1), ValueError, "seed"),
    # odes
    ("correlation_ode rho0", lambda: odes.correlation_ode(1.5, [1.0], 1.0), ValueError, "rho0"),
    ("resnet_covariance_ode sigma", lambda: odes.resnet_covariance_ode(V0, [1.0], -1.0), ValueError, "sigma_r"),
]


@pytest.mark.parametrize("call, exc, name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_naming_argument(call, exc, name):
    with pytest.raises(exc, match=name) as info:
        call()
    assert name in str(info.value)


def test_big_seed_is_valid():
    a = sample_q([0.25], n_paths=3, seed=2**64, n_steps_per_unit=16)
    assert a.shape == (3, 1) and np.all(np.isfinite(a)) and np.all(a > 0)
    r = sample_correlation(0.5, 1.0, n_paths=3, seed=2**64, n_steps=8)
    assert np.all(np.abs(r) < 1)
    v = sample_covariance(V0, 1.0, n_paths=3, seed=2**64, n_steps=8)
    assert np.all(np.isfinite(v))


def test_unused_modules_imported():
    assert shaped_sde and unshaped


@pytest.mark.parametrize("fn", ["mean_y_from_t0", "second_moment_y_from_t0"])
@pytest.mark.parametrize(
    ("t", "t0", "match"),
    [(0.5, 0.0, "t0"), (0.5, float("nan"), "t0"), (0.5, -1.0, "t0"), (0.1, 0.5, "t must be >= t0")],
)
def test_moments_from_t0_reject_bad_start(fn, t, t0, match):
    from deeplimits.correlation.unshaped import moments

    with pytest.raises(ValueError, match=match):
        getattr(moments, fn)(t, t0)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda u: u.simulate_q_em([0.1, 0.2], n_paths=2, q0="1.0"), TypeError, "q0"),
        (lambda u: u.simulate_q_em([0.1, 0.2], n_paths=2, q0=0.0), ValueError, "q0"),
        (lambda u: u.simulate_y_implicit([0.1, 0.2], n_paths=2, y0=float("inf")), ValueError, "y0"),
        (lambda u: u.simulate_y_implicit([0.0, 0.1], n_paths=2, milstein=1), TypeError, "milstein"),
        (lambda u: u.simulate_J([0.0, 0.1], n_paths=2, scheme="heun"), ValueError, "scheme"),
    ],
)
def test_unshaped_integrators_check_through_the_check_module(call, exc, match):
    from deeplimits.correlation import unshaped

    with pytest.raises(exc, match=match):
        call(unshaped)
