"""Small dense linear algebra inside Numba kernels (no allocation, no LAPACK call per path)."""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["solve_inplace"]


@nb.njit(cache=True)
def solve_inplace(A, b):
    """Solve ``A x = b`` by Gaussian elimination with partial pivoting; ``b`` <- x.

    Returns False if ``A`` is numerically singular.  Small dense systems only.
    """
    n = b.size
    for c in range(n):
        piv = c
        best = abs(A[c, c])
        for r in range(c + 1, n):
            if abs(A[r, c]) > best:
                best = abs(A[r, c])
                piv = r
        if best == 0.0 or not np.isfinite(best):
            return False
        if piv != c:
            for q in range(n):
                tmp = A[c, q]
                A[c, q] = A[piv, q]
                A[piv, q] = tmp
            tmp = b[c]
            b[c] = b[piv]
            b[piv] = tmp
        for r in range(c + 1, n):
            fac = A[r, c] / A[c, c]
            if fac != 0.0:
                for q in range(c, n):
                    A[r, q] -= fac * A[c, q]
                b[r] -= fac * b[c]
    for c in range(n - 1, -1, -1):
        acc = b[c]
        for q in range(c + 1, n):
            acc -= A[c, q] * b[q]
        b[c] = acc / A[c, c]
    return True
