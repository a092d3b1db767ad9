"""Argument checks shared by every public entry point.

One message style everywhere: ``"<name> must be <what is allowed>, got <value>"``.
Every check returns the normalised value (a Python ``int``, a ``float`` or a
contiguous float64 array), so callers write ``n = check_int(n, "n_paths", minimum=1)``.

Integers must be integral (``2.7`` and ``True`` are errors, never truncated),
seeds are any non-negative Python integer (no overflow: see :func:`check_seed`),
arrays must be finite unless told otherwise, and allocations that would not fit
raise :class:`MemoryError` stating the size asked for.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "check_int",
    "check_seed",
    "check_float",
    "check_choice",
    "check_bool",
    "check_array",
    "check_probability",
    "check_newton",
    "check_allocation",
    "check_user_output",
    "check_gram",
    "check_callable",
]

_U64 = 1 << 64


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python ``int`` after checking it is integral and in range.

    Accepts Python and NumPy integers and integral floats (``4.0``); rejects
    ``bool``, non-integral numbers (``2.7``), strings and non-finite values.

    Examples
    --------
    >>> check_int(4.0, "n_paths", minimum=1)
    4
    >>> check_int(2.7, "n_paths")
    Traceback (most recent call last):
    ...
    ValueError: n_paths must be an integer, got 2.7
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {_show(value)}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(float(value)) or float(value) != math.floor(float(value)):
            raise ValueError(f"{name} must be an integer, got {_show(value)}")
        out = int(value)
    else:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {_show(value)}")
    if minimum is not None and out < minimum:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {out}")
    if maximum is not None and out > maximum:
        bound = f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {out}")
    return out


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return a seed as a Python ``int`` in ``[0, 2**64)``.

    Seeds of any size are accepted: a seed ``>= 2**64`` is folded to 64 bits by
    a hash of all its bits, so distinct seeds stay distinct with overwhelming
    probability and nothing overflows in the kernels.

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a non-negative integer, got -1
    """
    value = check_int(seed, name)
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    if value < _U64:
        return value
    # fold wide seeds 64 bits at a time (SplitMix64-style mixing in pure Python)
    acc = 0x9E3779B97F4A7C15
    while value:
        acc = _mix(acc ^ (value & (_U64 - 1)))
        value >>= 64
    return acc


def _mix(z: int) -> int:
    z &= _U64 - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (_U64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (_U64 - 1)
    return z ^ (z >> 31)


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` within optional bounds.

    ``strict_min``/``strict_max`` exclude the bound itself.

    Examples
    --------
    >>> check_float(0.5, "theta", minimum=0.0, maximum=1.0)
    0.5
    >>> check_float(float("nan"), "T")
    Traceback (most recent call last):
    ...
    ValueError: T must be a finite number, got nan
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {_show(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number, got {_show(value)}")
    lo_bad = minimum is not None and (out < minimum or (strict_min and out == minimum))
    hi_bad = maximum is not None and (out > maximum or (strict_max and out == maximum))
    if lo_bad or hi_bad:
        parts = []
        if minimum is not None:
            parts.append(f"{'>' if strict_min else '>='} {minimum}")
        if maximum is not None:
            parts.append(f"{'<' if strict_max else '<='} {maximum}")
        raise ValueError(f"{name} must be {' and '.join(parts)}, got {out}")
    return out


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as a float in the open interval ``(0, 1)`` (confidence levels, quantiles)."""
    return check_float(value, name, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("euler", "scheme", ("euler", "milstein"))
    'euler'
    """
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {_show(value)}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a ``bool`` (or NumPy bool); ``0``/``1`` and strings are rejected."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_show(value)}")
    return bool(value)


def check_array(
    value: ArrayLike,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    finite: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    min_size: int = 0,
    dtype: Any = np.float64,
) -> NDArray[Any]:
    """Return ``value`` as a C-contiguous array (a copy) after checking shape, finiteness and range.

    Parameters
    ----------
    value : array_like
    name : str
        Argument name used in the message.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    shape : sequence of int or None, optional
        Required shape; ``None`` entries are free.
    finite : bool
        Reject NaN and infinities (default).
    minimum, maximum : float, optional
        Bounds on every entry (``strict_min`` excludes the lower bound).
    min_size : int
        Smallest allowed number of entries.
    dtype
        Target dtype (float64 by default).

    Examples
    --------
    >>> check_array([1.0, 2.0], "y0", ndim=1).shape
    (2,)
    >>> check_array([1.0, float("inf")], "y0")
    Traceback (most recent call last):
    ...
    ValueError: y0 must be finite; entry (1,) is inf
    """
    if isinstance(value, (str, bytes)) or np.asarray(value).dtype.kind in "USV":
        # NumPy would parse "1.0" as a number: a string is a caller's mistake, not data
        raise TypeError(f"{name} must be an array of numbers, got {_show(value)}")
    try:
        arr = np.array(value, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {_show(value)} ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries, got {arr.size}")
    if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating):
        if finite:
            bad = ~np.isfinite(arr)
            if bad.any():
                where = np.unravel_index(int(np.argmax(bad)), arr.shape)
                raise ValueError(f"{name} must be finite; entry {tuple(int(i) for i in where)} is {arr[where]}")
    if minimum is not None and arr.size:
        low = arr < minimum if not strict_min else arr <= minimum
        if low.any():
            where = np.unravel_index(int(np.argmax(low)), arr.shape)
            op = ">" if strict_min else ">="
            raise ValueError(
                f"{name} must be {op} {minimum} everywhere; entry {tuple(map(int, where))} is {arr[where]}"
            )
    if maximum is not None and arr.size:
        high = arr > maximum
        if high.any():
            where = np.unravel_index(int(np.argmax(high)), arr.shape)
            raise ValueError(f"{name} must be <= {maximum} everywhere; entry {tuple(map(int, where))} is {arr[where]}")
    return arr


def check_newton(tol: Any, maxiter: Any) -> tuple[float, int]:
    """Validate Newton settings: ``newton_tol`` in ``(0, 1)``, ``newton_maxiter`` an integer ``>= 1``."""
    tol_f = check_float(tol, "newton_tol", minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    return tol_f, check_int(maxiter, "newton_maxiter", minimum=1)


def check_allocation(shape: Sequence[int], name: str, *, itemsize: int = 8, limit_bytes: int | None = None) -> None:
    """Raise :class:`MemoryError` naming ``name`` and the size when an array of ``shape`` cannot be allocated.

    The limit is the machine's total memory when it can be read (else 2**48
    bytes); pass ``limit_bytes`` to use another.

    Examples
    --------
    >>> check_allocation((10, 10), "ys")
    >>> check_allocation((10**12, 10**6), "ys")
    Traceback (most recent call last):
    ...
    MemoryError: ys needs 8e+18 bytes (shape (1000000000000, 1000000)), more than this machine's ...
    """
    n = 1
    for s in shape:
        n *= int(s)
    need = n * itemsize
    limit = _total_memory() if limit_bytes is None else int(limit_bytes)
    if need > limit:
        raise MemoryError(
            f"{name} needs {float(need):.3g} bytes (shape {tuple(int(s) for s in shape)}), more than this machine's "
            f"{float(limit):.3g} bytes of memory; reduce the sizes or run in chunks"
        )


def _total_memory() -> int:
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1 << 48


def check_user_output(values: NDArray[Any], what: str, where: str) -> None:
    """Raise if a user function returned NaN or infinity, naming the function and where it was evaluated.

    Parameters
    ----------
    values : ndarray
        The function's output.
    what : str
        The function's name, e.g. ``"drift"``.
    where : str
        Where it was evaluated, e.g. ``"t=0.5, y=[1.0]"``.
    """
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} returned a non-finite value {values} at {where}")


def check_gram(value: ArrayLike, name: str, *, require_pd: bool = False, tol: float = 1e-10) -> NDArray[np.float64]:
    """Return a symmetric positive semi-definite matrix (or a stack of them) after an overflow-safe check.

    The check is done on the matrix scaled by its largest diagonal entry, so
    Gram matrices of any magnitude (``1e160`` or ``1e-160``) are judged on their
    correlations, never on overflowed products.

    Raises
    ------
    ValueError
        If the matrix is not square, not symmetric (relative ``tol``), has a
        negative diagonal or a negative eigenvalue below ``-tol`` (relative),
        or (``require_pd``) is singular.
    """
    arr = check_array(value, name, ndim=(2, 3))
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    diag = np.diagonal(arr, axis1=-2, axis2=-1)
    if np.any(diag < 0):
        raise ValueError(f"{name} must have a non-negative diagonal, got {diag.min()}")
    scale = diag.max(axis=-1, keepdims=True)[..., None]
    scale = np.where(scale > 0, scale, 1.0)
    unit = arr / scale
    if not np.allclose(unit, np.swapaxes(unit, -1, -2), rtol=0, atol=tol):
        raise ValueError(f"{name} must be symmetric")
    eig = np.linalg.eigvalsh((unit + np.swapaxes(unit, -1, -2)) / 2)
    low = float(eig.min())
    if low < -tol:
        raise ValueError(f"{name} must be positive semi-definite; its smallest eigenvalue (relative) is {low:.3g}")
    if require_pd and low <= tol:
        raise ValueError(f"{name} must be positive definite; its smallest eigenvalue (relative) is {low:.3g}")
    return arr


def check_callable(value: Any, name: str) -> Callable[..., Any]:
    """Return ``value`` if it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value
