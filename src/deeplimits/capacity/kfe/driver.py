"""The entry point of the KFE solvers, :func:`solve_kfe` (master equation or drift-diffusion PDE).

It gives both kinds one handling of the depth keywords (``dt`` / ``n_steps``, ``t0``, ``saveat``,
``substeps`` with the explicit stability limit) and one form of the result (:class:`KFEResult`
and its ``stats``); the schemes themselves are in :mod:`.pde1d`, :mod:`.pde2d` and :mod:`.master`.

Depth-scheme names follow the SDE engine (:mod:`deeplimits.sde`): ``"euler"`` is the
explicit Euler step (as ``scheme="euler"`` there), ``"implicit_euler"`` and
``"crank_nicolson"`` are the theta method at ``theta = 1`` and ``1/2`` and ``"theta"`` (1-D PDE
and master equation) takes ``theta=`` in ``[1/2, 1]`` as there; the 2-D PDE adds
the ADI schemes ``"peaceman_rachford"``, ``"douglas"`` and ``"hundsdorfer_verwer"``, the master
equation the exponential integrators ``"exponential_midpoint"`` and ``"exponential_cf4"``
(:mod:`.exponential`, with the uniformization tolerance ``tol=``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import check_choice, check_float
from ._stepping import check_field, check_positivity, depth_steps, explicit_substeps, save_mask, theta_of
from .equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation
from .exponential import SCHEMES_EXPONENTIAL, run_exponential
from .master import SCHEMES_MASTER, run_master
from .pde1d import SCHEMES_1D, explicit_limit_1d, run_1d
from .pde2d import ADI_CODES, SCHEMES_2D, adi_scheme, explicit_limit_2d, run_2d
from .result import KFEResult

__all__ = ["solve_kfe"]

#: Default uniformization tolerance of the exponential master-equation schemes.
TOL_DEFAULT = 1e-12


@dataclass(frozen=True)
class _DepthGrid:
    """The uniform depth grid of a solve: ``n_steps`` steps of ``dt``, each split into ``substeps``."""

    t0: float
    n_steps: int
    dt: float
    substeps: int
    dt_limit: float  # explicit stability limit; nan for the other schemes
    mask: NDArray[np.bool_]  # output depths among the ``n_fine + 1`` depths that are run

    @property
    def h(self) -> float:
        """Step that is run."""
        return self.dt / self.substeps

    @property
    def n_fine(self) -> int:
        """Number of steps that are run."""
        return self.n_steps * self.substeps

    def depths(self) -> NDArray[np.float64]:
        """The depths ``t0 + k h``, ``k = 0..n_fine``."""
        return np.asarray(self.t0 + self.h * np.arange(self.n_fine + 1), dtype=np.float64)


def _prepare(
    grid: Any,
    c0: ArrayLike,
    t_end: float,
    opts: dict[str, Any],
    limit_at: Callable[[ArrayLike], float],
    formula: str,
) -> tuple[NDArray[np.float64], _DepthGrid]:
    # the checked field and the depth grid, sub-stepped when an explicit step is past its limit
    # (``limit_at(depths)``, the ``formula`` named in the error)
    c0 = check_field(c0, grid)
    n, step = depth_steps(opts["t0"], t_end, opts["dt"], opts["n_steps"])
    t0 = float(opts["t0"])
    mask_coarse = save_mask(t0, step, n, opts["saveat"])
    m, limit = 1, np.nan
    if opts["scheme"] == "euler":
        limit = limit_at(t0 + step * np.arange(n + 1))
        m = explicit_substeps(limit, step, opts["substeps"], formula)
    mask = np.zeros(n * m + 1, dtype=np.bool_)
    mask[::m] = mask_coarse
    return c0, _DepthGrid(t0=t0, n_steps=n, dt=step, substeps=m, dt_limit=limit, mask=mask)


def _result(d: _DepthGrid, ys: NDArray[np.float64], grid: Any, tic: float, scheme: str, **extra: Any) -> KFEResult:
    res = KFEResult(ts=d.depths()[d.mask], ys=ys, grid=grid)
    res.stats = dict(
        scheme=scheme,
        **extra,
        n_steps=d.n_steps,
        dt=d.dt,
        substeps=d.substeps,
        dt_limit=d.dt_limit,
        wall_time=time.perf_counter() - tic,
        mass=res.mass(),
    )
    return res


def _pde_limit(eq: DriftDiffusion1D | DriftDiffusion2D, ts: ArrayLike) -> float:
    # explicit limit over the depths ts; raises where the explicit step is not positive
    cf = eq.coefficients(ts)
    upwind = eq.advection == "upwind"
    grid: Any = eq.grid
    if isinstance(eq, DriftDiffusion2D):
        gx, gy = grid.gx, grid.gy
        limit, worst = explicit_limit_2d(cf, gx.n, gy.n, gx.h, gy.h, gx.bc, gy.bc, upwind)
    else:
        limit, worst = explicit_limit_1d(cf, grid.n, grid.h, grid.bc, upwind)
    check_positivity(worst, eq.advection)
    return float(limit)


def _no_tol(opts: dict[str, Any]) -> None:
    if opts["tol"] is not None:
        raise ValueError(f"tol applies to the exponential master-equation schemes only, not {opts['scheme']!r}")


def _solve_pde(eq: Any, c0: ArrayLike, t_end: float, opts: dict[str, Any]) -> KFEResult:
    tic = time.perf_counter()
    is2d = isinstance(eq, DriftDiffusion2D)
    scheme, theta = opts["scheme"], opts["theta"]
    check_choice(scheme, "scheme", SCHEMES_2D if is2d else tuple(SCHEMES_1D))
    _no_tol(opts)
    th = 0.0 if is2d else theta_of(scheme, theta, SCHEMES_1D)
    limit_at = lambda ts: _pde_limit(eq, ts)
    c0, d = _prepare(eq.grid, c0, t_end, opts, limit_at, "1 / max diagonal of the operator")
    grid: Any = eq.grid
    upwind = eq.advection == "upwind"
    ys = np.empty((int(d.mask.sum()),) + grid.shape)
    used = scheme
    if is2d:
        cf = eq.coefficients(d.t0 + 0.5 * d.h * np.arange(2 * d.n_fine + 1))
        used, th = adi_scheme(scheme, theta, mixed=bool(np.any(cf[:, 4] != 0)))
        code = ADI_CODES[used]
        if code == 1 and np.any(cf[:, 4] != 0):
            raise ValueError("peaceman_rachford needs a diagonal D (Dxy = 0); use douglas or hundsdorfer_verwer")
        run_2d(c0, cf, d.h, grid.gx.h, grid.gy.h, grid.gx.bc, grid.gy.bc, upwind, code, th, d.mask, ys)
    else:
        run_1d(c0, eq.coefficients(d.depths()), d.h, grid.h, grid.bc, upwind, th, d.mask, ys)
    return _result(d, ys, grid, tic, scheme, scheme_used=used, theta=th)


def _solve_master(eq: Any, c0: ArrayLike, t_end: float, opts: dict[str, Any]) -> KFEResult:
    tic = time.perf_counter()
    scheme = opts["scheme"]
    check_choice(scheme, "scheme", tuple(SCHEMES_MASTER))
    if scheme in SCHEMES_EXPONENTIAL:
        if opts["theta"] is not None:
            raise ValueError(f"theta applies to scheme='theta' only, not {scheme!r}")
        tol = TOL_DEFAULT if opts["tol"] is None else opts["tol"]
        tol = check_float(tol, "tol", minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
        c0, d = _prepare(eq.grid, c0, t_end, opts, lambda ts: np.nan, "")
        ys, n_matvec = run_exponential(eq, c0, d.depths(), scheme, d.mask, tol)
        return _result(d, ys, eq.grid, tic, scheme, theta=np.nan, solver="uniformization", tol=tol, n_matvec=n_matvec)
    _no_tol(opts)
    th = theta_of(scheme, opts["theta"], SCHEMES_MASTER)
    limit_at = lambda ts: eq.explicit_limit(*eq.coefficients(ts))
    c0, d = _prepare(eq.grid, c0, t_end, opts, limit_at, "1 / (lambda (1 - q_0) + kappa)")
    ys = run_master(eq, c0, d.depths(), d.h, th, d.mask)
    return _result(d, ys, eq.grid, tic, scheme, theta=th, solver="fft" if eq.periodic else "sparse_lu")


def solve_kfe(
    eq: MasterEquation | DriftDiffusion1D | DriftDiffusion2D,
    c0: ArrayLike,
    t_end: float,
    *,
    dt: float | None = None,
    n_steps: int | None = None,
    scheme: str = "crank_nicolson",
    t0: float = 0.0,
    saveat: ArrayLike | None = None,
    substeps: bool = False,
    theta: float | None = None,
    tol: float | None = None,
) -> KFEResult:
    """Integrate a capacity KFE (master equation or drift-diffusion PDE) over depth ``[t0, t_end]``.

    Parameters
    ----------
    eq : MasterEquation, DriftDiffusion1D or DriftDiffusion2D
        The equation.
    c0 : array_like
        Initial field (capacity density) at ``t0``, shape ``eq.grid.shape``.
    t_end : float
        Final depth.
    dt, n_steps : float or int
        Step size or number of steps (exactly one).
    scheme : str
        Master equation and 1-D PDE: ``"euler"`` (explicit), ``"implicit_euler"``,
        ``"crank_nicolson"``, ``"theta"`` (the theta method with ``theta=`` in ``[1/2, 1]``);
        the master equation takes its coefficients at ``t_n`` / ``t_{n+1}``.
        Master equation also: the exponential integrators ``"exponential_midpoint"``
        (``exp(dt G(t_n + dt/2))`` per step, order 2) and ``"exponential_cf4"``
        (commutator-free Magnus, two exponentials per step at the Gauss nodes, order 4),
        each exponential applied by uniformization (positive; exact up to ``tol`` for
        depth-independent coefficients, whatever ``dt``).
        2-D PDE: ``"euler"``, ``"implicit_euler"`` (Douglas ADI, ``theta = 1``, order 1),
        ``"crank_nicolson"`` (Douglas ADI, ``theta = 1/2``; Hundsdorfer--Verwer with
        ``theta = 1/2`` when ``D_xy != 0``; order 2), ``"peaceman_rachford"`` (diagonal
        ``D`` only), ``"douglas"``, ``"hundsdorfer_verwer"``.  ``res.stats["scheme_used"]``
        names the ADI scheme that ran.
    t0 : float
        Initial depth.
    saveat : array_like, optional
        Output depths, points of the step grid ``t0 + k dt``; default ``(t0, t_end)``.
        The saved fields do not depend on ``saveat``, except with the exponential schemes
        and depth-independent coefficients, whose exponentials are merged between saved
        depths (the fields then agree to within ``tol``).
    substeps : bool
        ``"euler"`` only: split each step into the fewest equal sub-steps that respect
        the stability limit (PDE: ``1 / max diagonal of the operator``; master equation:
        ``1 / (lambda (1 - q_0) + kappa)``) instead of raising.
    theta : float, optional
        ``scheme="theta"``: its implicitness, in ``[1/2, 1]``.  2-D: implicitness of the
        Douglas / Hundsdorfer--Verwer schemes (default ``1/2`` for Douglas,
        ``1/2 + sqrt(3)/6`` for Hundsdorfer--Verwer).
    tol : float, optional
        Exponential master-equation schemes only: uniformization tolerance in ``(0, 1)``
        (default ``1e-12``); the truncated Poisson sums remove at most ``tol`` times the
        total capacity over the whole solve.

    Returns
    -------
    KFEResult
        ``ys[save, *grid.shape]`` at the depths ``ts`` (``saveat``), metadata in ``stats``
        (master equation: ``stats["solver"]`` is ``"fft"`` on a periodic lattice, ``"sparse_lu"``
        on a bounded one, ``"uniformization"`` for the exponential schemes, which also record
        ``tol`` and ``n_matvec``, the number of lattice passes).

    Raises
    ------
    TypeError
        If ``eq`` is not one of the three equation types.
    ValueError
        Bad grid/field/coefficients, ``dt <= 0``, unknown scheme, ``tol`` outside ``(0, 1)``
        or given to another scheme, an explicit step past the stability limit (naming ``dt``
        and the limit), or a CF4 step whose combined jump rates are negative (naming ``dt``).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import DriftDiffusion1D, Grid1D, MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(8), offsets=[-1, 0, 1], weights=[0.25, 0.5, 0.25], rate=2.0)
    >>> res = solve_kfe(eq, np.eye(8)[4], 1.0, n_steps=10, scheme="euler", saveat=[0.5, 1.0])
    >>> res.ys.shape, round(float(res.mass()[-1]), 12)
    ((2, 8), 1.0)
    >>> res = solve_kfe(eq, np.eye(8)[4], 1.0, n_steps=4, scheme="exponential_cf4", tol=1e-12)
    >>> bool(res.ys.min() >= 0), round(float(res.mass()[-1]), 9)
    (True, 1.0)
    >>> g = Grid1D(-5, 5, 100, "reflecting")
    >>> res = solve_kfe(DriftDiffusion1D(g, v=0.3, D=0.5), np.exp(-g.x**2), 1.0, n_steps=50)
    >>> res.ts.tolist(), bool(np.allclose(res.mass(), res.mass()[0], rtol=1e-12))
    ([0.0, 1.0], True)
    """
    opts = dict(dt=dt, n_steps=n_steps, scheme=scheme, t0=t0, saveat=saveat, substeps=substeps, theta=theta, tol=tol)
    if isinstance(eq, MasterEquation):
        return _solve_master(eq, c0, t_end, opts)
    if isinstance(eq, (DriftDiffusion1D, DriftDiffusion2D)):
        return _solve_pde(eq, c0, t_end, opts)
    raise TypeError(f"eq must be a MasterEquation, DriftDiffusion1D or DriftDiffusion2D, got {type(eq).__name__}")
