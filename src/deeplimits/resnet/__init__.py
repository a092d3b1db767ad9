"""ResNet depth scaling: finite random ResNets, their ODE/SDE limits, and exponents estimated from weights.

* :mod:`~deeplimits.resnet.weights` -- i.i.d., smooth (RBF Gaussian process in k/L) and fractional-Gaussian-noise
  weights;
* :mod:`~deeplimits.resnet.finite` -- batches of dense random ResNets (``cohen``, ``res1``, ``res3`` branches);
* :mod:`~deeplimits.resnet.exact` -- exact-in-law O(d)-per-layer simulator for fresh i.i.d. weights;
* :mod:`~deeplimits.resnet.spec` -- the checked arguments shared by the two simulators;
* :mod:`~deeplimits.resnet.moments` -- closed-form second and fourth moments of ``||h_L||``;
* :mod:`~deeplimits.resnet.limits` -- neural SDEs (``deeplimits.sde.SDE`` objects) and Cohen et al.'s diffusive
  SDE, the limits of i.i.d.-weight ResNets;
* :mod:`~deeplimits.resnet.odes` -- neural and alternative ODEs and the smooth-weight ResNets they approximate;
* :mod:`~deeplimits.resnet.regimes` -- regime map over (beta, H);
* :mod:`~deeplimits.resnet.estimation` -- :func:`estimate_scaling`;
* :mod:`~deeplimits.resnet.training` -- training on Cohen et al.'s synthetic task (needs torch, imported lazily).

Theory and measured confirmations: ``docs/theory/resnet.md``.
"""

from .estimation import ScalingEstimate, estimate_scaling
from .exact import exact_resnets
from .finite import ResNetBatch, random_resnets, simulate_resnets
from .limits import cohen_mean_drift, diffusive_sde, gaussian_moment, neural_sde, norm_sde_law
from .moments import norm_moments, norm_moments_limit
from .odes import alternative_ode, neural_ode, smooth_resnet
from .regimes import critical_beta, regime_map
from .weights import SmoothWeightFunction, fgn_weights, iid_weights, rbf_gp_weights

__all__ = [
    "ScalingEstimate",
    "estimate_scaling",
    "gaussian_moment",
    "exact_resnets",
    "ResNetBatch",
    "random_resnets",
    "simulate_resnets",
    "alternative_ode",
    "cohen_mean_drift",
    "diffusive_sde",
    "neural_ode",
    "neural_sde",
    "norm_sde_law",
    "smooth_resnet",
    "norm_moments",
    "norm_moments_limit",
    "critical_beta",
    "regime_map",
    "SmoothWeightFunction",
    "fgn_weights",
    "iid_weights",
    "rbf_gp_weights",
]
