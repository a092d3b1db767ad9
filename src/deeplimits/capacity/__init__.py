"""Capacity propagation through deep convolutional networks (Donier 2019).

* :mod:`.layers`    -- conv layers as data and the capacity transition rule they induce;
* :mod:`.chain`     -- exact propagation of the capacity distribution (stencil / FFT);
* :mod:`.walkers`   -- Monte-Carlo walkers sampling the same chain (Numba, parallel, seeded);
* :mod:`.limits`    -- deep-limit (KFE) coefficients of a layer, exact periodic master equation;
* :mod:`.regimes`   -- scaling regimes ``alpha = a L^-beta``: spread, growth exponent, classification;
* :mod:`.catalogue` -- architectures with their scaling relations and limit coefficients;
* :mod:`.convnet`   -- finite random conv ResNets and their empirical capacity allocation.

The theory and what was confirmed by simulation: ``docs/theory/capacity.md``.
"""

from .catalogue import ArchitectureEntry, catalogue
from .chain import chain_moments, pack_stack, propagate
from .convnet import (ACTIVATIONS, CapacityEstimate, ConvResNet, activation, capacity_profile,
                      decoupling_coefficient)
from .layers import (BOUNDARIES, PADDINGS, ConvLayer, ScalingLaw, Transition, check_stack, plain_stack,
                     residual_stack)
from .limits import KFECoefficients, kfe_coefficients, master_equation_periodic
from .regimes import classify_regime, growth_exponent, spread, spread_vs_depth
from .walkers import WalkerResult, run_walkers, walker_capacity

__all__ = [
    "ACTIVATIONS", "ArchitectureEntry", "BOUNDARIES", "CapacityEstimate", "ConvLayer", "ConvResNet",
    "KFECoefficients", "PADDINGS", "ScalingLaw", "Transition", "WalkerResult", "activation",
    "capacity_profile", "catalogue", "chain_moments", "check_stack", "classify_regime",
    "decoupling_coefficient", "growth_exponent", "kfe_coefficients", "master_equation_periodic",
    "pack_stack", "plain_stack", "propagate", "residual_stack", "run_walkers", "spread",
    "spread_vs_depth", "walker_capacity",
]
