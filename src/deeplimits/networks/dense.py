"""Dense engine: networks with real weight matrices, as a user would write them (numpy + BLAS).

Network ``k`` draws its weights from ``numpy.random.default_rng([seed, first_path + k])`` in layer order, so a
result depends only on ``(seed, k)`` and not on how networks are batched.  Networks are processed in
batches with one batched matmul per layer; the cost is O(n^2) per layer per network (drawing the
n x n weight matrix dominates when m is small).

The input of m vectors is realised as ``x = sqrt(m) Lambda^1/2 Q^T`` (``Phi_0 = Q Lambda Q^T``), so
the first pre-activations ``h_1 = W_0 x / sqrt(m)`` (``W_0`` n x m, iid N(0,1)) have iid rows
``N(0, Phi_0)`` exactly, as in the Gram engine.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .activations import LeakySlopes
from .spec import NetworkSpec

__all__ = ["mlp_dense", "resnet_dense"]

_BATCH_ELEMENTS = 1 << 24  # weights held at once (128 MiB of float64)


def _input_vectors(gram):
    lam, q = np.linalg.eigh(gram)
    m = gram.shape[0]
    return np.sqrt(m) * (np.sqrt(np.clip(lam, 0.0, None))[:, None] * q.T)


def _column_stats(h):
    """S (B, m) = squared column norms; D (B, m, m) = squared distances of normalised columns."""
    S = np.einsum("kia,kia->ka", h, h)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = h / np.sqrt(S)[:, None, :]
        diff = e[:, :, :, None] - e[:, :, None, :]
        D = np.einsum("kiab,kiab->kab", diff, diff)
    dead = S == 0
    D = np.where(dead[:, :, None] | dead[:, None, :], np.nan, D)
    return S, D


def _input_layer(spec, lo, hi, x):
    """Per-network generators ``default_rng([seed, first_path + k])`` of networks ``lo..hi-1`` of the batch and
    their first pre-activations ``h = W_0 x / sqrt(m)`` (shape ``(hi - lo, n, m)``); the generators go on to draw
    the deeper layers, so a network's weights do not depend on the batch it is drawn in."""
    m = x.shape[0]
    first = spec.first_path
    rngs = [np.random.default_rng([spec.seed, k]) for k in range(first + lo, first + hi)]
    w0 = np.stack([r.standard_normal((spec.width, m)) for r in rngs])
    return rngs, (w0 @ x) / np.sqrt(m)


def _batches(n_nets, n):
    b = max(1, _BATCH_ELEMENTS // (n * n))
    for start in range(0, n_nets, b):
        yield start, min(n_nets, start + b)


def _run(spec, first, c, observe, advance):
    """Run the networks of ``spec`` in batches, layer by layer from layer ``first``.

    The statistics of layer ``l`` are those of ``a = observe(h_l)`` (squared norms times ``c / n``); the
    next layer is ``advance(h_l, a, W_l)`` with fresh weights ``W_l`` (n x n, iid N(0, 1)).  A saved
    layer 0 below ``first`` holds the exact statistics of the input Gram matrix.
    """
    n = spec.width
    x = _input_vectors(spec.gram)
    out_P, out_D = spec.empty_outputs()
    if first > 0 and spec.slot[0] >= 0:
        out_P[:, spec.slot[0]] = spec.P0
        out_D[:, spec.slot[0]] = spec.D0
    for lo, hi in _batches(spec.n_nets, n):
        rngs, h = _input_layer(spec, lo, hi, x)
        W = np.empty((hi - lo, n, n))
        for layer in range(first, spec.depth + 1):
            a = observe(h)
            k = spec.slot[layer]
            if k >= 0:
                S, D = _column_stats(a)
                out_P[lo:hi, k] = c * S / n
                out_D[lo:hi, k] = D
            if layer == spec.depth:
                break
            for b, r in enumerate(rngs):
                r.standard_normal(out=W[b])
            h = advance(h, a, W)
    return out_P, out_D


def mlp_dense(spec: NetworkSpec, slopes: LeakySlopes) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dense MLP ``h_{l+1} = sqrt(c/n) W_l phi(h_l)`` with real n x n weight matrices.

    Called by :func:`deeplimits.networks.leaky_mlp` after validation.

    Parameters
    ----------
    spec : NetworkSpec
        The networks; network ``k`` uses ``numpy.random.default_rng([seed, first_path + k])``.
    slopes : LeakySlopes
        The activation ``phi`` and its He constant ``c``.

    Returns
    -------
    sqnorm : ndarray, shape (n_nets, n_save, m)
        The diagonal of ``Phi_l``.
    D : ndarray, shape (n_nets, n_save, m, m)
        ``2 (1 - rho)``, NaN where a column died.
    """
    s_plus, s_minus, cnorm = slopes.s_plus, slopes.s_minus, slopes.c
    n = spec.width

    def advance(h, a, W):
        h = np.matmul(W, a)
        h *= np.sqrt(cnorm / n)
        return h

    return _run(spec, 1, cnorm, lambda h: np.where(h > 0, s_plus * h, s_minus * h), advance)


def resnet_dense(spec: NetworkSpec, sigma_r: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dense ResNet ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l)``, ``W_l`` iid N(0, sigma_r^2).

    Called by :func:`deeplimits.networks.resnet` after validation.

    Parameters
    ----------
    spec : NetworkSpec
        The networks (``gram`` = covariance of the rows of ``h_0``); network ``k`` uses
        ``numpy.random.default_rng([seed, first_path + k])``.
    sigma_r : float
        Standard deviation of the branch weights.

    Returns
    -------
    sqnorm : ndarray, shape (n_nets, n_save, m)
        ``|h_l^a|^2 / n``.
    D : ndarray, shape (n_nets, n_save, m, m)
        ``2 (1 - rho)`` of the columns of ``h_l``.
    """
    branch = sigma_r / np.sqrt(spec.depth * spec.width)
    return _run(spec, 0, 1.0, lambda h: h, lambda h, a, W: h + branch * np.matmul(W, np.maximum(h, 0.0)))
