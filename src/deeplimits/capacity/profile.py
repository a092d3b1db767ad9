"""Empirical capacity allocation of a finite conv ResNet over random inputs: :func:`capacity_profile`.

The estimate is built from per-batch sums over inputs, accumulated in batch order; a run split
into chunks of whole batches (``first_path = 0, k, 2k, ...``) hands its per-batch sums back and
accumulates them in the same order, so it gives the same floats as one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._checks import check_allocation, check_int
from .._solution import Solution
from ..parallel import document_chunking, path_chunks, run_in_chunks
from ..rng import normal_array
from ._blas import single_thread_blas
from .convnet import ConvResNet

__all__ = ["CapacityEstimate", "capacity_profile"]


@dataclass(repr=False)
class CapacityEstimate(Solution):
    """Empirical capacity of a network's output unit, over depth: a deterministic :class:`Solution`.

    Attributes
    ----------
    ts : ndarray (depth + 1,)
        Layer index ``l = 0 .. depth`` of the hidden state ``h_l`` (``h_0`` is the input).
    ys : ndarray (depth + 1, *grid)
        Normalised mean squared gradient of the output unit with respect to every hidden
        state ``h_l`` (``ys[0]`` is ``profile``, ``ys[depth]`` the output unit): the network's
        capacity over depth, to compare with ``propagate(..., return_history=True)``.
    stats : dict
        ``n_inputs``, ``seed``, ``first_path``, ``batch`` (and ``n_chunks`` when run in chunks).
    profile : ndarray (*grid)
        Normalised mean squared input gradient (sums to 1).
    stderr : ndarray (*grid)
        Standard error of ``profile`` over inputs (delta method ignored: the error of
        the normaliser is neglected).
    decoupling : ndarray (depth,)
        Measured ``E[phi'(h_l)^2]`` per layer.
    total : float
        Unnormalised mean squared gradient norm (grows like ``prod (1 + alpha^2 d ||w||^2)``).
    per_input : ndarray (n_inputs,)
        Squared input-gradient norm of the output unit for every input (input ``i`` of a call
        with ``first_path=k`` is input ``k + i`` of a call with ``first_path=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import ConvResNet, capacity_profile
    >>> net = ConvResNet([1.0, 1.0, 1.0], depth=2, channels=2, alpha=0.3, grid=7, seed=0)
    >>> est = capacity_profile(net, 4, seed=0)
    >>> est.ys.shape, est.decoupling.shape, bool(np.allclose(est.at(0), est.profile))
    ((3, 7), (2,), True)
    """

    profile: Any = None
    stderr: Any = None
    decoupling: Any = None
    total: float = 0.0
    per_input: Any = None

    has_samples: ClassVar[bool] = False


@dataclass
class _InputSums:
    """Sums over the inputs of every batch, in batch order (what a chunk of inputs hands back)."""

    q1: NDArray[np.float64]  # (n_batches, *grid): sum over the batch of the per-input capacity q
    q2: NDArray[np.float64]  # (n_batches, *grid): sum of q^2
    dphi: NDArray[np.float64]  # (n_batches, depth): measured E[phi'^2] times the batch size
    layers: NDArray[np.float64]  # (n_batches, depth + 1, *grid): squared gradients per layer
    per_input: NDArray[np.float64]  # (n_inputs,)

    @classmethod
    def concat(cls, parts: Sequence[_InputSums]) -> _InputSums:
        names = ("q1", "q2", "dphi", "layers", "per_input")
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in names))


def _input_sums(net: ConvResNet, *, n_inputs: int, seed: int, batch: int, first_path: int) -> _InputSums:
    C, P = net.channels, int(np.prod(net.grid))
    check_allocation((n_inputs, C * P), "the inputs")
    n_batches = -(-n_inputs // batch)
    check_allocation((n_batches, net.depth + 1, P), "the per-batch sums (n_inputs / batch x depth x sites)")
    x_all = normal_array(seed, (n_inputs, C * P), first_stream=first_path).reshape((n_inputs, C) + net.grid)
    q1 = np.empty((n_batches,) + net.grid)
    q2 = np.empty((n_batches,) + net.grid)
    dphi = np.empty((n_batches, net.depth))
    layers = np.zeros((n_batches, net.depth + 1) + net.grid)
    per_input = np.empty(n_inputs)
    for b, i in enumerate(range(0, n_inputs, batch)):
        xb = np.ascontiguousarray(np.moveaxis(x_all[i : i + batch], 1, 0))
        with single_thread_blas():
            g, d2 = net.input_gradient(xb, layer_sq=layers[b])
        q = np.sum(g * g, axis=0, dtype=np.float64)  # (B, *grid): capacity of each input
        per_input[i : i + q.shape[0]] = q.reshape(q.shape[0], -1).sum(axis=1)
        q1[b] = q.sum(axis=0)
        q2[b] = (q * q).sum(axis=0)
        dphi[b] = d2 * q.shape[0]
    return _InputSums(q1, q2, dphi, layers, per_input)


def capacity_profile(
    net: ConvResNet,
    n_inputs: int,
    seed: int = 0,
    batch: int = 128,
    *,
    first_path: int = 0,
    executor: Any = None,
    chunk_size: int | None = None,
) -> CapacityEstimate:
    """Empirical capacity allocation of ``net`` over ``n_inputs`` standard-normal inputs.

    Parameters
    ----------
    net : ConvResNet
    n_inputs : int
        Number of inputs (``>= 2``); input ``i`` is stream ``first_path + i`` of
        ``normal_array(seed, ...)``.
    seed : int
        Non-negative seed of the inputs (any size).
    batch : int
        Inputs per backward pass (memory ``~ depth * C * batch * sites * 8`` bytes).
    first_path : int
        Index of the first input, so that runs split into batches of inputs draw the inputs of
        one run.

    Returns
    -------
    CapacityEstimate

    Raises
    ------
    ValueError
        Naming the argument: ``n_inputs`` below 2, ``batch`` or ``chunk_size`` below 1,
        ``chunk_size`` not a multiple of ``batch``, negative ``first_path``.

    Examples
    --------
    >>> net = ConvResNet([1.0, 1.0, 1.0], depth=4, channels=3, alpha=0.3, grid=9, seed=0)
    >>> est = capacity_profile(net, 16, seed=1)
    >>> est.profile.shape, round(float(est.profile.sum()), 12), est.per_input.shape
    ((9,), 1.0, (16,))
    >>> bool((capacity_profile(net, 16, seed=1, batch=4, chunk_size=8).profile
    ...       == capacity_profile(net, 16, seed=1, batch=4).profile).all())
    True
    """
    if not isinstance(net, ConvResNet):
        raise TypeError(f"net must be a ConvResNet, got {type(net).__name__}")
    n_inputs = check_int(n_inputs, "n_inputs", minimum=2)
    batch = check_int(batch, "batch", minimum=1)
    first_path = check_int(first_path, "first_path", minimum=0)
    stats: dict[str, Any] = dict(n_inputs=n_inputs, seed=seed, first_path=first_path, batch=batch)
    if executor is None and chunk_size is None:
        sums = _input_sums(net, n_inputs=n_inputs, seed=seed, batch=batch, first_path=first_path)
    else:
        chunk_size = batch if chunk_size is None else check_int(chunk_size, "chunk_size", minimum=1)
        if chunk_size < n_inputs and chunk_size % batch:
            raise ValueError(f"chunk_size must be a multiple of batch={batch} (sums are per batch), got {chunk_size}")
        stats["n_chunks"] = len(path_chunks(n_inputs, chunk_size, first_path))
        sums = run_in_chunks(
            _input_sums,
            n_paths=n_inputs,
            chunk_size=chunk_size,
            executor=executor,
            first_path=first_path,
            count_arg="n_inputs",
            net=net,
            seed=seed,
            batch=batch,
        )
    return _estimate(net, sums, stats)


document_chunking(
    capacity_profile,
    note="Here a multiple of ``batch`` (sums are taken per batch) unless it covers all inputs;\n"
    "default with an executor: ``batch``.",
)


def _estimate(net: ConvResNet, sums: _InputSums, stats: dict[str, Any]) -> CapacityEstimate:
    # accumulated batch after batch, in order: the same floats however the batches were computed
    n_inputs = sums.per_input.size
    s1 = np.zeros(net.grid)
    s2 = np.zeros(net.grid)
    dsum = np.zeros(net.depth)
    layer_sq = np.zeros((net.depth + 1,) + net.grid)
    for b in range(sums.q1.shape[0]):
        s1 += sums.q1[b]
        s2 += sums.q2[b]
        dsum += sums.dphi[b]
        layer_sq += sums.layers[b]
    mean = s1 / n_inputs
    var = np.maximum(s2 / n_inputs - mean**2, 0.0) * n_inputs / (n_inputs - 1)
    tot = mean.sum()
    norms = layer_sq.reshape(net.depth + 1, -1).sum(axis=1).reshape((-1,) + (1,) * len(net.grid))
    return CapacityEstimate(
        ts=np.arange(net.depth + 1, dtype=np.float64),
        ys=layer_sq / norms,
        stats=stats,
        profile=mean / tot,
        stderr=np.sqrt(var / n_inputs) / tot,
        decoupling=dsum / n_inputs,
        total=float(tot),
        per_input=sums.per_input,
    )
