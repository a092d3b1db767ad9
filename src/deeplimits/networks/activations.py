"""Leaky / shaped ReLU activations and their He normalisation.

``phi(x) = s_plus max(x, 0) + s_minus min(x, 0)``; the normalisation ``c = 1 / E[phi(w)^2]``,
``w ~ N(0, 1)``, is ``c = 2 / (s_plus^2 + s_minus^2)`` (ReLU: ``s = (1, 0)``, ``c = 2``), so that
``c E[phi(w)^2] = 1``: squared norms are preserved in expectation layer by layer.

Shaping (Li, Nica & Roy 2022): ``s_pm = 1 + c_pm / sqrt(N)`` with ``N`` the width (proportional
regime ``d/n = T``) or the depth (Li & Nica 2023, rate ``d^-1/2``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_float, check_int

__all__ = ["shaped_slopes", "check_slopes", "he_normalisation", "leaky_relu", "LeakySlopes"]


def he_normalisation(s_plus: float, s_minus: float) -> float:
    """He constant of the leaky ReLU with slopes ``s_plus``, ``s_minus``.

    Parameters
    ----------
    s_plus, s_minus : float
        Slopes for positive and negative arguments (not both zero).

    Returns
    -------
    float
        ``c = 2 / (s_plus^2 + s_minus^2) = 1 / E[phi(w)^2]``, ``w ~ N(0, 1)``.

    Raises
    ------
    ValueError
        If a slope is negative or not finite, or both are zero.

    Examples
    --------
    >>> he_normalisation(1.0, 0.0)
    2.0
    """
    return LeakySlopes.check(s_plus, s_minus).c


@dataclass(frozen=True)
class LeakySlopes:
    """The slopes of a leaky ReLU and their He constant, checked once by :meth:`check`.

    Attributes
    ----------
    s_plus, s_minus : float
        Slopes for positive and negative arguments.
    c : float
        He constant ``2 / (s_plus^2 + s_minus^2)``.

    Examples
    --------
    >>> LeakySlopes.check(1.0, 0.0)
    LeakySlopes(s_plus=1.0, s_minus=0.0, c=2.0)
    """

    s_plus: float
    s_minus: float
    c: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", 2.0 / (self.s_plus * self.s_plus + self.s_minus * self.s_minus))

    @classmethod
    def check(cls, s_plus: Any, s_minus: Any) -> LeakySlopes:
        """Check the slopes (finite, >= 0, not both 0) and compute the He constant.

        Raises
        ------
        ValueError
            Naming ``s_plus`` or ``s_minus``.
        """
        return cls(*check_slopes(s_plus, s_minus, what="(s_plus, s_minus)"))

    @classmethod
    def shaped(cls, c_plus: float, c_minus: float, scale: int) -> LeakySlopes:
        """The shaped slopes ``1 + c_pm / sqrt(scale)`` (:func:`shaped_slopes`, which checks them)."""
        return cls(*shaped_slopes(c_plus, c_minus, scale))

    def params(self) -> dict[str, float]:
        """``s_plus``, ``s_minus`` and ``c`` as a dict (the ``params`` of a network batch)."""
        return dict(s_plus=self.s_plus, s_minus=self.s_minus, c=self.c)


def leaky_relu(x: ArrayLike, s_plus: float = 1.0, s_minus: float = 0.0) -> NDArray[np.float64]:
    """Leaky ReLU ``s_plus max(x, 0) + s_minus min(x, 0)``, elementwise.

    Parameters
    ----------
    x : array_like
        Pre-activations.
    s_plus, s_minus : float
        Slopes (ReLU: 1, 0).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> leaky_relu([-2.0, 3.0], s_plus=1.0, s_minus=0.5)
    array([-1.,  3.])
    """
    x = np.asarray(x, dtype=np.float64)
    s_plus, s_minus = check_float(s_plus, "s_plus"), check_float(s_minus, "s_minus")
    return np.where(x > 0, s_plus * x, s_minus * x)


def shaped_slopes(c_plus: float, c_minus: float, scale: int) -> tuple[float, float]:
    """Slopes ``s_pm = 1 + c_pm / sqrt(scale)`` of the shaped leaky ReLU.

    Parameters
    ----------
    c_plus, c_minus : float
        Shaping constants.
    scale : int
        ``n`` (width shaping) or ``d`` (depth shaping).

    Returns
    -------
    (s_plus, s_minus) : tuple of float

    Raises
    ------
    ValueError
        If a slope is negative (the activation is then non-monotone, outside the theory) or both
        are zero, the constants are not finite, or ``scale`` is not an integer >= 1.

    Examples
    --------
    >>> shaped_slopes(0.0, -1.0, 16)
    (1.0, 0.75)
    """
    c_plus, c_minus = check_float(c_plus, "c_plus"), check_float(c_minus, "c_minus")
    scale = check_int(scale, "scale", minimum=1)
    r = 1.0 / np.sqrt(scale)
    s_plus, s_minus = float(1.0 + c_plus * r), float(1.0 + c_minus * r)
    check_slopes(s_plus, s_minus, what=f"c_plus={c_plus}, c_minus={c_minus} at scale {scale}")
    return s_plus, s_minus


def check_slopes(s_plus: float, s_minus: float, what: str = "") -> tuple[float, float]:
    """Validate the slopes of a leaky ReLU and return them as floats.

    Both must be finite and >= 0 (a monotone activation) and not both 0, else ValueError
    (TypeError for a non-number); ``what`` says where the slopes come from, for the message.

    Examples
    --------
    >>> check_slopes(1, 0)
    (1.0, 0.0)
    """
    s_plus, s_minus = check_float(s_plus, "s_plus"), check_float(s_minus, "s_minus")
    if s_plus < 0 or s_minus < 0:
        raise ValueError(
            f"s_plus, s_minus must be >= 0: {what or 'the'} slopes are s_plus={s_plus:.4g}, s_minus={s_minus:.4g}: "
            "a negative slope makes the activation non-monotone (for shaping, use |c_pm| < sqrt(scale))"
        )
    if s_plus == 0 and s_minus == 0:
        raise ValueError(f"s_plus, s_minus must not both be 0 ({what or 'slopes'}): the activation would vanish")
    return s_plus, s_minus
