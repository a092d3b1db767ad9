"""The scalar path kernel of the specialised unshaped integrators (one path per thread, the package's noise model)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...rng import stream_state
from ...sde.domain import enforce_box
from ...sde.noise import draw_increments, new_carry
from ...sde.special import FAIL_DOMAIN, FAIL_STATE
from .equation import q_drift_value

__all__ = ["path_kernel", "J_SCHEME", "Y_IMPLICIT", "Q_EXPLICIT", "Q_IMPLICIT"]

_SQRT2 = math.sqrt(2.0)


@nb.njit(cache=True, inline="always")
def _implicit_q_root(r, alpha, beta):
    # Unique positive root x of p(x) = alpha x^3 + beta x^2 - r (alpha > 0, r > 0): p(0) < 0 and
    # p(x) = x^2 (alpha x + beta) <= 0 < r for x <= -beta/alpha, so the root exceeds max(0, -beta/alpha),
    # where p is increasing and convex; Newton started at x0 = max(0, -beta/alpha) + (r/alpha)^{1/3}
    # (p(x0) >= 0) therefore decreases monotonically to the root, with no overshoot.
    x = max(0.0, -beta / alpha) + (r / alpha) ** (1.0 / 3.0)
    for _ in range(200):
        px = (alpha * x + beta) * x * x - r
        dp = (3.0 * alpha * x + 2.0 * beta) * x
        step = px / dp
        x -= step
        if abs(step) <= 4e-16 * x:
            break
    return x


# scheme kinds of path_kernel
J_SCHEME, Y_IMPLICIT, Q_EXPLICIT, Q_IMPLICIT = 0, 1, 2, 3


@nb.njit(cache=True, inline="always")
def _step(kind, x, t0, t1, h, dB, milstein, p):
    """One step of the scalar schemes of this module; returns (x_next, reflected)."""
    if kind == J_SCHEME:
        # dJ = (1 + 2J) dt - sqrt2 J dB; Milstein: (1/2) g g' (dB^2 - h) with g = -sqrt2 J, g' = -sqrt2
        xn = x + (1.0 + 2.0 * x) * h - _SQRT2 * x * dB
        if milstein:
            xn += x * (dB * dB - h)
        return xn, False
    if kind == Y_IMPLICIT:
        # dy = [(y* - y)/t + 2y] dt - sqrt2 y dB; singular part (y* - y)/t implicit at t_{k+1} > 0
        rhs = x * (1.0 + 2.0 * h) + h * p / t1 - _SQRT2 * x * dB
        if milstein:
            rhs += x * (dB * dB - h)
        return rhs / (1.0 + h / t1), False
    # q-schemes, f(t, q) = (2 q - a q^{3/2}) / t + 2 q, a = p, v = q + 2 sqrt2 q dB [+ 4 q (dB^2 - h)]:
    #   explicit:  q_{k+1} = v + h f(t_k, q_k)                 (needs t_k > 0)
    #   implicit:  q_{k+1} - h f(t_{k+1}, q_{k+1}) = v,  i.e. with x = sqrt(q_{k+1}):
    #              (a h / t_{k+1}) x^3 + (1 - 2h / t_{k+1} - 2h) x^2 = v
    v = x * (1.0 + 2.0 * _SQRT2 * dB)
    if milstein:
        v += 4.0 * x * (dB * dB - h)
    if kind == Q_EXPLICIT:
        v += q_drift_value(t0, x, p) * h
    reflected = False
    if v <= 0.0:
        # the Euler noise term can overshoot below 0 (probability ~ P(Z < -1/(2 sqrt(2h))) per step;
        # in the implicit Milstein scheme v >= q (1/2 - 4h) > 0 for h < 1/8): reflect, and count it
        v = -v if v < 0.0 else 1e-300
        reflected = True
    if kind == Q_IMPLICIT:
        r = _implicit_q_root(v, p * h / t1, 1.0 - 2.0 * h / t1 - 2.0 * h)
        return r * r, reflected
    return v, reflected


@nb.njit(cache=True, parallel=True)
def path_kernel(
    kind, milstein, p, grid, save_idx, y0, seed, first_path, dW, use_dW, lo, hi, closed, code, ys, fail, exits
):
    """Run ``y0.shape[0]`` paths of scheme ``kind``, writing a ``KernelResult``'s ``ys``, ``fail`` and ``exits``.

    ``lo, hi, closed, code`` are the SDE's box domain and rule (as in :mod:`deeplimits.sde.kernels`);
    a q-scheme's own reflection of ``v <= 0`` counts as an exit.
    """
    # one path per prange iteration, stream first_path + i (independent of threads and batches)
    n_steps = grid.size - 1
    for i in nb.prange(y0.shape[0]):
        s, block, pos, left = new_carry(stream_state(seed, first_path + i), n_steps)
        dw = np.empty(1)
        x = y0[i, 0]
        xa = np.empty(1)
        j = 0
        if save_idx[0] == 0:
            ys[i, 0, 0] = x
            j = 1
        for k in range(n_steps):
            h = grid[k + 1] - grid[k]
            if use_dW:
                dB = dW[i, k, 0]
            else:
                s, block, pos, left = draw_increments(dw, math.sqrt(h), s, block, pos, left)
                dB = dw[0]
            x, reflected = _step(kind, x, grid[k], grid[k + 1], h, dB, milstein, p)
            if not np.isfinite(x):
                fail[i, 0] = k + 1
                fail[i, 1] = FAIL_STATE
                break
            xa[0] = x
            if enforce_box(xa, lo, hi, closed, code) or reflected:
                exits[i] += 1
                if code == 1:
                    fail[i, 0] = k + 1
                    fail[i, 1] = FAIL_DOMAIN
                    break
                x = xa[0]
            if j < save_idx.size and save_idx[j] == k + 1:
                ys[i, j, 0] = x
                j += 1
