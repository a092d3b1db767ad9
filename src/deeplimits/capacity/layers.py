"""Convolutional layers described as data, and the capacity transition rule they induce.

A layer is a frozen :class:`ConvLayer` holding its kernel taps, its residual weight
``alpha`` (``None`` for a plain layer), dilation, causality, bias weight, padding and
the activation's decoupling coefficient.  :meth:`ConvLayer.transition` turns it into
the one-step law of the capacity Markov chain (Donier 2019, arXiv 1902.08572; the
concrete formula is our reconstruction, see ``docs/theory/capacity.md``):

* residual layer:  ``p(o_k) = (delta_{o_k,0} + alpha^2 d w_k^2) / Z``,
  sink ``alpha^2 b^2 / Z``, ``Z = 1 + alpha^2 (d ||w||^2 + b^2)``;
* plain layer:     ``p(o_k) = d w_k^2 / Z``, sink ``b^2 / Z``, ``Z = d ||w||^2 + b^2``;

where ``o_k`` is the spatial offset of tap ``k`` (the output at ``x`` reads the input at
``x + o_k``), ``d = E[phi'(h)^2]`` the decoupling coefficient and ``b`` the bias weight.
Capacity travels from the output towards the input: a walker at ``x`` jumps to ``x + o_k``.

Orientation conventions
-----------------------
Centred kernels of size ``K`` have offsets ``dilation * (k - (K - 1) // 2)``; causal
kernels have offsets ``dilation * (k - (K - 1))`` (all <= 0: an output only reads the
present and the past).  A 2-D kernel has shape ``(Kx, Ky)`` and offsets per axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validate import check_depth, check_positive_ints, check_scalar
from .lattice import BOUNDARIES

__all__ = [
    "BOUNDARIES",
    "PADDINGS",
    "ConvLayer",
    "Transition",
    "ScalingLaw",
    "residual_stack",
    "plain_stack",
]

#: Padding names accepted by :class:`ConvLayer` and the boundary each one induces.
#: ``"zero"`` padding means taps that leave the grid read a constant zero: the
#: (unnormalised) squared gradient along such a path is lost, so the chain is
#: *absorbing*; the network's normalised capacity profile is the absorbing chain
#: conditioned on survival (derived in docs/theory/capacity.md, confirmed on conv nets).
PADDINGS = {
    "circular": "periodic",
    "periodic": "periodic",
    "zero": "absorbing",
    "absorbing": "absorbing",
    "reflecting": "reflecting",
}


@dataclass(frozen=True, eq=False)
class Transition:
    """One-step law of the capacity chain induced by one layer.

    Attributes
    ----------
    offsets : ndarray of int64, shape (K, ndim)
        Jump vectors (distinct).
    probs : ndarray of float64, shape (K,)
        Jump probabilities; ``probs.sum() + sink == 1``.
    sink : float
        Probability that the capacity is absorbed by the layer's bias.
    boundary : str
        One of :data:`BOUNDARIES`.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import ConvLayer
    >>> t = ConvLayer([1.0, 1.0], bias=1.0).transition()
    >>> t.offsets[:, 0].tolist(), np.round(t.probs, 6).tolist(), round(float(t.sink), 6)
    ([0, 1], [0.333333, 0.333333], 0.333333)
    """

    offsets: np.ndarray
    probs: np.ndarray
    sink: float
    boundary: str

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions of the jumps."""
        return self.offsets.shape[1]

    def moments(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Raw moments of one jump, the sink excluded (not renormalised by ``1 - sink``).

        Returns
        -------
        mu1 : ndarray (ndim,)
            ``sum_k p_k o_k``.
        mu2 : ndarray (ndim, ndim)
            ``sum_k p_k o_k o_k^T``.
        """
        o = self.offsets.astype(np.float64)
        mu1 = self.probs @ o
        mu2 = (o * self.probs[:, None]).T @ o
        return mu1, mu2


@dataclass(frozen=True, eq=False)
class ConvLayer:
    """A plain or residual convolutional layer, as far as capacity propagation is concerned.

    Parameters
    ----------
    taps : array_like, 1-D ``(K,)`` or 2-D ``(Kx, Ky)``
        Kernel tap scales ``w_k`` (the standard deviation of the random weights on tap ``k``,
        times ``sqrt(fan_in)``); only ``w_k^2`` matters.  Must be non-empty and finite.
    alpha : float or None
        Residual weight (``h + alpha * conv(phi(h))``), ``>= 0``; ``None`` for a plain layer
        (``conv(phi(h))``).
    dilation : int or tuple of int
        Dilation per axis (``>= 1``).
    causal : bool or tuple of bool
        Causal (offsets ``<= 0``) instead of centred, per axis.
    bias : float
        Bias weight ``b``; the bias is a capacity sink of weight ``alpha^2 b^2`` (residual)
        or ``b^2`` (plain).
    padding : {"circular", "zero", "reflecting", "absorbing", "periodic"}
        Padding of the convolution; see :data:`PADDINGS` for the boundary it induces.
    decoupling : float
        Decoupling coefficient ``d = E[phi'(h)^2] > 0`` of the activation preceding the
        convolution (1 for a linear layer, 1/2 for ReLU and for ``sin(omega u)/omega``).

    Notes
    -----
    Layers are immutable and compare (and hash) by identity; a stack that repeats one
    layer object is propagated faster (one transition, one FFT symbol power).

    Examples
    --------
    >>> from deeplimits.capacity import ConvLayer
    >>> lay = ConvLayer([1.0, 2.0, 1.0], alpha=0.5)
    >>> lay.offsets[:, 0].tolist(), lay.residual
    ([-1, 0, 1], True)
    """

    taps: np.ndarray
    alpha: float | None = None
    dilation: Any = 1
    causal: Any = False
    bias: float = 0.0
    padding: str = "circular"
    decoupling: float = 1.0
    _offsets: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        taps = np.asarray(self.taps, dtype=np.float64)
        if taps.ndim not in (1, 2):
            raise ValueError(f"taps must be a 1-D or 2-D array, got shape {taps.shape}")
        if taps.size == 0:
            raise ValueError("taps must be non-empty")
        if not np.all(np.isfinite(taps)):
            raise ValueError("taps must be finite (got NaN or inf)")
        taps = taps.copy()
        taps.setflags(write=False)
        object.__setattr__(self, "taps", taps)
        ndim = taps.ndim
        object.__setattr__(self, "dilation", check_positive_ints(self.dilation, ndim, "dilation"))
        causal = tuple(bool(c) for c in np.broadcast_to(np.asarray(self.causal, dtype=bool), (ndim,)))
        object.__setattr__(self, "causal", causal)
        if self.alpha is not None:
            object.__setattr__(self, "alpha", check_scalar(self.alpha, "alpha"))
        object.__setattr__(self, "bias", check_scalar(self.bias, "bias", allow_negative=True))
        d = check_scalar(self.decoupling, "decoupling", allow_zero=False)
        object.__setattr__(self, "decoupling", d)
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {sorted(PADDINGS)}, got {self.padding!r}")
        if self.alpha is None and not np.any(taps) and self.bias == 0.0:
            raise ValueError("a plain layer needs non-zero taps or a non-zero bias (taps are all zero)")
        # offsets of every tap, in C order of taps
        axes = []
        for ax in range(ndim):
            K = taps.shape[ax]
            k = np.arange(K)
            o = (k - (K - 1)) if causal[ax] else (k - (K - 1) // 2)
            axes.append(o * self.dilation[ax])
        grids = np.meshgrid(*axes, indexing="ij")
        offsets = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
        offsets.setflags(write=False)
        object.__setattr__(self, "_offsets", offsets)

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 or 2)."""
        return self.taps.ndim

    @property
    def residual(self) -> bool:
        """True for a residual layer."""
        return self.alpha is not None

    @property
    def offsets(self) -> np.ndarray:
        """Offsets of the taps, shape ``(taps.size, ndim)``, in C order of ``taps``."""
        return self._offsets

    @property
    def boundary(self) -> str:
        """Boundary condition of the capacity chain induced by the padding."""
        return PADDINGS[self.padding]

    @property
    def span(self) -> tuple:
        """Extent ``max(o) - min(o) + 1`` of the kernel's footprint along each axis."""
        return tuple(int(s) for s in (self._offsets.max(axis=0) - self._offsets.min(axis=0) + 1))

    def weights(self) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
        """Unnormalised transition weights.

        Returns
        -------
        offsets : ndarray (K, ndim)
        weights : ndarray (K,)
            ``delta_{o,0} + alpha^2 d w^2`` (residual) or ``d w^2`` (plain), not merged.
        sink : float
            ``alpha^2 b^2`` (residual) or ``b^2`` (plain).
        """
        w2 = self.decoupling * self.taps.ravel() ** 2
        if self.residual:
            a2 = (self.alpha or 0.0) ** 2  # residual: alpha is a float
            wts = a2 * w2
            offsets = np.vstack([np.zeros((1, self.ndim), np.int64), self._offsets])
            wts = np.concatenate([[1.0], wts])
            return offsets, wts, a2 * self.bias**2
        return self._offsets.copy(), w2, self.bias**2

    def transition(self) -> Transition:
        """The normalised one-step law of the capacity chain induced by this layer.

        Returns
        -------
        Transition
            Distinct offsets (the identity merged into a zero-offset tap), their probabilities
            (zero-probability jumps dropped) and the sink probability; they sum to one.
        """
        offsets, wts, sink = self.weights()
        z = wts.sum() + sink
        probs = wts / z
        if self.residual:
            # Tap offsets are distinct by construction; only the identity (row 0) can coincide
            # with a tap at offset 0: merge it into that tap.
            zero = np.flatnonzero(~offsets[1:].any(axis=1))
            if zero.size:
                probs[1 + zero[0]] += probs[0]
                offsets, probs = offsets[1:], probs[1:]
        keep = probs > 0
        return Transition(offsets[keep].astype(np.int64), probs[keep], float(sink / z), self.boundary)


@dataclass(frozen=True)
class ScalingLaw:
    """Residual weight as a function of depth, ``alpha(L) = a * L**(-beta)``.

    Parameters
    ----------
    a : float
        Prefactor, ``>= 0``.
    beta : float
        Exponent (``beta = 1/2``: the non-degenerate deep limit).

    Examples
    --------
    >>> from deeplimits.capacity import ScalingLaw
    >>> ScalingLaw(a=2.0, beta=0.5)(16)
    0.5
    """

    a: float
    beta: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "a", check_scalar(self.a, "a"))
        object.__setattr__(self, "beta", check_scalar(self.beta, "beta", allow_negative=True))

    def __call__(self, depth: int) -> float:
        """Residual weight of a stack of ``depth`` layers.

        Parameters
        ----------
        depth : int
            Number of layers ``L >= 1``.

        Returns
        -------
        float
            ``a * L**(-beta)``.
        """
        depth = check_depth(depth)
        if depth == 0:
            raise ValueError("depth must be positive to evaluate a scaling law")
        return self.a * depth ** (-self.beta)


def residual_stack(taps: Any, depth: int, a: float, beta: float = 0.5, **layer_kwargs: Any) -> tuple[ConvLayer, ...]:
    """``depth`` identical residual layers with ``alpha = a * depth**(-beta)``.

    Parameters
    ----------
    taps : array_like
        Kernel taps (see :class:`ConvLayer`).
    depth : int
        Number of layers ``L >= 0``.
    a, beta : float
        Scaling law ``alpha = a L^-beta`` (``a >= 0``).
    **layer_kwargs
        Further :class:`ConvLayer` arguments (dilation, causal, bias, padding, decoupling).

    Returns
    -------
    tuple of ConvLayer
        Ordered from the input (index 0) to the output.

    Examples
    --------
    >>> from deeplimits.capacity import residual_stack
    >>> stack = residual_stack([1.0, 2.0, 1.0], 16, a=2.0)
    >>> len(stack), stack[0].alpha
    (16, 0.5)
    """
    depth = check_depth(depth)
    if depth == 0:
        ConvLayer(taps, alpha=0.0, **layer_kwargs)  # still validate the arguments
        return ()
    alpha = ScalingLaw(a, beta)(depth)
    layer = ConvLayer(taps, alpha=alpha, **layer_kwargs)
    return (layer,) * depth


def plain_stack(taps: Any, depth: int, **layer_kwargs: Any) -> tuple[ConvLayer, ...]:
    """``depth`` identical plain conv layers.

    Parameters
    ----------
    taps : array_like
        Kernel taps (see :class:`ConvLayer`); non-zero, or a non-zero ``bias``.
    depth : int
        Number of layers ``L >= 0``.
    **layer_kwargs
        Further :class:`ConvLayer` arguments (dilation, causal, bias, padding, decoupling).

    Returns
    -------
    tuple of ConvLayer
        ``depth`` references to one layer object, from the input to the output.

    Examples
    --------
    >>> from deeplimits.capacity import plain_stack
    >>> stack = plain_stack([1.0, 1.0], 3)
    >>> len(stack), stack[0] is stack[2], stack[0].residual
    (3, True, False)
    """
    depth = check_depth(depth)
    layer = ConvLayer(taps, alpha=None, **layer_kwargs)
    return (layer,) * depth
