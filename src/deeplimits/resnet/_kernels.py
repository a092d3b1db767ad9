"""Numba building blocks shared by the dense and the exact ResNet simulators."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..rng import fill_normals, stream_state

# The random numbers are inlined into the cached kernels of this module, and Numba's on-disk cache does
# not see changes to imported functions: the normals changed with the vectorised Box--Muller blocks of
# deeplimits.rng (2026-12), and this note changes this file so that stale cached kernels are recompiled.

#: Residual-branch variants: ``cohen``: h + a sigma(W h + b);  ``res1``: h + a V sigma(h);
#: ``res3``: h + a V sigma(W h).
VARIANTS = {"cohen": 0, "res1": 1, "res3": 2}
#: Activations with their Numba codes.
ACTIVATIONS = {"linear": 0, "relu": 1, "tanh": 2, "swish": 3}


def _code(table, name, value):
    # the Numba integer code of a named option, or a ValueError naming the argument and the choices
    if value not in table:
        raise ValueError(f"{name} must be one of {sorted(table)}, got {value!r}")
    return table[value]


def variant_code(variant: str) -> int:
    """Numba code of a residual-branch variant (``ValueError`` for an unknown name).

    Parameters
    ----------
    variant : {"cohen", "res1", "res3"}

    Returns
    -------
    int
    """
    return _code(VARIANTS, "variant", variant)


def activation_code(activation: str) -> int:
    """Numba code of an activation (``ValueError`` for an unknown name).

    Parameters
    ----------
    activation : {"linear", "relu", "tanh", "swish"}

    Returns
    -------
    int
    """
    return _code(ACTIVATIONS, "activation", activation)


@nb.njit(cache=True, inline="always")
def act(x, code):
    """The activation ``sigma(x)`` (Numba, inlined).

    Parameters
    ----------
    x : float
    code : int
        0 linear, 1 ReLU, 2 tanh, 3 swish ``x / (1 + e^-x)`` (overflow-safe form for ``x < 0``).

    Returns
    -------
    float
    """
    if code == 0:
        return x
    if code == 1:
        return x if x > 0.0 else 0.0
    if code == 2:
        return math.tanh(x)
    if x >= 0.0:
        return x / (1.0 + math.exp(-x))
    e = math.exp(x)
    return x * e / (1.0 + e)


@nb.njit(cache=True)
def norm2(h):
    """Euclidean norm of a 1-D array (Numba).

    Parameters
    ----------
    h : ndarray, shape (d,)

    Returns
    -------
    float
    """
    s = 0.0
    for i in range(h.size):
        s += h[i] * h[i]
    return math.sqrt(s)


@nb.njit(cache=True, inline="always")
def record(h, i, k, save, traj, norms):
    """Store layer ``k`` of network ``i``: its norm (returned) and, with ``save``, its state."""
    nh = norm2(h)
    norms[i, k] = nh
    if save:
        traj[i, k] = h
    return nh


@nb.njit(cache=True, inline="always")
def record_last(h, i, save, traj):
    """Without ``save`` the one state kept is the last."""
    if not save:
        traj[i, 0] = h


@nb.njit(cache=True)
def dense_step(h, V, W, b, variant, code, alpha, u, out):
    """One residual layer in place: ``h += alpha * branch(h)`` (Numba).

    Parameters
    ----------
    h : ndarray, shape (d,)
        Hidden state, updated in place.
    V, W : ndarray, shape (d, d)
        Outer and inner matrices (``W`` is Cohen's ``A``); unused ones may be placeholders.
    b : ndarray, shape (d,)
        Cohen's bias.
    variant, code : int
        Codes from :func:`variant_code` and :func:`activation_code`.
    alpha : float
        Branch scale.
    u, out : ndarray, shape (d,)
        Work arrays.
    """
    d = h.size
    if variant == 1:  # res1: V sigma(h)
        for j in range(d):
            u[j] = act(h[j], code)
    else:  # cohen: sigma(W h + b); res3: sigma(W h)
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += W[i, j] * h[j]
            if variant == 0:
                s += b[i]
            u[i] = act(s, code)
    if variant == 0:
        for i in range(d):
            h[i] += alpha * u[i]
        return
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += V[i, j] * u[j]
        out[i] = s
    for i in range(d):
        h[i] += alpha * out[i]


def dummy(ndim: int) -> np.ndarray:
    """Placeholder for an unused weight argument of the Numba kernels.

    Parameters
    ----------
    ndim : int

    Returns
    -------
    ndarray
        A zero float64 array of shape ``(1,) * ndim``.
    """
    return np.zeros((1,) * ndim)


@nb.njit(cache=True, parallel=True)
def run_given(h0, V, W, b, variant, code, alpha, save, traj, norms):
    # Networks with given weights: V, W, b of shape (n, L, ...) (placeholders for the unused ones).
    d = h0.shape[1]
    depth = norms.shape[1] - 1
    for i in nb.prange(h0.shape[0]):
        h = h0[i].copy()
        u = np.empty(d)
        out = np.empty(d)
        record(h, i, 0, save, traj, norms)
        for k in range(depth):
            Vk = V[i, k] if variant != 0 else V[0, 0]
            Wk = W[i, k] if variant != 1 else W[0, 0]
            bk = b[i, k] if variant == 0 else b[0, 0]
            dense_step(h, Vk, Wk, bk, variant, code, alpha, u, out)
            record(h, i, k + 1, save, traj, norms)
        record_last(h, i, save, traj)


@nb.njit(cache=True)
def _fill_scaled(s, a, scale):
    # Fill a C-contiguous array with scale * N(0, 1) from stream state s; returns the new state.
    flat = a.reshape(a.size)
    s = fill_normals(s, flat)
    for j in range(flat.size):
        flat[j] *= scale
    return s


@nb.njit(cache=True, parallel=True)
def run_iid(h0, seed, first, variant, code, alpha, save, traj, norms, sv, sw, sb):
    # Dense i.i.d. weights drawn layer by layer from network i's stream: per layer V_k, then W_k, then b_k.
    d = h0.shape[1]
    depth = norms.shape[1] - 1
    for i in nb.prange(h0.shape[0]):
        s = stream_state(seed, first + i)
        h = h0[i].copy()
        u = np.empty(d)
        out = np.empty(d)
        V = np.zeros((d, d))
        W = np.zeros((d, d))
        b = np.zeros(d)
        record(h, i, 0, save, traj, norms)
        for k in range(depth):
            if variant != 0:
                s = _fill_scaled(s, V, sv)
            if variant != 1:
                s = _fill_scaled(s, W, sw)
            if variant == 0 and sb > 0.0:
                s = _fill_scaled(s, b, sb)
            dense_step(h, V, W, b, variant, code, alpha, u, out)
            record(h, i, k + 1, save, traj, norms)
        record_last(h, i, save, traj)


@nb.njit(cache=True)
def act_array(x, code):
    """The activation applied to every entry of a 1-D array (Numba)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = act(x[i], code)
    return out
