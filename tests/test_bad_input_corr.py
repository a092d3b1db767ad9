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
    Q_STAR,
    Y_STAR,
    J_sde,
    mean_inv_q,
    mean_J,
    mean_y,
    q_drift,
    q_sde,
    sample_q,
    y_sde,
)
from deeplimits.sde import solve

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


def _J(grid, **kw):
    return solve(J_sde(), [0.0], grid, **{"scheme": "milstein", **kw})


def _y(grid, y0=Y_STAR, **kw):
    return solve(y_sde(), [y0], grid, **{"scheme": "implicit_milstein", **kw})


def _q(grid, q0=Q_STAR, **kw):
    return solve(q_sde(), [q0], grid, **{"scheme": "implicit_milstein", **kw})


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
    # solve on the unshaped SDEs with their specialised kernels
    ("J milstein n_paths 2.7", lambda: _J(G, n_paths=2.7), ValueError, "n_paths"),
    ("J milstein seed 1.5", lambda: _J(G, n_paths=2, seed=1.5), ValueError, "seed"),
    ("J milstein seed -1", lambda: _J(G, n_paths=2, seed=-1), ValueError, "seed"),
    ("J scheme", lambda: _J(G, scheme="rk4"), ValueError, "scheme"),
    ("J grid order", lambda: _J(G[::-1]), ValueError, "grid"),
    ("J dW nan", lambda: _J(G, dW=NAN_DW2), ValueError, "dW"),
    ("J dW shape", lambda: _J(G, dW=np.zeros((2, 5, 1))), ValueError, "dW"),
    ("J dW 2-D", lambda: _J(G, dW=np.zeros((2, 8))), ValueError, "dW"),
    ("J first_path", lambda: _J(G, n_paths=2, first_path=1.5), ValueError, "first_path"),
    ("q implicit dW nan", lambda: _q(G16, dW=NAN_DW16), ValueError, "dW"),
    ("q implicit dW inf", lambda: _q(G16, dW=np.full((1, 16, 1), np.inf)), ValueError, "dW"),
    ("q implicit start", lambda: _q(G0), ValueError, "grid"),
    ("q implicit y0", lambda: _q(G16, q0=1.0), ValueError, "y0"),
    ("q y0 string", lambda: _q(G16, q0="1.0"), TypeError, "y0"),
    ("q implicit milstein h", lambda: _q(np.linspace(0, 1, 3)), ValueError, "grid"),
    ("q implicit seed", lambda: _q(G16, n_paths=2, seed=-1), ValueError, "seed"),
    ("y implicit y0", lambda: _y(G, y0=1.0), ValueError, "y0"),
    ("y implicit y0 0", lambda: _y(G0, y0=0.0), ValueError, "y0"),
    ("y implicit grid start", lambda: _y(G - 0.5), ValueError, "grid"),
    ("y implicit dW nan", lambda: _y(G, dW=NAN_DW2), ValueError, "dW"),
    ("q euler start 0", lambda: _q(G, scheme="euler"), ValueError, "grid"),
    ("q euler y0", lambda: _q(G0, -1.0, scheme="euler"), ValueError, "y0"),
    ("q euler n_paths", lambda: _q(G0, scheme="euler", n_paths=2.7), ValueError, "n_paths"),
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
        (lambda: _q([0.1, 0.2], 0.0, scheme="euler", n_paths=2), ValueError, "y0"),
        (lambda: _y([0.1, 0.2], float("inf"), n_paths=2), ValueError, "y0"),
        (lambda: _y([0.0, 0.1], n_paths=2, scheme=1), ValueError, "scheme"),
        (lambda: _J([0.0, 0.1], n_paths=2, scheme="heun"), ValueError, "scheme"),
        (lambda: sample_q([0.25], n_paths=2, return_y=1), TypeError, "return_y"),
        (lambda: unshaped.y_implicit_scheme_moments([0.0, 0.1], milstein=1), TypeError, "milstein"),
    ],
)
def test_unshaped_integrators_check_through_the_check_module(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
