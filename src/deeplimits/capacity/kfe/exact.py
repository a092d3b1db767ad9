"""Exact solutions of the capacity KFE, for measuring the solvers' orders.

* :func:`gaussian_1d`, :func:`gaussian_2d`: Green's function of the drift--diffusion--sink
  PDE with depth-dependent coefficients (a Gaussian whose mean moves by ``int v``,
  whose covariance grows by ``2 int D`` and whose mass decays by ``exp(-int kappa)``),
  optionally summed over periodic images.
* :func:`fourier_mode_1d`, :func:`fourier_mode_2d`: ``1 + A cos(k.(x - int v)) exp(-k.(int D) k)``
  times ``exp(-int kappa)`` (periodic grids; with ``v = 0`` the cosine / sine modes
  also solve the reflecting / absorbing problems on ``[0, L]`` when ``k = pi m / L``).
* :func:`master_exact_periodic`: the lattice master equation on a periodic lattice, by FFT.
* :func:`semidiscrete_exact`: the exact depth-solution of the *spatially discretised*
  system ``dc/dt = A(t) c`` (no depth error), when the ``A(t)`` commute (periodic
  grids: circulant; or ``v = 0``), by FFT or dense ``expm``.  Depth orders are
  measured against it so that the spatial error does not pollute them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.integrate
import scipy.linalg
from numpy.typing import ArrayLike

from ._linalg import tri_matvec
from ._stepping import check_field
from .equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation, diffusion_tensor
from .grid import Grid1D
from .operators import apply_full, bands_1d

__all__ = [
    "integral",
    "gaussian_1d",
    "gaussian_2d",
    "fourier_mode_1d",
    "fourier_mode_2d",
    "semidiscrete_exact",
    "master_exact_periodic",
]


def integral(f: Any, t0: float, t1: float, shape: tuple[int, ...] = ()) -> np.ndarray:
    """``int_{t0}^{t1} f(t) dt`` for a constant or callable coefficient (quadrature to ~1e-14).

    Parameters
    ----------
    f : float, array_like or callable
        Constant coefficient, or ``f(t)`` returning a value of shape ``shape``.
    t0, t1 : float
        Integration bounds.
    shape : tuple
        Shape of one value of ``f`` (callables only; each component is integrated by
        ``scipy.integrate.quad``).

    Returns
    -------
    ndarray, shape ``shape``

    Examples
    --------
    >>> from deeplimits.capacity.kfe import integral
    >>> float(integral(lambda t: 2 * t, 0.0, 1.0)), float(integral(3.0, 0.0, 2.0))
    (1.0, 6.0)
    """
    if not callable(f):
        return np.asarray(f, dtype=float) * (t1 - t0)
    if shape == ():
        return np.asarray(scipy.integrate.quad(f, t0, t1, epsabs=1e-14, epsrel=1e-12, limit=200)[0])
    return np.array(
        [
            scipy.integrate.quad(
                lambda t, j=j: np.asarray(f(t), float).ravel()[j], t0, t1, epsabs=1e-14, epsrel=1e-12, limit=200
            )[0]
            for j in range(int(np.prod(shape)))
        ]
    ).reshape(shape)


def gaussian_1d(
    x,
    v_int: float,
    D_int: float,
    kappa_int: float = 0.0,
    x0: float = 0.0,
    s0: float = 0.0,
    period: float | None = None,
    n_images: int = 6,
) -> np.ndarray:
    """Unit-mass Gaussian started with variance ``s0**2`` at ``x0``, after integrated drift/diffusion/sink.

    ``c = exp(-kappa_int) N(x; x0 + v_int, s0^2 + 2 D_int)``, summed over images ``x + j period``:
    the exact solution of ``dc/dt = -v c_x + D c_xx - kappa c`` with depth-dependent coefficients.

    Parameters
    ----------
    x : array_like
        Positions.
    v_int, D_int, kappa_int : float
        ``int v dt``, ``int D dt``, ``int kappa dt`` over the depth interval.
    x0, s0 : float
        Initial mean and standard deviation (``s0 = 0``: Green's function).
    period : float, optional
        Sum over periodic images of this period.
    n_images : int
        Images on each side.

    Returns
    -------
    ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import gaussian_1d
    >>> x = np.linspace(-10, 10, 2001)
    >>> round(float(gaussian_1d(x, v_int=1.0, D_int=0.5).sum() * 0.01), 6)
    1.0
    """
    var = s0**2 + 2.0 * D_int
    if not var > 0:
        raise ValueError(f"need s0**2 + 2 D_int > 0, got {var}")
    x = np.asarray(x, dtype=float)
    js = range(-n_images, n_images + 1) if period is not None else [0]
    out = np.zeros_like(x)
    for j in js:
        d = x - x0 - v_int + (j * period if period is not None else 0.0)
        out += np.exp(-0.5 * d**2 / var)
    return np.exp(-kappa_int) * out / np.sqrt(2 * np.pi * var)


def gaussian_2d(
    X: Any,
    Y: Any,
    v_int: Any,
    D_int: Any,
    kappa_int: float = 0.0,
    x0: Sequence[float] = (0.0, 0.0),
    s0: float = 0.0,
    period: Sequence[float] | None = None,
    n_images: int = 4,
) -> np.ndarray:
    """2-D analogue of :func:`gaussian_1d`.

    Parameters
    ----------
    X, Y : ndarray
        Coordinates (e.g. from :meth:`Grid2D.mesh`).
    v_int : (2,)
        Integrated drift.
    D_int : (2, 2)
        Integrated diffusion tensor.
    kappa_int : float
        Integrated sink.
    x0 : (2,)
        Initial mean.
    s0 : float
        Initial isotropic standard deviation.
    period : (Lx, Ly), optional
        Sum over periodic images.
    n_images : int
        Images on each side per axis.

    Returns
    -------
    ndarray, shape of ``X``

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import gaussian_2d
    >>> X, Y = np.meshgrid(np.linspace(-8, 8, 401), np.linspace(-8, 8, 401), indexing="ij")
    >>> round(float(gaussian_2d(X, Y, (0.5, 0.0), np.eye(2) * 0.5).sum() * 0.04**2), 6)
    1.0
    """
    S = s0**2 * np.eye(2) + 2.0 * np.asarray(D_int, dtype=float).reshape(2, 2)
    Si = np.linalg.inv(S)
    out = np.zeros_like(np.asarray(X, dtype=float))
    rng = range(-n_images, n_images + 1) if period is not None else [0]
    for a in rng:
        for b in rng:
            dx = X - x0[0] - v_int[0] + (a * period[0] if period is not None else 0.0)
            dy = Y - x0[1] - v_int[1] + (b * period[1] if period is not None else 0.0)
            out += np.exp(-0.5 * (Si[0, 0] * dx * dx + 2 * Si[0, 1] * dx * dy + Si[1, 1] * dy * dy))
    return np.exp(-kappa_int) * out / (2 * np.pi * np.sqrt(np.linalg.det(S)))


def fourier_mode_1d(
    x, k: float, amp: float, v_int: float, D_int: float, kappa_int: float = 0.0, kind: str = "cos"
) -> np.ndarray:
    """Exact Fourier-mode solution in 1-D.

    ``(1 + amp cos(k (x - v_int)) exp(-k^2 D_int)) exp(-kappa_int)``; ``kind="sin"``:
    ``amp sin(k (x - v_int)) exp(-k^2 D_int - kappa_int)`` (no constant).

    Parameters
    ----------
    x : array_like
        Positions.
    k : float
        Wave number.
    amp : float
        Amplitude.
    v_int, D_int, kappa_int : float
        Integrated drift, diffusion, sink.
    kind : {"cos", "sin"}

    Returns
    -------
    ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import fourier_mode_1d
    >>> fourier_mode_1d(np.array([0.0]), k=np.pi, amp=0.5, v_int=0.0, D_int=0.0).tolist()
    [1.5]
    """
    x = np.asarray(x, dtype=float)
    if kind == "cos":
        return (1.0 + amp * np.cos(k * (x - v_int)) * np.exp(-k * k * D_int)) * np.exp(-kappa_int)
    if kind == "sin":
        return amp * np.sin(k * (x - v_int)) * np.exp(-k * k * D_int - kappa_int)
    raise ValueError(f"kind must be 'cos' or 'sin', got {kind!r}")


def fourier_mode_2d(
    X: Any,
    Y: Any,
    kvec: Sequence[float],
    amp: float,
    v_int: Any,
    D_int: Any,
    kappa_int: float = 0.0,
) -> np.ndarray:
    """Exact Fourier-mode solution in 2-D: ``(1 + amp cos(k.(x - v_int)) exp(-k.D_int k)) exp(-kappa_int)``.

    Parameters
    ----------
    X, Y : ndarray
        Coordinates.
    kvec : (kx, ky)
        Wave vector.
    amp : float
        Amplitude.
    v_int, D_int, kappa_int
        Integrated drift ``(2,)``, diffusion tensor ``(2, 2)`` and sink (float).

    Returns
    -------
    ndarray, shape of ``X``

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import fourier_mode_2d
    >>> fourier_mode_2d(np.zeros(1), np.zeros(1), (1.0, 1.0), 0.5, (0.0, 0.0), np.zeros((2, 2))).tolist()
    [1.5]
    """
    kx, ky = kvec
    Dm = np.asarray(D_int, dtype=float).reshape(2, 2)
    kk = np.array([kx, ky])
    phase = kx * (X - v_int[0]) + ky * (Y - v_int[1])
    return (1.0 + amp * np.cos(phase) * np.exp(-kk @ Dm @ kk)) * np.exp(-kappa_int)


def _dense_1d(grid: Grid1D, v, D, kappa, upwind) -> np.ndarray:
    n = grid.n
    lo, di, up = np.empty(n), np.empty(n), np.empty(n)
    bands_1d(n, grid.h, float(v), float(D), float(kappa), grid.bc, upwind, lo, di, up)
    A = np.diag(di) + np.diag(up[:-1], 1) + np.diag(lo[1:], -1)
    if grid.bc == 0:
        A[0, n - 1] += lo[0]
        A[n - 1, 0] += up[n - 1]
    return A


def semidiscrete_exact(
    eq: DriftDiffusion1D | DriftDiffusion2D, c0: ArrayLike, t_end: float, t0: float = 0.0
) -> np.ndarray:
    """Exact depth-solution at ``t_end`` of the finite-volume system of ``eq`` (no depth error).

    The finite-volume operator is linear in the coefficients, ``A(t) = A[v(t), D(t), kappa(t)]``;
    when the ``A(t)`` commute (periodic grids, or zero drift) the solution is
    ``exp(A[int v, int D, int kappa]) c0``.  Periodic grids use the FFT of the
    circulant stencil; other 1-D grids a dense ``expm``.

    Parameters
    ----------
    eq : DriftDiffusion1D or DriftDiffusion2D
        The equation (2-D: periodic grid only).
    c0 : ndarray
        Field at ``t0``.
    t_end : float
        Final depth.
    t0 : float
        Initial depth.

    Returns
    -------
    ndarray, shape of ``c0``

    Raises
    ------
    ValueError
        If the operators need not commute (non-periodic grid with non-zero drift
        that varies with depth), or for upwind advection with a drift changing sign.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import DriftDiffusion1D, Grid1D
    >>> from deeplimits.capacity.kfe import semidiscrete_exact
    >>> g = Grid1D(0.0, 1.0, 16)
    >>> c = semidiscrete_exact(DriftDiffusion1D(g, v=0.2, D=0.1), np.ones(16), 1.0)
    >>> bool(np.allclose(c, 1.0))
    True
    """
    c0 = np.asarray(c0, dtype=float)
    if isinstance(eq, DriftDiffusion1D):
        vI, DI, kI = (float(integral(f, t0, t_end)) for f in (eq.v, eq.D, eq.kappa))
        if eq.advection == "upwind":
            vs = eq.coefficients(np.linspace(t0, t_end, 101))[:, 0]
            if vs.min() < 0 < vs.max():
                raise ValueError("upwind operator is not linear in v when v changes sign")
        g = eq.grid
        if g.bc == 0:
            lo, di, up = np.empty(g.n), np.empty(g.n), np.empty(g.n)
            bands_1d(g.n, g.h, vI, DI, kI, 0, eq.advection == "upwind", lo, di, up)
            delta = np.zeros(g.n)
            delta[0] = 1.0
            col = np.empty(g.n)
            tri_matvec(lo, di, up, True, delta, col)
            return np.fft.ifft(np.fft.fft(c0) * np.exp(np.fft.fft(col))).real
        if callable(eq.v) and vI != 0:
            raise ValueError("semidiscrete_exact on a non-periodic grid needs a constant drift")
        if callable(eq.v) or callable(eq.D) or callable(eq.kappa):
            vs = eq.coefficients(np.linspace(t0, t_end, 11))
            if np.any(vs[:, 0] != 0) and (callable(eq.D) or callable(eq.kappa)):
                raise ValueError("semidiscrete_exact on a non-periodic grid needs v = 0 or constant coefficients")
        return scipy.linalg.expm(_dense_1d(g, vI, DI, kI, eq.advection == "upwind")) @ c0
    if isinstance(eq, DriftDiffusion2D):
        g2: Any = eq.grid
        if (g2.gx.bc, g2.gy.bc) != (0, 0):
            raise ValueError("semidiscrete_exact in 2-D needs a periodic grid")
        v2 = integral(eq.v, t0, t_end, (2,))
        D2 = integral(eq.D, t0, t_end, np.shape(eq.D(t0)) if callable(eq.D) else np.shape(eq.D))
        Dt = diffusion_tensor(D2)
        k2 = float(integral(eq.kappa, t0, t_end))
        cf = np.array([v2[0], v2[1], Dt[0], Dt[1], Dt[2], k2])
        delta = np.zeros(g2.shape)
        delta[0, 0] = 1.0
        col = np.zeros(g2.shape)
        apply_full(delta, cf, g2.gx.h, g2.gy.h, 0, 0, eq.advection == "upwind", 1.0, col)
        return np.fft.ifft2(np.fft.fft2(c0) * np.exp(np.fft.fft2(col))).real
    raise TypeError(f"eq must be a DriftDiffusion1D or DriftDiffusion2D, got {type(eq).__name__}")


def master_exact_periodic(eq: MasterEquation, c0: ArrayLike, t_end: float, t0: float = 0.0) -> np.ndarray:
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

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import MasterEquation, lattice_1d, master_exact_periodic
    >>> eq = MasterEquation(lattice_1d(8), offsets=[-1, 1], weights=[0.5, 0.5], rate=1.0)
    >>> c = master_exact_periodic(eq, np.eye(8)[0], 1.0)
    >>> round(float(c.sum()), 12), round(float(c[0]), 6)
    (1.0, 0.46576)
    """
    if not eq.periodic:
        raise ValueError("master_exact_periodic needs periodic boundaries on every axis")
    c0 = check_field(c0, eq.grid)

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
    ch = np.fft.fft2(c0.reshape(eq.shape2)) * np.exp(g)
    return np.fft.ifft2(ch).real.reshape(eq.grid.shape)
