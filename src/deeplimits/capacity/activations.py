"""Activations of the finite conv ResNets and their decoupling coefficients ``E[phi'(h)^2]``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import check_int
from ._validate import check_scalar

__all__ = ["ACTIVATIONS", "activation", "decoupling_coefficient"]

#: Activations available to :class:`ConvResNet`.
ACTIVATIONS = ("relu", "tanh", "sin", "linear")


def activation(name: str, omega: float = 1.0) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Activation ``phi`` and its derivative ``phi'`` as vectorised functions.

    Parameters
    ----------
    name : {"relu", "tanh", "sin", "linear"}
        ``"sin"`` is ``sin(omega u) / omega`` (derivative ``cos(omega u)``): for large
        ``omega`` a stand-in for total decoupling.
    omega : float
        Frequency of ``"sin"`` (> 0).

    Returns
    -------
    phi, dphi : callables

    Examples
    --------
    >>> import numpy as np
    >>> phi, dphi = activation("relu")
    >>> phi(np.array([-1.0, 2.0])).tolist(), dphi(np.array([-1.0, 2.0])).tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    omega = check_scalar(omega, "omega", allow_zero=False)
    if name == "relu":
        return _relu, _relu_prime
    if name == "tanh":
        return np.tanh, _tanh_prime
    if name == "sin":
        return functools.partial(_sin, omega=omega), functools.partial(_sin_prime, omega=omega)
    if name == "linear":
        return _identity, np.ones_like
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


# Module-level functions (not lambdas), so that a network holding them can be pickled for an executor.
def _relu(u: Any) -> Any:
    return np.maximum(u, 0)


def _relu_prime(u: Any) -> Any:
    return (u > 0).astype(u.dtype)


def _tanh_prime(u: Any) -> Any:
    return 1 - np.tanh(u) ** 2


def _sin(u: Any, omega: float) -> Any:
    return np.sin(u * omega) / omega


def _sin_prime(u: Any, omega: float) -> Any:
    return np.cos(u * omega)


def _identity(u: Any) -> Any:
    return u


def decoupling_coefficient(name: str, variance: float = 1.0, omega: float = 1.0, n_nodes: int = 101) -> float:
    """``d = E[phi'(h)^2]`` for ``h ~ N(0, variance)`` (closed form, or Gauss--Hermite for tanh).

    ReLU: 1/2 for any variance; ``sin(omega u)/omega``: ``(1 + exp(-2 omega^2 variance)) / 2``;
    tanh: decreases with the variance; linear: 1.

    Parameters
    ----------
    name : str
        See :func:`activation`.
    variance : float
        Variance of the pre-activation, ``>= 0``.
    omega : float
        Frequency for ``"sin"``.
    n_nodes : int
        Quadrature nodes.

    Returns
    -------
    float

    Examples
    --------
    >>> decoupling_coefficient("relu"), decoupling_coefficient("linear")
    (0.5, 1.0)
    """
    variance = check_scalar(variance, "variance")
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2)
    _, dphi = activation(name, omega)
    if name == "relu":  # P(h > 0), exact; a quadrature of the step would be inaccurate
        return 0.5 if variance > 0 else 0.0
    if name == "linear":
        return 1.0
    if name == "sin":  # E[cos^2(omega h)] = (1 + E[cos(2 omega h)]) / 2
        return float(0.5 * (1.0 + np.exp(-2.0 * omega**2 * variance)))
    z, wq = np.polynomial.hermite_e.hermegauss(n_nodes)
    return float(np.sum(wq * dphi(np.sqrt(variance) * z) ** 2) / np.sqrt(2 * np.pi))
