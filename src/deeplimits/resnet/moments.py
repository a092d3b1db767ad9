"""Closed-form second and fourth moments of ``||h_L||`` for ResNets with i.i.d. Gaussian weights.

For a positively homogeneous activation (linear, ReLU) and the variants ``res1`` (linear only) and
``res3`` (any homogeneous activation), the squared norm is multiplied at every layer by an i.i.d. factor
independent of the past (see :mod:`deeplimits.resnet.exact` for the conditional laws):

``||h_{k+1}||^2 = ||h_k||^2 F_k,   F = 1 + 2 a s xi_1 / sqrt(d) + a^2 s^2 chi^2_d / d``

with ``a = alpha_L``, ``xi_1 ~ N(0, 1)`` the component of the noise along ``h_k``, ``chi^2_d = ||xi||^2`` and
``s^2 = ||sigma(z)||^2 / d``, ``z ~ N(0, I_d)`` independent of ``xi`` (``s = 1`` for ``res1``).  Hence
``E||h_L||^{2p} = ||h_0||^{2p} (E F^p)^L`` with, writing ``c_2 = E sigma(z_1)^2`` and ``c_4 = E sigma(z_1)^4``,

``E F   = 1 + a^2 E s^2``,
``E F^2 = 1 + 2 a^2 E s^2 + 4 a^2 E s^2 / d + a^4 E s^4 (1 + 2/d)``,
``E s^2 = c_2``,  ``E s^4 = c_2^2 + (c_4 - c_2^2) / d``.

Linear: ``c_2 = 1, c_4 = 3``; ReLU: ``c_2 = 1/2, c_4 = 3/2``.  For ``res1`` linear this is the theory
reference's ``(1 + a^2)^2 + (4 a^2 + 2 a^4)/d``.  The Cohen variant with linear activation and no bias has
the law of ``res1`` linear with ``a`` replaced by ``a L^-gamma``.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_float, check_int
from ._kernels import activation_code, variant_code
from .spec import check_beta

__all__ = ["norm_factor_moments", "norm_moments", "norm_moments_limit"]

_C = {"linear": (1.0, 3.0), "relu": (0.5, 1.5)}


def _s_moments(variant, activation, width):
    variant_code(variant)
    activation_code(activation)
    if variant in ("res1", "cohen"):
        if activation != "linear":
            raise ValueError(
                f"closed-form moments for variant {variant!r} need activation='linear', got {activation!r}"
            )
        return 1.0, 1.0
    if activation not in _C:
        raise ValueError(f"closed-form moments need a homogeneous activation ('linear' or 'relu'), got {activation!r}")
    c2, c4 = _C[activation]
    return c2, c2 * c2 + (c4 - c2 * c2) / width


def norm_factor_moments(variant: str, activation: str, width: int, alpha: float) -> tuple[float, float]:
    """``(E F, E F^2)`` of the one-layer factor ``F = ||h_{k+1}||^2 / ||h_k||^2`` (see module docstring).

    Parameters
    ----------
    variant : {"res1", "res3", "cohen"}
    activation : {"linear", "relu"}
        ``res1`` and ``cohen`` (no bias, ``gamma`` folded into ``alpha``) need ``"linear"``.
    width : int
        ``d >= 1``.
    alpha : float
        Branch scale.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> norm_factor_moments("res1", "linear", 4, 0.5)
    (1.25, 1.84375)
    """
    width = check_int(width, "width", minimum=1)
    es2, es4 = _s_moments(variant, activation, width)
    a2 = check_float(alpha, "alpha") ** 2
    ef = 1.0 + a2 * es2
    ef2 = 1.0 + 2.0 * a2 * es2 + 4.0 * a2 * es2 / width + a2 * a2 * es4 * (1.0 + 2.0 / width)
    return ef, ef2


def norm_moments(
    variant: str, activation: str, width: int, depth: int, beta: float, h0_norm: float = 1.0, gamma: float = 0.0
) -> tuple[float, float]:
    """Exact ``(E||h_L||^2, E||h_L||^4)`` for i.i.d. Gaussian weights and ``alpha_L = L^-beta``.

    Parameters
    ----------
    variant, activation, width
        See :func:`norm_factor_moments`.
    depth : int
        ``L >= 1``.
    beta : float
        ``>= 0``.
    h0_norm : float
        ``||h_0||``.
    gamma : float
        Cohen variant: weight exponent (``A_k`` times ``L^-gamma``).

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> from deeplimits.resnet import norm_moments
    >>> [round(v, 4) for v in norm_moments("res1", "linear", width=4, depth=64, beta=0.5)]
    [2.6973, 19.1863]
    """
    depth, beta, gamma = check_int(depth, "depth", minimum=1), check_beta(beta), check_beta(gamma, "gamma")
    alpha = float(depth) ** (-beta) * (float(depth) ** (-gamma) if variant == "cohen" else 1.0)
    ef, ef2 = norm_factor_moments(variant, activation, width, alpha)
    r0 = check_float(h0_norm, "h0_norm", minimum=0.0) ** 2
    return r0 * ef**depth, r0 * r0 * ef2**depth


def norm_moments_limit(variant: str, activation: str, width: int, h0_norm: float = 1.0) -> tuple[float, float]:
    """``L -> infinity`` limit of :func:`norm_moments` at ``beta = 1/2``.

    ``(e^{E s^2}, e^{2 E s^2 (1 + 2/d)})`` times ``||h_0||^{2p}``: the moments of the neural-SDE limit
    (``log R_1`` is Gaussian for ``res1``/``res3`` with a homogeneous activation, see
    :mod:`deeplimits.resnet.limits`).  The finite-depth values approach it with error ``O(1/L)``.

    Parameters
    ----------
    variant, activation, width
        See :func:`norm_factor_moments`.
    h0_norm : float
        ``||h_0||``.

    Returns
    -------
    (float, float)
        ``(E||H_1||^2, E||H_1||^4)``.

    Examples
    --------
    >>> from deeplimits.resnet import norm_moments_limit
    >>> [round(v, 4) for v in norm_moments_limit("res1", "linear", width=4)]
    [2.7183, 20.0855]
    """
    width = check_int(width, "width", minimum=1)
    es2, _ = _s_moments(variant, activation, width)
    r0 = check_float(h0_norm, "h0_norm", minimum=0.0) ** 2
    return float(r0 * np.exp(es2)), float(r0 * r0 * np.exp(2.0 * es2 * (1.0 + 2.0 / width)))
