"""Argument checks shared by the capacity modules (public names in a private module).

Built on :mod:`deeplimits._checks`, so that integers, reals and arrays are checked the same
way as in the rest of the package; each message names the argument and the allowed range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array, check_float, check_int

__all__ = ["check_scalar", "check_depth", "check_positive_ints", "check_capacity"]


def check_scalar(value: Any, name: str, *, allow_negative: bool = False, allow_zero: bool = True) -> float:
    """``value`` as a finite float, non-negative unless ``allow_negative``, non-zero unless ``allow_zero``.

    Examples
    --------
    >>> check_scalar(2, "a")
    2.0
    >>> check_scalar(-1.0, "a")
    Traceback (most recent call last):
    ...
    ValueError: a must be non-negative, got -1.0
    """
    v = check_float(value, name)
    if not allow_negative and v < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    if not allow_zero and v == 0:
        raise ValueError(f"{name} must be non-zero, got {value!r}")
    return v


def check_depth(depth: Any) -> int:
    """A number of layers: an integer ``>= 0``.

    Examples
    --------
    >>> check_depth(4.0)
    4
    """
    return check_int(depth, "depth", minimum=0)


def check_positive_ints(value: Any, ndim: int, name: str) -> tuple[int, ...]:
    """One positive integer per axis (a scalar is broadcast to ``ndim`` axes).

    Examples
    --------
    >>> check_positive_ints(2, 2, "dilation")
    (2, 2)
    """
    vals = np.broadcast_to(np.asarray(value, dtype=object), (ndim,))
    out = []
    for v in vals:
        try:
            out.append(check_int(v, name, minimum=1))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a positive integer (or one per axis), got {value!r}") from None
    return tuple(out)


def check_capacity(c_out: ArrayLike, ndim: int, name: str = "c_out") -> NDArray[np.float64]:
    """A capacity field: a finite, non-negative, non-empty ``ndim``-D float array.

    Examples
    --------
    >>> check_capacity([0.0, 1.0], 1).tolist()
    [0.0, 1.0]
    """
    c = check_array(c_out, name, minimum=0.0)
    if c.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array to match the layers, got shape {c.shape}")
    if c.size == 0:
        raise ValueError(f"{name} must be non-empty")
    return c
