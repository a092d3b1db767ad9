"""Gram engine: exact in distribution, O(n m^2) work per layer per network.

Why it is exact
---------------
MLP.  Given the post-activations ``phi(h_l)`` (n x m), the next pre-activations
``h_{l+1} = sqrt(c/n) W_l phi(h_l)`` are linear in the fresh Gaussian ``W_l``, independent of the past:
their n rows are iid ``N(0, Phi_l)`` with ``Phi_l = (c/n) phi(h_l)^T phi(h_l)``.  Hence
``Phi_{l+1} = (c/n) sum_i phi(z_i) phi(z_i)^T`` with ``z_i`` iid ``N(0, Phi_l)``: the m x m Gram
matrices form a Markov chain and the engine samples that chain exactly -- n iid m-vectors per layer, drawn
with a factor of ``Phi_l``, never an n x n matrix.  The engine tracks only the m x m Gram (stored as
squared norms plus normalised squared distances, see ``_gram_kernels``), with an n x m scratch buffer per
network that holds the layer's post-activations while their statistics are accumulated.

ResNet.  ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l phi(h_l)``: given ``h_l`` the branch is Gaussian with iid rows
``N(0, (sigma_r^2 / d) G_l)``, ``G_l = phi(h_l)^T phi(h_l) / n``, independent of the past.  The skip
connection keeps ``h_l`` itself in the state (the Gram of ``h_l`` alone is not Markov: ``G_l`` is a
function of ``h_l``, not of ``h_l^T h_l``), so the engine keeps the n x m matrix and adds a sampled branch.

Both are O(n m^2) per layer per network, against O(n^2 m) (and n^2 Gaussian draws) for the dense engine.
Networks run in parallel (``numba.prange``); network ``k`` uses the stream ``deeplimits.rng``
``(seed, first_path + k)``, so results are bit-identical for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._gram_kernels import mlp_gram_kernel, resnet_gram_kernel

__all__ = ["mlp_gram", "resnet_gram"]


def mlp_gram(
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
    """Gram-exact MLP (module docstring): samples the Markov chain of the m x m Gram matrices.

    Parameters
    ----------
    P0, D0, n, depth, s_plus, s_minus, cnorm, layers, slot, n_nets
        As in :func:`deeplimits.networks.dense.mlp_dense` (which takes the Gram itself in addition).
    seed : int
        Kernel seed (:func:`deeplimits.rng.kernel_seed`).
    first_path : int
        Network ``k`` uses the ``deeplimits.rng`` stream ``(seed, first_path + k)``: bit-identical for any
        thread count and any split of the batch.

    Returns
    -------
    sqnorm, D : ndarray
        As in :func:`deeplimits.networks.dense.mlp_dense`.
    """
    m = P0.shape[0]
    out_P = np.empty((n_nets, layers.size, m))
    out_D = np.empty((n_nets, layers.size, m, m))
    mlp_gram_kernel(P0, D0, n, depth, float(s_plus), float(s_minus), float(cnorm), seed, first_path, slot, out_P, out_D)
    return out_P, out_D


def resnet_gram(
    P0: NDArray[np.float64],
    D0: NDArray[np.float64],
    n: int,
    depth: int,
    sigma_r: float,
    seed: int,
    first_path: int,
    layers: NDArray[np.int64],
    slot: NDArray[np.int64],
    n_nets: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gram-exact ResNet (module docstring): keeps ``h_l`` (n x m), samples each branch from its Gram.

    Parameters
    ----------
    P0, D0 : ndarray
        Diagonal of the covariance of the rows of ``h_0`` and ``2 (1 - rho_0)``.
    n, depth, sigma_r, layers, slot, n_nets
        As in :func:`deeplimits.networks.dense.resnet_dense`.
    seed : int
        Kernel seed (:func:`deeplimits.rng.kernel_seed`).
    first_path : int
        Network ``k`` uses the ``deeplimits.rng`` stream ``(seed, first_path + k)``: bit-identical for any
        thread count and any split of the batch.

    Returns
    -------
    sqnorm, D : ndarray
        As in :func:`deeplimits.networks.dense.resnet_dense`.
    """
    m = P0.shape[0]
    out_P = np.empty((n_nets, layers.size, m))
    out_D = np.empty((n_nets, layers.size, m, m))
    resnet_gram_kernel(P0, D0, n, depth, float(sigma_r), seed, first_path, slot, out_P, out_D)
    return out_P, out_D
