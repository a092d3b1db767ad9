"""Deep limits of the capacity chain: KFE coefficients of a layer, and the exact
periodic solution of the lattice master equation.

With ``alpha = a / sqrt(L)`` and depth fraction ``t = (L - l) / L`` (``t = 0`` at the
output, ``t = 1`` at the input), the chain of :mod:`deeplimits.capacity.chain` converges
on a fixed lattice to the continuous-depth jump process (master equation)::

    dc/dt (x) = lambda * sum_k q_k [c(x - o_k) - c(x)] - kappa c(x),
    lambda = a^2 d ||w||^2,   q_k = w_k^2 / ||w||^2,   kappa = a^2 b^2,

whose second-order (Kramers--Moyal) truncation is the drift--diffusion--sink PDE::

    dc/dt = -v . grad c + sum_ij D_ij d_i d_j c - kappa c,
    v = a^2 d sum_k o_k w_k^2,   D = (a^2 d / 2) sum_k o_k o_k^T w_k^2.

(Derived by us, ``docs/theory/capacity.md``; the papers state the Markov rule and the
existence of the Kolmogorov forward limit under ``L^-1/2`` scaling.)  The coefficients are
returned as plain floats and arrays so that the finite-difference solvers of
``deeplimits.capacity.kfe`` can consume them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import ConvLayer, _check_depth, _check_scalar

__all__ = ["KFECoefficients", "kfe_coefficients", "master_equation_periodic"]


@dataclass(frozen=True, eq=False)
class KFECoefficients:
    """Coefficients of the continuous-depth limit of one residual layer type.

    Attributes
    ----------
    rate : float
        Jump rate ``lambda = a^2 d ||w||^2`` (per unit depth fraction).
    offsets : ndarray of int64 (K, ndim)
        Jump vectors ``o_k`` (one per tap; a zero offset is a null jump).
    jump_probs : ndarray (K,)
        ``q_k = w_k^2 / ||w||^2`` (all zero if the taps are all zero).
    drift : ndarray (ndim,)
        ``v = a^2 d sum_k o_k w_k^2``.
    diffusion : ndarray (ndim, ndim)
        ``D = (a^2 d / 2) sum_k o_k o_k^T w_k^2`` (a scalar ``D[0, 0]`` in 1-D).
    sink : float
        ``kappa = a^2 b^2``.
    """

    rate: float
    offsets: np.ndarray
    jump_probs: np.ndarray
    drift: np.ndarray
    diffusion: np.ndarray
    sink: float

    def as_dict(self) -> dict:
        """Plain ``dict`` of floats and arrays (``lam, offsets, q, v, D, kappa``)."""
        return dict(lam=self.rate, offsets=self.offsets, q=self.jump_probs, v=self.drift,
                    D=self.diffusion, kappa=self.sink)


def kfe_coefficients(layer, depth=None, *, a=None) -> KFECoefficients:
    """Map a residual layer to the coefficients of its deep (``L^-1/2``) limit.

    Parameters
    ----------
    layer : ConvLayer
        A residual layer (``alpha`` not ``None``).  Its taps, dilation, causality, bias and
        decoupling coefficient are used.
    depth : int, optional
        Depth ``L`` of the stack the layer belongs to; then ``a = alpha * sqrt(L)``.
    a : float, optional
        The prefactor of ``alpha = a / sqrt(L)`` directly (instead of ``depth``).

    Returns
    -------
    KFECoefficients
    """
    if not isinstance(layer, ConvLayer):
        raise ValueError(f"layer must be a ConvLayer, got {type(layer).__name__}")
    if not layer.residual:
        raise ValueError("a plain layer has no continuous-depth limit on a fixed lattice "
                         "(its limit is the central-limit Gaussian, see catalogue)")
    if (depth is None) == (a is None):
        raise ValueError("give exactly one of depth and a")
    if a is None:
        depth = _check_depth(depth)
        if depth == 0:
            raise ValueError("depth must be positive")
        a = layer.alpha * np.sqrt(depth)
    else:
        a = _check_scalar(a, "a")
    w2 = layer.taps.ravel() ** 2
    a2d = a * a * layer.decoupling
    o = layer.offsets.astype(np.float64)
    norm = w2.sum()
    q = w2 / norm if norm > 0 else np.zeros_like(w2)
    return KFECoefficients(
        rate=float(a2d * norm),
        offsets=layer.offsets.copy(),
        jump_probs=q,
        drift=a2d * (w2 @ o),
        diffusion=0.5 * a2d * (o * w2[:, None]).T @ o,
        sink=float(a * a * layer.bias**2),
    )


def master_equation_periodic(coeffs, c0, t):
    """Exact solution of the lattice master equation on a periodic lattice (by FFT).

    ``c_hat(t, xi) = exp(t * (lambda (q_hat(xi) - 1) - kappa)) * c_hat(0, xi)``, with
    ``q_hat`` the discrete Fourier transform of the jump law placed on the lattice.

    Parameters
    ----------
    coeffs : KFECoefficients
        From :func:`kfe_coefficients`.
    c0 : array_like (N,) or (Nx, Ny)
        Initial capacity (at the output, ``t = 0``).
    t : float
        Depth fraction, ``>= 0``.

    Returns
    -------
    ndarray, shape of ``c0``
    """
    c0 = np.asarray(c0, dtype=np.float64)
    t = _check_scalar(t, "t")
    if c0.ndim != coeffs.offsets.shape[1]:
        raise ValueError(f"c0 must be {coeffs.offsets.shape[1]}-D, got shape {c0.shape}")
    if not np.all(np.isfinite(c0)):
        raise ValueError("c0 must be finite")
    q = np.zeros(c0.shape)
    idx = tuple(coeffs.offsets[:, ax] % c0.shape[ax] for ax in range(c0.ndim))
    np.add.at(q, idx, coeffs.jump_probs)
    qhat = np.fft.fftn(q)
    qsum = coeffs.jump_probs.sum()  # 1, or 0 for all-zero taps
    gen = coeffs.rate * (qhat - qsum) - coeffs.sink
    return np.real(np.fft.ifftn(np.exp(t * gen) * np.fft.fftn(c0)))
