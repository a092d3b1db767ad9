"""Batches of finite random ResNets (dense weights).

Three residual branches (Cohen et al. 2021, eq. (1); Marion et al. 2022, res-1 and res-3):

* ``"cohen"``: ``h_{k+1} = h_k + alpha_L sigma(A_k h_k + b_k)``;
* ``"res1"``:  ``h_{k+1} = h_k + alpha_L V_k sigma(h_k)``;
* ``"res3"``:  ``h_{k+1} = h_k + alpha_L V_k sigma(W_k h_k)``;

with ``alpha_L = L^-beta``.  :func:`simulate_resnets` runs networks whose weights are given;
:func:`random_resnets` draws the weights (i.i.d., smooth RBF-GP, or fractional Gaussian noise, see
:mod:`deeplimits.resnet.weights`) in chunks and runs them.  For i.i.d. weights the dense weights are drawn
inside the kernel from the network's own random stream, so nothing of size ``L d^2`` is stored.

Matrices have entries of variance ``1/d`` (times ``L^{-2 gamma}`` for Cohen's ``A_k, b_k`` when
``gamma > 0``, the weight scaling of Cohen et al.'s Hypothesis 1).  Networks run in parallel (Numba
``prange``), each one sequentially, so the results do not depend on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from deeplimits.resnet._kernels import activation_code, dense_step, dummy, norm2, variant_code
from deeplimits.resnet.weights import check_depth, fgn_weights, rbf_gp_weights
from deeplimits.rng import fill_normals, stream_state

__all__ = ["ResNetBatch", "simulate_resnets", "random_resnets", "check_beta", "check_batch", "initial_state"]


@dataclass
class ResNetBatch:
    """Output of a batch of ResNets.

    Attributes
    ----------
    final : ndarray, shape (n_nets, d)
        ``h_L``.
    norms : ndarray, shape (n_nets, L + 1)
        ``||h_k||`` for ``k = 0..L``.
    trajectories : ndarray, shape (n_nets, L + 1, d), or None
        All hidden states, when asked for.
    info : dict
        Parameters of the run.
    """

    final: np.ndarray
    norms: np.ndarray
    trajectories: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def check_beta(beta):
    """Validate a scaling exponent.

    Parameters
    ----------
    beta : float
        Exponent (``alpha_L = L^-beta``); must be finite and >= 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``beta`` is negative or not finite.
    """
    beta = float(beta)
    if not np.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    return beta


def check_batch(variant, activation, n_nets, width, depth, beta, gamma, bias_std, seed):
    """Validate the arguments shared by the ResNet simulators.

    Returns
    -------
    tuple
        ``(variant_code, activation_code, n_nets, width, depth, beta, gamma, bias_std, seed)``.

    Raises
    ------
    ValueError
        Unknown variant or activation, counts below 1, ``beta`` or ``gamma`` out of range, ``bias_std``
        negative or not finite, negative ``seed``.
    """
    vc, ac = variant_code(variant), activation_code(activation)
    n_nets, width, depth = check_depth(n_nets, "n_nets"), check_depth(width, "width"), check_depth(depth)
    beta, gamma = check_beta(beta), check_beta(gamma)
    bias_std = float(bias_std)
    if not np.isfinite(bias_std) or bias_std < 0:
        raise ValueError(f"bias_std must be finite and >= 0, got {bias_std}")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return vc, ac, n_nets, width, depth, beta, gamma, bias_std, seed


def initial_state(h0, n_nets, width):
    """Broadcast the input of a batch of ResNets to a float64 ``(n_nets, d)`` array.

    Parameters
    ----------
    h0 : None or array_like, shape (d,) or (n_nets, d)
        ``None`` gives the unit vector ``(1, ..., 1)/sqrt(d)`` for every network.
    n_nets, width : int
        Batch size and width ``d``.

    Returns
    -------
    ndarray, shape (n_nets, d), C-contiguous

    Raises
    ------
    ValueError
        Wrong shape or non-finite entries.
    """
    if h0 is None:
        return np.full((n_nets, width), 1.0 / np.sqrt(width))
    h0 = np.asarray(h0, dtype=np.float64)
    if h0.ndim == 1:
        h0 = np.broadcast_to(h0, (n_nets, h0.size))
    if h0.shape != (n_nets, width):
        raise ValueError(f"h0 must have shape ({width},) or ({n_nets}, {width}), got {h0.shape}")
    if not np.all(np.isfinite(h0)):
        raise ValueError("h0 must be finite")
    return np.ascontiguousarray(h0)


@nb.njit(cache=True, parallel=True)
def _run_given(h0, V, W, b, variant, code, alpha, save, traj, norms):
    n, d = h0.shape
    depth = norms.shape[1] - 1
    for i in nb.prange(n):
        h = h0[i].copy()
        u = np.empty(d)
        out = np.empty(d)
        norms[i, 0] = norm2(h)
        if save:
            traj[i, 0] = h
        for k in range(depth):
            Vk = V[i, k] if variant != 0 else V[0, 0]
            Wk = W[i, k] if variant != 1 else W[0, 0]
            bk = b[i, k] if variant == 0 else b[0, 0]
            dense_step(h, Vk, Wk, bk, variant, code, alpha, u, out)
            norms[i, k + 1] = norm2(h)
            if save:
                traj[i, k + 1] = h
        if not save:
            traj[i, 0] = h


@nb.njit(cache=True)
def _fill(s, a, scale):
    # Fill a C-contiguous array with scale * N(0, 1) from stream state s; returns the new state.
    flat = a.reshape(a.size)
    s = fill_normals(s, flat)
    for j in range(flat.size):
        flat[j] *= scale
    return s


@nb.njit(cache=True, parallel=True)
def _run_iid(h0, seed, first, variant, code, alpha, sv, sw, sb, save, traj, norms):
    # Dense i.i.d. weights drawn layer by layer from network i's stream: per layer V_k, then W_k, then b_k.
    n, d = h0.shape
    depth = norms.shape[1] - 1
    for i in nb.prange(n):
        s = stream_state(seed, first + i)
        h = h0[i].copy()
        u = np.empty(d)
        out = np.empty(d)
        V = np.zeros((d, d))
        W = np.zeros((d, d))
        b = np.zeros(d)
        norms[i, 0] = norm2(h)
        if save:
            traj[i, 0] = h
        for k in range(depth):
            if variant != 0:
                s = _fill(s, V, sv)
            if variant != 1:
                s = _fill(s, W, sw)
            if variant == 0 and sb > 0.0:
                s = _fill(s, b, sb)
            dense_step(h, V, W, b, variant, code, alpha, u, out)
            norms[i, k + 1] = norm2(h)
            if save:
                traj[i, k + 1] = h
        if not save:
            traj[i, 0] = h


def _as_weights(x, name, n, depth, d, ndim):
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    want = (n, depth) + (d,) * ndim
    if x.shape != want:
        raise ValueError(f"{name} must have shape {want}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return x


def simulate_resnets(h0, variant, alpha, activation="tanh", *, V=None, W=None, b=None, save_trajectories=False):
    """Run ResNets whose weights are given.

    Parameters
    ----------
    h0 : ndarray, shape (n_nets, d)
        Inputs.
    variant : {"cohen", "res1", "res3"}
        Residual branch (see module docstring).
    alpha : float
        Branch scale ``alpha_L`` (finite).
    activation : {"linear", "relu", "tanh", "swish"}
    V : ndarray, shape (n_nets, L, d, d)
        Outer matrices (``res1``, ``res3``).
    W : ndarray, shape (n_nets, L, d, d)
        Inner matrices (``res3``) or Cohen's ``A_k`` (``cohen``).
    b : ndarray, shape (n_nets, L, d), optional
        Cohen's biases (default 0).
    save_trajectories : bool
        Keep all hidden states.

    Returns
    -------
    ResNetBatch
    """
    vc, ac = variant_code(variant), activation_code(activation)
    alpha = float(alpha)
    if not np.isfinite(alpha):
        raise ValueError(f"alpha must be finite, got {alpha}")
    h0 = np.asarray(h0, dtype=np.float64)
    if h0.ndim != 2:
        raise ValueError(f"h0 must have shape (n_nets, d), got {h0.shape}")
    n, d = h0.shape
    h0 = initial_state(h0, n, d)
    main = V if vc != 0 else W
    if main is None:
        raise ValueError(f"variant {variant!r} needs {'V' if vc != 0 else 'W'}")
    if np.ndim(main) != 4 or np.shape(main)[1] < 1:
        raise ValueError(
            f"{'V' if vc != 0 else 'W'} must have shape (n_nets, L, d, d) with L >= 1, got {np.shape(main)}"
        )
    depth = int(np.shape(main)[1])
    Va = _as_weights(V, "V", n, depth, d, 2) if vc != 0 else dummy(4)
    if vc != 1:
        if W is None:
            raise ValueError(f"variant {variant!r} needs W")
        Wa = _as_weights(W, "W", n, depth, d, 2)
    else:
        Wa = dummy(4)
    if vc == 0:
        ba = np.zeros((n, depth, d)) if b is None else _as_weights(b, "b", n, depth, d, 1)
    else:
        ba = dummy(3)
    traj = np.empty((n, depth + 1 if save_trajectories else 1, d))
    norms = np.empty((n, depth + 1))
    _run_given(h0, Va, Wa, ba, vc, ac, alpha, bool(save_trajectories), traj, norms)
    final = traj[:, -1].copy()
    return ResNetBatch(
        final=final,
        norms=norms,
        trajectories=traj if save_trajectories else None,
        info=dict(variant=variant, activation=activation, alpha=alpha, depth=depth),
    )


def random_resnets(
    variant,
    n_nets,
    width,
    depth,
    beta,
    weights="iid",
    *,
    activation="tanh",
    hurst=None,
    lengthscale=0.2,
    gamma=0.0,
    bias_std=0.0,
    h0=None,
    seed=0,
    save_trajectories=False,
    chunk_size=None,
):
    """Draw and run a batch of random ResNets with ``alpha_L = L^-beta``.

    Parameters
    ----------
    variant : {"cohen", "res1", "res3"}
    n_nets, width, depth : int
        Number of networks, width ``d`` and depth ``L`` (all >= 1).
    beta : float
        Branch-scale exponent, ``alpha_L = L^-beta`` (>= 0).
    weights : {"iid", "smooth", "fgn"}
        Weight family: i.i.d. Gaussian; RBF Gaussian process in ``k/L``; fractional Gaussian noise.
    activation : {"linear", "relu", "tanh", "swish"}
    hurst : float, optional
        Hurst index in (0, 1) (``weights="fgn"`` only).
    lengthscale : float
        RBF correlation length (``weights="smooth"``).
    gamma : float
        Cohen variant only: ``A_k`` and ``b_k`` are multiplied by ``L^-gamma`` (>= 0).
    bias_std : float
        Cohen variant only: standard deviation of the bias entries (before ``L^-gamma``).
    h0 : array, optional
        Input(s), ``(d,)`` or ``(n_nets, d)``; default ``(1, ..., 1)/sqrt(d)``.
    seed : int
        Network ``i`` draws from streams ``i`` of seeds derived from ``seed``, whatever the chunking.
    save_trajectories : bool
        Keep all hidden states (memory ``n_nets (L+1) d``).
    chunk_size : int, optional
        Networks per weight-generation chunk for correlated weights (default: about 64 MB of weights).

    Returns
    -------
    ResNetBatch
    """
    vc, ac, n_nets, width, depth, beta, gamma, bias_std, seed = check_batch(
        variant, activation, n_nets, width, depth, beta, gamma, bias_std, seed
    )
    if weights not in ("iid", "smooth", "fgn"):
        raise ValueError(f"weights must be 'iid', 'smooth' or 'fgn', got {weights!r}")
    if weights == "fgn":
        if hurst is None or not (0.0 < float(hurst) < 1.0):
            raise ValueError(f"hurst must lie in the open interval (0, 1) for fgn weights, got {hurst!r}")
    alpha = float(depth) ** (-beta)
    h0 = initial_state(h0, n_nets, width)
    sv = 1.0 / np.sqrt(width)
    sw = sv * float(depth) ** (-gamma) if vc == 0 else sv
    sb = bias_std * float(depth) ** (-gamma) if vc == 0 else 0.0
    info = dict(
        variant=variant,
        activation=activation,
        weights=weights,
        beta=beta,
        alpha=alpha,
        depth=depth,
        width=width,
        hurst=hurst,
        lengthscale=lengthscale,
        gamma=gamma,
        bias_std=bias_std,
        seed=seed,
    )
    traj = np.empty((n_nets, depth + 1 if save_trajectories else 1, width))
    norms = np.empty((n_nets, depth + 1))
    if weights == "iid":
        _run_iid(h0, seed, 0, vc, ac, alpha, sv, sw, sb, bool(save_trajectories), traj, norms)
    else:
        n_mat = 1 if vc != 2 else 2
        per_net = depth * width * width * n_mat * 8 * (4 if weights == "fgn" else 1)
        if chunk_size is None:
            chunk_size = max(1, int(64e6 // max(per_net, 1)))
        chunk_size = check_depth(chunk_size, "chunk_size")
        for lo in range(0, n_nets, chunk_size):
            hi = min(n_nets, lo + chunk_size)
            m = hi - lo

            def draw(k, shape, scale):
                if weights == "smooth":
                    return rbf_gp_weights(m, depth, shape, lengthscale, seed * 1000 + k, scale, first_row=lo)
                return fgn_weights(m, depth, shape, hurst, seed * 1000 + k, scale, first_row=lo)

            V = draw(0, (width, width), sv) if vc != 0 else None
            W = draw(1, (width, width), sw) if vc != 1 else None
            b = draw(2, (width,), sb) if (vc == 0 and sb > 0) else None
            out = simulate_resnets(
                h0[lo:hi], variant, alpha, activation, V=V, W=W, b=b, save_trajectories=save_trajectories
            )
            norms[lo:hi] = out.norms
            if save_trajectories:
                traj[lo:hi] = out.trajectories
            else:
                traj[lo:hi, 0] = out.final
    final = traj[:, -1].copy()
    return ResNetBatch(final=final, norms=norms, trajectories=traj if save_trajectories else None, info=info)
