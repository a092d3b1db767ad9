"""Counter-based random streams for reproducible parallel Numba kernels.

Every Monte-Carlo path (or walker, or network) owns one independent stream,
identified by ``(seed, stream)``.  A stream is a SplitMix64 sequence: its state
is a single ``uint64`` that is advanced by the golden-ratio increment and
hashed by the SplitMix64 finaliser (Steele, Lea & Flood 2014).  Because the
numbers a path consumes depend only on ``(seed, stream, position)`` and never
on which thread runs the path, results are bit-identical whatever the number
of Numba threads.

Usage inside a kernel::

    s = stream_state(seed, path)
    for k in range(n_steps):
        z0, z1, s = normal_pair(s)

Normals are produced by the Box--Muller transform (two per pair of uniforms);
uniforms lie in the open interval (0, 1), so ``log`` is always finite.  The
``log``, ``sin`` and ``cos`` of the transform are the branch-free functions of
:mod:`deeplimits.rng.elementary`, so that :func:`fill_normals`, which computes
the pairs of a vector independently of each other (uniform number ``k`` of a
stream is the hash of ``state + (k + 1) * golden``), compiles to SIMD code.
The scalar :func:`normal_pair` gives bit-identical values.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .._checks import check_allocation, check_int, check_seed
from .elementary import _bits_float, log_positive, sincos

#: Length of the blocks of normals that kernels draw at a time with :func:`fill_normals`
#: (even, so that a stream's normals do not depend on the block length).
NORMAL_BLOCK = 64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * np.pi
_MAGIC = 0x4330000000000000  # bits of 2**52
_TWO52 = 4503599627370496.0


@nb.njit(cache=True, inline="always")
def _mix64(z):
    # SplitMix64 finaliser; all operands are uint64 so Numba never promotes to float.
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def stream_state(seed, stream):
    """Initial state of stream ``stream`` of the generator keyed by ``seed``.

    Parameters
    ----------
    seed, stream : int
        Non-negative integers.  Distinct ``(seed, stream)`` pairs give
        statistically independent streams.

    Returns
    -------
    numpy.uint64
        The state to pass to :func:`uniform` or :func:`normal_pair`.
    """
    k = _mix64(np.uint64(seed) * _GOLDEN + np.uint64(0x632BE59BD9B4E019))
    return _mix64(k ^ (np.uint64(stream) * _M2 + _GOLDEN))


@nb.njit(cache=True, inline="always")
def next_uint64(s):
    """Return ``(x, new_state)`` with ``x`` a uniformly distributed uint64."""
    s = s + _GOLDEN
    return _mix64(s), s


@nb.njit(cache=True, inline="always")
def uniform(s):
    """Return ``(u, new_state)`` with ``u`` uniform on the open interval (0, 1)."""
    x, s = next_uint64(s)
    return (np.float64(x >> _S11) + 0.5) * _TWO_M53, s


@nb.njit(cache=True, inline="always")
def normal_pair(s):
    """Return ``(z0, z1, new_state)``: two independent standard normals (Box--Muller)."""
    u1, s = uniform(s)
    u2, s = uniform(s)
    return _box_muller(u1, u2) + (s,)


@nb.njit(cache=True, inline="always")
def _unit(x):
    # ((x >> 11) + 0.5) 2**-53 as in uniform, with the integer-to-float conversion done by
    # bit manipulation (exact), which vectorises also where the CPU has no such instruction.
    n = np.int64(x >> _S11)
    hi = _bits_float(_MAGIC | (n >> 1)) - _TWO52
    lo = _bits_float(_MAGIC | (n & 1)) - _TWO52
    return (2.0 * hi + lo + 0.5) * _TWO_M53


@nb.njit(cache=True, inline="always")
def _box_muller(u1, u2):
    r = np.sqrt(-2.0 * log_positive(u1))
    sn, cs = sincos(_TWO_PI * u2)
    return r * cs, r * sn


@nb.njit(cache=True, inline="always")
def pair_at(s, j):
    """Return ``(z0, z1)``: Box--Muller pair ``j`` (counting from 0) of the stream whose state is ``s``.

    Equal, bit for bit, to the values of the ``(j + 1)``-th :func:`normal_pair` call
    from state ``s``, without advancing any state: a loop over many streams that
    draws the same pair of each (as the batched SDE kernels do, one stream per row)
    is independent across iterations and vectorises.
    """
    c = s + np.uint64(2 * j + 1) * _GOLDEN
    return _box_muller(_unit(_mix64(c)), _unit(_mix64(c + _GOLDEN)))


@nb.njit(cache=True, error_model="numpy")
def _normal_pairs(s, out, n_pairs):
    # out[2j], out[2j + 1] = pair j, from uniforms 2j and 2j + 1 after state s; the pairs are
    # independent of each other, so LLVM vectorises the loop (error_model="numpy": the
    # division in log_positive raises nothing, so the loop has no branch).
    for j in range(n_pairs):
        z0, z1 = pair_at(s, j)
        out[2 * j] = z0
        out[2 * j + 1] = z1


@nb.njit(cache=True, error_model="numpy")
def pairs_across(states, j, z0, z1):
    """Pair ``j`` of every stream: ``(z0[r], z1[r]) = pair_at(states[r], j)``.

    One vectorised loop over the streams (``error_model="numpy"`` for the same
    reason as in :func:`fill_normals`); used by kernels that advance a block of
    paths in step, each path on its own stream.

    Parameters
    ----------
    states : uint64 array
        The streams' states (:func:`stream_state`).
    j : int
        The pair, counting from 0.
    z0, z1 : float64 arrays
        Outputs with at least ``states.size`` entries each.

    Raises
    ------
    ValueError
        If ``j`` is negative, or ``z0`` or ``z1`` holds fewer than ``states.size`` entries.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.rng import pair_at, pairs_across, stream_state
    >>> states = np.array([stream_state(0, r) for r in range(3)], dtype=np.uint64)
    >>> z0, z1 = np.empty(3), np.empty(3)
    >>> pairs_across(states, 2, z0, z1)
    >>> (z0[1], z1[1]) == pair_at(states[1], 2)
    True
    """
    # checked once per call, outside the vectorised loop, which has no bounds checks
    if j < 0:
        raise ValueError("pairs_across: j must be >= 0")
    if z0.size < states.size or z1.size < states.size:
        raise ValueError("pairs_across: z0 and z1 must hold at least states.size entries")
    for r in range(states.size):
        a, b = pair_at(states[r], j)
        z0[r] = a
        z1[r] = b


@nb.njit(cache=True, inline="always")
def normal(s):
    """Return ``(z, new_state)``: one standard normal (wastes the pair's second value)."""
    z0, _, s = normal_pair(s)
    return z0, s


@nb.njit(cache=True, inline="always")
def fill_normals(s, out):
    """Fill the 1-D array ``out`` with standard normals drawn in pairs; return the new state.

    The values equal those of successive :func:`normal_pair` calls, bit for bit;
    for odd lengths the second value of the last pair is discarded.  The pairs
    are computed in a SIMD-vectorised loop.  Every kernel that needs a vector of
    normals from one stream uses this, so equal streams give equal vectors.
    """
    m = out.shape[0]
    n_pairs = m // 2
    _normal_pairs(s, out, n_pairs)
    s = s + np.uint64(2 * n_pairs) * _GOLDEN
    if m % 2:
        z0, _, s = normal_pair(s)
        out[m - 1] = z0
    return s


@nb.njit(cache=True, parallel=True)
def _fill_normal(seed, first_stream, out):
    for i in nb.prange(out.shape[0]):
        fill_normals(stream_state(seed, first_stream + i), out[i])


@nb.njit(cache=True, parallel=True)
def _fill_uniform(seed, first_stream, out):
    n_streams, m = out.shape
    for i in nb.prange(n_streams):
        s = stream_state(seed, first_stream + i)
        for j in range(m):
            u, s = uniform(s)
            out[i, j] = u


def kernel_seed(seed: int) -> int:
    """A checked seed in ``[0, 2**64)`` as the signed 64-bit integer with the same bits.

    Kernels take seeds as ``int64``; :func:`stream_state` reinterprets the bits as
    ``uint64``, so seeds up to ``2**64 - 1`` (and wider ones, folded by
    :func:`deeplimits._checks.check_seed`) reach the generator unchanged.
    """
    value = check_seed(seed)
    return value - (1 << 64) if value >= 1 << 63 else value


def _draw(fill, seed, shape, first_stream):
    """Validate the arguments, then fill a ``(streams, values)`` matrix with ``fill`` and reshape it."""
    seed_bits = kernel_seed(seed)
    first_stream = check_int(first_stream, "first_stream", minimum=0)
    dims = tuple(check_int(n, "shape", minimum=0) for n in np.atleast_1d(np.asarray(shape, dtype=object)))
    if not dims:
        raise ValueError("shape must have at least one axis")
    check_allocation(dims, "the random array")
    out = np.empty((dims[0], int(np.prod(dims[1:], dtype=np.int64))), dtype=np.float64)
    if out.size:
        fill(seed_bits, first_stream, out)
    return out.reshape(dims)


def normal_array(seed: int, shape: int | tuple[int, ...], first_stream: int = 0) -> np.ndarray:
    """Standard normals of the given shape; row ``i`` (first axis) is stream ``first_stream + i``.

    The result is a deterministic function of ``seed``, ``shape`` and
    ``first_stream`` and does not depend on the number of threads.  Row ``i``
    holds the first values a kernel would draw from
    ``stream_state(seed, first_stream + i)`` with :func:`fill_normals`, so a
    large batch can be drawn in chunks (``first_stream`` = the chunk's first
    row) with exactly the same numbers.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    shape : tuple of int
        Output shape; at least one axis.
    first_stream : int, optional
        Stream of row 0 (non-negative); default 0.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ValueError
        If ``seed`` or ``first_stream`` is negative or ``shape`` has a negative entry.
    """
    return _draw(_fill_normal, seed, shape, first_stream)


def uniform_array(seed: int, shape: int | tuple[int, ...], first_stream: int = 0) -> np.ndarray:
    """Uniforms on (0, 1) of the given shape; row ``i`` is stream ``first_stream + i`` (see :func:`normal_array`)."""
    return _draw(_fill_uniform, seed, shape, first_stream)
