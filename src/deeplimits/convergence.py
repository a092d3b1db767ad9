"""Measured orders of convergence of SDE schemes.

:func:`strong_order` and :func:`weak_order` run a scheme on a sequence of
nested grids driven by *the same* Brownian paths (increments of the finest grid
summed over the coarser steps), measure the error against an exact solution,
an exact-in-law coupled sample, or a fine reference, and fit the log-log slope
of error against step size with a bootstrap confidence interval over paths.

Errors
------
* strong: ``E |Y^h_T - Y_T|`` (component ``component``, mean over paths);
* weak:   ``|E f(Y^h_T) - E f(Y_T)|``, estimated as the mean of the paired
  differences ``f(Y^h_T) - f(Y_T)`` over coupled paths, which has a much
  smaller variance than the difference of two independent means.

Example
-------
>>> res = strong_order(gbm, [1.0], t1=1.0, exact=gbm_exact, n_steps=[16, 32, 64, 128, 256],
...                    scheme="milstein", n_paths=2000, seed=0)            # doctest: +SKIP
>>> res.order, res.ci                                                       # doctest: +SKIP
(1.01, (0.97, 1.05))
>>> res.plot()                                                              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_int
from .sde import SCHEMES, solve, uniform_grid
from .sde.grids import check_grid
from .sde.noise import brownian_increments

__all__ = ["OrderResult", "fit_order", "strong_order", "weak_order", "plot_orders", "coupled_increments"]


@dataclass
class OrderResult:
    """Errors against step size and the fitted order.

    Attributes
    ----------
    kind : {"strong", "weak"}
    scheme : str
    hs : ndarray
        Nominal step sizes ``(t1 - t0) / n_steps``.
    errors : ndarray
        Measured errors for each step size.
    stderr : ndarray
        Monte-Carlo standard errors of ``errors``.
    order : float
        Least-squares slope of ``log(error)`` against ``log(h)``.
    ci : tuple of float
        95% bootstrap confidence interval of the order (resampling paths).
    expected : float or None
        The scheme's theoretical order, when known.
    n_paths : int
    """

    kind: str
    scheme: str
    hs: np.ndarray
    errors: np.ndarray
    stderr: np.ndarray
    order: float
    ci: tuple
    expected: float | None = None
    n_paths: int = 0
    label: str = ""
    extra: dict = field(default_factory=dict)

    def within(self, tol: float) -> bool:
        """True iff ``|order - expected| <= tol``."""
        if self.expected is None:
            raise ValueError("no expected order to compare with")
        return abs(self.order - self.expected) <= tol

    def plot(self, ax=None, reference_slopes=None):
        """Log-log plot of error against step with reference slopes; returns the axes."""
        return plot_orders([self], ax=ax, reference_slopes=reference_slopes)

    def as_dict(self) -> dict:
        return dict(
            kind=self.kind,
            scheme=self.scheme,
            hs=self.hs.tolist(),
            errors=self.errors.tolist(),
            stderr=self.stderr.tolist(),
            order=float(self.order),
            ci=[float(c) for c in self.ci],
            expected=self.expected,
            n_paths=self.n_paths,
            label=self.label,
        )


def fit_order(hs, errors) -> float:
    """Least-squares slope of ``log(errors)`` on ``log(hs)``.

    Raises
    ------
    ValueError
        With fewer than 2 points, or non-positive/non-finite values.
    """
    hs = np.asarray(hs, dtype=float)
    errors = np.asarray(errors, dtype=float)
    if hs.shape != errors.shape or hs.size < 2:
        raise ValueError(f"need at least 2 (h, error) pairs of equal length, got {hs.shape} and {errors.shape}")
    if np.any(~np.isfinite(errors)) or np.any(errors <= 0) or np.any(hs <= 0):
        raise ValueError(f"errors and steps must be positive and finite to fit an order, got errors={errors}")
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def coupled_increments(grid_fine, grids, dW_fine):
    """Increments on each coarse grid from the increments of the finest grid.

    Every grid in ``grids`` must be a subset of ``grid_fine`` (nested grids);
    increments of a coarse step are the sums of the fine increments it covers.
    """
    W = np.concatenate([np.zeros((dW_fine.shape[0], 1, dW_fine.shape[2])), np.cumsum(dW_fine, axis=1)], axis=1)
    out = []
    for g in grids:
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
        fine = max(grids, key=lambda g: g.size)
        return grids, fine, None
    n_steps = sorted(int(n) for n in n_steps)
    if len(n_steps) < 2 or n_steps[0] < 1:
        raise ValueError(f"n_steps must hold at least 2 positive step counts, got {n_steps}")
    n_fine = n_steps[-1] * (ref_factor if need_ref else 1)
    for n in n_steps:
        if n_fine % n:
            raise ValueError(f"every step count must divide the finest ({n_fine}) for nested grids; {n} does not")
    fine = uniform_grid(t0, t1, n_fine)
    return [fine[:: n_fine // n] for n in n_steps], fine, (fine if need_ref else None)


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


def _setup(sde, y0, t0, t1, n_steps, grids, n_paths, seed, exact, reference, ref_factor):
    if exact is None and reference is None:
        reference = "fine"
    need_ref = exact is None
    grids, fine, ref_grid = _grids_for(n_steps, t0, t1, grids, ref_factor, need_ref)
    if ref_grid is None and need_ref:
        ref_grid = fine
    n_paths = check_int(n_paths, "n_paths", minimum=2)
    dW_fine = brownian_increments(fine, n_paths=n_paths, seed=seed, n_noise=sde.n_noise)
    dWs = coupled_increments(fine, grids, dW_fine)
    hs = np.array([(g[-1] - g[0]) / (g.size - 1) for g in grids])
    return grids, fine, dW_fine, dWs, hs, n_paths, need_ref


def _target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw):
    if exact is not None:
        y = np.asarray(exact(fine, dW_fine), dtype=float)
        return y.reshape(dW_fine.shape[0], -1)
    return _run(sde, y0, fine, dW_fine, ref_scheme or scheme, solve_kw)


def strong_order(
    sde,
    y0,
    t1: float,
    *,
    t0: float = 0.0,
    n_steps: Sequence[int] = (16, 32, 64, 128, 256),
    grids=None,
    scheme: str = "euler",
    exact: Callable | None = None,
    ref_factor: int = 8,
    ref_scheme: str | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    component: int = 0,
    n_boot: int = 500,
    expected: float | None = None,
    label: str = "",
    **solve_kw,
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
    grids, fine, dW_fine, dWs, hs, n_paths, _ = _setup(
        sde, y0, t0, t1, n_steps, grids, n_paths, seed, exact, None, ref_factor
    )
    target = _target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw)[:, component]
    per_path = np.array(
        [np.abs(_run(sde, y0, g, dW, scheme, solve_kw)[:, component] - target) for g, dW in zip(grids, dWs)]
    )
    errors = per_path.mean(axis=1)
    stderr = per_path.std(axis=1, ddof=1) / np.sqrt(n_paths)
    order = fit_order(hs, errors)
    ci = _bootstrap_orders(hs, per_path, lambda m: m, n_boot, seed + 1)
    exp = SCHEMES[scheme]["strong"] if expected is None else expected
    return OrderResult("strong", scheme, hs, errors, stderr, order, ci, exp, n_paths, label or scheme)


def weak_order(
    sde,
    y0,
    t1: float,
    f: Callable,
    *,
    t0: float = 0.0,
    n_steps: Sequence[int] = (4, 8, 16, 32, 64),
    grids=None,
    scheme: str = "euler",
    exact: Callable | None = None,
    ref_factor: int = 8,
    ref_scheme: str | None = None,
    n_paths: int = 10000,
    seed: int = 0,
    n_boot: int = 500,
    expected: float | None = None,
    label: str = "",
    **solve_kw,
) -> OrderResult:
    """Measure the weak order ``|E f(Y^h_T) - E f(Y_T)| ~ h^p`` of a scheme.

    The expectation of the difference is estimated on coupled paths: the
    scheme at step ``h`` and the target (``exact`` coupled sample, or a fine
    reference) are driven by the same Brownian increments, so the Monte-Carlo
    error of the *difference* is far smaller than that of each mean.

    Parameters
    ----------
    f : callable
        Test function ``f(Y) -> (n_paths,)`` applied to the final states
        ``Y`` of shape ``(n_paths, dim)``.
    exact : callable, optional
        ``exact(grid_fine, dW_fine) -> (n_paths, dim)``: samples with the
        *exact law* of ``Y_T``, coupled to the increments (they need not be the
        pathwise solution).  Without it a fine reference is used.
    Other parameters
        As in :func:`strong_order`.

    Returns
    -------
    OrderResult
        ``stderr`` holds the standard errors of the paired differences; an
        error below about 3 standard errors is not resolved by the sample.
    """
    grids, fine, dW_fine, dWs, hs, n_paths, _ = _setup(
        sde, y0, t0, t1, n_steps, grids, n_paths, seed, exact, None, ref_factor
    )
    f_target = np.asarray(f(_target(sde, y0, fine, dW_fine, exact, scheme, ref_scheme, solve_kw)), dtype=float)
    per_path = np.array(
        [np.asarray(f(_run(sde, y0, g, dW, scheme, solve_kw)), dtype=float) - f_target for g, dW in zip(grids, dWs)]
    )
    means = per_path.mean(axis=1)
    errors = np.abs(means)
    stderr = per_path.std(axis=1, ddof=1) / np.sqrt(n_paths)
    order = fit_order(hs, errors)
    ci = _bootstrap_orders(hs, per_path, np.abs, n_boot, seed + 1)
    exp = SCHEMES[scheme]["weak"] if expected is None else expected
    return OrderResult(
        "weak",
        scheme,
        hs,
        errors,
        stderr,
        order,
        ci,
        exp,
        n_paths,
        label or scheme,
        extra=dict(signed_errors=means.tolist()),
    )


def plot_orders(results: Sequence[OrderResult], ax=None, reference_slopes=None, title: str | None = None):
    """Log-log error curves with error bars and dashed reference slopes.

    Parameters
    ----------
    results : sequence of OrderResult
    ax : matplotlib axes, optional
    reference_slopes : sequence of float, optional
        Slopes drawn as dashed lines (default: the results' expected orders).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for r in results:
        line = ax.errorbar(
            r.hs,
            r.errors,
            yerr=2 * r.stderr,
            marker="o",
            capsize=2,
            label=f"{r.label}: {r.order:.2f} [{r.ci[0]:.2f}, {r.ci[1]:.2f}]",
        )
        slopes = reference_slopes if reference_slopes is not None else ([r.expected] if r.expected else [])
        for p in slopes:
            ref = r.errors[-1] * (r.hs / r.hs[-1]) ** p
            ax.plot(r.hs, ref, "--", color=line[0].get_color(), alpha=0.5, lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step size h")
    kinds = {r.kind for r in results}
    ax.set_ylabel(
        "strong error E|Y_h - Y|"
        if kinds == {"strong"}
        else "weak error |E f(Y_h) - E f(Y)|"
        if kinds == {"weak"}
        else "error"
    )
    ax.legend(fontsize=7, title="order [95% CI]; dashed: theory", title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    return ax
