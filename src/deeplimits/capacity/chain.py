"""Exact propagation of the capacity distribution through a stack of conv layers.

The capacity distribution ``c_l`` on the lattice of positions obeys the Markov rule
(Donier 2019; transition probabilities from :meth:`ConvLayer.transition`)::

    c_l(y) = sum_x c_{l+1}(x) P_l(x -> y),

run from the output (``l = L``) to the input (``l = 0``).  Two exact methods:

* ``"stencil"``: a Numba scatter loop, ``O(L * sites * taps)``, any boundary, any stack;
* ``"fft"``: for periodic boundaries only, ``c_0 = IFFT(FFT(c_L) * prod_l FFT(p_l))`` with
  runs of identical layers raised to a power, ``O(sites log sites + #distinct layers * sites)``.

Both are exact up to floating-point roundoff (they agree to ~1e-15).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._stack import check_stack, pack_stack, transitions
from ._validate import check_capacity
from .lattice import LOST, REFUSED, jump_target
from .layers import ConvLayer

__all__ = ["propagate", "chain_moments"]


@nb.njit(cache=True)
def _stencil(c, offs, probs, nk, bcode, history):
    # Scatter form, walker direction: mass at (x, y) of layer l+1 moves to (x, y) + offset.
    # Layers are applied from the last (output side) to the first (input side).
    nx, ny = c.shape
    L = offs.shape[0]
    cur = c.copy()
    new = np.empty_like(cur)
    if history.shape[0] > 0:
        history[L] = cur
    for l in range(L - 1, -1, -1):
        new[:, :] = 0.0
        b = bcode[l]
        for x in range(nx):
            for y in range(ny):
                m = cur[x, y]
                if m == 0.0:
                    continue
                for k in range(nk[l]):
                    tx, sx = jump_target(x, offs[l, k, 0], nx, b)
                    ty, sy = jump_target(y, offs[l, k, 1], ny, b)
                    if sx == LOST or sy == LOST:  # absorbing: the capacity leaves the lattice
                        continue
                    if sx == REFUSED or sy == REFUSED:  # reflecting: the jump is refused, the walker stays
                        tx = x
                        ty = y
                    new[tx, ty] += m * probs[l, k]
        cur, new = new, cur
        if history.shape[0] > 0:
            history[l] = cur
    return cur


def _symbol(trans, shape):
    """FFT of the one-step kernel placed on the periodic lattice."""
    k = np.zeros(shape)
    idx = tuple((trans.offsets[:, ax] % shape[ax]) for ax in range(len(shape)))
    np.add.at(k, idx, trans.probs)
    return np.fft.fftn(k)


def _propagate_fft(layers, c):
    shape = c.shape
    chat = np.fft.fftn(c)
    trans = transitions(layers)
    i = 0
    while i < len(trans):  # runs of identical layers -> one power
        j = i
        while j + 1 < len(trans) and (trans[j + 1] is trans[i] or _same(trans[j + 1], trans[i])):
            j += 1
        chat = chat * _symbol(trans[i], shape) ** (j - i + 1)
        i = j + 1
    return np.real(np.fft.ifftn(chat))


def _same(t1, t2):
    return (
        t1.offsets.shape == t2.offsets.shape
        and np.array_equal(t1.offsets, t2.offsets)
        and np.array_equal(t1.probs, t2.probs)
    )


def propagate(
    layers: Sequence[ConvLayer], c_out: ArrayLike, *, method: str = "auto", return_history: bool = False
) -> Any:
    """Propagate a capacity distribution from the output of a stack back to its input.

    Parameters
    ----------
    layers : sequence of ConvLayer
        Ordered from the input (``layers[0]``) to the output; all of one dimension.
    c_out : array_like, 1-D ``(N,)`` or 2-D ``(Nx, Ny)``
        Capacity at the output (e.g. a unit mass on the output unit's position); finite,
        non-negative.  Its shape is the lattice.
    method : {"auto", "stencil", "fft"}
        ``"fft"`` requires every layer periodic; ``"auto"`` uses it then (without history),
        otherwise the stencil.
    return_history : bool
        Also return the capacity at every layer.

    Returns
    -------
    c_in : ndarray, shape of ``c_out``
        Capacity at the input.  Its total is ``c_out.sum()`` minus what sinks and absorbing
        boundaries removed.
    history : ndarray (L + 1, *shape), only if ``return_history``
        ``history[l]`` is the capacity at layer ``l`` (0 = input, L = output).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import propagate, residual_stack
    >>> c = propagate(residual_stack([1.0, 2.0, 1.0], 4, a=1.0), np.eye(7)[3])
    >>> c.round(4).tolist(), round(float(c.sum()), 12)
    ([0.0033, 0.0388, 0.2144, 0.487, 0.2144, 0.0388, 0.0033], 1.0)
    """
    if len(tuple(layers)) == 0:
        c = np.asarray(c_out, dtype=np.float64)
        c = check_capacity(c, c.ndim if c.ndim in (1, 2) else 1)
        return (c.copy(), c[None].copy()) if return_history else c.copy()
    layers = check_stack(layers)
    c = check_capacity(c_out, layers[0].ndim)
    layers = check_stack(layers, c.shape)
    if method not in ("auto", "stencil", "fft"):
        raise ValueError(f"method must be 'auto', 'stencil' or 'fft', got {method!r}")
    periodic = all(lay.boundary == "periodic" for lay in layers)
    if method == "fft":
        if not periodic:
            raise ValueError("method='fft' needs every layer periodic (circular padding)")
        if return_history:
            raise ValueError("method='fft' does not record the history; use method='stencil'")
    if method == "fft" or (method == "auto" and periodic and not return_history):
        return _propagate_fft(layers, c)
    c2 = c.reshape(c.shape[0], -1)
    offs, probs, nk, bcode = pack_stack(layers)
    L = len(layers)
    history = np.zeros((L + 1,) + c2.shape) if return_history else np.zeros((0, 1, 1))
    out = _stencil(c2, offs, probs, nk, bcode, history)
    if return_history:
        return out.reshape(c.shape), history.reshape((L + 1,) + c.shape)
    return out.reshape(c.shape)


def chain_moments(layers: Sequence[ConvLayer]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact mean and covariance of the total displacement on an unbounded lattice.

    For independent layers (no boundary effects, no sinks) the displacement is a sum of
    independent jumps, so means and covariances add: ``mean = sum_l mu1_l``,
    ``cov = sum_l (mu2_l - mu1_l mu1_l^T)``.  With sinks, the moments are those of the
    surviving capacity (jump law conditioned on not being absorbed).

    Parameters
    ----------
    layers : sequence of ConvLayer

    Returns
    -------
    mean : ndarray (ndim,)
    cov : ndarray (ndim, ndim)

    Examples
    --------
    >>> from deeplimits.capacity import chain_moments, residual_stack
    >>> mean, cov = chain_moments(residual_stack([0.0, 1.0, 1.0], 4, a=1.0))
    >>> mean.round(6).tolist(), cov.round(6).tolist()
    ([0.666667], [[0.555556]])
    """
    layers = check_stack(layers)
    if not layers:
        raise ValueError("layers must be non-empty")
    nd = layers[0].ndim
    mean = np.zeros(nd)
    cov = np.zeros((nd, nd))
    counts: dict[int, tuple[Any, int]] = {}
    for t in transitions(layers):  # identical layers are counted, not recomputed
        counts[id(t)] = (t, counts.get(id(t), (t, 0))[1] + 1)
    for t, n in counts.values():
        s = t.probs.sum()
        mu1, mu2 = t.moments()
        mu1, mu2 = mu1 / s, mu2 / s
        mean += n * mu1
        cov += n * (mu2 - np.outer(mu1, mu1))
    return mean, cov
