"""Work-precision diagrams: the strong error of several schemes against their cost.

:func:`work_precision` runs every scheme on nested uniform grids driven by the
same Brownian paths (:func:`~deeplimits.convergence.coupled_increments`), measures
the strong error at the final time against an exact solution or a fine reference,
and times each run, so schemes are compared at equal accuracy: the scheme whose
curve lies lowest at a given cost is the one to use.  :func:`plot_work_precision`
draws error against wall time and against path-steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_callable, check_choice, check_float, check_int, check_seed
from ..sde import SCHEMES, SDE, brownian_increments, solve, uniform_grid
from .study import coupled_increments

__all__ = ["WorkPrecision", "work_precision", "plot_work_precision"]


@dataclass
class WorkPrecision:
    """Errors and costs of several schemes over several step sizes.

    Attributes
    ----------
    schemes : list of str
    n_steps : ndarray of int, shape (n_h,)
    hs : ndarray, shape (n_h,)
        Step sizes.
    errors, stderr : ndarray, shape (n_schemes, n_h)
        Strong error ``E |Y^h_T - Y_T|`` and its standard error.
    seconds : ndarray, shape (n_schemes, n_h)
        Least kernel wall time over the repeats (``Solution.stats["wall_time"]``).
    path_steps : ndarray, shape (n_h,)
        ``n_paths * n_steps`` of each run.
    n_paths : int
    stats : dict
        ``reference`` (``"exact"`` or the reference scheme), ``repeat``, ``seed``.
    """

    schemes: list[str]
    n_steps: NDArray[np.int64]
    hs: NDArray[np.float64]
    errors: NDArray[np.float64]
    stderr: NDArray[np.float64]
    seconds: NDArray[np.float64]
    path_steps: NDArray[np.int64]
    n_paths: int
    stats: dict[str, Any] = field(default_factory=dict)

    def cheapest(self, tolerance: float) -> tuple[str, float] | None:
        """The scheme and wall time of the cheapest measured run with error ``<= tolerance`` (None if none)."""
        ok = self.errors <= tolerance
        if not ok.any():
            return None
        cost = np.where(ok, self.seconds, np.inf)
        i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
        return self.schemes[int(i)], float(self.seconds[i, j])


def work_precision(
    sde: SDE,
    y0: ArrayLike,
    t1: float,
    *,
    schemes: Sequence[str] = ("euler", "milstein"),
    t0: float = 0.0,
    n_steps: Sequence[int] = (16, 32, 64, 128, 256),
    exact: Callable[..., Any] | None = None,
    ref_factor: int = 8,
    ref_scheme: str | None = None,
    n_paths: int = 1000,
    seed: int = 0,
    component: int = 0,
    repeat: int = 3,
    **solve_kw: Any,
) -> WorkPrecision:
    """Strong error against cost for several schemes on the same Brownian paths.

    Parameters
    ----------
    sde : deeplimits.sde.SDE
    y0 : array_like
        Initial state.
    t1 : float
        Final time; errors are measured there.
    schemes : sequence of str
        Generic schemes (:data:`deeplimits.sde.SCHEMES`) or the SDE's specialised ones.
    t0 : float
        Initial time.
    n_steps : sequence of int
        At least 2 step counts, each dividing the largest (nested uniform grids).
    exact : callable, optional
        ``exact(grid_fine, dW_fine) -> (n_paths, dim)``, the pathwise solution at ``t1``.
        Without it the reference is ``ref_scheme`` (default: the first scheme) on a grid
        ``ref_factor`` times finer than the finest.
    n_paths, seed
        Monte-Carlo size and seed of the Brownian paths.
    component : int
        Component of the state whose error is measured.
    repeat : int
        Runs per point; the least wall time is kept.
    **solve_kw
        Passed to :func:`deeplimits.sde.solve` (e.g. ``theta``).

    Returns
    -------
    WorkPrecision

    Raises
    ------
    ValueError, TypeError
        For bad arguments, naming them.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.sde.models import gbm, gbm_exact
    >>> wp = work_precision(gbm(1.0, 0.5), [1.0], 1.0, exact=gbm_exact(1.0, 1.0, 0.5),
    ...                     n_steps=[8, 16, 32], n_paths=200, repeat=1)
    >>> wp.errors.shape, bool((np.diff(wp.errors, axis=1) < 0).all())  # (schemes, step sizes); errors fall
    ((2, 3), True)
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a deeplimits.sde.SDE, got {type(sde).__name__}")
    names = list(SCHEMES) + [k for k in sde.kernels if k not in SCHEMES]
    schemes = [check_choice(s, "schemes", names) for s in schemes]
    if not schemes:
        raise ValueError("schemes must name at least one scheme")
    ref = check_choice(ref_scheme or schemes[0], "ref_scheme", names)
    t0 = check_float(t0, "t0")
    if check_float(t1, "t1") <= t0:
        raise ValueError(f"t1 must be > t0={t0}, got {t1}")
    steps = sorted({check_int(n, "n_steps", minimum=1) for n in n_steps})
    if len(steps) < 2:
        raise ValueError(f"n_steps must hold at least 2 different step counts, got {list(n_steps)}")
    n_fine = steps[-1] * (1 if exact is not None else check_int(ref_factor, "ref_factor", minimum=2))
    if any(n_fine % n for n in steps):
        raise ValueError(f"every step count must divide the finest ({n_fine}) for nested grids, got {steps}")
    n_paths = check_int(n_paths, "n_paths", minimum=2)
    component = check_int(component, "component", minimum=0, maximum=sde.dim - 1)
    repeat = check_int(repeat, "repeat", minimum=1)
    seed = check_seed(seed)

    fine = uniform_grid(t0, t1, n_fine)
    grids = [fine[:: n_fine // n] for n in steps]
    dW_fine = brownian_increments(fine, n_paths=n_paths, seed=seed, n_noise=int(sde.n_noise or 1))
    if exact is not None:
        target = np.asarray(check_callable(exact, "exact")(fine, dW_fine), dtype=float).reshape(n_paths, -1)
    else:
        target = solve(sde, y0, fine, saveat=[t1], dW=dW_fine, scheme=ref, **solve_kw).ys[:, -1, :]
    errors = np.empty((len(schemes), len(steps)))
    stderr = np.empty_like(errors)
    seconds = np.full_like(errors, np.inf)
    for j, (grid, dW) in enumerate(zip(grids, coupled_increments(fine, grids, dW_fine), strict=True)):
        for i, scheme in enumerate(schemes):
            for _ in range(repeat):
                sol = solve(sde, y0, grid, saveat=[t1], dW=dW, scheme=scheme, **solve_kw)
                seconds[i, j] = min(seconds[i, j], sol.stats["wall_time"])
            diff = np.abs(sol.ys[:, -1, component] - target[:, component])
            errors[i, j] = diff.mean()
            stderr[i, j] = diff.std(ddof=1) / np.sqrt(n_paths)
    return WorkPrecision(
        schemes=schemes,
        n_steps=np.array(steps, dtype=np.int64),
        hs=(t1 - t0) / np.array(steps, dtype=np.float64),
        errors=errors,
        stderr=stderr,
        seconds=seconds,
        path_steps=n_paths * np.array(steps, dtype=np.int64),
        n_paths=n_paths,
        stats=dict(reference="exact" if exact is not None else ref, repeat=repeat, seed=seed),
    )


def plot_work_precision(result: WorkPrecision, title: str | None = None) -> Any:
    """Two log-log panels: strong error against wall time, and against path-steps.

    Parameters
    ----------
    result : WorkPrecision
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> wp = WorkPrecision(["euler"], np.array([8, 16]), np.array([0.125, 0.0625]), np.array([[0.2, 0.14]]),
    ...                    np.array([[0.01, 0.01]]), np.array([[1e-3, 2e-3]]), np.array([800, 1600]), 100)
    >>> fig = plot_work_precision(wp)
    >>> len(fig.axes)
    2
    """
    if not isinstance(result, WorkPrecision):
        raise TypeError(f"result must be a WorkPrecision, got {type(result).__name__}")
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    fig = Figure(figsize=(10.5, 3.8), layout="constrained")
    ax_time, ax_work = fig.subplots(1, 2, sharey=True)
    for i, scheme in enumerate(result.schemes):
        for ax, x in ((ax_time, result.seconds[i]), (ax_work, result.path_steps)):
            ax.errorbar(x, result.errors[i], yerr=2 * result.stderr[i], marker="o", capsize=2, label=scheme)
    for ax, label in ((ax_time, "wall time (s)"), (ax_work, "path-steps")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.xaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks overlap on short decades
        ax.grid(True, which="both", alpha=0.3)
    ax_time.set_ylabel(r"strong error $E|Y^h_T - Y_T|$")
    fig.legend(*ax_time.get_legend_handles_labels(), loc="outside right upper")  # beside the panels, not over them
    fig.suptitle(title or f"work-precision, {result.n_paths} paths, reference: {result.stats.get('reference', '?')}")
    return fig
