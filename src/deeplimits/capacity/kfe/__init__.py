"""Finite-difference solvers for the Kolmogorov forward equation (KFE) of capacity propagation.

Deep limit of the capacity Markov chain (Donier 2019; see ``docs/theory/capacity-kfe.md``).
Modules, from data to solvers:

* :mod:`.grid` -- :class:`Grid1D`, :class:`Grid2D`, :func:`lattice_1d`, :func:`lattice_2d`;
* :mod:`.equations` -- :class:`MasterEquation` (lattice jump generator),
  :class:`DriftDiffusion1D`, :class:`DriftDiffusion2D` (its drift--diffusion--sink PDE);
* :mod:`.operators` -- their discrete operators (finite volumes; scatter-form jumps);
* :mod:`.pde1d`, :mod:`.pde2d`, :mod:`.master`, :mod:`.exponential` -- depth schemes (the last:
  exponential integrators of the master equation, their exponentials by :mod:`.uniformization`);
* :mod:`.driver` -- their entry point :func:`solve_kfe` (any equation), with one handling of the depth keywords;
* :mod:`.result` -- :class:`KFEResult`, a deterministic :class:`~deeplimits._solution.Solution`
  with ``ts``, ``ys[save, *state]`` and ``stats``;
* :mod:`.exact`, :mod:`.discrete_exact` -- exact solutions for validation: of the continuum
  equation (:func:`gaussian_1d`, :func:`gaussian_2d`, :func:`fourier_mode_1d`,
  :func:`fourier_mode_2d`) and of the discrete systems (:func:`master_exact_periodic`,
  :func:`semidiscrete_exact`).

Vocabulary (shared with :func:`deeplimits.sde.solve`): output depths are ``saveat``, the
method is ``scheme=`` -- ``"euler"`` (explicit Euler), ``"implicit_euler"``,
``"crank_nicolson"``, ``"theta"`` with ``theta=`` (1-D PDE and master equation), and in 2-D
the ADI schemes ``"peaceman_rachford"``, ``"douglas"``, ``"hundsdorfer_verwer"``, for the master
equation the exponential integrators ``"exponential_midpoint"`` and ``"exponential_cf4"`` with
``tol=`` -- and the run metadata is in ``stats``.

Examples
--------
>>> import numpy as np
>>> from deeplimits.capacity.kfe import Grid1D, DriftDiffusion1D, solve_kfe
>>> g = Grid1D(-5, 5, 200, "reflecting")
>>> eq = DriftDiffusion1D(g, v=0.3, D=0.5, kappa=0.0)
>>> c0 = np.exp(-g.x**2 / 0.1); c0 /= g.total(c0)
>>> res = solve_kfe(eq, c0, 1.0, dt=0.01, scheme="crank_nicolson", saveat=[0.0, 0.5, 1.0])
>>> res.ys.shape, bool(abs(res.mass()[-1] - 1) < 1e-12)
((3, 200), True)
"""

from __future__ import annotations

from .discrete_exact import master_exact_periodic, semidiscrete_exact
from .driver import solve_kfe
from .equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation
from .exact import fourier_mode_1d, fourier_mode_2d, gaussian_1d, gaussian_2d, integral
from .grid import BOUNDARIES, Grid1D, Grid2D, lattice_1d, lattice_2d
from .master import SCHEMES_MASTER
from .operators import generator_matrix
from .pde1d import SCHEMES_1D
from .pde2d import SCHEMES_2D
from .result import KFEResult

__all__ = [
    "BOUNDARIES",
    "Grid1D",
    "Grid2D",
    "KFEResult",
    "lattice_1d",
    "lattice_2d",
    "MasterEquation",
    "DriftDiffusion1D",
    "DriftDiffusion2D",
    "solve_kfe",
    "master_exact_periodic",
    "generator_matrix",
    "semidiscrete_exact",
    "integral",
    "gaussian_1d",
    "gaussian_2d",
    "fourier_mode_1d",
    "fourier_mode_2d",
    "SCHEMES_1D",
    "SCHEMES_2D",
    "SCHEMES_MASTER",
]
