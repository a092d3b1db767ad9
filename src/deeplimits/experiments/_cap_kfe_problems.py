"""Problems with exact solutions on which the KFE schemes' orders are measured.

Each function solves one problem at a list of resolutions (cells, or depth steps) and returns
the max error against the exact solution at each; :mod:`.cap_kfe` (``cap.fd_orders``) and
``tests/test_cap_kfe.py`` measure the same orders from them.  Coefficients vary with depth
(:func:`drift`, :func:`diffusion`, :func:`sink`) wherever the exact solution allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deeplimits.capacity.kfe import solve_kfe
from deeplimits.capacity.kfe.discrete_exact import master_exact_periodic, semidiscrete_exact
from deeplimits.capacity.kfe.equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation
from deeplimits.capacity.kfe.exact import fourier_mode_1d, fourier_mode_2d, gaussian_1d, integral
from deeplimits.capacity.kfe.grid import Grid1D, Grid2D, lattice_1d, lattice_2d

__all__ = [
    "TENSOR",
    "drift",
    "diffusion",
    "sink",
    "space_errors_1d_periodic",
    "space_errors_1d_gaussian",
    "space_errors_1d_absorbing",
    "space_errors_2d",
    "depth_errors_1d",
    "depth_errors_2d",
    "depth_errors_master",
]

#: Constant diffusion tensor with a mixed term.
TENSOR = [[0.3, 0.1], [0.1, 0.2]]


def drift(t: Any) -> Any:
    """Depth-dependent drift ``0.6 + 0.3 sin(2 pi t)``."""
    return 0.6 + 0.3 * np.sin(2 * np.pi * t)


def diffusion(t: Any) -> Any:
    """Depth-dependent diffusion ``0.2 + 0.1 t``."""
    return 0.2 + 0.1 * t


def sink(t: Any) -> Any:
    """Depth-dependent sink ``0.3 (1 + cos(pi t))``."""
    return 0.3 * (1 + np.cos(np.pi * t))


def space_errors_1d_periodic(
    ns: Sequence[int], scheme: str = "crank_nicolson", advection: str = "central"
) -> list[float]:
    """Fourier mode on a periodic ``[0, 1]``, depth-dependent ``v, D, kappa``, ``dt = h / 8``, ``t = 0.5``."""
    k, T = 2 * np.pi, 0.5
    errs = []
    for n in ns:
        g = Grid1D(0.0, 1.0, n, "periodic")
        eq = DriftDiffusion1D(g, v=drift, D=diffusion, kappa=sink, advection=advection)
        r = solve_kfe(eq, 1 + 0.5 * np.cos(k * g.x), T, dt=g.h / 8, scheme=scheme)
        ex = fourier_mode_1d(
            g.x, k, 0.5, float(integral(drift, 0, T)), float(integral(diffusion, 0, T)), float(integral(sink, 0, T))
        )
        errs.append(float(np.abs(r.y - ex).max()))
    return errs


def _sup_errors(ns: Sequence[int], problem: Any) -> list[float]:
    """Sup-norm error of ``problem(n) -> (numerical solution, exact solution)`` for each ``n`` of ``ns``."""
    return [float(np.abs(y - ex).max()) for y, ex in map(problem, ns)]


def space_errors_1d_gaussian(ns: Sequence[int]) -> list[float]:
    """Gaussian (width 0.3) drifting on a reflecting ``[-5, 5]`` wide enough to be unbounded, to ``t = 1``."""
    T = 1.0

    def problem(n):
        g = Grid1D(-5.0, 5.0, n, "reflecting")
        r = solve_kfe(DriftDiffusion1D(g, v=drift, D=diffusion), gaussian_1d(g.x, 0, 0, x0=-1.0, s0=0.3), T, dt=g.h / 4)
        return r.y, gaussian_1d(g.x, float(integral(drift, 0, T)), float(integral(diffusion, 0, T)), x0=-1.0, s0=0.3)

    return _sup_errors(ns, problem)


def space_errors_1d_absorbing(ns: Sequence[int]) -> list[float]:
    """``sin(pi x)`` on an absorbing ``[0, 1]`` (it vanishes at the ends), constant sink, to ``t = 0.3``."""
    T = 0.3

    def problem(n):
        g = Grid1D(0.0, 1.0, n, "absorbing")
        r = solve_kfe(DriftDiffusion1D(g, D=diffusion, kappa=0.5), np.sin(np.pi * g.x), T, dt=g.h / 8)
        return r.y, fourier_mode_1d(g.x, np.pi, 1.0, 0, float(integral(diffusion, 0, T)), 0.5 * T, "sin")

    return _sup_errors(ns, problem)


def space_errors_2d(ns: Sequence[int], n_steps: int) -> list[float]:
    """Fourier mode on the periodic unit square, full tensor :data:`TENSOR`, Hundsdorfer--Verwer, ``t = 0.25``."""
    T, kv = 0.25, (2 * np.pi, 2 * np.pi)
    errs = []
    for n in ns:
        g = Grid2D.square(0.0, 1.0, n, "periodic")
        X, Y = g.mesh()
        eq = DriftDiffusion2D(g, v=(0.5, -0.3), D=TENSOR, kappa=0.2)
        c0 = fourier_mode_2d(X, Y, kv, 0.7, (0, 0), np.zeros((2, 2)))
        r = solve_kfe(eq, c0, T, n_steps=n_steps, scheme="hundsdorfer_verwer")
        ex = fourier_mode_2d(X, Y, kv, 0.7, (0.5 * T, -0.3 * T), np.array(TENSOR) * T, 0.2 * T)
        errs.append(float(np.abs(r.y - ex).max()))
    return errs


def depth_errors_1d(scheme: str, steps: Sequence[int]) -> list[float]:
    """16 periodic cells, depth-dependent coefficients, against the semi-discrete exact solution at ``t = 0.5``."""
    g = Grid1D(0.0, 1.0, 16, "periodic")
    eq = DriftDiffusion1D(g, v=drift, D=diffusion, kappa=sink)
    c0 = 1 + np.cos(2 * np.pi * g.x) + 0.5 * np.sin(6 * np.pi * g.x)
    ref = semidiscrete_exact(eq, c0, 0.5)
    return [float(np.abs(solve_kfe(eq, c0, 0.5, n_steps=s, scheme=scheme).y - ref).max()) for s in steps]


def depth_errors_2d(scheme: str, D: Any, steps: Sequence[int]) -> list[float]:
    """12 x 12 periodic cells, depth-dependent drift and sink, diffusion ``D``; semi-discrete exact at ``t = 0.4``."""
    g = Grid2D.square(0.0, 1.0, 12, "periodic")
    X, Y = g.mesh()
    eq = DriftDiffusion2D(g, v=lambda t: (0.5 + 0.5 * t, -0.3), D=D, kappa=sink)
    c0 = 1 + np.cos(2 * np.pi * (X + Y)) + 0.3 * np.sin(2 * np.pi * (X - 2 * Y))
    ref = semidiscrete_exact(eq, c0, 0.4)
    return [float(np.abs(solve_kfe(eq, c0, 0.4, n_steps=s, scheme=scheme).y - ref).max()) for s in steps]


def depth_errors_master(scheme: str, steps: Sequence[int], dims: int = 1) -> list[float]:
    """Periodic master equation (64 sites, or 16 x 16), depth-dependent rate; FFT exact solution at ``t = 1``."""
    if dims == 1:
        g = lattice_1d(64, "periodic")
        eq = MasterEquation(g, [-1, 0, 2, -3], [0.4, 0.2, 0.3, 0.1], rate=lambda t: 2 + np.sin(3 * t), kappa=sink)
        c0 = np.exp(-((g.x - 32) ** 2) / 20)
    else:
        g2 = lattice_2d(16, 16, "periodic")
        eq = MasterEquation(g2, [[1, 0], [0, 1], [-1, -1], [0, 0]], [0.3, 0.3, 0.3, 0.1], rate=lambda t: 1 + t)
        X, Y = g2.mesh()
        c0 = np.exp(-((X - 8) ** 2 + (Y - 6) ** 2) / 8)
    ex = master_exact_periodic(eq, c0, 1.0)
    return [float(np.abs(solve_kfe(eq, c0, 1.0, n_steps=s, scheme=scheme).y - ex).max()) for s in steps]
