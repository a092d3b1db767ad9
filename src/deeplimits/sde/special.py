"""Specialised kernels: faster or more accurate integrators for one SDE, behind :func:`~deeplimits.sde.solve`.

An :class:`~deeplimits.sde.SDE` may carry ``kernels={scheme: run}``.  When
``solve(sde, ..., scheme=scheme)`` is called, the arguments are checked as for
the generic kernels, then ``run(call)`` receives a :class:`KernelCall` and
returns a :class:`KernelResult`.  A specialised kernel must draw its noise with
:func:`deeplimits.sde.noise.draw_increments` (carry from :func:`~deeplimits.sde.noise.new_carry`) from stream
``(call.seed, call.first_path + i)`` (or read ``call.dW``), so it sees exactly
the Brownian paths of the generic kernels, and must count domain exits in
``exits``.  A path that stops is marked in ``fail`` with one of the causes
``FAIL_STATE`` (non-finite state) or ``FAIL_DOMAIN`` (left a domain whose rule
is ``"raise"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._steps import FAIL_DOMAIN, FAIL_STATE

__all__ = ["KernelCall", "KernelResult", "FAIL_STATE", "FAIL_DOMAIN"]


@dataclass(frozen=True)
class KernelCall:
    """Checked arguments handed to a specialised kernel.

    Attributes
    ----------
    sde : SDE
    y0 : ndarray, shape (n_paths, dim)
    grid : ndarray, shape (n_steps + 1,)
    save_idx : ndarray of int64, shape (n_save,)
        Grid indices of the output times.
    seed : int
        Seed as a signed 64-bit integer (the kernels' type).
    first_path : int
        Global index of row 0.
    dW : ndarray, shape (n_paths, n_steps, n_noise), or None
        Given increments, or None to draw them.
    theta, newton_tol, newton_maxiter
        Options of the implicit schemes.
    check_stability : bool
        ``solve``'s option: an explicit kernel checks its grid with
        :func:`deeplimits.sde.evaluate.check_explicit_stability` when it is set.
    """

    sde: Any
    y0: NDArray[np.float64]
    grid: NDArray[np.float64]
    save_idx: NDArray[np.int64]
    seed: int
    first_path: int
    dW: NDArray[np.float64] | None
    theta: float = 1.0
    newton_tol: float = 1e-12
    newton_maxiter: int = 50
    check_stability: bool = True


@dataclass
class KernelResult:
    """What a kernel returns: states, failures and domain exits.

    Attributes
    ----------
    ys : ndarray, shape (n_paths, n_save, dim)
    fail : ndarray of int64, shape (n_paths, 2)
        ``(step + 1, cause)`` for a path that stopped, ``(0, 0)`` otherwise.
    exits : ndarray of int64, shape (n_paths,)
        Steps of each path that left the domain.
    """

    ys: NDArray[np.float64]
    fail: NDArray[np.int64]
    exits: NDArray[np.int64]

    @classmethod
    def empty(cls, n_paths: int, n_save: int, dim: int) -> KernelResult:
        """Outputs filled with NaN / zeros, ready for a kernel to write into."""
        return cls(
            ys=np.full((n_paths, n_save, dim), np.nan),
            fail=np.zeros((n_paths, 2), dtype=np.int64),
            exits=np.zeros(n_paths, dtype=np.int64),
        )
