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

from ..rng import kernel_seed
from ._gram_kernels import mlp_gram_kernel, resnet_gram_kernel
from .activations import LeakySlopes
from .spec import NetworkSpec

__all__ = ["mlp_gram", "resnet_gram"]


def _run(kernel, spec, *model):
    # the kernels take the networks' arguments, the outputs, then the model's own parameters
    out_P, out_D = spec.empty_outputs()
    first = spec.first_path
    kernel(spec.P0, spec.D0, spec.width, spec.depth, kernel_seed(spec.seed), first, spec.slot, out_P, out_D, *model)
    return out_P, out_D


def mlp_gram(spec: NetworkSpec, slopes: LeakySlopes) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gram-exact MLP (module docstring): samples the Markov chain of the m x m Gram matrices.

    Parameters
    ----------
    spec : NetworkSpec
        The networks; network ``k`` uses the ``deeplimits.rng`` stream ``(seed, first_path + k)``:
        bit-identical for any thread count and any split of the batch.
    slopes : LeakySlopes
        The activation and its He constant.

    Returns
    -------
    sqnorm, D : ndarray
        As in :func:`deeplimits.networks.dense.mlp_dense`.
    """
    return _run(mlp_gram_kernel, spec, slopes.s_plus, slopes.s_minus, slopes.c)


def resnet_gram(spec: NetworkSpec, sigma_r: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gram-exact ResNet (module docstring): keeps ``h_l`` (n x m), samples each branch from its Gram.

    Parameters
    ----------
    spec : NetworkSpec
        The networks (``gram`` = covariance of the rows of ``h_0``), with the streams of :func:`mlp_gram`.
    sigma_r : float
        Standard deviation of the branch weights.

    Returns
    -------
    sqnorm, D : ndarray
        As in :func:`deeplimits.networks.dense.resnet_dense`.
    """
    return _run(resnet_gram_kernel, spec, sigma_r)
