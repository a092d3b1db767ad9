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
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array, check_bool, check_float
from .._solution import Solution
from ._kernels import activation_code, dummy, run_given, run_iid, variant_code
from .spec import ResNetSpec, initial_state, resnet_simulator
from .weights import fgn_weights, rbf_gp_weights

__all__ = ["ResNetBatch", "simulate_resnets", "random_resnets"]


@dataclass(repr=False)
class ResNetBatch(Solution):
    """Hidden states of a batch of ResNets: a :class:`~deeplimits._solution.Solution` over the layers.

    Attributes
    ----------
    ts : ndarray
        Layer indices ``k`` of the saved states: ``0..L`` with ``save_trajectories=True``, else ``[L]``.
    ys : ndarray, shape (n_nets, len(ts), d)
        Hidden states ``h_k`` (axis order network, layer, coordinate).
    norms : ndarray, shape (n_nets, L + 1)
        ``||h_k||`` for every layer ``k = 0..L`` (always kept).
    params : dict
        Model parameters (``variant``, ``activation``, ``alpha``, ``depth``, ``beta``, ``width``, weight family...).
    stats : dict
        Run metadata (``seed``, ``first_path``, ``n_nets``, ``simulator``).

    Examples
    --------
    >>> from deeplimits.resnet import random_resnets
    >>> out = random_resnets("res1", n_nets=4, width=3, depth=8, beta=0.5, seed=1)
    >>> out.ys.shape, out.final.shape, out.norms.shape
    ((4, 1, 3), (4, 3), (4, 9))
    """

    norms: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    params: dict[str, Any] = field(default_factory=dict)

    per_sample_fields: ClassVar[tuple[str, ...]] = ("norms",)
    dims: ClassVar[tuple[str, ...]] = ("net", "layer", "coordinate")
    field_dims: ClassVar[dict[str, tuple[str, ...]]] = {"norms": ("net", "norm_layer")}

    @property
    def final(self) -> NDArray[np.float64]:
        """Final hidden states ``h_L``, shape (n_nets, d)."""
        return self.ys[:, -1]

    def _extra_repr(self) -> str:
        return str(self.params.get("variant", ""))

    @classmethod
    def from_run(
        cls, traj: NDArray[np.float64], norms: NDArray[np.float64], params: dict[str, Any], stats: dict[str, Any]
    ) -> ResNetBatch:
        """The batch of a simulator's outputs: states ``traj`` (every layer, or the last) and ``norms``."""
        depth = norms.shape[1] - 1
        save = traj.shape[1] == depth + 1
        ts = np.arange(depth + 1, dtype=np.float64) if save else np.array([float(depth)])
        return cls(ts=ts, ys=traj, stats=stats, norms=norms, params=params)


def _as_weights(x, name, n, depth, d, ndim):
    want = (n, depth) + (d,) * ndim
    return check_array(x, name, shape=want)


def simulate_resnets(
    h0: ArrayLike,
    variant: str,
    alpha: float,
    activation: str = "tanh",
    *,
    V: ArrayLike | None = None,
    W: ArrayLike | None = None,
    b: ArrayLike | None = None,
    save_trajectories: bool = False,
) -> ResNetBatch:
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

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.resnet import simulate_resnets
    >>> V = np.zeros((1, 3, 2, 2))
    >>> simulate_resnets(np.ones((1, 2)), "res1", 0.5, V=V).final
    array([[1., 1.]])
    """
    vc, ac = variant_code(variant), activation_code(activation)
    alpha = check_float(alpha, "alpha")
    save = check_bool(save_trajectories, "save_trajectories")
    h0 = check_array(h0, "h0", ndim=2)
    n, d = h0.shape
    main_name = "V" if vc != 0 else "W"
    main = V if vc != 0 else W
    if main is None:
        raise ValueError(f"variant {variant!r} needs {main_name}")
    if np.ndim(main) != 4 or np.shape(main)[1] < 1:
        raise ValueError(f"{main_name} must have shape (n_nets, L, d, d) with L >= 1, got {np.shape(main)}")
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
    traj = np.empty((n, depth + 1 if save else 1, d))
    norms = np.empty((n, depth + 1))
    run_given(h0, Va, Wa, ba, vc, ac, alpha, save, traj, norms)
    params = dict(variant=variant, activation=activation, alpha=alpha, depth=depth)
    return ResNetBatch.from_run(traj, norms, params, dict(n_nets=n, simulator="given weights"))


@resnet_simulator(dense=True)
def random_resnets(
    spec: ResNetSpec,
    weights: str = "iid",
    *,
    hurst: float | None = None,
    lengthscale: float = 0.2,
    h0: ArrayLike | None,
) -> ResNetBatch:
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
        Non-negative seed.
    first_path : int
        Network ``i`` of the batch draws from stream ``first_path + i`` (of seeds derived from ``seed``),
        whatever the chunking, so a batch can be computed in pieces with the same numbers.
    save_trajectories : bool
        Keep all hidden states (memory ``n_nets (L+1) d``).  Correlated weights are drawn for a few networks at a
        time (about 64 MB of weights).

    Returns
    -------
    ResNetBatch

    Examples
    --------
    >>> from deeplimits.resnet import random_resnets
    >>> out = random_resnets("res3", 2, 4, 16, 0.5, "fgn", hurst=0.7, activation="relu", save_trajectories=True)
    >>> out.ts[[0, -1]], out.ys.shape
    (array([ 0., 16.]), (2, 17, 4))
    """
    if weights not in ("iid", "smooth", "fgn"):
        raise ValueError(f"weights must be 'iid', 'smooth' or 'fgn', got {weights!r}")
    if weights == "fgn":
        if hurst is None:
            raise ValueError("hurst must lie in the open interval (0, 1) for fgn weights, got None")
        hurst = check_float(hurst, "hurst", minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    if weights == "smooth":
        lengthscale = check_float(lengthscale, "lengthscale", minimum=0.0, strict_min=True)
    vc, d, L = spec.vc, spec.width, spec.depth
    h0 = initial_state(h0, spec.n_nets, d)
    sv = 1.0 / np.sqrt(d)
    sw = sv * spec.cohen_scale if vc == 0 else sv
    sb = spec.bias_std * spec.cohen_scale if vc == 0 else 0.0
    params = spec.params(weights, hurst=hurst, lengthscale=lengthscale)
    stats = spec.stats("dense")
    if weights == "iid":
        return ResNetBatch.from_run(*spec.run(run_iid, h0, sv, sw, sb), params, stats)
    traj, norms = spec.empty_outputs()
    n_mat = 1 if vc != 2 else 2
    per_net = L * d * d * n_mat * 8 * (4 if weights == "fgn" else 1)
    n_draw = max(1, int(64e6 // max(per_net, 1)))  # weights drawn about 64 MB at a time
    for lo in range(0, spec.n_nets, n_draw):
        hi = min(spec.n_nets, lo + n_draw)
        draw = lambda k, shape, scale, m=hi - lo, first=spec.first_path + lo: _draw(
            weights, m, L, shape, lengthscale, hurst, spec.seed, k, scale, first
        )
        V = draw(0, (d, d), sv) if vc != 0 else None
        W = draw(1, (d, d), sw) if vc != 1 else None
        b = draw(2, (d,), sb) if (vc == 0 and sb > 0) else None
        out = simulate_resnets(
            h0[lo:hi], spec.variant, spec.alpha, spec.activation, V=V, W=W, b=b, save_trajectories=spec.save
        )
        norms[lo:hi] = out.norms
        traj[lo:hi] = out.ys
    return ResNetBatch.from_run(traj, norms, params, stats)


def _draw(weights, m, depth, shape, lengthscale, hurst, seed, k, scale, first):
    # weights V, W, b of a chunk come from the derived seeds seed * 1000 + (0, 1, 2)
    if weights == "smooth":
        return rbf_gp_weights(m, depth, shape, lengthscale, seed * 1000 + k, scale, first_path=first)
    return fgn_weights(m, depth, shape, hurst, seed * 1000 + k, scale, first_path=first)
