"""``solve``: integrate many independent paths of an :class:`~deeplimits.sde.SDE`."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .grids import check_grid, save_indices
from .problem import SDE

__all__ = ["Solution", "solve", "SCHEMES"]

#: Schemes with their (strong, weak) orders for general multiplicative noise.
SCHEMES = {
    "euler": dict(strong=0.5, weak=1.0, explicit=True, doc="Euler-Maruyama"),
    "milstein": dict(strong=1.0, weak=1.0, explicit=True, doc="Milstein (diagonal noise)"),
    "theta": dict(strong=0.5, weak=1.0, explicit=False, doc="drift-implicit theta method"),
    "weak2": dict(strong=0.5, weak=2.0, explicit=True, doc="Platen explicit weak order 2 (scalar)"),
}


@dataclass
class Solution:
    """Paths of an SDE at the output times.

    Attributes
    ----------
    ts : numpy.ndarray, shape (n_save,)
        Output times.
    ys : numpy.ndarray, shape (n_paths, n_save, dim)
        ``ys[i, j, a]`` is component ``a`` of path ``i`` at time ``ts[j]``.
    stats : dict
        ``scheme``, ``backend``, ``n_paths``, ``n_steps``, ``n_save``,
        ``wall_time`` (seconds), ``path_steps_per_second``.
    """

    ts: np.ndarray
    ys: np.ndarray
    stats: dict = field(default_factory=dict)

    def at(self, t: float) -> np.ndarray:
        """States of all paths at output time ``t``, shape ``(n_paths, dim)``."""
        j = int(np.argmin(np.abs(self.ts - t)))
        if abs(self.ts[j] - t) > 1e-12 * max(1.0, abs(t)):
            raise ValueError(f"t={t} is not an output time; output times are {self.ts}")
        return self.ys[:, j, :]


def _as_initial_state(y0, dim: int, n_paths: int | None) -> np.ndarray:
    y0 = np.asarray(y0, dtype=np.float64)
    if y0.ndim == 0:
        y0 = y0.reshape(1)
    if y0.ndim == 1:
        if y0.size != dim:
            raise ValueError(f"y0 has {y0.size} components but the SDE has dim={dim}")
        y0 = np.broadcast_to(y0, (1 if n_paths is None else n_paths, dim))
    elif y0.ndim == 2:
        if y0.shape[1] != dim:
            raise ValueError(f"y0 must have shape (n_paths, {dim}), got {y0.shape}")
        if n_paths is not None and y0.shape[0] != n_paths:
            raise ValueError(f"y0 has {y0.shape[0]} rows but n_paths={n_paths}")
    else:
        raise ValueError(f"y0 must have shape (dim,) or (n_paths, dim), got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise ValueError("y0 contains non-finite values")
    return np.ascontiguousarray(y0)


def _check_increments(dW, n_paths, n_steps, m):
    dW = np.ascontiguousarray(np.asarray(dW, dtype=np.float64))
    if dW.ndim != 3 or dW.shape[1:] != (n_steps, m):
        raise ValueError(f"dW must have shape (n_paths, n_steps={n_steps}, n_noise={m}), got {dW.shape}")
    if n_paths is not None and dW.shape[0] != n_paths:
        raise ValueError(f"dW has {dW.shape[0]} paths but n_paths={n_paths}")
    if not np.all(np.isfinite(dW)):
        raise ValueError("dW contains non-finite increments")
    return dW


def _check_stability(sde, grid, y0, scheme):
    has_jac = sde.drift_jacobian is not None
    jac = sde.drift_jacobian if has_jac else kernels.no_matrix_function
    worst, k = kernels.explicit_stiffness(sde.drift, jac, has_jac, grid, y0, sde.params)
    if worst > 2.0:
        raise ValueError(
            f"explicit scheme {scheme!r} is unstable on this grid: at step {k} (t={grid[k]:.6g}, "
            f"h={grid[k + 1] - grid[k]:.3g}) h*|df/dy| = {worst:.3g} > 2. Refine the grid near that time "
            f"(e.g. geometric_grid), use scheme='theta', or pass check_stability=False to override.")


def solve(sde: SDE, y0, grid, *, saveat=None, n_paths: int | None = None, scheme: str = "euler",
          seed: int = 0, dW=None, theta: float = 1.0, newton_tol: float = 1e-12, newton_maxiter: int = 50,
          check_stability: bool = True, nonfinite: str = "raise", backend: str = "numba") -> Solution:
    """Integrate independent paths of an SDE on a fixed time grid.

    Parameters
    ----------
    sde : SDE
        The equation.
    y0 : array_like, shape (dim,) or (n_paths, dim)
        Initial state, shared or per path.
    grid : array_like, shape (n_steps + 1,)
        Strictly increasing step times (see :func:`uniform_grid`,
        :func:`geometric_grid`); non-uniform grids are allowed.
    saveat : array_like, optional
        Output times, a strictly increasing subset of ``grid``; default: every grid point.
    n_paths : int, optional
        Number of paths (default: from ``y0`` or ``dW``, else 1).
    scheme : {"euler", "milstein", "theta", "weak2"}
        Euler--Maruyama (strong 1/2, weak 1); Milstein for diagonal noise
        (strong 1, weak 1); drift-implicit theta method (strong 1/2, weak 1;
        ``theta=1`` never evaluates the drift at ``grid[0]``, so singular
        starts are allowed); Platen's derivative-free weak order 2 scheme
        (scalar SDEs).
    seed : int
        Path ``i`` uses random stream ``(seed, i)``: results do not depend on
        the number of threads.
    dW : array_like, shape (n_paths, n_steps, n_noise), optional
        Brownian increments to use instead of drawing them (already scaled by
        ``sqrt(h)``).  Passing sums of fine increments couples step sizes for
        strong-error measurements.
    theta : float
        Implicitness of the ``"theta"`` scheme, in ``[0, 1]``.
    newton_tol, newton_maxiter
        Newton iteration of the ``"theta"`` scheme (relative step tolerance).
    check_stability : bool
        For explicit schemes, raise if ``h |df_a/dy_a| > 2`` anywhere on the
        grid at the initial state (catches e.g. ``a/t`` drifts too close to 0).
    nonfinite : {"raise", "keep"}
        What to do when a path becomes non-finite: raise a ValueError (default)
        or keep NaN in the remaining outputs of that path.
    backend : {"numba", "torchsde"}
        ``"torchsde"`` runs the same SDE through :func:`torchsde.sdeint`
        (float64); only ``"euler"`` and ``"milstein"`` on uniform grids.

    Returns
    -------
    Solution
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a deeplimits.sde.SDE, got {type(sde).__name__}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(SCHEMES)}, got {scheme!r}")
    if nonfinite not in ("raise", "keep"):
        raise ValueError(f"nonfinite must be 'raise' or 'keep', got {nonfinite!r}")
    grid = check_grid(grid)
    n_steps = grid.size - 1
    idx = save_indices(grid, saveat)
    if n_paths is not None:
        n_paths = int(n_paths)
        if n_paths < 1:
            raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    if dW is not None:
        dW = _check_increments(dW, n_paths, n_steps, sde.n_noise)
        n_paths = dW.shape[0]
    y0 = _as_initial_state(y0, sde.dim, n_paths)
    n_paths = y0.shape[0]
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if scheme == "milstein" and sde.noise != "diagonal":
        raise ValueError("scheme='milstein' needs diagonal noise (general noise needs Levy areas)")
    if scheme == "weak2" and (sde.dim != 1 or sde.n_noise != 1):
        raise ValueError("scheme='weak2' is implemented for scalar SDEs (dim = n_noise = 1)")
    if scheme == "theta" and not (0.0 <= theta <= 1.0):
        raise ValueError(f"theta must lie in [0, 1], got {theta}")

    # Probe the user functions in pure Python where the scheme evaluates them first.
    t_probe = grid[1] if (scheme == "theta" and theta == 1.0) else grid[0]
    sde.probe(t_probe, y0[0])
    if check_stability and SCHEMES[scheme]["explicit"]:
        _check_stability(sde, grid, y0[0], scheme)

    if backend == "torchsde":
        from .torch_backend import solve_torchsde

        return solve_torchsde(sde, y0, grid, idx, scheme=scheme, seed=seed, dW=dW)
    if backend != "numba":
        raise ValueError(f"backend must be 'numba' or 'torchsde', got {backend!r}")

    ys = np.full((n_paths, idx.size, sde.dim), np.nan)
    status = np.zeros(n_paths, dtype=np.int64)
    use_dW = dW is not None
    dW_arr = dW if use_dW else np.empty((0, 0, 0))
    diag = sde.noise == "diagonal"
    common = (diag, int(sde.n_noise), grid, idx, y0, sde.params, seed, dW_arr, use_dW, ys, status)
    t_start = time.perf_counter()
    if scheme == "euler":
        kernels.euler_kernel(sde.drift, sde.diffusion, *common)
    elif scheme == "milstein":
        has = sde.diffusion_derivative is not None
        kernels.milstein_kernel(sde.drift, sde.diffusion, sde.diffusion_derivative if has else kernels.no_vector_function,
                                has, *common)
    elif scheme == "theta":
        has = sde.drift_jacobian is not None
        kernels.theta_kernel(sde.drift, sde.diffusion, sde.drift_jacobian if has else kernels.no_matrix_function, has,
                             float(theta), float(newton_tol), int(newton_maxiter), *common)
    else:
        kernels.weak2_kernel(sde.drift, sde.diffusion, *common)
    wall = time.perf_counter() - t_start

    _report_failures(status, grid, nonfinite)
    stats = dict(scheme=scheme, backend="numba", n_paths=n_paths, n_steps=n_steps, n_save=int(idx.size),
                 wall_time=wall, path_steps_per_second=n_paths * n_steps / max(wall, 1e-12),
                 n_failed=int(np.count_nonzero(status)))
    return Solution(ts=grid[idx].copy(), ys=ys, stats=stats)


def _report_failures(status, grid, nonfinite):
    bad = np.flatnonzero(status)
    if bad.size == 0:
        return
    i = int(bad[0])
    code = int(status[i])
    k = abs(code) - 1
    if code < 0:
        msg = (f"Newton iteration of the implicit step failed on {bad.size} path(s); first: path {i}, step {k} "
               f"(t={grid[k]:.6g} -> {grid[k + 1]:.6g}). Reduce the step or check drift_jacobian.")
    else:
        msg = (f"{bad.size} path(s) became non-finite; first: path {i} at step {k} (t={grid[k]:.6g} -> "
               f"{grid[k + 1]:.6g}). The drift or diffusion returned NaN/inf there, or the explicit step is "
               f"unstable: refine the grid or use scheme='theta'.")
    if nonfinite == "raise":
        raise ValueError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
