"""Helpers shared by the capacity experiments (:mod:`.cap`, :mod:`.cap_networks`, :mod:`.cap_kfe`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deeplimits.capacity import kfe_coefficients, lattice_1d, master_equation_periodic, solve_kfe
from deeplimits.validation import Check, Outcome, save_figure

__all__ = ["delta", "slope", "order_check", "outcome", "limit_profiles"]


def delta(shape, at=None):
    c = np.zeros(shape)
    c[tuple(n // 2 for n in np.atleast_1d(shape)) if at is None else at] = 1.0
    return c


def slope(x, y):
    """Least-squares slope of ``log y`` against ``log x``."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def order_check(name: str, measured: float, order: float, note: str) -> Check:
    """The check that a measured order (or slope) is within +-0.2 of its theoretical value."""
    return Check(name, measured, "in", (order - 0.2, order + 0.2), note=note)


def outcome(fig: Any, outdir: Any, name: str, checks: list[Check], metrics: dict[str, Any], summary: str) -> Outcome:
    """Save the experiment's one figure as ``name`` and return its outcome."""
    return Outcome(checks=checks, metrics=metrics, figures=[save_figure(fig, outdir, name)], summary=summary)


def limit_profiles(layer, depth, c0, n_steps=400):
    """Deep limits of a 1-D periodic stack of ``depth`` copies of ``layer`` at t = 1.

    Returns the exact master-equation solution (FFT), the drift-diffusion PDE solved by the
    finite-volume Crank-Nicolson solver on the same lattice (one cell per site, so the density is
    the capacity per site; ``n_steps`` keeps ``dt * 2 D / h^2`` below 1 for the kernels used here,
    so CN damps the delta start without oscillating), and the mask of the sublattice the chain
    lives on.  A dilated kernel (offsets multiples of g) keeps the capacity on every g-th site,
    where the smooth PDE density must be multiplied by g to compare: the PDE is returned that
    way (g * density on the sublattice, 0 elsewhere).
    """
    co = kfe_coefficients(layer, depth)
    grid = lattice_1d(len(c0), "periodic")
    me = master_equation_periodic(co, c0, 1.0)
    pde = solve_kfe(co.drift_diffusion(grid), c0, 1.0, n_steps=n_steps, scheme="crank_nicolson").y
    o = co.offsets[:, 0]
    g = int(np.gcd.reduce(np.abs(o[o != 0]))) if np.any(o != 0) else 1
    sub = (np.arange(len(c0)) - int(np.argmax(c0))) % g == 0
    return me, np.where(sub, g * pde, 0.0), sub
