"""Closed-form solutions of the continuum capacity KFE, for measuring the solvers' orders.

* :func:`gaussian_1d`, :func:`gaussian_2d`: Green's function of the drift--diffusion--sink
  PDE with depth-dependent coefficients (a Gaussian whose mean moves by ``int v``,
  whose covariance grows by ``2 int D`` and whose mass decays by ``exp(-int kappa)``),
  optionally summed over periodic images.
* :func:`fourier_mode_1d`, :func:`fourier_mode_2d`: ``1 + A cos(k.(x - int v)) exp(-k.(int D) k)``
  times ``exp(-int kappa)`` (periodic grids; with ``v = 0`` the cosine / sine modes
  also solve the reflecting / absorbing problems on ``[0, L]`` when ``k = pi m / L``).
* :func:`integral`: the depth integrals of (possibly callable) coefficients they take.

Exact solutions of the *discrete* systems are in :mod:`.discrete_exact`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.integrate
from numpy.typing import ArrayLike

__all__ = ["integral", "gaussian_1d", "gaussian_2d", "fourier_mode_1d", "fourier_mode_2d"]


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
    x: ArrayLike,
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
        Capacity density at the positions ``x``.

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
        Capacity density at the points ``(X, Y)``, normalised to the mass ``exp(-kappa_int)``.

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
    x: ArrayLike, k: float, amp: float, v_int: float, D_int: float, kappa_int: float = 0.0, kind: str = "cos"
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
        The solution at ``x``: a cosine mode on a constant background, or a pure sine mode.

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
        The solution on the mesh.

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
