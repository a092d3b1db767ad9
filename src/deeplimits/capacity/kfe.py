"""Finite-difference solvers for the Kolmogorov forward equation (KFE) of capacity propagation.

Public entry point of the KFE solvers (Donier 2019, deep limit of the capacity
Markov chain; see ``docs/theory/capacity-kfe.md``):

* grids: :class:`Grid1D`, :class:`Grid2D`, :func:`lattice_1d`, :func:`lattice_2d`;
* equations: :class:`MasterEquation` (lattice jump generator),
  :class:`DriftDiffusion1D`, :class:`DriftDiffusion2D` (its drift--diffusion--sink PDE);
* :func:`solve` (dispatches to :func:`solve_master` / :func:`solve_pde`) returning a
  :class:`KFEResult` with ``ts``, ``ys``, ``stats``;
* exact solutions for validation: :func:`master_exact_periodic`, :func:`gaussian_1d`,
  :func:`gaussian_2d`, :func:`fourier_mode_1d`, :func:`fourier_mode_2d`, :func:`semidiscrete_exact`;
* :func:`kramers_moyal`: drift / diffusion of the PDE that approximates a master equation.

Example
-------
>>> import numpy as np
>>> from deeplimits.capacity.kfe import Grid1D, DriftDiffusion1D, solve
>>> g = Grid1D(-5, 5, 200, "reflecting")
>>> eq = DriftDiffusion1D(g, v=0.3, D=0.5, kappa=0.0)
>>> c0 = np.exp(-g.x**2 / 0.1); c0 /= g.total(c0)
>>> res = solve(eq, c0, 1.0, dt=0.01, scheme="crank_nicolson")
>>> bool(abs(res.mass()[-1] - 1) < 1e-12)
True
"""

from __future__ import annotations

from .kfe_exact import fourier_mode_1d, fourier_mode_2d, gaussian_1d, gaussian_2d, integral, semidiscrete_exact
from .kfe_grid import BOUNDARIES, Grid1D, Grid2D, KFEResult, lattice_1d, lattice_2d
from .kfe_master import SCHEMES_MASTER, MasterEquation, generator_matrix, master_exact_periodic, solve_master
from .kfe_pde import SCHEMES_1D, SCHEMES_2D, DriftDiffusion1D, DriftDiffusion2D, solve_pde
from .limits import kramers_moyal

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
    "solve",
    "solve_master",
    "solve_pde",
    "kramers_moyal",
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


def solve(eq, c0, t_end: float, **kwargs) -> KFEResult:
    """Integrate any capacity KFE over depth; see :func:`solve_pde` and :func:`solve_master` for options.

    Parameters
    ----------
    eq : MasterEquation, DriftDiffusion1D or DriftDiffusion2D
        The equation.
    c0 : ndarray
        Initial field at ``t0`` (default 0).
    t_end : float
        Final depth.
    **kwargs
        ``dt`` or ``n_steps``, ``scheme``, ``t0``, ``save_every``, ``substeps`` (and ``theta`` for 2-D ADI).

    Returns
    -------
    KFEResult
    """
    if isinstance(eq, MasterEquation):
        return solve_master(eq, c0, t_end, **kwargs)
    if isinstance(eq, (DriftDiffusion1D, DriftDiffusion2D)):
        return solve_pde(eq, c0, t_end, **kwargs)
    raise ValueError(f"eq must be a MasterEquation, DriftDiffusion1D or DriftDiffusion2D, got {type(eq).__name__}")
