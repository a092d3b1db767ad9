"""Planted-error (mutation) tests: every quick experiment that compares a limit with a finite system must fail when a
10 % error is planted in one coefficient of its limit, and pass without one.

The error is planted through ``Experiment.run(perturb={name: factor})`` (docs/validation.md, "Power: resolution and
planted errors").  One unperturbed run per experiment is shared by its cases.  The cheapest cases run in CI; the
others are marked slow (each quick experiment takes 15-40 s on 2 cores).
"""

from __future__ import annotations

import importlib

import pytest

from deeplimits.validation import registry

_MODULES = {
    "corr.unshaped_limit": "corr_networks",
    "corr.shaped_limit": "corr_networks_shaped",
    "corr.resnet_vs_shaped": "corr_networks_shaped",
    "corr.infinite_width": "corr",
    "cap.finite_network": "cap_networks",
    "cap.kfe_to_diffusion": "cap_kfe",
    "resnet.sde_law": "resnet",
    "resnet.smooth_ode": "resnet",
    "resnet.moments": "resnet",
    "resnet.critical_beta": "resnet",
    "resnet.estimator_calibration": "resnet_scaling",
    "resnet.regime_map": "resnet_scaling",
}

slow = pytest.mark.slow

# (experiment, coefficient, the factor CI runs or None): each coefficient is planted x 1.1 and x 0.9, the
# direction CI does not run is marked slow
_PLANTED = [
    ("cap.kfe_to_diffusion", "drift", 1.1),
    ("cap.kfe_to_diffusion", "diffusion", 0.9),
    ("corr.resnet_vs_shaped", "kappa", 1.1),
    ("corr.infinite_width", "noise", 1.1),
    ("corr.infinite_width", "shaped_noise", 0.9),
    ("corr.infinite_width", "drift", 0.9),
    ("corr.infinite_width", "kappa", 1.1),
    ("corr.shaped_limit", "kappa", 1.1),
    ("corr.shaped_limit", "noise", None),
    ("corr.shaped_limit", "norm_noise", None),
    ("corr.unshaped_limit", "noise", 0.9),
    ("corr.unshaped_limit", "drift", None),
    ("cap.finite_network", "rule", None),
    ("resnet.sde_law", "drift", None),
    ("resnet.sde_law", "noise", None),
    ("resnet.smooth_ode", "ode", None),
    ("resnet.smooth_ode", "alt_ode", None),
    ("resnet.moments", "noise", 1.1),
    ("resnet.critical_beta", "beta", None),
    ("resnet.estimator_calibration", "beta", 1.1),
    ("resnet.regime_map", "beta_star", 0.9),
]
CASES = [
    pytest.param(eid, coef, factor, marks=() if factor == ci else slow)
    for eid, coef, ci in _PLANTED
    for factor in (1.1, 0.9)
]

_baseline: dict[str, object] = {}


def _experiment(eid):
    importlib.import_module(f"deeplimits.experiments.{_MODULES[eid]}")
    return registry[eid]


def _failed_checks(out):
    return [c.name for c in out.checks if not c.passed]


@pytest.mark.parametrize(("eid", "coef", "factor"), CASES)
def test_planted_error_fails_quick_experiment(eid, coef, factor, tmp_path):
    exp = _experiment(eid)
    if eid not in _baseline:
        _baseline[eid] = exp.run("quick", seed=0, outdir=tmp_path / "unperturbed")
    base = _baseline[eid]
    assert base.passed, f"{eid} fails unperturbed: {_failed_checks(base)}"
    out = exp.run("quick", seed=0, outdir=tmp_path / "perturbed", perturb={coef: factor})
    assert not out.passed, f"{eid}: a planted error {coef} x {factor} is not detected"
    assert out.metrics["perturb"][coef] == factor


def test_every_declared_coefficient_is_planted():
    planted = {(p.values[0], p.values[1]) for p in CASES}
    for eid in _MODULES:
        exp = _experiment(eid)
        assert exp.perturbable, eid
        assert exp.resolution.keys() == {"quick", "full"}, eid
        for coef in exp.perturbable:  # every declared coefficient is resolved at 10 % in quick mode
            assert (eid, coef) in planted, (eid, coef)


def test_perturb_is_checked(tmp_path):
    exp = _experiment("cap.kfe_to_diffusion")
    with pytest.raises(ValueError, match="cannot perturb"):
        exp.run("quick", outdir=tmp_path, perturb={"kappa": 1.1})
    with pytest.raises(ValueError, match=r"perturb\['drift'\]"):
        exp.run("quick", outdir=tmp_path, perturb={"drift": 0.0})
    with pytest.raises(TypeError, match="perturb must be a dict"):
        exp.run("quick", outdir=tmp_path, perturb=[("drift", 1.1)])
