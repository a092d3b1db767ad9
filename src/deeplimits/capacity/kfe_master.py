"""Continuous-depth lattice master equation (jump generator) for capacity propagation.

Equation (Donier 2019 deep limit with ``alpha = a / sqrt(L)``, reconstructed [D] in
``docs/theory/capacity-kfe.md``)::

    dc/dt (x) = lambda(t) sum_k q_k(t) [c(x - k) - c(x)] - kappa(t) c(x)

on a 1-D or 2-D lattice (a :class:`~deeplimits.capacity.kfe_grid.Grid1D` /
``Grid2D`` whose cells are the sites; offsets ``k`` count cells).  Capacity at
site ``y`` jumps to ``y + k`` at rate ``lambda q_k``; the jump probabilities
``q_k >= 0`` sum to one.  Boundaries: periodic (wrap), reflecting (a jump that
would leave is rejected: the capacity stays), absorbing (a jump that would
leave removes its capacity).  Along several axes an absorbing exit takes
precedence over a reflecting one.

The generator is applied in *scatter* form (every jump removes capacity from its
source and adds the same amount to its target), so the total is conserved to
round-off for periodic/reflecting boundaries without sink.

Depth schemes: explicit Euler (Numba; limit ``dt <= 1 / (lambda (1 - q_0) + kappa)``,
which also makes it positive), implicit Euler and Crank--Nicolson (exact
circulant solves by FFT on periodic lattices, sparse LU otherwise).
:func:`master_exact_periodic` gives the exact solution on a periodic lattice by FFT.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba as nb
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .kfe_coef import check_nonnegative, evaluate
from .kfe_exact import integral
from .kfe_grid import Grid1D, Grid2D, KFEResult, depth_steps
from .kfe_pde import _check_c0, _explicit_substeps, _save_mask
from .lattice import LOST, REFUSED, check_span, jump_target

__all__ = ["MasterEquation", "solve_master", "master_exact_periodic", "generator_matrix", "SCHEMES_MASTER"]

SCHEMES_MASTER = {"explicit": 0.0, "implicit_euler": 1.0, "crank_nicolson": 0.5}


@dataclass
class MasterEquation:
    """Lattice master equation ``dc/dt = lambda sum_k q_k [c(x-k) - c(x)] - kappa c``.

    Parameters
    ----------
    grid : Grid1D or Grid2D
        The lattice (one site per cell) and its boundary conditions.
    offsets : array_like of int, shape (m,) in 1-D or (m, 2) in 2-D
        Jump offsets ``k`` (in cells).
    weights : array_like, shape (m,), or callable of t
        Jump probabilities ``q_k >= 0`` summing to 1.
    rate : float or callable of t
        Jump rate ``lambda >= 0``.
    kappa : float or callable of t
        Sink rate ``>= 0`` (bias weights).
    """

    grid: object
    offsets: object
    weights: object
    rate: object = 1.0
    kappa: object = 0.0

    def __post_init__(self):
        if isinstance(self.grid, Grid1D):
            dims = 1
        elif isinstance(self.grid, Grid2D):
            dims = 2
        else:
            raise ValueError(f"grid must be a Grid1D or Grid2D, got {type(self.grid).__name__}")
        off = np.asarray(self.offsets)
        if off.size == 0:
            raise ValueError("offsets must not be empty")
        if not np.issubdtype(off.dtype, np.integer):
            if not np.all(np.isfinite(off)) or np.any(off != np.round(off)):
                raise ValueError(f"offsets must be integers, got {off.tolist()}")
        off = off.astype(np.int64)
        if dims == 1:
            if off.ndim != 1:
                raise ValueError(f"offsets must have shape (m,) on a Grid1D, got {off.shape}")
            off2 = np.column_stack([off, np.zeros_like(off)])
            sizes = (self.grid.n, 1)
        else:
            if off.ndim != 2 or off.shape[1] != 2:
                raise ValueError(f"offsets must have shape (m, 2) on a Grid2D, got {off.shape}")
            off2 = off
            sizes = self.grid.shape
        check_span(off2, sizes)
        self._off2 = np.ascontiguousarray(off2)
        self._dims = dims
        self.coefficients(np.zeros(1))

    @property
    def m(self) -> int:
        """Number of jump offsets."""
        return self._off2.shape[0]

    def coefficients(self, ts):
        """Evaluate and validate the jump law, jump rate and sink at the depths ``ts``.

        Parameters
        ----------
        ts : array_like
            Depths; a callable coefficient is called once at each.

        Returns
        -------
        q : ndarray (len(ts), m)
            Jump probabilities (non-negative, summing to 1).
        lam : ndarray (len(ts),)
            Jump rates (non-negative).
        kappa : ndarray (len(ts),)
            Sink rates (non-negative).

        Raises
        ------
        ValueError
            Naming the coefficient and the depth where it is invalid.
        """
        ts = np.asarray(ts, dtype=float)
        q = evaluate(self.weights, ts, "weights", (self.m,))
        check_nonnegative(q, ts, "weights")
        s = q.sum(axis=1)
        if np.any(np.abs(s - 1.0) > 1e-12):
            k = int(np.argmax(np.abs(s - 1.0)))
            raise ValueError(f"weights must sum to 1; got sum {s[k]!r} at t={ts[k]}")
        lam = evaluate(self.rate, ts, "rate")
        check_nonnegative(lam, ts, "rate")
        kap = evaluate(self.kappa, ts, "kappa")
        check_nonnegative(kap, ts, "kappa")
        return q, lam, kap

    def explicit_limit(self, q, lam, kap) -> float:
        """Explicit-Euler step limit (positivity and L1 contraction).

        Parameters
        ----------
        q, lam, kap : ndarray
            Coefficients at the step depths, from :meth:`coefficients`.

        Returns
        -------
        float
            ``1 / max_t (lambda (1 - q_0) + kappa)`` (``inf`` when nothing moves).
        """
        stay = (self._off2 == 0).all(axis=1)
        out = lam * q[:, ~stay].sum(axis=1) + kap
        mx = float(out.max())
        return math.inf if mx == 0 else 1.0 / mx

    def _bcs(self):
        if self._dims == 1:
            return self.grid.bc, 0
        return self.grid.gx.bc, self.grid.gy.bc

    def symbol(self, q, lam, kap) -> np.ndarray:
        """Fourier symbol of the generator on a periodic lattice.

        Parameters
        ----------
        q : ndarray (m,)
            Jump weights (probabilities, or integrated rates with ``lam = 1``).
        lam, kap : float
            Jump rate and sink rate.

        Returns
        -------
        ndarray, complex, shape ``(nx, ny)`` (``ny = 1`` in 1-D)
            ``lam sum_k q_k (exp(-i xi.k) - 1) - kap`` on the FFT frequencies.
        """
        nx, ny = self._shape2
        xi = 2 * np.pi * np.fft.fftfreq(nx)[:, None]
        eta = 2 * np.pi * np.fft.fftfreq(ny)[None, :]
        g = np.zeros((nx, ny), dtype=complex)
        for (k1, k2), qk in zip(self._off2, q):
            g += qk * (np.exp(-1j * (xi * k1 + eta * k2)) - 1.0)
        return lam * g - kap

    @property
    def _shape2(self):
        return (self.grid.n, 1) if self._dims == 1 else self.grid.shape

    @property
    def periodic(self) -> bool:
        """True when every axis is periodic."""
        return self._bcs() == (0, 0)


@nb.njit(cache=True)
def _apply_master(c, offs, q, lam, kappa, bcx, bcy, s, out):
    # out += s * G c in scatter form: each jump moves capacity from its source to its target
    nx, ny = c.shape
    for m in range(q.shape[0]):
        k1 = offs[m, 0]
        k2 = offs[m, 1]
        if (k1 == 0 and k2 == 0) or q[m] == 0.0:
            continue
        r = s * lam * q[m]
        for i in range(nx):
            ti, sx = jump_target(i, k1, nx, bcx)
            for j in range(ny):
                tj, sy = jump_target(j, k2, ny, bcy)
                if sx == LOST or sy == LOST:
                    out[i, j] -= r * c[i, j]
                elif sx != REFUSED and sy != REFUSED:
                    f = r * c[i, j]
                    out[i, j] -= f
                    out[ti, tj] += f
    if kappa != 0.0:
        for i in range(nx):
            for j in range(ny):
                out[i, j] -= s * kappa * c[i, j]


@nb.njit(cache=True)
def _run_master_explicit(c0, offs, q, lam, kap, bcx, bcy, dt, save_mask, ys):
    c = c0.copy()
    new = np.empty_like(c)
    ys[0] = c
    isave = 1
    for k in range(lam.shape[0] - 1):
        new[:] = c
        _apply_master(c, offs, q[k], lam[k], kap[k], bcx, bcy, dt, new)
        c[:] = new
        if save_mask[k + 1]:
            ys[isave] = c
            isave += 1


def generator_matrix(eq: MasterEquation, q, lam: float, kap: float) -> sp.csr_matrix:
    """Sparse generator of a master equation at fixed coefficients.

    Parameters
    ----------
    eq : MasterEquation
        The equation (lattice, offsets, boundaries).
    q : ndarray (m,)
        Jump probabilities.
    lam, kap : float
        Jump rate and sink rate.

    Returns
    -------
    scipy.sparse.csr_matrix (N, N)
        ``G`` with ``dc/dt = G c`` on the flattened field (C order); its columns sum to
        ``-kap`` minus the rate of jumps lost through absorbing boundaries.
    """
    nx, ny = eq._shape2
    bcx, bcy = eq._bcs()
    N = nx * ny
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    src = (ii * ny + jj).ravel()
    rows, cols, vals = [], [], []
    diag = np.full(N, -kap, dtype=float)

    def tgt(idx, k, n, bc):
        t = idx + k
        inside = (t >= 0) & (t < n)
        if bc == 0:
            return t % n, np.zeros_like(inside), np.zeros_like(inside)
        return np.where(inside, t, idx), (~inside) & (bc == 1), (~inside) & (bc == 2)

    for (k1, k2), qk in zip(eq._off2, q):
        if (k1 == 0 and k2 == 0) or qk == 0:
            continue
        r = lam * qk
        ti, rx, lx = tgt(ii.ravel(), k1, nx, bcx)
        tj, ry, ly = tgt(jj.ravel(), k2, ny, bcy)
        lost = lx | ly
        moved = ~lost & ~(rx | ry)
        diag -= r * (lost | moved)
        rows.append((ti * ny + tj)[moved])
        cols.append(src[moved])
        vals.append(np.full(int(moved.sum()), r))
    rows.append(np.arange(N))
    cols.append(np.arange(N))
    vals.append(diag)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))


def solve_master(
    eq: MasterEquation,
    c0,
    t_end: float,
    *,
    dt: float | None = None,
    n_steps: int | None = None,
    scheme: str = "crank_nicolson",
    t0: float = 0.0,
    save_every: int | None = None,
    substeps: bool = False,
) -> KFEResult:
    """Integrate a :class:`MasterEquation` over depth ``[t0, t_end]``.

    Parameters
    ----------
    eq : MasterEquation
        The equation.
    c0 : ndarray
        Initial capacity field, shape ``eq.grid.shape``.
    t_end : float
        Final depth.
    dt, n_steps : float or int
        Step size or number of steps (exactly one).
    scheme : {"explicit", "implicit_euler", "crank_nicolson"}
        Depth scheme (theta = 0, 1, 1/2 with coefficients at ``t_n`` / ``t_{n+1}``).
    t0 : float
        Initial depth.
    save_every : int, optional
        Save every ``save_every`` steps (first and last always saved).
    substeps : bool
        Explicit only: sub-step to respect the stability limit instead of raising.

    Returns
    -------
    KFEResult

    Raises
    ------
    ValueError
        Bad field/coefficients, ``dt <= 0``, unknown scheme, explicit step past the limit.
    """
    tic = time.perf_counter()
    if not isinstance(eq, MasterEquation):
        raise ValueError(f"eq must be a MasterEquation, got {type(eq).__name__}")
    if scheme not in SCHEMES_MASTER:
        raise ValueError(f"scheme must be one of {tuple(SCHEMES_MASTER)}, got {scheme!r}")
    grid = eq.grid
    c0 = _check_c0(c0, grid)
    n, step = depth_steps(float(t0), float(t_end), dt, n_steps)
    m = 1
    limit = np.nan
    if scheme == "explicit":
        q, lam, kap = eq.coefficients(t0 + step * np.arange(n + 1))
        limit = eq.explicit_limit(q, lam, kap)
        m = _explicit_substeps(limit, step, substeps, "1 / (lambda (1 - q_0) + kappa)")
    nf, h = n * m, step / m
    mask = np.zeros(nf + 1, dtype=np.bool_)
    mask[::m] = _save_mask(n, save_every)
    ts_all = t0 + h * np.arange(nf + 1)
    q, lam, kap = eq.coefficients(ts_all)
    shape2 = eq._shape2
    ys = np.empty((int(mask.sum()),) + shape2)
    bcx, bcy = eq._bcs()
    c = c0.reshape(shape2)
    if scheme == "explicit":
        _run_master_explicit(c, eq._off2, q, lam, kap, bcx, bcy, h, mask, ys)
    else:
        theta = SCHEMES_MASTER[scheme]
        _run_master_implicit(eq, c, q, lam, kap, h, theta, mask, ys)
    ys = ys.reshape((ys.shape[0],) + grid.shape)
    res = KFEResult(ts=ts_all[mask], ys=ys, grid=grid)
    res.stats = dict(
        scheme=scheme,
        n_steps=n,
        dt=step,
        substeps=m,
        dt_limit=limit,
        wall_time=time.perf_counter() - tic,
        mass=res.mass(),
        solver="fft" if eq.periodic else "sparse_lu",
    )
    return res


def _same(q, lam, kap, a, b):
    return lam[a] == lam[b] and kap[a] == kap[b] and np.array_equal(q[a], q[b])


def _run_master_implicit(eq, c, q, lam, kap, dt, theta, mask, ys):
    # (I - theta dt G(t_{n+1})) c_{n+1} = (I + (1 - theta) dt G(t_n)) c_n
    ys[0] = c
    isave = 1
    if eq.periodic:
        ch = np.fft.fft2(c)
        g_prev = eq.symbol(q[0], lam[0], kap[0])
        for k in range(len(lam) - 1):
            g_next = g_prev if _same(q, lam, kap, k, k + 1) else eq.symbol(q[k + 1], lam[k + 1], kap[k + 1])
            ch = ch * (1.0 + (1.0 - theta) * dt * g_prev) / (1.0 - theta * dt * g_next)
            g_prev = g_next
            if mask[k + 1]:
                ys[isave] = np.fft.ifft2(ch).real
                isave += 1
        return
    shape = c.shape
    x = c.ravel().copy()
    N = x.size
    eye = sp.identity(N, format="csc")
    G_prev = generator_matrix(eq, q[0], lam[0], kap[0])
    lu = None
    for k in range(len(lam) - 1):
        rhs = x + (1.0 - theta) * dt * (G_prev @ x) if theta < 1 else x
        if lu is None or not _same(q, lam, kap, k, k + 1):
            G_next = generator_matrix(eq, q[k + 1], lam[k + 1], kap[k + 1])
            lu = spla.splu((eye - theta * dt * G_next).tocsc())
        else:
            G_next = G_prev
        x = lu.solve(rhs)
        G_prev = G_next
        if mask[k + 1]:
            ys[isave] = x.reshape(shape)
            isave += 1


def master_exact_periodic(eq: MasterEquation, c0, t_end: float, t0: float = 0.0) -> np.ndarray:
    """Exact solution at ``t_end`` on a periodic lattice, by FFT.

    On a periodic lattice the generators at different depths are circulant and
    commute, so ``c(t) = F^{-1}[exp(int_{t0}^{t} G_hat(s) ds) F c0]`` with the
    symbol ``G_hat = sum_k (int lambda q_k)(e^{-i xi.k} - 1) - int kappa``.  The
    depth integrals are computed by adaptive quadrature (``scipy.integrate.quad``,
    absolute error ~1e-14) when the coefficients are callables, exactly otherwise.

    Parameters
    ----------
    eq : MasterEquation
        On a lattice periodic along every axis.
    c0 : ndarray
        Field at ``t0``, shape ``eq.grid.shape``.
    t_end : float
        Final depth, ``>= t0``.
    t0 : float
        Initial depth.

    Returns
    -------
    ndarray, shape ``eq.grid.shape``

    Raises
    ------
    ValueError
        Non-periodic lattice, bad field, or ``t_end < t0``.
    """
    if not eq.periodic:
        raise ValueError("master_exact_periodic needs periodic boundaries on every axis")
    c0 = _check_c0(c0, eq.grid)

    t0, t_end = float(t0), float(t_end)
    if not (math.isfinite(t0) and math.isfinite(t_end)) or t_end < t0:
        raise ValueError(f"need finite t0 <= t_end (depth runs forward), got t0={t0}, t_end={t_end}")

    def rates(t):
        q, lam, _ = eq.coefficients([t])
        return lam[0] * q[0]

    # integrated jump rates int lambda q_k dt (a product of two callables is integrated as one)
    lq = integral(rates if callable(eq.weights) or callable(eq.rate) else rates(t0), t0, t_end, (eq.m,))
    K = float(integral(eq.kappa, t0, t_end))
    # symbol() is linear in (lam * q, kappa): pass lam = 1, q = integrated rates (sum need not be 1)
    g = eq.symbol(lq, 1.0, K)
    ch = np.fft.fft2(c0.reshape(eq._shape2)) * np.exp(g)
    return np.fft.ifft2(ch).real.reshape(eq.grid.shape)
