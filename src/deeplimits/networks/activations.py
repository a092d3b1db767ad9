"""Leaky / shaped ReLU activations and their He normalisation.

``phi(x) = s_plus max(x, 0) + s_minus min(x, 0)``; the normalisation ``c = 1 / E[phi(w)^2]``,
``w ~ N(0, 1)``, is ``c = 2 / (s_plus^2 + s_minus^2)`` (ReLU: ``s = (1, 0)``, ``c = 2``), so that
``c E[phi(w)^2] = 1``: squared norms are preserved in expectation layer by layer.

Shaping (Li, Nica & Roy 2022): ``s_pm = 1 + c_pm / sqrt(N)`` with ``N`` the width (proportional
regime ``d/n = T``) or the depth (Li & Nica 2023, rate ``d^-1/2``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["shaped_slopes", "he_normalisation", "leaky_relu"]


def he_normalisation(s_plus, s_minus):
    """He constant of the leaky ReLU with slopes ``s_plus``, ``s_minus``.

    Parameters
    ----------
    s_plus, s_minus : float
        Slopes for positive and negative arguments (not both zero).

    Returns
    -------
    float
        ``c = 2 / (s_plus^2 + s_minus^2) = 1 / E[phi(w)^2]``, ``w ~ N(0, 1)``.
    """
    return 2.0 / (s_plus * s_plus + s_minus * s_minus)


def leaky_relu(x, s_plus=1.0, s_minus=0.0):
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
    """
    return np.where(x > 0, s_plus * x, s_minus * x)


def shaped_slopes(c_plus, c_minus, scale):
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
        are zero, or the constants are not finite.
    """
    c_plus, c_minus = float(c_plus), float(c_minus)
    if not (np.isfinite(c_plus) and np.isfinite(c_minus)):
        raise ValueError(f"c_plus, c_minus must be finite, got {c_plus}, {c_minus}")
    r = 1.0 / np.sqrt(scale)
    s_plus, s_minus = 1.0 + c_plus * r, 1.0 + c_minus * r
    check_slopes(s_plus, s_minus, what=f"c_plus={c_plus}, c_minus={c_minus} at scale {scale}")
    return s_plus, s_minus


def check_slopes(s_plus, s_minus, what=""):
    """Validate the slopes of a leaky ReLU.

    Parameters
    ----------
    s_plus, s_minus : float
        Slopes.
    what : str
        Where the slopes come from (for the message).

    Raises
    ------
    ValueError
        Unless both slopes are finite and >= 0 (monotone activation) and not both 0.
    """
    if not (np.isfinite(s_plus) and np.isfinite(s_minus)):
        raise ValueError(f"slopes s_plus, s_minus {what} must be finite, got {s_plus}, {s_minus}")
    if s_plus < 0 or s_minus < 0:
        raise ValueError(
            f"shaping {what} gives slopes s_plus={s_plus:.4g}, s_minus={s_minus:.4g}: "
            "a negative slope makes the activation non-monotone; use |c_pm| < sqrt(scale)"
        )
    if s_plus == 0 and s_minus == 0:
        raise ValueError(f"shaping {what} gives the zero activation")
