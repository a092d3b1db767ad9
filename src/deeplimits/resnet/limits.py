"""Deep limits of random ResNets with i.i.d. weights: neural SDEs and Cohen et al.'s diffusive SDE.

The finite networks are in :mod:`deeplimits.resnet.finite`; each limit here is the equation that network
approximates as ``L -> infinity`` with ``t = k/L`` (derivations in ``docs/theory/resnet.md``).

I.i.d. weights (entries ``N(0, 1/d)``), ``alpha_L = L^-1/2``: the increments are martingale differences
with the conditional covariances of :mod:`deeplimits.resnet.exact`, so (Itô, no drift)

* ``res1``:  ``dH = ||sigma(H)|| / sqrt(d) dB``;
* ``res3``:  ``dH = sqrt(kappa(||H||^2/d)) dB``,  ``kappa(q) = E sigma(sqrt(q) Z)^2``;
* ``cohen`` (odd ``sigma``, bias std ``s_b``): ``dH = sqrt(kappa(||H||^2/d + s_b^2)) dB``.

For the Cohen branch with ``m(q) = E sigma(sqrt(q) Z) != 0`` (ReLU: ``sqrt(q / 2 pi)``) the sum of the
conditional means is ``sqrt(L) m``: a drift that grows like ``sqrt(L)`` and no limit (:func:`cohen_mean_drift`).

Cohen et al.'s diffusive regime (Hypothesis 2): ``h_{k+1} = h_k + sigma(A_k h_k + b_k)`` with ``A_k``, ``b_k``
increments of Brownian motions (entries ``N(0, s_A^2 / (d L))`` and ``N(0, s_b^2 / L)``):
``dH = sigma'(0) (dW^A H + dW^b) + sigma''(0)/2 (s_A^2 ||H||^2 / d + s_b^2) 1 dt`` (:func:`diffusive_sde`).

The limits of smooth-weight ResNets (neural and alternative ODEs) are in :mod:`deeplimits.resnet.odes`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_array, check_bool, check_float, check_int
from ._kernels import act, act_array, activation_code, norm2, variant_code

if TYPE_CHECKING:
    from ..sde import SDE

__all__ = [
    "neural_sde",
    "norm_sde_law",
    "diffusive_sde",
    "cohen_mean_drift",
    "gaussian_moment",
    "activation_derivatives",
]

_N_GH = 48
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(_N_GH)
_GH_W = _GH_W / np.sqrt(2.0 * np.pi)  # weights of E f(Z), Z ~ N(0, 1)

#: (sigma'(0), sigma''(0)); ReLU has no derivative at 0 (its diffusive limit does not exist).
_DERIVS = {"linear": (1.0, 0.0), "tanh": (1.0, 0.0), "swish": (0.5, 0.5)}


def activation_derivatives(activation: str) -> tuple[float, float]:
    """First and second derivatives of the activation at 0.

    Parameters
    ----------
    activation : {"linear", "tanh", "swish"}

    Returns
    -------
    (float, float)
        ``(sigma'(0), sigma''(0))``: linear ``(1, 0)``, tanh ``(1, 0)``, swish ``(1/2, 1/2)``.

    Raises
    ------
    ValueError
        For ReLU (not differentiable at 0) or an unknown name.

    Examples
    --------
    >>> activation_derivatives("swish")
    (0.5, 0.5)
    """
    activation_code(activation)
    if activation not in _DERIVS:
        raise ValueError(f"activation {activation!r} is not twice differentiable at 0; use one of {sorted(_DERIVS)}")
    return _DERIVS[activation]


def gaussian_moment(activation: str, q: ArrayLike, power: int = 2) -> Any:
    """Gaussian moment ``E sigma(sqrt(q) Z)^power``, ``Z ~ N(0, 1)``.

    Parameters
    ----------
    activation : {"linear", "relu", "tanh", "swish"}
    q : float or array_like
        Variance(s) ``q >= 0``.
    power : int
        Moment order.

    Returns
    -------
    float or ndarray
        Closed form for linear (power 2) and ReLU (powers 1, 2, 4); Gauss--Hermite with 48 nodes otherwise.

    Examples
    --------
    >>> float(gaussian_moment("relu", 2.0))
    1.0
    """
    code = activation_code(activation)
    q = np.asarray(check_array(q, "q", minimum=0.0))
    power = check_int(power, "power", minimum=1)
    if activation == "linear" and power == 2:
        return q
    if activation == "relu":
        # E relu(sqrt(q) Z)^p = q^{p/2} E[Z^p; Z > 0]
        half = {1: 1.0 / np.sqrt(2 * np.pi), 2: 0.5, 4: 1.5}
        if power in half:
            return q ** (power / 2.0) * half[power]
    x = np.sqrt(q)[..., None] * _GH_X
    vals = np.vectorize(lambda v: act(v, code))(x) if x.size < 64 else act_array(x.ravel(), code).reshape(x.shape)
    return (vals**power) @ _GH_W


@nb.njit(cache=True)
def _kappa(q, p):
    # E sigma(sqrt(q) Z)^2 by Gauss-Hermite with the nodes and weights stored in p[4:]
    code = int(p[1])
    if code == 0:
        return q
    if code == 1:
        return 0.5 * q
    n = int(p[3])
    s = math.sqrt(q)
    acc = 0.0
    for m in range(n):
        v = act(s * p[4 + m], code)
        acc += p[4 + n + m] * v * v
    return acc


@nb.njit(cache=True)
def _zero_drift(t, y, p, out):
    for i in range(y.size):
        out[i] = 0.0


@nb.njit(cache=True)
def _iid_diffusion(t, y, p, out):
    # p = [variant, activation, s_b, n_gh, nodes..., weights...]
    d = y.size
    variant = int(p[0])
    if variant == 1:
        acc = 0.0
        for j in range(d):
            v = act(y[j], int(p[1]))
            acc += v * v
        g = math.sqrt(acc / d)
    else:
        nh = norm2(y)
        q = nh * nh / d
        if variant == 0:
            q += p[2] * p[2]
        g = math.sqrt(_kappa(q, p))
    for i in range(d):
        out[i, i] = g


def _check_std(x, name):
    return check_float(x, name, minimum=0.0)


def _params(variant, activation, bias_std=0.0):
    return np.concatenate([[variant_code(variant), activation_code(activation), bias_std, _N_GH], _GH_X, _GH_W])


def neural_sde(variant: str, activation: str, width: int, bias_std: float = 0.0) -> SDE:
    """The neural SDE of i.i.d.-weight ResNets at ``beta = 1/2`` (diagonal noise, zero drift).

    Parameters
    ----------
    variant : {"res1", "res3", "cohen"}
    activation : {"linear", "relu", "tanh", "swish"}
        For ``"cohen"`` the activation must satisfy ``E sigma(sqrt(q) Z) = 0`` (linear, tanh); otherwise the
        mean drift grows like ``sqrt(L)`` and there is no limit (``ValueError``; see :func:`cohen_mean_drift`).
    width : int
        ``d``.
    bias_std : float
        Cohen's bias standard deviation ``s_b``.

    Returns
    -------
    deeplimits.sde.SDE

    Examples
    --------
    >>> from deeplimits.resnet import neural_sde
    >>> sde = neural_sde("res1", "tanh", width=4)
    >>> sde.dim, sde.noise
    (4, 'diagonal')
    """
    from deeplimits.sde import SDE

    variant_code(variant)
    activation_code(activation)
    width = check_int(width, "width", minimum=1)
    if variant == "cohen" and activation not in ("linear", "tanh"):
        raise ValueError(
            f"cohen branch with activation {activation!r} has E sigma != 0: its drift grows like "
            "sqrt(L) and there is no limit (see cohen_mean_drift)"
        )
    return SDE(
        _zero_drift,
        _iid_diffusion,
        dim=width,
        noise="diagonal",
        params=_params(variant, activation, _check_std(bias_std, "bias_std")),
        name=f"neural SDE ({variant}, {activation}, d={width})",
    )


def norm_sde_law(variant: str, activation: str, width: int) -> tuple[float, float]:
    """Gaussian law of ``log(R_1 / R_0)``, ``R = ||H||^2``, for the neural SDE at ``t = 1``.

    With ``c_2 = E sigma(Z)^2`` and a positively homogeneous ``sigma``, ``dR = c_2 R dt + 2 sqrt(c_2 / d) R dbeta``
    so ``log(R_1/R_0) ~ N(c_2 (1 - 2/d), 4 c_2 / d)`` (derived; confirmed by ``resnet.sde_law``).

    Parameters
    ----------
    variant : {"res1", "cohen", "res3"}
    activation : str
        ``"linear"`` for ``res1``/``cohen`` (no bias); ``"linear"`` or ``"relu"`` for ``res3``.
    width : int
        ``d >= 1``.

    Returns
    -------
    (float, float)
        Mean and variance.

    Raises
    ------
    ValueError
        For a combination without a closed form, or ``width < 1``.

    Examples
    --------
    >>> norm_sde_law("res1", "linear", 4)
    (0.5, 1.0)
    """
    width = check_int(width, "width", minimum=1)
    variant_code(variant)
    activation_code(activation)
    if (variant in ("res1", "cohen") and activation == "linear") or (
        variant == "res3" and activation in ("linear", "relu")
    ):
        c2 = 1.0 if activation == "linear" else 0.5
        return c2 * (1.0 - 2.0 / width), 4.0 * c2 / width
    raise ValueError(f"no closed-form norm law for variant {variant!r} with activation {activation!r}")


def cohen_mean_drift(activation: str, q: ArrayLike, depth: int) -> Any:
    """Drift per unit time of Cohen's i.i.d. branch at ``beta = 1/2``: ``sqrt(L) E sigma(sqrt(q) Z)``.

    The conditional mean of ``L^-1/2 sigma(A_k h + b_k)`` is ``L^-1/2 m(q)`` per coordinate,
    ``q = ||h||^2/d + s_b^2``; over the ``L`` layers of a unit of time it adds up to ``sqrt(L) m(q)``: unbounded
    in ``L`` unless ``m = 0``.  For ReLU ``m(q) = sqrt(q / (2 pi))``; along ``h = ||h|| (1, ..., 1)/sqrt(d)``
    it makes ``d log ||h||^2 / dt = 2 cohen_mean_drift("relu", 1, L)`` (confirmed by ``resnet.critical_beta``).

    Parameters
    ----------
    activation : {"linear", "relu", "tanh", "swish"}
    q : float or array_like
        Pre-activation variance ``q >= 0``.
    depth : int
        ``L >= 1``.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(float(cohen_mean_drift("relu", 1.0, 100)), 4)
    3.9894
    """
    depth = check_int(depth, "depth", minimum=1)
    return np.sqrt(depth) * gaussian_moment(activation, q, power=1)


@nb.njit(cache=True)
def _diffusive_drift(t, y, p, out):
    # p = [s1 = sigma'(0), s2 = sigma''(0), s_A, s_b, correction]
    d = y.size
    nh = norm2(y)
    c = 0.5 * p[1] * p[4] * (p[2] * p[2] * nh * nh / d + p[3] * p[3])
    for i in range(d):
        out[i] = c


@nb.njit(cache=True)
def _diffusive_diffusion(t, y, p, out):
    # out (d, d*d + d): noise columns i*d + j drive A_ij, columns d*d + i drive b_i
    d = y.size
    ca = p[0] * p[2] / math.sqrt(d)
    for i in range(d):
        for j in range(d):
            out[i, i * d + j] = ca * y[j]
        out[i, d * d + i] = p[0] * p[3]


def diffusive_sde(
    activation: str, width: int, weight_std: float = 1.0, bias_std: float = 0.0, drift_correction: bool = True
) -> SDE:
    """Cohen et al.'s diffusive limit: ``dH = sigma'(0)(dW^A H + dW^b) + sigma''(0)/2 d[Z]_t`` (Itô).

    ``d[Z]_t = (s_A^2 ||H||^2 / d + s_b^2) dt`` is the quadratic variation of each component of
    ``Z = W^A H + W^b`` (``W^A`` entries with variance ``s_A^2 t / d``).  The finite network is
    ``random_resnets("cohen", n, d, L, beta=0, gamma=1/2, bias_std=s_b)`` with ``s_A = 1``.

    Parameters
    ----------
    activation : {"linear", "tanh", "swish"}
        Twice differentiable at 0.
    width : int
    weight_std, bias_std : float
        ``s_A``, ``s_b``.
    drift_correction : bool
        Include the ``sigma''(0)`` drift (set False to see that the limit is wrong without it).

    Returns
    -------
    deeplimits.sde.SDE
        General noise with ``d^2 + d`` Brownian motions.

    Examples
    --------
    >>> from deeplimits.resnet import diffusive_sde
    >>> diffusive_sde("tanh", width=2).n_noise
    6
    """
    from deeplimits.sde import SDE

    drift_correction = check_bool(drift_correction, "drift_correction")
    s1, s2 = activation_derivatives(activation)
    width = check_int(width, "width", minimum=1)
    p = [
        s1,
        s2,
        _check_std(weight_std, "weight_std"),
        _check_std(bias_std, "bias_std"),
        1.0 if drift_correction else 0.0,
    ]
    return SDE(
        _diffusive_drift,
        _diffusive_diffusion,
        dim=width,
        noise="general",
        n_noise=width * width + width,
        params=p,
        name=f"diffusive SDE ({activation}, d={width})",
    )
