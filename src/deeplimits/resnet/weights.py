"""Random weight sequences indexed by the layer k = 0..L-1 of a depth-L ResNet.

Three families, all seeded through :mod:`deeplimits.rng` (network ``i`` of a
batch draws from stream ``i``, so a network's weights do not depend on how
many networks are drawn with it):

* :func:`iid_weights` -- i.i.d. Gaussian, fresh at every layer;
* :func:`rbf_gp_weights` -- every entry is a Gaussian process in ``t = k/L``
  with the RBF kernel ``exp(-(t - s)^2 / (2 l^2))`` (smooth in ``k/L``), sampled
  exactly on the grid; :class:`SmoothWeightFunction` is a continuous-time
  version (random Fourier features) used for the neural-ODE limit;
* :func:`fgn_weights` -- every entry is fractional Gaussian noise of Hurst
  index ``H`` in ``k`` (the increments of a fractional Brownian motion), drawn
  exactly by circulant embedding (Davies & Harte 1987) with the FFT.

All families are normalised so that every entry has variance ``scale**2``
(default ``scale = 1/sqrt(fan_in)``, ``fan_in = shape[-1]``): the families
differ only in their correlation across layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_float, check_int, check_seed
from ..rng import normal_array

__all__ = [
    "iid_weights",
    "rbf_gp_weights",
    "fgn_weights",
    "fgn_autocovariance",
    "SmoothWeightFunction",
    "check_shape",
]


def check_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    """Validate the shape of one layer's weight: a non-empty tuple of integers >= 1."""
    dims = np.atleast_1d(np.asarray(shape, dtype=object))
    if dims.ndim != 1 or dims.size == 0:
        raise ValueError(f"shape must be a non-empty tuple of integers >= 1, got {shape!r}")
    return tuple(check_int(v, "shape", minimum=1) for v in dims)


def _common(n_nets, depth, shape, seed, first_path, copies=1):
    # checks shared by the three families; ``copies`` normal draws per weight entry
    n_nets = check_int(n_nets, "n_nets", minimum=1)
    depth = check_int(depth, "depth", minimum=1)
    shape = check_shape(shape)
    check_seed(seed)
    first_path = check_int(first_path, "first_path", minimum=0)
    check_allocation((n_nets, depth * copies, *shape), "n_nets x depth x shape (the weights)")
    return n_nets, depth, shape, first_path


def _scale(shape, scale):
    if scale is None:
        return 1.0 / np.sqrt(shape[-1])
    return check_float(scale, "scale", minimum=0.0)


def _by_layer(x, n_nets, depth, dims, scale):
    # (n_nets, entries, depth) sequences -> scale * weights of shape (n_nets, depth, *dims)
    return _scale(dims, scale) * np.moveaxis(x, 2, 1).reshape((n_nets, depth) + dims)


def iid_weights(
    n_nets: int,
    depth: int,
    shape: int | Sequence[int],
    seed: int = 0,
    scale: float | None = None,
    first_path: int = 0,
) -> NDArray[np.float64]:
    """I.i.d. Gaussian weights, fresh at every layer.

    Parameters
    ----------
    n_nets, depth : int
        Number of networks and layers (>= 1).
    shape : tuple of int
        Shape of one layer's weight, e.g. ``(d, d)`` or ``(d,)``.
    seed : int
        Non-negative seed; network ``i`` uses stream ``first_path + i``.
    scale : float, optional
        Standard deviation of every entry; default ``1/sqrt(shape[-1])``.
    first_path : int
        Stream of the first network (to draw a batch in chunks).

    Returns
    -------
    numpy.ndarray, shape ``(n_nets, depth, *shape)``

    Examples
    --------
    >>> from deeplimits.resnet import iid_weights
    >>> iid_weights(2, 8, (3, 3), seed=0).shape
    (2, 8, 3, 3)
    >>> bool((iid_weights(3, 8, (3,), seed=0)[1:] == iid_weights(2, 8, (3,), seed=0, first_path=1)).all())
    True
    """
    n_nets, depth, dims, first_path = _common(n_nets, depth, shape, seed, first_path)
    return _scale(dims, scale) * normal_array(seed, (n_nets, depth) + dims, first_path)


@lru_cache(maxsize=16)
def _rbf_factor(depth, lengthscale):
    # Square root of the kernel matrix on t_k = k/L by a symmetric eigen-decomposition; tiny negative
    # eigenvalues (round-off of a numerically low-rank matrix) are clipped to 0, so K = F F^T to ~1e-15.
    t = np.arange(depth) / depth
    k = np.exp(-0.5 * ((t[:, None] - t[None, :]) / lengthscale) ** 2)
    lam, u = np.linalg.eigh(k)
    f = u * np.sqrt(np.clip(lam, 0.0, None))
    f.setflags(write=False)
    return f


def rbf_gp_weights(
    n_nets: int,
    depth: int,
    shape: int | Sequence[int],
    lengthscale: float = 0.2,
    seed: int = 0,
    scale: float | None = None,
    first_path: int = 0,
) -> NDArray[np.float64]:
    """Weights smooth in ``k/L``: every entry is an RBF Gaussian process sampled exactly on ``t_k = k/L``.

    ``Cov(A_k[ij], A_m[ij]) = scale^2 exp(-(k/L - m/L)^2 / (2 lengthscale^2))``; distinct entries are
    independent.

    Parameters
    ----------
    lengthscale : float
        Correlation length in units of the depth (> 0).
    n_nets, depth, shape, seed, first_path
        As in :func:`iid_weights`.
    scale : float, optional
        Marginal standard deviation; default ``1/sqrt(shape[-1])``.

    Returns
    -------
    numpy.ndarray, shape ``(n_nets, depth, *shape)``

    Examples
    --------
    >>> from deeplimits.resnet import rbf_gp_weights
    >>> rbf_gp_weights(2, 8, (3,), lengthscale=0.2, seed=0).shape
    (2, 8, 3)
    """
    n_nets, depth, dims, first_path = _common(n_nets, depth, shape, seed, first_path)
    lengthscale = check_float(lengthscale, "lengthscale", minimum=0.0, strict_min=True)
    m = int(np.prod(dims))
    z = normal_array(seed, (n_nets, m, depth), first_path)
    return _by_layer(z @ _rbf_factor(depth, lengthscale).T, n_nets, depth, dims, scale)


def fgn_autocovariance(hurst: float, n: int) -> NDArray[np.float64]:
    """Autocovariance of unit-variance fractional Gaussian noise.

    ``gamma(k) = (|k+1|^{2H} - 2|k|^{2H} + |k-1|^{2H}) / 2``, ``k = 0..n-1``.

    Parameters
    ----------
    hurst : float
        Hurst index in (0, 1).
    n : int
        Number of lags.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> fgn_autocovariance(0.5, 3)
    array([1., 0., 0.])
    """
    hurst = _check_hurst(hurst)
    n = check_int(n, "n", minimum=1)
    k = np.arange(n, dtype=np.float64)
    h2 = 2.0 * hurst
    return 0.5 * (np.abs(k + 1) ** h2 - 2.0 * k**h2 + np.abs(k - 1) ** h2)


def _check_hurst(hurst):
    return check_float(hurst, "hurst", minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)


@lru_cache(maxsize=16)
def _circulant_sqrt_eigs(hurst, depth):
    # Davies-Harte: embed the n x n Toeplitz covariance in a 2n x 2n circulant whose eigenvalues are the
    # FFT of its first row; for fGn they are non-negative for every H in (0, 1) (Craigmile 2003), so the
    # embedding is exact.
    g = fgn_autocovariance(hurst, depth + 1)
    row = np.concatenate([g, g[-2:0:-1]])  # length 2 * depth
    lam = np.fft.fft(row).real
    if lam.min() < -1e-9 * lam.max():
        raise RuntimeError(f"circulant embedding not non-negative for H={hurst}, L={depth}")
    out = np.sqrt(np.clip(lam, 0.0, None) / row.size)
    out.setflags(write=False)
    return out


def fgn_weights(
    n_nets: int,
    depth: int,
    shape: int | Sequence[int],
    hurst: float,
    seed: int = 0,
    scale: float | None = None,
    first_path: int = 0,
) -> NDArray[np.float64]:
    """Weights that are fractional Gaussian noise of Hurst index ``H`` in the layer index.

    Every entry is an independent stationary Gaussian sequence with autocovariance
    ``scale^2 gamma_H(k)`` (:func:`fgn_autocovariance`), i.e. ``scale * L^H`` times the increments
    ``B_H((k+1)/L) - B_H(k/L)`` of a fractional Brownian motion.  ``H = 1/2`` is i.i.d. noise;
    ``H -> 1`` approaches weights that are constant in ``k``.  Drawn exactly by circulant embedding.

    Parameters
    ----------
    hurst : float
        Hurst index in (0, 1).
    n_nets, depth, shape, seed, scale, first_path
        As in :func:`rbf_gp_weights`.

    Returns
    -------
    numpy.ndarray, shape ``(n_nets, depth, *shape)``

    Examples
    --------
    >>> from deeplimits.resnet import fgn_weights
    >>> fgn_weights(2, 8, (3,), hurst=0.7, seed=0).shape
    (2, 8, 3)
    """
    n_nets, depth, dims, first_path = _common(n_nets, depth, shape, seed, first_path, copies=4)
    hurst = _check_hurst(hurst)
    m = int(np.prod(dims))
    sq = _circulant_sqrt_eigs(hurst, depth)
    n2 = sq.size
    z = normal_array(seed, (n_nets, m, 2, n2), first_path)
    # The real part of FFT(sqrt(lam/2n) (Z1 + i Z2)) has exactly the circulant covariance.
    x = np.fft.fft(sq * (z[:, :, 0] + 1j * z[:, :, 1]), axis=-1).real[..., :depth]
    return _by_layer(x, n_nets, depth, dims, scale)


class SmoothWeightFunction:
    """A random smooth weight function ``t -> A(t)`` on ``[0, 1]`` (continuous time).

    Each entry is ``scale * M^{-1/2} sum_m (a_m cos(w_m t) + b_m sin(w_m t))`` with ``a, b ~ N(0, 1)``
    and frequencies ``w_m ~ N(0, 1/lengthscale^2)`` (random Fourier features): given the frequencies it
    is a stationary Gaussian process whose covariance tends to the RBF kernel as ``M`` grows.  It is an
    entire function of ``t``, so ``A_k = A(k/L)`` is a smooth-weight ResNet with an exact neural-ODE limit.

    Parameters
    ----------
    shape : tuple of int
        Shape of ``A(t)``.
    lengthscale : float
        Correlation length (> 0).
    n_features : int
        Number ``M`` of Fourier features.
    seed : int
        Non-negative seed.
    scale : float, optional
        Marginal standard deviation; default ``1/sqrt(shape[-1])``.

    Examples
    --------
    >>> from deeplimits.resnet import SmoothWeightFunction
    >>> A = SmoothWeightFunction((2, 2), seed=0)
    >>> A(0.5).shape, A.on_grid(4).shape
    ((2, 2), (4, 2, 2))
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        lengthscale: float = 0.3,
        n_features: int = 32,
        seed: int = 0,
        scale: float | None = None,
    ) -> None:
        self.shape = check_shape(shape)
        lengthscale = float(lengthscale)
        if not np.isfinite(lengthscale) or lengthscale <= 0:
            raise ValueError(f"lengthscale must be finite and > 0, got {lengthscale}")
        n_features = check_int(n_features, "n_features", minimum=1)
        m = int(np.prod(self.shape))
        z = normal_array(seed, (m, 3 * n_features))
        self.freq = z[:, :n_features] / lengthscale  # (m, M)
        c = _scale(self.shape, scale) / np.sqrt(n_features)
        self.a = c * z[:, n_features : 2 * n_features]
        self.b = c * z[:, 2 * n_features :]

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        """Values at times ``t``.

        Parameters
        ----------
        t : float or 1-D array

        Returns
        -------
        ndarray, shape ``shape`` (scalar ``t``) or ``(len(t), *shape)``
        """
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        v = np.empty((tt.size, self.freq.shape[0]))
        for i in range(0, tt.size, 2048):  # in blocks of times: the phases take (times, entries, features)
            ph = tt[i : i + 2048, None, None] * self.freq[None]
            v[i : i + 2048] = (self.a * np.cos(ph) + self.b * np.sin(ph)).sum(-1)
        v = v.reshape((tt.size,) + self.shape)
        return v[0] if np.ndim(t) == 0 else v

    def on_grid(self, depth: int) -> NDArray[np.float64]:
        """Layer weights ``A(k/L)``, ``k = 0..L-1``.

        Parameters
        ----------
        depth : int
            ``L >= 1``.

        Returns
        -------
        ndarray, shape ``(depth, *shape)``
        """
        depth = check_int(depth, "depth", minimum=1)
        return self(np.arange(depth) / depth)
