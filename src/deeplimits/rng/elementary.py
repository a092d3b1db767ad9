"""Vectorisable ``log`` and joint ``sin``/``cos`` for the Box--Muller transform.

Numba compiles ``np.log``, ``np.sin`` and ``np.cos`` to calls into the C
library, which the LLVM loop vectoriser cannot turn into SIMD instructions.  The
functions here are written with arithmetic and bit manipulation only, without
branches, so a loop that calls them vectorises (AVX2 and wider).  They follow
the classic fdlibm algorithms (Sun Microsystems, as maintained in musl libc):

* :func:`log_positive`: reduction ``x = 2**k (1 + f)`` with ``1 + f`` in
  ``[sqrt(2)/2, sqrt(2))``, then ``log(1 + f) = 2 s + s R(s**2)`` with
  ``s = f / (2 + f)`` and a degree-14 minimax polynomial;
* :func:`sincos`: Cody--Waite reduction by ``pi/2`` with a 119-bit split of
  ``pi/2`` (exact for the arguments ``[0, 2 pi]`` of Box--Muller), then the
  minimax kernels on ``[-pi/4, pi/4]`` and a branch-free choice of quadrant.

No fused multiply-adds are used, so the results are the same on every machine
and in scalar and vectorised code.  Accuracy against NumPy is asserted in the
tests (at most 1 ulp for ``log`` on ``(0, 1)``, 2 ulp for ``sin``/``cos`` on
``[0, 2 pi]``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import cast

import numba as nb
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["log_positive", "sincos"]


def _f(bits: int) -> float:
    """The float64 with the given IEEE-754 bit pattern (constants are written as bits to be exact)."""
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def _float_bits_typer(typingctx, x):
    """The bits of a float64 as an int64 (a no-op reinterpretation)."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(x), codegen


def _bits_float_typer(typingctx, x):
    """The float64 whose bits are the 64-bit integer ``x`` (a no-op reinterpretation)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(x), codegen


_float_bits = cast(Callable[[float], int], intrinsic(_float_bits_typer))
_bits_float = cast(Callable[[int], float], intrinsic(_bits_float_typer))

# log (fdlibm e_log.c, branch-free form of musl's log.c before 2018)
_LN2_HI = _f(0x3FE62E42FEE00000)
_LN2_LO = _f(0x3DEA39EF35793C76)
_LG1 = _f(0x3FE5555555555593)
_LG2 = _f(0x3FD999999997FA04)
_LG3 = _f(0x3FD2492494229359)
_LG4 = _f(0x3FCC71C51D8E78AF)
_LG5 = _f(0x3FC7466496CB03DE)
_LG6 = _f(0x3FC39A09D078C69F)
_LG7 = _f(0x3FC2F112DF3E5244)
_SQRT_HALF_HI = 0x3FE6A09E << 32  # high word of sqrt(2)/2 in the upper 32 bits
_SHIFT = (0x3FF00000 - 0x3FE6A09E) << 32
_MANT = (1 << 52) - 1
_MAGIC = 0x4330000000000000  # bits of 2**52: bits_float(_MAGIC | n) - 2**52 == n for 0 <= n < 2**52
_TWO52 = 4503599627370496.0

# sin/cos (fdlibm k_sin.c, k_cos.c, e_rem_pio2.c)
_INVPIO2 = _f(0x3FE45F306DC9C883)
_PIO2_1 = _f(0x3FF921FB54400000)  # first 33 bits of pi/2
_PIO2_2 = _f(0x3DD0B4611A600000)  # second 33 bits
_PIO2_2T = _f(0x3BA3198A2E037073)  # pi/2 - (_PIO2_1 + _PIO2_2)
_TOINT = 1.5 * _TWO52  # adding it rounds to an integer that the low mantissa bits then hold
_S1 = _f(0xBFC5555555555549)
_S2 = _f(0x3F8111111110F8A6)
_S3 = _f(0xBF2A01A019C161D5)
_S4 = _f(0x3EC71DE357B1FE7D)
_S5 = _f(0xBE5AE5E68A2B9CEB)
_S6 = _f(0x3DE5D93A5ACFD57C)
_C1 = _f(0x3FA555555555554C)
_C2 = _f(0xBF56C16C16C15177)
_C3 = _f(0x3EFA01A019CB1590)
_C4 = _f(0xBE927E4F809C52AD)
_C5 = _f(0x3E21EE9EBDB4B1C4)
_C6 = _f(0xBDA8FAE9BE8838D4)


@nb.njit(cache=True, inline="always")
def log_positive(x: float) -> float:
    """Natural logarithm of a positive, finite, normal float64, without branches.

    Accurate to within 1 ulp of ``numpy.log`` on ``(0, 1)`` (asserted by the
    tests); zero, negative, subnormal, infinite and NaN arguments are not
    handled (the result is meaningless).  Callable from Python and from Numba
    code, where loops calling it vectorise.

    Parameters
    ----------
    x : float
        Positive normal number.

    Returns
    -------
    float

    Examples
    --------
    >>> from deeplimits.rng.elementary import log_positive
    >>> log_positive(0.5)
    -0.6931471805599453
    """
    ix = _float_bits(x) + _SHIFT
    e = ix >> 52  # biased exponent of the reduced argument (0x3ff + k)
    xr = _bits_float((ix & _MANT) + _SQRT_HALF_HI)  # 1 + f in [sqrt(2)/2, sqrt(2))
    f = xr - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    dk = _bits_float(_MAGIC | e) - (_TWO52 + 1023.0)
    return s * (hfsq + r) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


@nb.njit(cache=True, inline="always")
def sincos(x: float) -> tuple[float, float]:
    """``(sin(x), cos(x))`` for ``0 <= x <= 2 pi`` (somewhat beyond), without branches.

    Within 2 ulp of ``numpy.sin``/``numpy.cos`` on ``[0, 2 pi]`` (asserted by
    the tests).  The reduction by ``pi/2`` is exact for ``|x| < 2**20``; larger
    arguments are not supported.

    Parameters
    ----------
    x : float
        Angle in radians.

    Returns
    -------
    tuple of float
        ``(sin(x), cos(x))``.

    Examples
    --------
    >>> from deeplimits.rng.elementary import sincos
    >>> s, c = sincos(0.5)
    >>> bool(abs(s - 0.479425538604203) < 1e-15 and abs(c - 0.8775825618903728) < 1e-15)
    True
    """
    big = x * _INVPIO2 + _TOINT
    n = _float_bits(big)  # low bits: the nearest integer to x / (pi/2)
    fn = big - _TOINT
    t = x - fn * _PIO2_1
    w = fn * _PIO2_2
    r = t - w
    w = fn * _PIO2_2T - ((t - r) - w)
    y0 = r - w
    y1 = (r - y0) - w
    # kernels on [-pi/4, pi/4] with the tail y1 (musl __sin.c, __cos.c)
    z = y0 * y0
    w = z * z
    rs = _S2 + z * (_S3 + z * _S4) + z * w * (_S5 + z * _S6)
    v = z * y0
    sk = y0 - ((z * (0.5 * y1 - v * rs) - y1) - v * _S1)
    rc = z * (_C1 + z * (_C2 + z * _C3)) + w * w * (_C4 + z * (_C5 + z * _C6))
    hz = 0.5 * z
    wc = 1.0 - hz
    ck = wc + (((1.0 - wc) - hz) + (z * rc - y0 * y1))
    # quadrant n mod 4: swap sin and cos when n is odd, then set the signs
    sb = _float_bits(sk)
    cb = _float_bits(ck)
    odd = -(n & 1)
    sin_bits = (sb & ~odd) | (cb & odd)
    cos_bits = (cb & ~odd) | (sb & odd)
    sin_bits ^= (n & 2) << 62
    cos_bits ^= ((n + 1) & 2) << 62
    return _bits_float(sin_bits), _bits_float(cos_bits)
