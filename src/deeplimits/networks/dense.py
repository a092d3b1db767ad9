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


def _input_layer(seed, lo, hi, n, x):
    """Per-network generators ``default_rng([seed, k])`` of networks ``lo..hi-1`` and their first
    pre-activations ``h = W_0 x / sqrt(m)`` (shape ``(hi - lo, n, m)``); the generators go on to draw
    the deeper layers, so a network's weights do not depend on the batch it is drawn in."""
    m = x.shape[0]
    rngs = [np.random.default_rng([seed, k]) for k in range(lo, hi)]
    w0 = np.stack([r.standard_normal((n, m)) for r in rngs])
    return rngs, (w0 @ x) / np.sqrt(m)


def _batches(n_nets, n):
    b = max(1, _BATCH_ELEMENTS // (n * n))
    for start in range(0, n_nets, b):
        yield start, min(n_nets, start + b)


def mlp_dense(
    gram: NDArray[np.float64],
    P0: NDArray[np.float64],
    D0: NDArray[np.float64],
    n: int,
    depth: int,
    s_plus: float,
    s_minus: float,
    cnorm: float,
    seed: int,
    first_path: int,
    layers: NDArray[np.int64],
    slot: NDArray[np.int64],
    n_nets: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dense MLP ``h_{l+1} = sqrt(c/n) W_l phi(h_l)`` with real n x n weight matrices.

    Called by :func:`deeplimits.networks.leaky_mlp` after validation.

    Parameters
    ----------
    gram : ndarray, shape (m, m)
        Input Gram ``Phi_0``.
    P0, D0 : ndarray
        Its diagonal and ``2 (1 - rho_0)`` (stored as layer 0).
    n, depth : int
        Width and number of layers.
    s_plus, s_minus, cnorm : float
        Slopes and He constant.
    seed : int
        Network ``k`` uses ``numpy.random.default_rng([seed, first_path + k])``.
    first_path : int
        Stream of the batch's first network.
    layers, slot : ndarray of int64
        Saved layers and slot table (:func:`deeplimits.networks.batch.save_slots`).
    n_nets : int
        Number of networks.

    Returns
    -------
    sqnorm : ndarray, shape (n_nets, n_save, m)
    D : ndarray, shape (n_nets, n_save, m, m)
        ``2 (1 - rho)``, NaN where a column died.
    """
    m = gram.shape[0]
    x = _input_vectors(gram)
    out_P = np.empty((n_nets, layers.size, m))
    out_D = np.empty((n_nets, layers.size, m, m))
    if slot[0] >= 0:
        out_P[:, slot[0]] = P0
        out_D[:, slot[0]] = D0
    for lo, hi in _batches(n_nets, n):
        rngs, h = _input_layer(seed, first_path + lo, first_path + hi, n, x)
        W = np.empty((hi - lo, n, n))
        for layer in range(1, depth + 1):
            a = np.where(h > 0, s_plus * h, s_minus * h)
            k = slot[layer]
            if k >= 0:
                S, D = _column_stats(a)
                out_P[lo:hi, k] = cnorm * S / n
                out_D[lo:hi, k] = D
            if layer == depth:
                break
            for b, r in enumerate(rngs):
                r.standard_normal(out=W[b])
            h = np.matmul(W, a)
            h *= np.sqrt(cnorm / n)
    return out_P, out_D


def resnet_dense(
    gram: NDArray[np.float64],
    n: int,
    depth: int,
    sigma_r: float,
    seed: int,
    first_path: int,
    layers: NDArray[np.int64],
    slot: NDArray[np.int64],
    n_nets: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dense ResNet ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l)``, ``W_l`` iid N(0, sigma_r^2).

    Called by :func:`deeplimits.networks.resnet` after validation.

    Parameters
    ----------
    gram : ndarray, shape (m, m)
        Covariance of the rows of ``h_0``.
    n, depth : int
        Width and number of residual blocks.
    sigma_r : float
        Standard deviation of the branch weights.
    seed : int
        Network ``k`` uses ``numpy.random.default_rng([seed, first_path + k])``.
    first_path : int
        Stream of the batch's first network.
    layers, slot : ndarray of int64
        Saved layers and slot table.
    n_nets : int
        Number of networks.

    Returns
    -------
    sqnorm : ndarray, shape (n_nets, n_save, m)
        ``|h_l^a|^2 / n``.
    D : ndarray, shape (n_nets, n_save, m, m)
        ``2 (1 - rho)`` of the columns of ``h_l``.
    """
    m = gram.shape[0]
    x = _input_vectors(gram)
    out_P = np.empty((n_nets, layers.size, m))
    out_D = np.empty((n_nets, layers.size, m, m))
    branch = sigma_r / np.sqrt(depth * n)
    for lo, hi in _batches(n_nets, n):
        rngs, h = _input_layer(seed, first_path + lo, first_path + hi, n, x)
        W = np.empty((hi - lo, n, n))
        for layer in range(0, depth + 1):
            k = slot[layer]
            if k >= 0:
                S, D = _column_stats(h)
                out_P[lo:hi, k] = S / n
                out_D[lo:hi, k] = D
            if layer == depth:
                break
            for b, r in enumerate(rngs):
                r.standard_normal(out=W[b])
            h = h + branch * np.matmul(W, np.maximum(h, 0.0))
    return out_P, out_D
