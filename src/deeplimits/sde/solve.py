"""``solve``: integrate many independent paths of an :class:`~deeplimits.sde.SDE`."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, TypedDict, Unpack, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_array, check_bool, check_choice, check_float, check_int, check_newton
from .._solution import Solution
from ..parallel import chunkable
from ..progress import with_progress
from ..rng import kernel_seed
from . import batched, kernels
from ._steps import no_matrix_function, no_vector_function
from .evaluate import check_explicit_stability
from .grids import check_grid, save_indices
from .noise import check_increments
from .problem import SDE
from .reports import check_domain, report_failures
from .special import KernelCall, KernelResult
from .summaries import SummarySolution, SummarySpec, check_summary, reduce_paths, summarise

__all__ = ["Solution", "solve", "SCHEMES", "BATCHED_SCHEMES"]

#: Schemes of the generic kernels with their (strong, weak) orders for general multiplicative noise.
SCHEMES: dict[str, dict[str, Any]] = {
    "euler": dict(strong=0.5, weak=1.0, explicit=True, doc="Euler-Maruyama"),
    "milstein": dict(strong=1.0, weak=1.0, explicit=True, doc="Milstein (diagonal noise)"),
    "theta": dict(strong=0.5, weak=1.0, explicit=False, doc="drift-implicit theta method"),
    "weak2": dict(strong=0.5, weak=2.0, explicit=True, doc="Platen explicit weak order 2 (scalar)"),
}

#: The generic schemes that run SDEs written in batched form (``SDE(..., batched=True)``).
BATCHED_SCHEMES = ("euler", "milstein")


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


class SolveOptions(TypedDict, total=False):
    """The keywords of :func:`solve` other than ``summary``, for its two typed call forms."""

    saveat: ArrayLike | None
    n_paths: int | None
    scheme: str
    seed: int
    first_path: int
    dW: ArrayLike | None
    theta: float
    newton_tol: float
    newton_maxiter: int
    check_stability: bool
    nonfinite: str
    backend: str
    device: str
    executor: Any
    chunk_size: int | None
    progress: bool | None


@overload
def solve(
    sde: SDE, y0: ArrayLike, grid: ArrayLike, *, summary: None = None, **options: Unpack[SolveOptions]
) -> Solution: ...


@overload
def solve(
    sde: SDE, y0: ArrayLike, grid: ArrayLike, *, summary: SummarySpec, **options: Unpack[SolveOptions]
) -> SummarySolution: ...


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
    summary: SummarySpec | None = None,
    backend: str = "numba",
    device: str = "cpu",
    executor: Any = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> Solution | SummarySolution:
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
        or a scheme of the SDE's specialised ``kernels``.  An SDE written in
        batched form (``SDE(..., batched=True)``) runs ``"euler"`` and ``"milstein"``.
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
        grid at the initial state (catches e.g. ``a/t`` drifts too close to 0);
        explicit specialised kernels receive it in ``KernelCall.check_stability``.
    nonfinite : {"raise", "keep"}
        What to do when a path fails (a non-finite state or drift, a failed
        Newton step): raise a ValueError naming the path, step and time
        (default), or warn and keep NaN in the remaining outputs of that path.
    summary : Moments, Histogram or list of them, optional
        Return these reductions of the saved states (:mod:`deeplimits.sde.summaries`)
        instead of the paths: the paths run in batches, so memory does not grow with
        ``n_paths``, and the result is bit-identical for any ``chunk_size``.
    backend : {"numba", "torchsde"}
        ``"torchsde"`` runs the same SDE through :func:`torchsde.sdeint`
        (float64); Euler--Maruyama on uniform grids only.
    device : str
        Torch device of the ``"torchsde"`` backend (``"cpu"``, ``"cuda"``).

    Returns
    -------
    Solution or SummarySolution
        With ``summary``, a :class:`~deeplimits.sde.summaries.SummarySolution`; else
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
    specs = () if summary is None else check_summary(summary)
    if n_paths is not None and not specs:
        check_allocation((n_paths, idx.size, sde.dim), "the output ys")
    shared_start = np.ndim(y0) < 2 and n_paths is not None and bool(specs) and backend == "numba"  # repeated per batch
    y0_arr = _as_initial_state(y0, sde.dim, 1 if shared_start else n_paths)
    if not shared_start:
        n_paths = y0_arr.shape[0]
    assert n_paths is not None
    seed_bits = kernel_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    theta = check_float(theta, "theta", minimum=0.0, maximum=1.0)
    newton_tol, newton_maxiter = check_newton(newton_tol, newton_maxiter)
    special = sde.kernels.get(scheme)
    if sde.batched and special is None and scheme not in BATCHED_SCHEMES:
        raise ValueError(f"scheme={scheme!r} does not run batched SDEs (batched=True); use one of {BATCHED_SCHEMES}")
    if sde.batched and backend != "numba":
        raise ValueError(f"backend={backend!r} does not run batched SDEs (batched=True); use backend='numba'")
    if special is None:
        if scheme == "milstein" and sde.noise != "diagonal":
            raise ValueError("scheme='milstein' needs diagonal noise (general noise needs Levy areas)")
        if scheme == "weak2" and (sde.dim != 1 or sde.n_noise != 1):
            raise ValueError("scheme='weak2' is implemented for scalar SDEs (dim = n_noise = 1)")
        # Probe the user functions in pure Python where the scheme evaluates them first.
        t_probe = g[1] if (scheme == "theta" and theta == 1.0) else g[0]
        sde.probe(t_probe, y0_arr[0])
        if check_stability and SCHEMES[scheme]["explicit"]:
            check_explicit_stability(sde, g, y0_arr[0], scheme)

    if backend == "torchsde":
        from .torch_backend import solve_torchsde

        sol = solve_torchsde(
            sde, y0_arr, g, idx, scheme=scheme, seed=seed_bits, first_path=first_path, dW=dW_arr, device=device
        )
        if specs:
            return SummarySolution(sol.ts, specs, reduce_paths(sol.ys, first_path, specs), sol.stats)
        return sol

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
        check_stability=check_stability,
    )
    counts = {"wall_time": 0.0, "n_failed": 0, "n_exits": 0}

    def run_batch(lo: int, hi: int) -> NDArray[np.float64]:
        """Integrate paths ``[lo, hi)`` of this call; failures and domain exits are checked and counted."""
        part = call
        if (lo, hi) != (0, n_paths) or y0_arr.shape[0] != n_paths:
            rows = y0_arr[lo:hi] if y0_arr.shape[0] == n_paths else np.repeat(y0_arr, hi - lo, axis=0)
            sub_dW = None if dW_arr is None else dW_arr[lo:hi]
            part = replace(call, y0=rows, dW=sub_dW, first_path=first_path + lo)
        t_start = time.perf_counter()
        out = special(part) if special is not None else _run_generic(part, scheme)
        counts["wall_time"] += time.perf_counter() - t_start
        report_failures(out.fail, g, nonfinite, part.first_path)
        n_exits = int(out.exits.sum())
        if sde.domain is not None:
            n_exits = check_domain(sde, out, g, idx, part.first_path, n_exits)
        counts["n_failed"] += int(np.count_nonzero(out.fail[:, 0]))
        counts["n_exits"] += n_exits
        return out.ys

    if specs:
        segments = summarise(run_batch, n_paths, first_path, specs)
    else:
        ys = run_batch(0, n_paths)
    wall = float(counts["wall_time"])
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
        n_failed=int(counts["n_failed"]),
        n_exits=int(counts["n_exits"]),
        domain=None if sde.domain is None else sde.domain.describe(),
        on_exit=None if sde.domain is None else sde.domain.on_exit,
    )
    if specs:
        return SummarySolution(ts=g[idx].copy(), specs=specs, segments=segments, stats=stats)
    return Solution(ts=g[idx].copy(), ys=ys, stats=stats)


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
    if sde.batched:
        if scheme == "euler":
            batched.batched_euler_kernel(sde.drift, sde.diffusion, *common)
        else:
            has = sde.diffusion_derivative is not None
            dgdy = sde.diffusion_derivative if has else batched.no_batch_vector_function
            batched.batched_milstein_kernel(sde.drift, sde.diffusion, dgdy, has, *common)
    elif scheme == "euler":
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
