"""Finite random convolutional ResNets with an exact backward pass.

The network (1-D or 2-D, ``C`` channels, ``L`` residual layers)::

    h_{l+1} = h_l + alpha * conv(W_l, phi(h_l)),     h_0 = x,   y = h_L[0, centre],
    conv(W, u)[c, x] = sum_{c', k} W[k, c, c'] u[c', x + o_k],
    W_l[k, c, c'] = w_k G / sqrt(C),  G iid N(0, 1),

with circular (periodic) or zero padding.  The empirical capacity allocated to input
position ``j`` is the normalised mean squared input gradient of the output unit::

    cap(j) = sum_c E_x[(dy/dx[c, j])^2] / sum_{c, j'} E_x[(dy/dx[c, j'])^2],

computed by an exact, hand-written backward pass vectorised over inputs.  In the totally
decoupled limit it follows the capacity chain with residual weight ``alpha`` and decoupling
coefficient ``d = E[phi'(h)^2]`` (see :mod:`deeplimits.capacity.layers`).  The estimator over
random inputs is :func:`deeplimits.capacity.profile.capacity_profile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_int, check_seed
from ..rng import normal_array
from ._validate import check_depth
from .activations import activation
from .lattice import check_span
from .layers import ConvLayer

__all__ = ["ConvResNet"]


def _shift(u, off, periodic):
    """``s(u)[..., x] = u[..., x + off]`` over the trailing spatial axes (zero fill if not periodic)."""
    nd = len(off)
    axes = tuple(range(u.ndim - nd, u.ndim))
    if periodic:
        return np.roll(u, tuple(-int(o) for o in off), axis=axes)
    out = np.zeros_like(u)
    src = [slice(None)] * (u.ndim - nd)
    dst = [slice(None)] * (u.ndim - nd)
    for n, o in zip(u.shape[u.ndim - nd :], off, strict=True):
        o = int(o)
        if abs(o) >= n:
            return out
        src.append(slice(max(o, 0), n + min(o, 0)))
        dst.append(slice(max(-o, 0), n - max(o, 0)))
    out[tuple(dst)] = u[tuple(src)]
    return out


@dataclass(eq=False)
class ConvResNet:
    """A random conv ResNet with shared-structure kernels (see module docstring).

    Parameters
    ----------
    taps : array_like (K,) or (Kx, Ky)
        Tap scales ``w_k``.
    depth : int
        Number of residual layers ``L >= 1``.
    channels : int
        Number of channels ``C >= 1``.
    alpha : float
        Residual weight (``>= 0``).
    grid : int or tuple of int
        Spatial size(s); at least the kernel span along each axis.
    activation : str
        See :func:`activation`.
    omega : float
        Frequency of the ``"sin"`` activation.
    padding : {"circular", "zero"}
    dilation, causal
        As in :class:`~deeplimits.capacity.layers.ConvLayer`.
    seed : int
        Seed of the weights (stream ``l * K + k`` holds layer ``l``, tap ``k``).
    dtype : {"float64", "float32"}
        Floating type of the forward and backward passes (float32 halves the cost; the
        capacity profiles agree to ~1e-6).

    Examples
    --------
    >>> from deeplimits.capacity import ConvResNet
    >>> net = ConvResNet([1.0, 1.0, 1.0], depth=3, channels=2, alpha=0.5, grid=9, seed=0)
    >>> net.weights.shape, net.output_site
    ((3, 3, 2, 2), (4,))
    """

    taps: np.ndarray
    depth: int
    channels: int
    alpha: float
    grid: tuple
    activation: str = "sin"
    omega: float = 6.0
    padding: str = "circular"
    dilation: Any = 1
    causal: Any = False
    seed: int = 0
    dtype: str = "float64"
    weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.depth = check_depth(self.depth)
        if self.depth < 1:
            raise ValueError("depth must be >= 1")
        self.channels = check_int(self.channels, "channels", minimum=1)
        self.seed = check_seed(self.seed)
        if self.padding not in ("circular", "zero"):
            raise ValueError(f"padding must be 'circular' or 'zero', got {self.padding!r}")
        # The layer object validates taps, alpha, dilation and causality.
        self._layer = ConvLayer(
            self.taps, alpha=self.alpha, dilation=self.dilation, causal=self.causal, padding=self.padding
        )
        self.taps = self._layer.taps
        self.alpha = self._layer.alpha
        nd = self._layer.ndim
        grid = tuple(int(n) for n in np.broadcast_to(np.asarray(self.grid), (nd,)))
        check_span(self._layer.offsets, grid)
        self.grid = grid
        self._phi, self._dphi = activation(self.activation, self.omega)
        K, C, L = self.taps.size, self.channels, self.depth
        check_allocation((L * K, C * C), "the network weights")
        g = normal_array(self.seed, (L * K, C * C)).reshape(L, K, C, C)
        if np.dtype(self.dtype) not in (np.float64, np.float32):
            raise ValueError(f"dtype must be float64 or float32, got {self.dtype!r}")
        self.dtype = np.dtype(self.dtype)
        self.weights = (g * (self.taps.ravel()[None, :, None, None] / np.sqrt(C))).astype(self.dtype)

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Tap offsets, shape (K, ndim)."""
        return self._layer.offsets

    @property
    def output_site(self) -> tuple[int, ...]:
        """Spatial index of the output unit (the centre of the grid)."""
        return tuple(n // 2 for n in self.grid)

    def chain_layers(self, decoupling: ArrayLike) -> tuple[ConvLayer, ...]:
        """The capacity-chain stack matching this network.

        Parameters
        ----------
        decoupling : float or array_like (depth,)
            Decoupling coefficient ``E[phi'(h_l)^2]`` per layer (or one for all).

        Returns
        -------
        tuple of ConvLayer
        """
        d = np.broadcast_to(np.asarray(decoupling, dtype=np.float64), (self.depth,))
        return tuple(
            ConvLayer(
                self.taps,
                alpha=self.alpha,
                dilation=self.dilation,
                causal=self.causal,
                padding=self.padding,
                decoupling=float(dl),
            )
            for dl in d
        )

    def _conv(self, l, u, periodic):
        C = self.channels
        out = np.zeros_like(u)
        flat = out.reshape(C, -1)
        for k, off in enumerate(self.offsets):
            flat += self.weights[l, k] @ _shift(u, off, periodic).reshape(C, -1)
        return out

    def _conv_adjoint(self, l, g, periodic):
        C = self.channels
        out = np.zeros_like(g)
        for k, off in enumerate(self.offsets):
            t = (self.weights[l, k].T @ g.reshape(C, -1)).reshape(g.shape)
            out += _shift(t, -off, periodic)
        return out

    def forward(self, x: ArrayLike, *, keep: bool = False) -> Any:
        """Run the network.

        Parameters
        ----------
        x : ndarray (C, B, *grid)
            Inputs, channels first, batch second.
        keep : bool
            Also return ``phi'(h_l)`` for every layer (needed by the backward pass).

        Returns
        -------
        h : ndarray (C, B, *grid)
            Last hidden state ``h_L``.
        dphis : list of ndarray, only if ``keep``
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.shape[0] != self.channels or x.shape[2:] != self.grid:
            raise ValueError(f"x must have shape (C={self.channels}, B, *{self.grid}), got {x.shape}")
        periodic = self.padding == "circular"
        h = x
        dphis = []
        for l in range(self.depth):
            if keep:
                dphis.append(self._dphi(h).astype(self.dtype, copy=False))
            h = h + self.alpha * self._conv(l, self._phi(h), periodic)
        return (h, dphis) if keep else h

    def output(self, x: ArrayLike) -> NDArray[np.float64]:
        """The output unit of the network for a batch of inputs.

        Parameters
        ----------
        x : ndarray (C, B, *grid)

        Returns
        -------
        ndarray (B,)
            ``y = h_L[0, :, centre]``.
        """
        h = self.forward(x)
        return h[(0, slice(None)) + self.output_site]

    def input_gradient(self, x: ArrayLike, *, layer_sq: NDArray[np.float64] | None = None) -> Any:
        """Exact gradient ``dy/dx`` of the output unit for every input in the batch.

        Parameters
        ----------
        x : ndarray (C, B, *grid)
        layer_sq : ndarray (depth + 1, *grid), optional
            If given, ``sum_{c, b} (dy/dh_l[c, b, .])^2`` is added to ``layer_sq[l]`` for every
            layer ``l`` (``l = 0`` is the input, ``l = depth`` the output).

        Returns
        -------
        grad : ndarray (C, B, *grid)
        dphi2 : ndarray (depth,)
            Mean of ``phi'(h_l)^2`` over units and inputs, per layer (the measured
            decoupling coefficient).
        """
        periodic = self.padding == "circular"
        _, dphis = self.forward(x, keep=True)
        g = np.zeros_like(dphis[0]) if dphis else np.zeros_like(x)
        g[(0, slice(None)) + self.output_site] = 1.0
        dphi2 = np.array([np.mean(d * d, dtype=np.float64) for d in dphis])
        if layer_sq is not None:
            layer_sq[self.depth] += np.sum(g * g, axis=(0, 1), dtype=np.float64)
        for l in range(self.depth - 1, -1, -1):
            g = g + self.alpha * dphis[l] * self._conv_adjoint(l, g, periodic)
            if layer_sq is not None:
                layer_sq[l] += np.sum(g * g, axis=(0, 1), dtype=np.float64)
        return g, dphi2
