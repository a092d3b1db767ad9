"""Scale Monte-Carlo runs out: fixed-size chunks of paths on any executor, bit-identical to one run.

Path ``i`` of every Monte-Carlo entry point draws from stream ``(seed, first_path + i)``, so a run
cut into chunks of global paths ``[start, stop)`` and concatenated in order gives the same floats
as the one-piece run, for every chunk size and any number of workers.  The entry points
(:func:`deeplimits.sde.solve`, the network, walker, conv-net and ResNet simulators, the
correlation samplers and the order studies) take ``executor=`` and ``chunk_size=``:

* ``executor`` -- a :class:`concurrent.futures.Executor` (``ProcessPoolExecutor``, the executor of
  a ``dask.distributed`` client, an MPI pool) or a ``distributed.Client``; the chunks run there,
  with one Numba thread each;
* ``chunk_size`` -- paths per chunk; without an executor the chunks run here, one after the other
  (bounding the memory of one piece).

:func:`local_cluster` starts a Dask cluster on this machine and :func:`connect` joins a running
scheduler (the ``distributed`` extra).  :func:`run_in_chunks` does the same for any function with
``first_path``.  Everything sent to an executor must be picklable.  With a process pool, prefer the
``"spawn"`` or ``"forkserver"`` start method once Numba has run parallel kernels in the parent
process (a forked OpenMP runtime is not safe).

Examples
--------
>>> from deeplimits.networks import relu_mlp, gram_from_correlation
>>> g = gram_from_correlation(0.5)
>>> one = relu_mlp(g, width=8, depth=3, n_nets=5, seed=1)
>>> split = relu_mlp(g, width=8, depth=3, n_nets=5, seed=1, chunk_size=2)
>>> bool((one.ys == split.ys).all()), split.stats["n_chunks"]
(True, 3)
"""

from .chunks import DEFAULT_TASKS, ChunkError, as_executor, combine_chunks, path_chunks, run_in_chunks
from .cluster import SchedulerUnreachableError, connect, local_cluster
from .docs import CHUNK_PARAMETERS, document_chunking
from .entry import chunkable

__all__ = [
    "DEFAULT_TASKS",
    "ChunkError",
    "as_executor",
    "chunkable",
    "document_chunking",
    "CHUNK_PARAMETERS",
    "combine_chunks",
    "path_chunks",
    "run_in_chunks",
    "local_cluster",
    "connect",
    "SchedulerUnreachableError",
]
