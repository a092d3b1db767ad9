"""Strong and weak order studies: nested grids driven by the same Brownian paths."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_callable, check_choice, check_float, check_int, check_seed
from ..parallel import document_chunking
from ..sde import SCHEMES, SDE, solve, uniform_grid
from ..sde.grids import check_grid
from ..sde.noise import brownian_increments, check_increments
from .result import OrderResult, fit_order

__all__ = ["coupled_increments", "strong_order", "weak_order"]


def coupled_increments(
    grid_fine: ArrayLike, grids: Sequence[ArrayLike], dW_fine: ArrayLike
) -> list[NDArray[np.float64]]:
    """Increments on each coarse grid from the increments of the finest grid.

    Every grid in ``grids`` must be a subset of ``grid_fine`` (nested grids);
    increments of a coarse step are the sums of the fine increments it covers.
    """
    grid_fine = check_grid(grid_fine)
    dW_fine = check_increments(dW_fine, n_steps=grid_fine.size - 1, n_noise=np.shape(dW_fine)[-1])
    W = np.concatenate([np.zeros((dW_fine.shape[0], 1, dW_fine.shape[2])), np.cumsum(dW_fine, axis=1)], axis=1)
    out = []
    for g in map(check_grid, grids):
        idx = np.searchsorted(grid_fine, g)
        idx = np.clip(idx, 0, grid_fine.size - 1)
        if np.any(np.abs(grid_fine[idx] - g) > 1e-12 * np.maximum(1.0, np.abs(g))):
            raise ValueError("every grid must be a subset of the finest grid (nested grids) to couple increments")
        out.append(W[:, idx[1:], :] - W[:, idx[:-1], :])
    return out


def _grids_for(n_steps, t0, t1, grids, ref_factor, need_ref):
    if grids is not None:
        grids = [check_grid(g) for g in grids]
        if len(grids) < 2:
            raise ValueError("need at least 2 grids")
        return grids, max(grids, key=lambda g: g.size)
    n_steps = sorted(check_int(n, "n_steps", minimum=1) for n in n_steps)
    if len(n_steps) < 2 or n_steps[0] < 1:
        raise ValueError(f"n_steps must hold at least 2 positive step counts, got {n_steps}")
    n_fine = n_steps[-1] * (ref_factor if need_ref else 1)
    for n in n_steps:
        if n_fine % n:
            raise ValueError(f"every step count must divide the finest ({n_fine}) for nested grids; {n} does not")
    fine = uniform_grid(t0, t1, n_fine)
    return [fine[:: n_fine // n] for n in n_steps], fine


def _run(sde, y0, grid, dW, scheme, solve_kw):
    sol = solve(sde, y0, grid, saveat=[grid[-1]], dW=dW, scheme=scheme, **solve_kw)
    return sol.ys[:, -1, :]


def _bootstrap_orders(hs, per_path, stat, n_boot, seed):
    """Poisson-bootstrap the fitted order: ``per_path`` is (n_h, n_paths); ``stat`` maps weighted means to errors."""
    n = per_path.shape[1]
    w = np.random.default_rng(seed).poisson(1.0, size=(n_boot, n)).astype(float)
    means = (w @ per_path.T) / np.maximum(w.sum(axis=1, keepdims=True), 1.0)  # (n_boot, n_h)
    errs = stat(means)
    ok = np.all(errs > 0, axis=1) & np.all(np.isfinite(errs), axis=1)
    slopes = np.polyfit(np.log(hs), np.log(errs[ok].T), 1)[0] if ok.any() else np.array([np.nan])
    return tuple(np.percentile(slopes, [2.5, 97.5]))


def _result(kind, scheme, hs, per_path, stat, n_boot, seed, expected, label):
    # errors = stat(mean over paths), their standard errors, the fitted order and its bootstrap interval
    n_paths = per_path.shape[1]
    errors = stat(per_path.mean(axis=1))
    stderr = per_path.std(axis=1, ddof=1) / np.sqrt(n_paths)
    ci = _bootstrap_orders(hs, per_path, stat, n_boot, seed + 1)
    exp = SCHEMES[scheme][kind] if expected is None else expected
    return OrderResult(kind, scheme, hs, errors, stderr, fit_order(hs, errors), ci, exp, n_paths, label or scheme)


def _setup(sde, t0, t1, n_steps, grids, n_paths, seed, exact, ref_factor, scheme, n_boot):
    # the checks shared by both studies; the nested grids, the finest increments and those of every grid
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a deeplimits.sde.SDE, got {type(sde).__name__}")
    check_choice(scheme, "scheme", list(SCHEMES) + [k for k in sde.kernels if k not in SCHEMES])
    t0 = check_float(t0, "t0")
    if check_float(t1, "t1") <= t0:
        raise ValueError(f"t1 must be > t0={t0}, got {t1}")
    ref_factor = check_int(ref_factor, "ref_factor", minimum=2)
    check_int(n_boot, "n_boot", minimum=100)
    seed = check_seed(seed)
    if exact is not None:
        check_callable(exact, "exact")
    grids, fine = _grids_for(n_steps, t0, t1, grids, ref_factor, exact is None)
    n_paths = check_int(n_paths, "n_paths", minimum=2)
    dW_fine = brownian_increments(fine, n_paths=n_paths, seed=seed, n_noise=sde.n_noise)
    dWs = coupled_increments(fine, grids, dW_fine)
    hs = np.array([(g[-1] - g[0]) / (g.size - 1) for g in grids])
    return grids, fine, dW_fine, dWs, hs


def _target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw):
    if exact is not None:
        y = np.asarray(exact(fine, dW_fine), dtype=float)
        return y.reshape(dW_fine.shape[0], -1)
    return _run(sde, y0, fine, dW_fine, ref_scheme or scheme, solve_kw)


def strong_order(
    sde: SDE,
    y0: ArrayLike,
    t1: float,
    *,
    t0: float = 0.0,
    n_steps: Sequence[int] = (16, 32, 64, 128, 256),
    grids: Sequence[ArrayLike] | None = None,
    scheme: str = "euler",
    exact: Callable[..., Any] | None = None,
    ref_factor: int = 8,
    ref_scheme: str | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    component: int = 0,
    n_boot: int = 500,
    expected: float | None = None,
    label: str = "",
    executor: Any = None,
    chunk_size: int | None = None,
    **solve_kw: Any,
) -> OrderResult:
    """Measure the strong order ``E|Y^h_T - Y_T| ~ h^p`` of a scheme.

    Parameters
    ----------
    sde : deeplimits.sde.SDE
    y0 : array_like
        Initial state (``(dim,)`` or ``(n_paths, dim)``).
    t1 : float
        Final time; errors are measured there.
    t0 : float
        Initial time.
    n_steps : sequence of int
        At least 4 step counts recommended, each dividing the largest (nested uniform grids).
    grids : list of arrays, optional
        Explicit nested grids (e.g. geometric), overriding ``n_steps``.
    scheme : str
        Scheme name (see :data:`deeplimits.sde.SCHEMES`).
    exact : callable, optional
        ``exact(grid_fine, dW_fine) -> (n_paths, dim)`` exact solution at ``t1``
        driven by the given Brownian increments.  Without it, the reference is
        the same scheme (or ``ref_scheme``) on a grid ``ref_factor`` times finer.
    n_paths, seed
        Monte-Carlo size and seed of the Brownian paths.
    component : int
        Component of the state whose error is measured.
    n_boot : int
        Bootstrap resamples for the confidence interval of the order.
    expected : float, optional
        Theoretical order (default: the scheme's strong order from ``SCHEMES``).
    **solve_kw
        Passed to :func:`deeplimits.sde.solve` (e.g. ``theta``).

    Returns
    -------
    OrderResult
    """
    grids, fine, dW_fine, dWs, hs = _setup(
        sde, t0, t1, n_steps, grids, n_paths, seed, exact, ref_factor, scheme, n_boot
    )
    solve_kw = solve_kw | dict(executor=executor, chunk_size=chunk_size)
    component = check_int(component, "component", minimum=0, maximum=sde.dim - 1)
    target = _target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw)[:, component]
    per_path = np.array(
        [
            np.abs(_run(sde, y0, g, dW, scheme, solve_kw)[:, component] - target)
            for g, dW in zip(grids, dWs, strict=True)
        ]
    )
    return _result("strong", scheme, hs, per_path, lambda m: m, n_boot, seed, expected, label)


document_chunking(
    strong_order,
    note="Every solve of the study is chunked (each chunk receives its rows of the Brownian\n"
    "increments drawn here); the errors are averaged over all paths afterwards.",
)


def weak_order(
    sde: SDE,
    y0: ArrayLike,
    t1: float,
    f: Callable[..., Any],
    *,
    t0: float = 0.0,
    n_steps: Sequence[int] = (4, 8, 16, 32, 64),
    grids: Sequence[ArrayLike] | None = None,
    scheme: str = "euler",
    exact: Callable[..., Any] | None = None,
    ref_factor: int = 8,
    ref_scheme: str | None = None,
    n_paths: int = 10000,
    seed: int = 0,
    n_boot: int = 500,
    expected: float | None = None,
    label: str = "",
    executor: Any = None,
    chunk_size: int | None = None,
    **solve_kw: Any,
) -> OrderResult:
    """Measure the weak order ``|E f(Y^h_T) - E f(Y_T)| ~ h^p`` of a scheme.

    The expectation of the difference is estimated on coupled paths: the
    scheme at step ``h`` and the target (``exact`` coupled sample, or a fine
    reference) are driven by the same Brownian increments, so the Monte-Carlo
    error of the *difference* is far smaller than that of each mean.
    Parameters not listed below are as in :func:`strong_order`.

    Parameters
    ----------
    f : callable
        Test function ``f(Y) -> (n_paths,)`` applied to the final states
        ``Y`` of shape ``(n_paths, dim)``.
    exact : callable, optional
        ``exact(grid_fine, dW_fine) -> (n_paths, dim)``: samples with the
        *exact law* of ``Y_T``, coupled to the increments (they need not be the
        pathwise solution).  Without it a fine reference is used.

    Returns
    -------
    OrderResult
        ``stderr`` holds the standard errors of the paired differences; an
        error below about 3 standard errors is not resolved by the sample.
    """
    grids, fine, dW_fine, dWs, hs = _setup(
        sde, t0, t1, n_steps, grids, n_paths, seed, exact, ref_factor, scheme, n_boot
    )
    solve_kw = solve_kw | dict(executor=executor, chunk_size=chunk_size)
    check_callable(f, "f")
    f_target = np.asarray(f(_target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw)), dtype=float)
    per_path = np.array(
        [
            np.asarray(f(_run(sde, y0, g, dW, scheme, solve_kw)), dtype=float) - f_target
            for g, dW in zip(grids, dWs, strict=True)
        ]
    )
    res = _result("weak", scheme, hs, per_path, np.abs, n_boot, seed, expected, label)
    res.stats["signed_errors"] = per_path.mean(axis=1).tolist()
    return res
