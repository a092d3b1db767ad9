"""Distributionally exact O(d)-per-layer simulator for ResNets with fresh i.i.d. Gaussian weights.

When the weights of layer ``k`` are Gaussian, independent of everything before, the next hidden state
given ``h_k`` has an explicit law that needs only ``O(d)`` random numbers (conditional Gaussianity):

* ``res1``: ``V sigma(h)`` with ``V_ij ~ N(0, 1/d)`` is ``N(0, ||sigma(h)||^2/d I_d)``, so
  ``h_{k+1} = h_k + alpha ||sigma(h_k)|| / sqrt(d) xi_k``, ``xi_k ~ N(0, I_d)``;
* ``res3``: ``W h ~ N(0, ||h||^2/d I_d)``, i.e. ``W h = ||h|| / sqrt(d) z_k``; then as above with
  ``sigma(W h)`` in place of ``sigma(h)``:
  ``h_{k+1} = h_k + alpha ||sigma(||h_k|| z_k / sqrt(d))|| / sqrt(d) xi_k``;
* ``cohen``: ``A h + b`` has i.i.d. ``N(0, s_A^2 ||h||^2/d + s_b^2)`` entries, so
  ``h_{k+1} = h_k + alpha sigma(sqrt(s_A^2 ||h_k||^2/d + s_b^2) z_k)``.

Because the layers' weights are fresh, ``(h_k)`` is a Markov chain and these kernels equal the dense
ones: the whole trajectory has the same law as :func:`deeplimits.resnet.finite.random_resnets` with
``weights="iid"`` (checked in ``tests/test_resnet_finite.py``).  Cost ``O(d)`` instead of ``O(d^2)`` per layer.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from ..rng import fill_normals, stream_state
from ._kernels import act, record, record_last
from .finite import ResNetBatch
from .spec import ResNetSpec, initial_state, resnet_simulator

# The random numbers are inlined into the cached kernels of this module, and Numba's on-disk cache does
# not see changes to imported functions: the normals changed with the vectorised Box--Muller blocks of
# deeplimits.rng (2026-12), and this note changes this file so that stale cached kernels are recompiled.

__all__ = ["exact_resnets"]


@nb.njit(cache=True, parallel=True)
def _run_exact(h0, seed, first, variant, code, alpha, save, traj, norms, sa, sb):
    d = h0.shape[1]
    depth = norms.shape[1] - 1
    rd = 1.0 / math.sqrt(d)
    for i in nb.prange(h0.shape[0]):
        s = stream_state(seed, first + i)
        h = h0[i].copy()
        z = np.empty(d)
        xi = np.empty(d)
        nh = record(h, i, 0, save, traj, norms)
        for k in range(depth):
            if variant == 0:
                q = math.sqrt(sa * sa * nh * nh / d + sb * sb)
                s = fill_normals(s, z)
                for j in range(d):
                    h[j] += alpha * act(q * z[j], code)
            else:
                if variant == 1:
                    acc = 0.0
                    for j in range(d):
                        v = act(h[j], code)
                        acc += v * v
                else:
                    s = fill_normals(s, z)
                    c = nh * rd
                    acc = 0.0
                    for j in range(d):
                        v = act(c * z[j], code)
                        acc += v * v
                scale = alpha * math.sqrt(acc) * rd
                s = fill_normals(s, xi)
                for j in range(d):
                    h[j] += scale * xi[j]
            nh = record(h, i, k + 1, save, traj, norms)
        record_last(h, i, save, traj)


@resnet_simulator(dense=False)
def exact_resnets(spec: ResNetSpec, *, h0: ArrayLike | None) -> ResNetBatch:
    """Exact-in-law simulation of ResNets with fresh i.i.d. Gaussian weights, ``O(d)`` per layer.

    Same model and parameters as :func:`deeplimits.resnet.random_resnets` with ``weights="iid"``
    (entries of ``V``, ``W``, ``A`` of variance ``1/d``; Cohen's ``A, b`` times ``L^-gamma``), but the
    hidden states are drawn from their exact conditional laws instead of by multiplying dense matrices.

    Parameters
    ----------
    variant : {"cohen", "res1", "res3"}
    n_nets, width, depth : int
        Number of networks, width ``d`` and depth ``L`` (>= 1).
    beta : float
        ``alpha_L = L^-beta`` (>= 0).
    activation : {"linear", "relu", "tanh", "swish"}
    gamma, bias_std : float
        Cohen variant only (see :func:`~deeplimits.resnet.random_resnets`).
    h0 : array, optional
        ``(d,)`` or ``(n_nets, d)``; default ``(1, ..., 1)/sqrt(d)``.
    seed : int
        Non-negative seed.
    first_path : int
        Network ``i`` of the batch uses stream ``(seed, first_path + i)``.
    save_trajectories : bool
        Keep all hidden states.

    Returns
    -------
    ResNetBatch
        ``stats["simulator"] = "exact"``.

    Examples
    --------
    >>> from deeplimits.resnet import exact_resnets
    >>> out = exact_resnets("res1", n_nets=1000, width=4, depth=64, beta=0.5, activation="linear", seed=0)
    >>> out.norms.shape
    (1000, 65)
    """
    sa = spec.cohen_scale
    traj, norms = spec.run(_run_exact, initial_state(h0, spec.n_nets, spec.width), sa, spec.bias_std * sa)
    return ResNetBatch.from_run(traj, norms, spec.params("iid"), spec.stats("exact"))
