"""Calibration and input checks of estimate_scaling."""

import numpy as np
import pytest

from deeplimits.resnet.estimation import STATISTICS, estimate_scaling, expected_bootstrap_max, layer_statistics
from deeplimits.resnet.weights import SmoothWeightFunction, iid_weights

DEPTHS = [16, 32, 64, 128, 256, 512]


def _inside(est, key, value):
    lo, hi = est.ci[key]
    return lo <= value <= hi


def test_smooth_weights_recover_beta_and_increment_slope():
    beta = 0.3
    f = SmoothWeightFunction((10, 10), 0.3, seed=1)
    est = estimate_scaling({L: L**-beta * f.on_grid(L) for L in DEPTHS}, n_boot=200, seed=0)
    assert _inside(est, "max_norm_corrected", -beta)
    assert _inside(est, "increment", -1.0)
    assert _inside(est, "root_ssq", 0.5 - beta)
    assert est.verdict == "smooth (ODE)"
    assert abs(est.beta - beta) < 0.05


def test_iid_noise_recovers_diffusive_exponents_and_corrects_max_bias():
    nets = {L: L**-0.5 * iid_weights(1, L, (10, 10), seed=L)[0] for L in DEPTHS}
    est = estimate_scaling(nets, n_boot=200, seed=0)
    assert _inside(est, "root_ssq", 0.0)
    assert _inside(est, "quadratic_variation", 0.0)
    assert _inside(est, "max_norm_corrected", -0.5)
    assert est.verdict == "diffusive (SDE)"
    # the raw maximum of scalar i.i.d. noise is biased by sqrt(2 log L): its slope sits well above -1/2
    scal = {L: L**-0.5 * iid_weights(1, L, (1,), seed=L)[0] for L in DEPTHS}
    e1 = estimate_scaling(scal, n_boot=100, seed=0)
    assert e1.slopes["max_norm"] > -0.45
    assert abs(e1.slopes["max_norm_corrected"] + 0.5) < abs(e1.slopes["max_norm"] + 0.5)


def test_expected_bootstrap_max():
    assert expected_bootstrap_max([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    # two points: max of 2 draws is 2 with prob 3/4
    assert expected_bootstrap_max([1.0, 2.0]) == pytest.approx(1.75)


def test_list_and_state_dict_inputs():
    torch = pytest.importorskip("torch")
    f = SmoothWeightFunction((4, 4), 0.3, seed=2)
    sds = []
    for L in (8, 16, 32, 64):
        g = f.on_grid(L) * L**-0.2
        sds.append(
            {f"layers.{k}.weight": torch.tensor(g[k]) for k in range(L)}
            | {f"layers.{k}.bias": torch.zeros(4) for k in range(L)}
        )
    est = estimate_scaling(sds, n_boot=100)
    lst = estimate_scaling([list(f.on_grid(L) * L**-0.2) for L in (8, 16, 32, 64)], n_boot=100)
    assert est.slopes == pytest.approx(lst.slopes)


@pytest.mark.parametrize(
    "arg",
    [
        {16: np.ones((16, 3))},  # single depth
        {16: np.ones((16, 3)), 32: np.ones((32, 4))},  # inconsistent shapes
        {16: np.ones((16, 3)), 32: np.full((32, 3), np.nan)},  # non-finite
        {16: np.ones((15, 3)), 32: np.ones((32, 3))},  # key != number of layers
        [np.ones((1, 3)), np.ones((4, 3))],  # one layer: no increments
        [[np.ones(3), np.ones(4)], np.ones((4, 3))],  # layers of one net with different shapes
    ],
)
def test_bad_input(arg):
    with pytest.raises(ValueError):
        estimate_scaling(arg, n_boot=50)


def test_two_depths_are_refused():
    # with two depths the bootstrap interval under-covers (about 88 % at level 0.95): no interval is given
    ws = {L: L**-0.5 * iid_weights(1, L, (4, 4), seed=L)[0] for L in (16, 64)}
    with pytest.raises(ValueError, match="at least three distinct depths"):
        estimate_scaling(ws, n_boot=50)


def test_interval_coverage_iid_weights_four_depths():
    # calibration: over 60 independent designs the 95 % intervals contain the known exponents at least at the
    # nominal rate within binomial noise (>= 52 of 60 is 3 sd below 57); they are conservative in this design
    known = {"max_norm_corrected": -0.5, "root_ssq": 0.0, "quadratic_variation": 0.0}
    hits = dict.fromkeys(known, 0)
    for s in range(60):
        ws = {L: L**-0.5 * iid_weights(1, L, (6, 6), seed=s * 1000 + L)[0] for L in (16, 32, 64, 128)}
        est = estimate_scaling(ws, n_boot=100, seed=s)
        for key, val in known.items():
            lo, hi = est.ci[key]
            hits[key] += bool(lo <= val <= hi)
    assert all(h >= 52 for h in hits.values()), hits


def test_quadratic_variation_of_iid_weights_has_no_depth_tilt():
    # L^-1/2 i.i.d. weights: E[L/(L-1) sum_k ||A_{k+1} - A_k||^2] = 2 d^2 at every depth, so the log-log slope over
    # depths 16..256 is 0 up to noise (the plain sum carries 1 - 1/L, a tilt of +0.02).  Mean slope over 40 designs
    # within 3 standard errors of 0 (standard error from the 40 slopes themselves).
    depths = np.array([16, 32, 64, 128, 256])
    j = STATISTICS.index("quadratic_variation")
    slopes = []
    for s in range(40):
        qv = [
            layer_statistics(L**-0.5 * iid_weights(1, L, (16, 16), seed=s * 1000 + L)[0].reshape(L, -1))[j]
            for L in depths
        ]
        slopes.append(np.polyfit(np.log(depths), np.log(qv), 1)[0])
    se = np.std(slopes, ddof=1) / np.sqrt(len(slopes))
    assert abs(np.mean(slopes)) < 3 * se, (np.mean(slopes), se)
