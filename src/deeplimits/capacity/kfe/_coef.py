"""Depth-dependent coefficients of the capacity KFE: constants or callables of depth ``t``.

A coefficient is a number or a callable ``f(t)`` returning a number (scalar
coefficients) or a tuple/array (vector/tensor coefficients).  Solvers evaluate
every coefficient once at each depth the scheme needs, validate the values
(finite; diffusion and sink non-negative) and hand plain float arrays to the
Numba kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["evaluate", "check_finite", "check_nonnegative"]


def evaluate(value: Any, ts: np.ndarray, name: str, shape: tuple[int, ...] = ()) -> np.ndarray:
    """Values of a coefficient at the depths ``ts``: array of shape ``(len(ts), *shape)``.

    Parameters
    ----------
    value : float, array_like or callable
        The coefficient, or ``f(t)`` returning it.
    ts : ndarray
        Depths.
    name : str
        Argument name used in error messages.
    shape : tuple
        Shape of one value (``()`` for scalars).

    Returns
    -------
    ndarray, shape ``(len(ts), *shape)``

    Raises
    ------
    ValueError
        If a value has the wrong shape or is not finite.
    """
    ts = np.asarray(ts, dtype=float)
    if callable(value):
        vals = [np.asarray(value(float(t)), dtype=float) for t in ts]
        for t, v in zip(ts, vals, strict=True):
            if v.shape != shape:
                raise ValueError(f"{name}(t) must return shape {shape}, got {v.shape} at t={t}")
        out = np.array(vals, dtype=float).reshape((len(ts),) + shape)
    else:
        v = np.asarray(value, dtype=float)
        if v.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {v.shape}")
        out = np.broadcast_to(v, (len(ts),) + shape).copy()
    check_finite(out, ts, name)
    return out


def check_finite(vals: np.ndarray, ts: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` and the first depth where ``vals`` is not finite.

    Parameters
    ----------
    vals : ndarray, shape ``(len(ts), ...)``
        Coefficient values, one row per depth.
    ts : ndarray
        The depths.
    name : str
        Argument name for the message.
    """
    bad = ~np.isfinite(vals.reshape(len(ts), -1)).all(axis=1)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{name} must be finite; got {vals[k]} at t={ts[k]}")


def check_nonnegative(vals: np.ndarray, ts: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` and the first depth where ``vals < 0``.

    Parameters
    ----------
    vals, ts, name
        As in :func:`check_finite`.
    """
    bad = (vals.reshape(len(ts), -1) < 0).any(axis=1)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{name} must be >= 0; got {vals[k]} at t={ts[k]}")
