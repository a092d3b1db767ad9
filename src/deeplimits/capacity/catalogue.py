"""Catalogue of architectures: their depth-scaling relation and capacity-limit coefficients.

Each :class:`ArchitectureEntry` states the scaling relation that gives a non-degenerate
limit, the limit object, a function computing its coefficients (plain floats / arrays),
and -- separately -- what the papers state and what we derived.  Sources:
[P1] Donier, *Capacity allocation analysis of neural networks*, arXiv 1902.04485;
[P2] Donier, *Capacity allocation through neural network layers*, arXiv 1902.08572;
[P3] Donier, *Scaling up deep neural networks: a capacity allocation perspective*,
arXiv 1903.04455.  Only the abstracts and the introduction of [P3] were readable
offline; every formula below is ours ("derived") unless marked otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_scalar
from .layers import ConvLayer
from .limits import kfe_coefficients

__all__ = ["ArchitectureEntry", "catalogue", "plain_conv_limit", "recurrent_lag_allocation"]


@dataclass(frozen=True)
class ArchitectureEntry:
    """One architecture of the catalogue.

    Attributes
    ----------
    name : str
    scaling : str
        The scaling relation between weights and depth (or memory length).
    limit : str
        The limit object (equation and coefficients).
    coefficients : callable
        ``coefficients(**params) -> dict`` of floats/arrays for concrete parameters.
    paper : str
        What the papers state (with the source).
    derived : str
        What we derived (hypotheses until confirmed, see ``confirmed``).
    confirmed : str
        Which experiment/test confirms the derived part.

    Examples
    --------
    >>> from deeplimits.capacity import catalogue
    >>> entry = catalogue()[sorted(catalogue())[0]]
    >>> type(entry).__name__
    'ArchitectureEntry'
    """

    name: str
    scaling: str
    limit: str
    coefficients: Callable[..., dict]
    paper: str
    derived: str
    confirmed: str


def plain_conv_limit(taps: Any, depth: int, *, dilation: Any = 1, causal: Any = False) -> dict[str, Any]:
    """Central-limit description of ``depth`` plain conv layers.

    The capacity performs ``L`` iid jumps with law ``q_k = w_k^2/||w||^2`` (independent of
    the overall weight scale, so fan-in/Xavier scaling only fixes the forward variance):
    mean ``L m1``, covariance ``L (m2 - m1 m1^T)`` with ``m_j`` the moments of ``q``;
    effective receptive field ``~ sqrt(L)``.

    Parameters
    ----------
    taps : array_like
    depth : int
    dilation, causal
        As in :class:`ConvLayer`.

    Returns
    -------
    dict
        ``mean`` (ndim,), ``cov`` (ndim, ndim), ``erf`` (= sqrt(trace cov)).
    """
    lay = ConvLayer(taps, alpha=None, dilation=dilation, causal=causal)
    depth = int(depth)
    if depth < 0:
        raise ValueError(f"depth must be non-negative, got {depth}")
    t = lay.transition()
    mu1, mu2 = t.moments()
    cov = depth * (mu2 - np.outer(mu1, mu1))
    return dict(mean=depth * mu1, cov=cov, erf=float(np.sqrt(np.trace(cov))))


def recurrent_lag_allocation(
    alpha: float, u_norm2: float, w_norm2: float = 0.0, decoupling: float = 1.0, n_lags: int = 100
) -> dict[str, Any]:
    """Capacity allocated to the input at lag ``tau`` by a residual recurrent unit.

    ``h_t = h_{t-1} + alpha * sigma(W h_{t-1} + U x_t)`` unrolled in time is a residual
    stack whose layer ``t`` has a sink (the input ``x_t``) of weight ``alpha^2 d ||U||^2``
    and a recurrent path of weight ``1 + alpha^2 d ||W||^2``.  The lag is geometric:
    ``P(tau) = (1 - s)^tau s``, ``s = alpha^2 d ||U||^2 / (1 + alpha^2 d (||W||^2 + ||U||^2))``;
    memory length ``(1 - s)/s ~ 1/(alpha^2 d ||U||^2)``, hence ``alpha ~ T^-1/2`` for a
    memory ``T`` (scaling stated in [P3]; formula derived).

    Parameters
    ----------
    alpha : float
    u_norm2, w_norm2 : float
        ``||U||^2`` and ``||W||^2`` (fan-in normalised squared norms), ``>= 0``.
    decoupling : float
    n_lags : int

    Returns
    -------
    dict
        ``lag_probs`` (n_lags,), ``absorb_prob`` s, ``memory_length`` (1 - s)/s.
    """
    alpha = check_scalar(alpha, "alpha")
    u2 = check_scalar(u_norm2, "u_norm2")
    w2 = check_scalar(w_norm2, "w_norm2")
    d = check_scalar(decoupling, "decoupling", allow_zero=False)
    if u2 * alpha == 0:
        raise ValueError("alpha and u_norm2 must be positive for a finite memory")
    s = alpha**2 * d * u2 / (1.0 + alpha**2 * d * (w2 + u2))
    tau = np.arange(int(n_lags))
    return dict(lag_probs=(1 - s) ** tau * s, absorb_prob=float(s), memory_length=float((1 - s) / s))


def _residual_coeffs(taps, a=1.0, bias=0.0, dilation=1, causal=False, decoupling=1.0):
    lay = ConvLayer(taps, alpha=0.0, dilation=dilation, causal=causal, bias=bias, decoupling=decoupling)
    return kfe_coefficients(lay, a=a).as_dict()


def _residual_beta(taps, a=1.0, beta=0.5, depth=64, decoupling=1.0):
    lay = ConvLayer(taps, alpha=a * depth ** (-beta), decoupling=decoupling)
    t = lay.transition()
    mu1, mu2 = t.moments()
    var = depth * np.trace(mu2 - np.outer(mu1, mu1))
    return dict(exponent=1.0 - 2.0 * beta, variance=float(var))


def catalogue() -> dict:
    """The architecture catalogue, by name.

    Returns
    -------
    dict of str -> ArchitectureEntry
        Entries: ``plain_conv``, ``residual``, ``residual_beta``, ``residual_bias``,
        ``dilated``, ``causal``, ``conv2d``, ``recurrent``.

    Examples
    --------
    >>> from deeplimits.capacity import catalogue
    >>> sorted(catalogue())[:2]
    ['causal', 'conv2d']
    """
    entries = [
        ArchitectureEntry(
            "plain_conv",
            "fan-in (Xavier-type) weight variance 1/(C K); the capacity law does not depend on the scale",
            "random walk with L iid jumps q_k = w_k^2/||w||^2: Gaussian after x -> x/sqrt(L), "
            "variance per layer m2 - m1^2; effective receptive field ~ sqrt(L)",
            plain_conv_limit,
            "[P3 abstract] Xavier conditions recovered in the multi-channel case; [P2 abstract] size of "
            "the effective receptive field recovered",
            "jump law, mean L m1 and covariance L (m2 - m1 m1^T)",
            "tests/test_cap_chain.py (exact moments of the chain)",
        ),
        ArchitectureEntry(
            "residual",
            "alpha = a L^-1/2",
            "master equation dc/dt = lambda sum_k q_k [c(x - o_k) - c(x)], lambda = a^2 d ||w||^2; "
            "Kramers-Moyal: dc/dt = -v c' + D c'', v = a^2 d sum o w^2, D = a^2 d sum o^2 w^2 / 2",
            _residual_coeffs,
            "[P2 abstract, P3 intro] discrete Markov rule in the totally decoupled limit; continuous "
            "Kolmogorov forward equation in the deep limit iff residual weights scale as L^-1/2",
            "transition p_k = (delta_k0 + alpha^2 d w_k^2)/(1 + alpha^2 d ||w||^2); lambda, q_k, v, D; "
            "O(1/L) convergence",
            "cap.chain_to_kfe (slope of error vs L), cap.finite_network (conv ResNets vs chain)",
        ),
        ArchitectureEntry(
            "residual_beta",
            "alpha = a L^-beta",
            "Var ~ a^2 d m2 L^(1 - 2 beta): beta < 1/2 shattering, 1/2 diffusive, > 1/2 frozen",
            _residual_beta,
            "[P3 intro] larger weights shatter, smaller ones give no spatial propagation",
            "the exponent 1 - 2 beta",
            "cap.scaling_regimes",
        ),
        ArchitectureEntry(
            "residual_bias",
            "alpha = a L^-1/2, bias weight b inside the residual branch (effective bias a b L^-1/2)",
            "sink term -kappa c, kappa = a^2 b^2; capacity left on the inputs exp(-kappa)",
            _residual_coeffs,
            "[P3 abstract] weights and biases should be scaled as the inverse square root of L",
            "the bias as a sink of weight alpha^2 b^2 per layer; kappa = a^2 b^2",
            "tests/test_cap_limits.py (sink mass of the exact chain vs 1 - exp(-kappa)); not observable "
            "from input gradients alone (it is part of the capacity accounting)",
        ),
        ArchitectureEntry(
            "dilated",
            "alpha = a L^-1/2, dilation delta",
            "same master equation with offsets delta * o_k; D multiplied by delta^2",
            _residual_coeffs,
            "-",
            "offsets and D ~ delta^2",
            "tests/test_cap_limits.py",
        ),
        ArchitectureEntry(
            "causal",
            "alpha = a L^-1/2, causal kernel (offsets <= 0)",
            "drift v = a^2 d sum o_k w_k^2 < 0 towards the past, plus diffusion",
            _residual_coeffs,
            "-",
            "drift from the first moment of the causal kernel",
            "tests/test_cap_limits.py, cap.walkers (causal dilated stack)",
        ),
        ArchitectureEntry(
            "conv2d",
            "alpha = a L^-1/2, 2-D kernel",
            "2-D master equation; diffusion tensor D_ij = (a^2 d / 2) sum_k o_ki o_kj w_k^2",
            _residual_coeffs,
            "-",
            "the diffusion tensor",
            "tests/test_cap_limits.py, cap.finite_network (2-D ResNet)",
        ),
        ArchitectureEntry(
            "recurrent",
            "alpha ~ T^-1/2 for a memory length T",
            "lag allocation geometric -> kappa e^{-kappa t}, memory length ~ 1/(alpha^2 d ||U||^2)",
            recurrent_lag_allocation,
            "[P3 abstract] weights scaled as the inverse square root of the desired memory length",
            "the geometric lag law and the memory length",
            "tests/test_cap_limits.py (walkers' death layers on the unrolled stack)",
        ),
    ]
    return {e.name: e for e in entries}
