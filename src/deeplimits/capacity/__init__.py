"""Capacity propagation through deep convolutional networks (Donier 2019).

The finite systems and their limits, side by side:

* :mod:`.layers`    -- conv layers as data and the capacity transition rule they induce;
* :mod:`.lattice`   -- boundary conventions shared by the chain, the walkers and the KFE solvers;
* :mod:`.chain`     -- exact propagation of the capacity distribution (stencil / FFT);
* :mod:`.walkers`   -- Monte-Carlo walkers sampling the same chain (Numba, parallel; walker ``i``
  draws from stream ``(seed, first_path + i)``, so split runs reproduce one run);
* :mod:`.convnet`   -- finite random conv ResNets with an exact backward pass;
* :mod:`.profile`   -- their empirical capacity allocation over random inputs
  (:class:`CapacityEstimate`, a :class:`~deeplimits._solution.Solution` over layers);
* :mod:`.activations` -- their activations and decoupling coefficients;
* :mod:`.limits`    -- deep-limit (KFE) coefficients of a layer, Kramers--Moyal moments, exact
  periodic master equation; ``KFECoefficients.master_equation(grid)`` /
  ``.drift_diffusion(grid)`` hand a layer's limit to the solvers;
* :mod:`.kfe`       -- subpackage: finite-difference / finite-volume solvers of the Kolmogorov
  forward equations (master equation and drift--diffusion--sink PDE, 1-D and 2-D; schemes
  ``"euler"``, ``"implicit_euler"``, ``"crank_nicolson"``, ``"theta"``, ADI), results as
  :class:`KFEResult` (``ts``, ``ys[save, *state]``, ``stats``), exact reference solutions;
* :mod:`.regimes`   -- scaling regimes ``alpha = a L^-beta``: spread, growth exponent, classification;
* :mod:`.catalogue` -- architectures with their scaling relations and limit coefficients.

Theory and what was confirmed by simulation: ``docs/theory/capacity.md`` (chain, limits, networks)
and ``docs/theory/capacity-kfe.md`` (solvers, orders).

Examples
--------
>>> import numpy as np
>>> from deeplimits.capacity import residual_stack, propagate, kfe_coefficients, lattice_1d, solve_kfe
>>> L = 256
>>> stack = residual_stack([1.0, 2.0, 1.0], L, a=1.5)            # alpha = 1.5 / sqrt(L)
>>> c_out = np.zeros(41); c_out[20] = 1.0                         # one output unit
>>> chain = propagate(stack, c_out)                               # exact chain, input capacity
>>> eq = kfe_coefficients(stack[0], L).master_equation(lattice_1d(41))
>>> limit = solve_kfe(eq, c_out, 1.0, n_steps=200, scheme="crank_nicolson").y
>>> bool(np.abs(chain - limit).sum() < 0.05)                      # O(1/L) apart
True
"""

from . import kfe
from .activations import ACTIVATIONS, activation, decoupling_coefficient
from .catalogue import ArchitectureEntry, catalogue
from .chain import chain_moments, propagate
from .convnet import ConvResNet
from .kfe import (
    DriftDiffusion1D,
    DriftDiffusion2D,
    Grid1D,
    Grid2D,
    KFEResult,
    MasterEquation,
    lattice_1d,
    lattice_2d,
    master_exact_periodic,
    solve_kfe,
)
from .lattice import BOUNDARIES
from .layers import PADDINGS, ConvLayer, ScalingLaw, Transition, plain_stack, residual_stack
from .limits import KFECoefficients, kfe_coefficients, kramers_moyal, master_equation_periodic
from .profile import CapacityEstimate, capacity_profile
from .regimes import classify_regime, growth_exponent, spread, spread_vs_depth
from .walkers import WalkerResult, run_walkers, walker_capacity

__all__ = [
    # chain
    "BOUNDARIES",
    "PADDINGS",
    "ConvLayer",
    "ScalingLaw",
    "Transition",
    "plain_stack",
    "residual_stack",
    "propagate",
    "chain_moments",
    "WalkerResult",
    "run_walkers",
    "walker_capacity",
    # finite networks
    "ACTIVATIONS",
    "activation",
    "decoupling_coefficient",
    "ConvResNet",
    "CapacityEstimate",
    "capacity_profile",
    # deep limits
    "KFECoefficients",
    "kfe_coefficients",
    "kramers_moyal",
    "master_equation_periodic",
    "classify_regime",
    "growth_exponent",
    "spread",
    "spread_vs_depth",
    "ArchitectureEntry",
    "catalogue",
    # KFE solvers (the subpackage deeplimits.capacity.kfe holds the schemes, operators and exact solutions)
    "kfe",
    "Grid1D",
    "Grid2D",
    "lattice_1d",
    "lattice_2d",
    "MasterEquation",
    "DriftDiffusion1D",
    "DriftDiffusion2D",
    "KFEResult",
    "solve_kfe",
    "master_exact_periodic",
]
