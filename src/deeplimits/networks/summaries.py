"""Streaming summaries of the network simulators: moments, histograms, quantiles instead of every network.

:func:`summarise_networks` runs any simulator of :mod:`deeplimits.networks` in blocks of networks and
keeps only reductions (the specifications of :mod:`deeplimits.sde.summaries`) of each network's state
vector (:meth:`~deeplimits.networks.NetworkBatch.states`: squared norms, then ``1 - rho`` of each pair of
inputs) at every saved layer, so memory does not grow with the number of networks.  Network ``k``
draws from stream ``(seed, first_path + k)`` as in one call of the simulator, and the blocks are the
fixed blocks of :data:`BLOCK_NETS` global indices: the result is bit-identical for every chunk size,
executor and thread count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from numpy.typing import ArrayLike

from .._checks import check_int
from ..parallel import chunkable
from ..sde.summaries import SummarySolution, SummarySpec, check_summary, summarise
from .batch import NetworkBatch

__all__ = ["BLOCK_NETS", "summarise_networks"]

#: Networks per reduction block: a block's states, ``BLOCK_NETS x n_save x (m + m (m - 1) / 2)`` floats,
#: and its ``NetworkBatch`` are the memory the summaries need (22 MB at depth 128 with 3 inputs).
BLOCK_NETS = 1024


@chunkable("n_nets")
def summarise_networks(
    simulator: Callable[..., NetworkBatch],
    gram0: ArrayLike,
    width: int,
    depth: int,
    n_nets: int,
    *,
    summary: SummarySpec,
    seed: int = 0,
    first_path: int = 0,
    options: Mapping[str, Any] | None = None,
) -> SummarySolution:
    """Summaries of ``n_nets`` networks of a simulator, in memory independent of ``n_nets``.

    Parameters
    ----------
    simulator : callable
        :func:`~deeplimits.networks.relu_mlp`, :func:`~deeplimits.networks.leaky_mlp`,
        :func:`~deeplimits.networks.shaped_mlp` or :func:`~deeplimits.networks.resnet`.
    gram0, width, depth, n_nets, seed, first_path
        As for the simulator.
    summary : Moments, Histogram, Quantiles, Reducer or a list of them
        What to keep of the state vectors ``(q_1, ..., q_m, 1 - rho_12, ..., 1 - rho_(m-1)m)`` of the
        networks at each saved layer (:mod:`deeplimits.sde.summaries`).
    options : mapping, optional
        The simulator's other keywords (``engine``, ``save``, its model parameters).

    Returns
    -------
    SummarySolution
        ``ts`` = the saved layers; ``stats`` as the simulator's, with the total ``n_nets``.

    Raises
    ------
    TypeError
        If ``simulator`` is not callable, ``summary`` is not a summary specification, or ``options``
        holds ``progress``, ``executor`` or ``chunk_size`` (keywords of this function's own run).
    ValueError
        As the simulator, naming the argument.

    Examples
    --------
    >>> from deeplimits.networks import gram_from_correlation, relu_mlp, summarise_networks
    >>> from deeplimits.sde import Moments
    >>> sol = summarise_networks(relu_mlp, gram_from_correlation(0.5), 32, 8, 1000, summary=Moments(), seed=0)
    >>> sol.moments.mean.shape  # 9 layers; q_1, q_2, 1 - rho_12
    (9, 3)
    """
    if not callable(simulator):
        raise TypeError(f"simulator must be a network simulator such as relu_mlp, got {simulator!r}")
    specs = check_summary(summary)
    n_nets = check_int(n_nets, "n_nets", minimum=1)
    kw = dict(options or {})
    taken = sorted({"progress", "executor", "chunk_size", "seed", "first_path"} & kw.keys())
    if taken:
        raise TypeError(f"options must not hold {taken}: they are keywords of summarise_networks")
    last: list[NetworkBatch] = []

    def run_batch(lo: int, hi: int) -> Any:
        batch = simulator(gram0, width, depth, hi - lo, seed=seed, first_path=first_path + lo, progress=False, **kw)
        last[:] = [batch]
        return batch.states()

    segments = summarise(run_batch, n_nets, first_path, specs, BLOCK_NETS)
    batch = last[0]
    stats = dict(batch.stats, n_nets=n_nets, first_path=first_path)
    return SummarySolution(ts=batch.ts, specs=specs, segments=segments, stats=stats, block_paths=BLOCK_NETS)
