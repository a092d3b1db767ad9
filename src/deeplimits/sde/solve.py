"""``solve``: integrate many independent paths of an :class:`~deeplimits.sde.SDE`."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_array, check_bool, check_choice, check_float, check_int, check_newton
from .._solution import Solution
from ..parallel import chunkable
from ..progress import with_progress
from ..rng import kernel_seed
from . import evaluate, kernels
from ._steps import FAIL_DIFFUSION, FAIL_DOMAIN, FAIL_DRIFT, FAIL_NEWTON, no_matrix_function, no_vector_function
from .domain import DomainError
from .grids import check_grid, save_indices
from .noise import check_increments
from .problem import SDE
from .special import KernelCall, KernelResult

__all__ = ["Solution", "solve", "SCHEMES"]

#: Schemes of the generic kernels with their (strong, weak) orders for general multiplicative noise.
SCHEMES: dict[str, dict[str, Any]] = {
    "euler": dict(strong=0.5, weak=1.0, explicit=True, doc="Euler-Maruyama"),
    "milstein": dict(strong=1.0, weak=1.0, explicit=True, doc="Milstein (diagonal noise)"),
    "theta": dict(strong=0.5, weak=1.0, explicit=False, doc="drift-implicit theta method"),
    "weak2": dict(strong=0.5, weak=2.0, explicit=True, doc="Platen explicit weak order 2 (scalar)"),
}


def _as_initial_state(y0: ArrayLike, dim: int, n_paths: int | None) -> NDArray[np.float64]:
    arr = check_array(y0, "y0", ndim=(0, 1, 2))
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        if arr.size != dim:
            raise ValueError(f"y0 must have {dim} components (the SDE's dim), got {arr.size}")
        arr = np.broadcast_to(arr, (1 if n_paths is None else n_paths, dim))
    else:
        if arr.shape[1] != dim:
            raise ValueError(f"y0 must have shape (n_paths, {dim}), got {arr.shape}")
        if n_paths is not None and arr.shape[0] != n_paths:
            raise ValueError(f"y0 must have n_paths={n_paths} rows, got {arr.shape[0]}")
    return np.array(arr, dtype=np.float64, order="C", copy=True)  # writable, contiguous (kernels need both)


def _check_stability(sde: SDE, grid: NDArray[np.float64], y0: NDArray[np.float64], scheme: str) -> None:
    has_jac = sde.drift_jacobian is not None
    jac = sde.drift_jacobian if has_jac else no_matrix_function
    worst, k = evaluate.explicit_stiffness(sde.drift, jac, has_jac, grid, y0, sde.params)
    if not np.isfinite(worst):
        # a non-finite Jacobian is the drift's fault, not stiffness: say which
        sde.probe(grid[k], y0)
        raise ValueError(f"drift_jacobian returned a non-finite value at t={grid[k]:.6g}, y={y0}")
    if worst > 2.0:
        raise ValueError(
            f"explicit scheme {scheme!r} is unstable on this grid: at step {k} (t={grid[k]:.6g}, "
            f"h={grid[k + 1] - grid[k]:.3g}) h*|df/dy| = {worst:.3g} > 2. Refine the grid near that time "
            f"(e.g. geometric_grid), use scheme='theta', or pass check_stability=False to override."
        )


@chunkable("n_paths", rows={"y0": 2, "dW": 3})
@with_progress("n_paths", rows={"y0": 2, "dW": 3})
def solve(
    sde: SDE,
    y0: ArrayLike,
    grid: ArrayLike,
    *,
    saveat: ArrayLike | None = None,
    n_paths: int | None = None,
    scheme: str = "euler",
    seed: int = 0,
    first_path: int = 0,
    dW: ArrayLike | None = None,
    theta: float = 1.0,
    newton_tol: float = 1e-12,
    newton_maxiter: int = 50,
    check_stability: bool = True,
    nonfinite: str = "raise",
    backend: str = "numba",
    device: str = "cpu",
    executor: Any = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> Solution:
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
    scheme : str
        A generic scheme -- ``"euler"`` (Euler--Maruyama, strong 1/2, weak 1),
        ``"milstein"`` (diagonal noise, strong 1, weak 1), ``"theta"``
        (drift-implicit theta method, strong 1/2, weak 1; ``theta=1`` never
        evaluates the drift at ``grid[0]``, so singular starts are allowed),
        ``"weak2"`` (Platen's derivative-free weak order 2, scalar SDEs) --
        or a scheme of the SDE's specialised ``kernels``.
    seed : int
        Any non-negative integer.  Path ``i`` draws from stream
        ``(seed, first_path + i)``: results do not depend on the number of
        threads or on how the paths are split into batches.
    first_path : int
        Global index of the first path (for running one large batch in pieces).
    dW : array_like, shape (n_paths, n_steps, n_noise), optional
        Brownian increments to use instead of drawing them (already scaled by
        ``sqrt(h)``; see :func:`brownian_increments`).  Split into chunks, each chunk
        receives its rows (as does a per-path ``y0``).
    theta : float
        Implicitness of the ``"theta"`` scheme, in ``[0, 1]``.
    newton_tol, newton_maxiter
        Newton iteration of the ``"theta"`` scheme: relative step tolerance in
        ``(0, 1)`` and the largest number of iterations (``>= 1``).
    check_stability : bool
        For explicit schemes, raise if ``h |df_a/dy_a| > 2`` anywhere on the
        grid at the initial state (catches e.g. ``a/t`` drifts too close to 0).
    nonfinite : {"raise", "keep"}
        What to do when a path fails (a non-finite state or drift, a failed
        Newton step): raise a ValueError naming the path, step and time
        (default), or warn and keep NaN in the remaining outputs of that path.
    backend : {"numba", "torchsde"}
        ``"torchsde"`` runs the same SDE through :func:`torchsde.sdeint`
        (float64); Euler--Maruyama on uniform grids only.
    device : str
        Torch device of the ``"torchsde"`` backend (``"cpu"``, ``"cuda"``).

    Returns
    -------
    Solution
        ``ts`` (n_save,), ``ys`` (n_paths, n_save, dim) and ``stats`` with
        ``scheme``, ``backend``, ``n_paths``, ``n_steps``, ``seed``,
        ``first_path``, ``wall_time``, ``n_failed`` and ``n_exits`` (steps
        that left the SDE's domain); ``n_chunks`` when run in chunks.

    Raises
    ------
    ValueError
        For bad arguments (the message names the argument), and when a path
        fails with ``nonfinite="raise"``.
    DomainError
        When a state leaves the SDE's domain under the rule ``"raise"``.

    Examples
    --------
    >>> import numba as nb
    >>> from deeplimits.sde import SDE, solve, uniform_grid
    >>> @nb.njit
    ... def drift(t, y, p, out):
    ...     out[0] = -y[0]
    >>> @nb.njit
    ... def diffusion(t, y, p, out):
    ...     out[0, 0] = 0.5
    >>> sol = solve(SDE(drift, diffusion), [1.0], uniform_grid(0.0, 1.0, 50), n_paths=100, seed=3)
    >>> sol.ys.shape
    (100, 51, 1)
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a deeplimits.sde.SDE, got {type(sde).__name__}")
    check_choice(scheme, "scheme", list(SCHEMES) + [k for k in sde.kernels if k not in SCHEMES])
    check_choice(nonfinite, "nonfinite", ("raise", "keep"))
    check_choice(backend, "backend", ("numba", "torchsde"))
    check_bool(check_stability, "check_stability")
    g = check_grid(grid)
    n_steps = g.size - 1
    idx = save_indices(g, saveat)
    if n_paths is not None:
        n_paths = check_int(n_paths, "n_paths", minimum=1)
    n_noise = int(sde.n_noise or 1)
    dW_arr = None if dW is None else check_increments(dW, n_steps=n_steps, n_noise=n_noise, n_paths=n_paths)
    if dW_arr is not None:
        n_paths = dW_arr.shape[0]
    if n_paths is not None:
        check_allocation((n_paths, idx.size, sde.dim), "the output ys")
    y0_arr = _as_initial_state(y0, sde.dim, n_paths)
    n_paths = y0_arr.shape[0]
    seed_bits = kernel_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    theta = check_float(theta, "theta", minimum=0.0, maximum=1.0)
    newton_tol, newton_maxiter = check_newton(newton_tol, newton_maxiter)
    special = sde.kernels.get(scheme)
    if special is None:
        if scheme == "milstein" and sde.noise != "diagonal":
            raise ValueError("scheme='milstein' needs diagonal noise (general noise needs Levy areas)")
        if scheme == "weak2" and (sde.dim != 1 or sde.n_noise != 1):
            raise ValueError("scheme='weak2' is implemented for scalar SDEs (dim = n_noise = 1)")
        # Probe the user functions in pure Python where the scheme evaluates them first.
        t_probe = g[1] if (scheme == "theta" and theta == 1.0) else g[0]
        sde.probe(t_probe, y0_arr[0])
        if check_stability and SCHEMES[scheme]["explicit"]:
            _check_stability(sde, g, y0_arr[0], scheme)

    if backend == "torchsde":
        from .torch_backend import solve_torchsde

        return solve_torchsde(
            sde, y0_arr, g, idx, scheme=scheme, seed=seed_bits, first_path=first_path, dW=dW_arr, device=device
        )

    call = KernelCall(
        sde=sde,
        y0=y0_arr,
        grid=g,
        save_idx=idx,
        seed=seed_bits,
        first_path=first_path,
        dW=dW_arr,
        theta=theta,
        newton_tol=newton_tol,
        newton_maxiter=newton_maxiter,
    )
    t_start = time.perf_counter()
    out = special(call) if special is not None else _run_generic(call, scheme)
    wall = time.perf_counter() - t_start

    _report_failures(out.fail, g, nonfinite, first_path)
    n_exits = int(out.exits.sum())
    if sde.domain is not None:
        n_exits = _check_domain(sde, out, g, idx, first_path, n_exits)
    stats = dict(
        scheme=scheme,
        backend="numba",
        n_paths=n_paths,
        n_steps=n_steps,
        n_save=int(idx.size),
        seed=int(seed),
        first_path=first_path,
        wall_time=wall,
        path_steps_per_second=n_paths * n_steps / max(wall, 1e-12),
        n_failed=int(np.count_nonzero(out.fail[:, 0])),
        n_exits=n_exits,
        domain=None if sde.domain is None else sde.domain.describe(),
        on_exit=None if sde.domain is None else sde.domain.on_exit,
    )
    return Solution(ts=g[idx].copy(), ys=out.ys, stats=stats)


def _run_generic(call: KernelCall, scheme: str) -> KernelResult:
    sde = call.sde
    n_paths = call.y0.shape[0]
    out = KernelResult.empty(n_paths, call.save_idx.size, sde.dim)
    use_dW = call.dW is not None
    dW_arr = call.dW if call.dW is not None else np.empty((0, 0, 0))
    box = sde.box
    lo, hi, closed, code = (
        (box.lower, box.upper, box.closed, box.code) if box is not None else (-np.inf, np.inf, False, 0)
    )
    common = (
        sde.noise == "diagonal",
        int(sde.n_noise),
        call.grid,
        call.save_idx,
        call.y0,
        sde.params,
        call.seed,
        call.first_path,
        dW_arr,
        use_dW,
        (float(lo), float(hi), bool(closed), int(code)),
        (out.ys, out.fail, out.exits),
    )
    if scheme == "euler":
        kernels.euler_kernel(sde.drift, sde.diffusion, *common)
    elif scheme == "milstein":
        has = sde.diffusion_derivative is not None
        dgdy = sde.diffusion_derivative if has else no_vector_function
        kernels.milstein_kernel(sde.drift, sde.diffusion, dgdy, has, *common)
    elif scheme == "theta":
        has = sde.drift_jacobian is not None
        jac = sde.drift_jacobian if has else no_matrix_function
        kernels.theta_kernel(
            sde.drift, sde.diffusion, jac, has, call.theta, call.newton_tol, call.newton_maxiter, *common
        )
    else:
        kernels.weak2_kernel(sde.drift, sde.diffusion, *common)
    return out


def _check_domain(
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
            stacklevel=4,  # warn at solve's caller: above solve is its chunkable wrapper
        )
    return n_exits


_CAUSES = {
    FAIL_DRIFT: "the drift returned a non-finite value",
    FAIL_DIFFUSION: "the diffusion returned a non-finite value",
    FAIL_NEWTON: "the Newton iteration of the implicit step failed (reduce the step or check drift_jacobian)",
}


def _report_failures(fail: NDArray[np.int64], grid: NDArray[np.float64], nonfinite: str, first_path: int) -> None:
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
    warnings.warn(msg, RuntimeWarning, stacklevel=4)  # at solve's caller (above its chunkable wrapper)
