"""Strong and weak order studies: nested grids driven by the same Brownian paths."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_callable, check_choice, check_float, check_int, check_seed
from .._signature import entry_point, keyword
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
    # einsum, not BLAS: a BLAS product rounds differently with its thread count (a Dask worker runs 1 thread)
    means = np.einsum("bn,hn->bh", w, per_path) / np.maximum(w.sum(axis=1, keepdims=True), 1.0)  # (n_boot, n_h)
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


@dataclass(frozen=True)
class OrderStudy:
    """One order study, checked: its nested grids, their coupled Brownian increments and its settings.

    Built by :func:`order_study` from the keywords that :func:`strong_order` and :func:`weak_order`
    share; :meth:`runs` and :meth:`target` solve on every grid and at the reference, :meth:`result`
    fits the order.
    """

    sde: SDE
    y0: ArrayLike
    scheme: str
    ref_scheme: str | None
    exact: Callable[..., Any] | None
    seed: int
    n_boot: int
    expected: float | None
    label: str
    grids: list[NDArray[np.float64]]
    fine: NDArray[np.float64]
    dW_fine: NDArray[np.float64]
    dWs: list[NDArray[np.float64]]
    hs: NDArray[np.float64]
    solve_kw: dict[str, Any]

    def runs(self) -> list[NDArray[np.float64]]:
        """Final states ``(n_paths, dim)`` of the scheme on every grid."""
        pairs = zip(self.grids, self.dWs, strict=True)
        return [_run(self.sde, self.y0, g, dW, self.scheme, self.solve_kw) for g, dW in pairs]

    def target(self) -> NDArray[np.float64]:
        """Final states ``(n_paths, dim)`` of the exact solution (or exact-in-law sample) or the reference."""
        if self.exact is not None:
            y = np.asarray(self.exact(self.fine, self.dW_fine), dtype=float)
            return y.reshape(self.dW_fine.shape[0], -1)
        return _run(self.sde, self.y0, self.fine, self.dW_fine, self.ref_scheme or self.scheme, self.solve_kw)

    def result(self, kind: str, per_path: NDArray[np.float64], stat: Callable[..., Any]) -> OrderResult:
        """The fitted order of per-path errors ``(n_h, n_paths)``; ``stat`` maps their means to errors."""
        return _result(kind, self.scheme, self.hs, per_path, stat, self.n_boot, self.seed, self.expected, self.label)


def order_study(
    n_steps: tuple[int, ...], n_paths: int
) -> Callable[[Callable[..., OrderResult]], Callable[..., OrderResult]]:
    """Decorator making a public order study of a measurement written for an :class:`OrderStudy`.

    The measurement is ``body(sde, y0, t1, ..., *, study, own keywords) -> OrderResult``.  The
    public study takes the body's arguments with ``study`` replaced by the keywords ``t0, n_steps,
    grids, scheme, exact, ref_factor, ref_scheme, n_paths, seed`` (as in :func:`strong_order`),
    then the body's own keywords, ``n_boot, expected, label, executor, chunk_size`` and
    ``**solve_kw``.  It checks them, draws the coupled increments and calls the body.

    Parameters
    ----------
    n_steps, n_paths : tuple of int, int
        The study's defaults of these keywords.

    Returns
    -------
    callable
        Turns a measurement ``body`` into its public study, whose ``inspect.signature`` lists every keyword.

    Examples
    --------
    >>> import inspect
    >>> @order_study(n_steps=(4, 8), n_paths=10)
    ... def sketch(sde, y0, t1, *, study):
    ...     return study.hs
    >>> list(inspect.signature(sketch).parameters)[3:6]
    ['t0', 'n_steps', 'grids']
    """
    grid_keywords = [
        keyword("t0", 0.0, "float"),
        keyword("n_steps", n_steps, "Sequence[int]"),
        keyword("grids", None, "Sequence[ArrayLike] | None"),
        keyword("scheme", "euler", "str"),
        keyword("exact", None, "Callable[..., Any] | None"),
        keyword("ref_factor", 8, "int"),
        keyword("ref_scheme", None, "str | None"),
        keyword("n_paths", n_paths, "int"),
        keyword("seed", 0, "int"),
    ]
    fit_keywords = [
        keyword("n_boot", 500, "int"),
        keyword("expected", None, "float | None"),
        keyword("label", "", "str"),
        keyword("executor", None, "Any"),
        keyword("chunk_size", None, "int | None"),
        inspect.Parameter("solve_kw", inspect.Parameter.VAR_KEYWORD, annotation="Any"),
    ]

    def decorate(body: Callable[..., OrderResult]) -> Callable[..., OrderResult]:
        params = list(inspect.signature(body).parameters.values())
        at = [p.name for p in params].index("study")

        def call(a: dict[str, Any]) -> OrderResult:
            grids, fine, dW_fine, dWs, hs = _setup(
                *(a[k] for k in ("sde", "t0", "t1", "n_steps", "grids", "n_paths", "seed", "exact")),
                *(a[k] for k in ("ref_factor", "scheme", "n_boot")),
            )
            solve_kw = a["solve_kw"] | dict(executor=a["executor"], chunk_size=a["chunk_size"])
            names = ("sde", "y0", "scheme", "ref_scheme", "exact", "seed", "n_boot", "expected", "label")
            record = OrderStudy(
                **{k: a[k] for k in names}, grids=grids, fine=fine, dW_fine=dW_fine, dWs=dWs, hs=hs, solve_kw=solve_kw
            )
            return body(**{p.name: a[p.name] for p in params if p.name != "study"}, study=record)

        return entry_point(body, [*params[:at], *grid_keywords, *params[at + 1 :], *fit_keywords], call)

    return decorate


@order_study(n_steps=(16, 32, 64, 128, 256), n_paths=1000)
def strong_order(sde: SDE, y0: ArrayLike, t1: float, *, study: OrderStudy, component: int = 0) -> OrderResult:
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
    component = check_int(component, "component", minimum=0, maximum=study.sde.dim - 1)
    target = study.target()[:, component]
    per_path = np.array([np.abs(y[:, component] - target) for y in study.runs()])
    return study.result("strong", per_path, lambda m: m)


document_chunking(
    strong_order,
    note="Every solve of the study is chunked (each chunk receives its rows of the Brownian\n"
    "increments drawn here); the errors are averaged over all paths afterwards.",
)


@order_study(n_steps=(4, 8, 16, 32, 64), n_paths=10000)
def weak_order(sde: SDE, y0: ArrayLike, t1: float, f: Callable[..., Any], *, study: OrderStudy) -> OrderResult:
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
    check_callable(f, "f")
    f_target = np.asarray(f(study.target()), dtype=float)
    per_path = np.array([np.asarray(f(y), dtype=float) - f_target for y in study.runs()])
    res = study.result("weak", per_path, np.abs)
    res.stats["signed_errors"] = per_path.mean(axis=1).tolist()
    return res
