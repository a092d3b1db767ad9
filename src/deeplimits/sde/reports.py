"""What ``solve`` reports after a kernel ran: failed paths and steps that left the SDE's domain."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from ._steps import FAIL_DIFFUSION, FAIL_DOMAIN, FAIL_DRIFT, FAIL_NEWTON
from .domain import DomainError
from .problem import SDE
from .special import KernelResult

__all__ = ["check_domain", "report_failures"]


def check_domain(
    sde: SDE, out: KernelResult, grid: NDArray[np.float64], idx: NDArray[np.int64], first_path: int, n_exits: int
) -> int:
    """Apply the domain rule to what the kernels reported and to the returned states."""
    domain = sde.domain
    assert domain is not None
    fail_dom = np.flatnonzero(out.fail[:, 1] == FAIL_DOMAIN)
    if fail_dom.size:
        i = int(fail_dom[0])
        k = int(out.fail[i, 0]) - 1
        raise DomainError(
            f"path {first_path + i} left the domain {domain.describe()} at step {k} (t={grid[k]:.6g} -> "
            f"{grid[k + 1]:.6g}); {fail_dom.size} path(s) did. Refine the grid, or declare the SDE's domain with "
            f"on_exit='reflect' or 'report'."
        )
    finite_rows = ~np.isnan(out.ys).reshape(out.ys.shape[0], -1).any(axis=1)
    per_save = out.ys[finite_rows].reshape(-1, sde.dim) if finite_rows.any() else out.ys[:0].reshape(0, sde.dim)
    outside = int(np.count_nonzero(domain.outside(per_save))) if per_save.size else 0
    if outside and domain.on_exit == "raise":
        raise DomainError(f"{outside} returned state(s) lie outside the domain {domain.describe()}")
    if outside > n_exits:  # states the kernel did not see leaving (e.g. a matrix domain checked here only)
        n_exits = outside
    if n_exits and domain.on_exit == "report":
        warnings.warn(
            f"{n_exits} step(s) left the domain {domain.describe()}; the states were kept (stats['n_exits'])",
            RuntimeWarning,
            stacklevel=5,  # at solve's caller: above here are run_batch, solve and its chunkable wrapper
        )
    return n_exits


_CAUSES = {
    FAIL_DRIFT: "the drift returned a non-finite value",
    FAIL_DIFFUSION: "the diffusion returned a non-finite value",
    FAIL_NEWTON: "the Newton iteration of the implicit step failed (reduce the step or check drift_jacobian)",
}


def report_failures(fail: NDArray[np.int64], grid: NDArray[np.float64], nonfinite: str, first_path: int) -> None:
    bad = np.flatnonzero((fail[:, 0] > 0) & (fail[:, 1] != FAIL_DOMAIN))
    if bad.size == 0:
        return
    i = int(bad[0])
    k = int(fail[i, 0]) - 1
    cause = _CAUSES.get(
        int(fail[i, 1]),
        "the state became non-finite (the explicit step is unstable there: refine the grid or use scheme='theta')",
    )
    msg = (
        f"{bad.size} path(s) failed; first: path {first_path + i} at step {k} (t={grid[k]:.6g} -> "
        f"{grid[k + 1]:.6g}): {cause}."
    )
    if nonfinite == "raise":
        raise ValueError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=5)  # at solve's caller (above run_batch, solve, its wrapper)
