"""Run a Monte-Carlo computation in fixed-size chunks of paths, locally or on an executor.

Path ``i`` of every Monte-Carlo entry point of the package draws from stream
``(seed, first_path + i)``.  A run over the global paths ``[first_path, first_path + n_paths)``
can therefore be cut into chunks ``[start, stop)``, each computed by a call with
``n_paths = stop - start`` and ``first_path = start``, anywhere; concatenated in chunk order,
the results are bit-identical to the one-piece run, whatever the chunk size and the number
of workers.

The chunks run on any :class:`concurrent.futures.Executor` (``ProcessPoolExecutor``, the executor
of a ``dask.distributed`` client, an MPI pool), following the ``workers=`` / ``pool=`` convention
of scipy and emcee; a ``distributed.Client`` is accepted as it is.  Functions and arguments sent
to an executor must be picklable (module-level functions, :func:`functools.partial`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import check_int
from .cluster import check_executor, is_dask_client

__all__ = ["ChunkError", "DEFAULT_TASKS", "as_executor", "combine_chunks", "path_chunks", "run_in_chunks"]

#: Number of chunks a run is cut into when an executor is given without a chunk size.
DEFAULT_TASKS = 32


class ChunkError(RuntimeError):
    """A chunk failed with an exception that cannot be re-raised with its own type."""


def path_chunks(n_paths: int, chunk_size: int, first_path: int = 0) -> list[tuple[int, int]]:
    """Global path ranges ``[start, stop)`` of the chunks of a run.

    Parameters
    ----------
    n_paths : int
        Number of paths of the run, ``>= 1``.
    chunk_size : int
        Paths per chunk, ``>= 1``; the last chunk holds the remainder.
    first_path : int
        Global index of the run's first path, ``>= 0``.

    Returns
    -------
    list of (int, int)
        Consecutive ranges covering ``[first_path, first_path + n_paths)``.

    Raises
    ------
    ValueError, TypeError
        If an argument is not an integer in range (the message names it).

    Examples
    --------
    >>> path_chunks(10, 4, first_path=100)
    [(100, 104), (104, 108), (108, 110)]
    """
    n_paths = check_int(n_paths, "n_paths", minimum=1)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    first_path = check_int(first_path, "first_path", minimum=0)
    stop = first_path + n_paths
    return [(s, min(s + chunk_size, stop)) for s in range(first_path, stop, chunk_size)]


def as_executor(executor: Any) -> Any:
    """Check an executor: None, an object with ``.submit``, or a ``distributed.Client``.

    A ``distributed.Client`` is replaced by ``client.get_executor()``; distributed is not
    imported here (a client can only exist once it has been).

    Raises
    ------
    TypeError
        If ``executor`` has no callable ``submit``.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1) as ex:
    ...     as_executor(ex) is ex
    True
    """
    if executor is None:
        return None
    if is_dask_client(executor):
        return executor.get_executor()
    return check_executor(executor)


def combine_chunks(parts: Sequence[Any]) -> Any:
    """Combine the results of consecutive chunks, in order.

    Arrays are concatenated on axis 0, tuples element by element, and objects whose type has a
    ``concat(parts)`` classmethod (:meth:`deeplimits._solution.Solution.concat`,
    :class:`deeplimits.capacity.WalkerResult`) are combined by it.

    Raises
    ------
    TypeError
        For any other result type.

    Examples
    --------
    >>> import numpy as np
    >>> combine_chunks([np.zeros((2, 3)), np.ones((1, 3))]).shape
    (3, 3)
    >>> a, b = combine_chunks([(np.zeros(2), np.ones(2)), (np.zeros(1), np.ones(1))])
    >>> a.shape, b.shape
    ((3,), (3,))
    """
    if not parts:
        raise ValueError("parts must hold at least one chunk result")
    first = parts[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(parts, axis=0)
    if isinstance(first, tuple):
        return tuple(combine_chunks(list(column)) for column in zip(*parts, strict=True))
    concat = getattr(type(first), "concat", None)
    if callable(concat):
        return concat(parts)
    raise TypeError(f"cannot combine chunk results of type {type(first).__name__}: pass combine=")


def run_in_chunks(
    func: Callable[..., Any],
    /,
    *,
    n_paths: int,
    chunk_size: int | None = None,
    executor: Any = None,
    first_path: int = 0,
    threads_per_task: int | None = None,
    count_arg: str = "n_paths",
    rows: Mapping[str, Any] | None = None,
    combine: Callable[[list[Any]], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``func`` over global paths ``[first_path, first_path + n_paths)`` in chunks, and combine them.

    Every chunk ``[start, stop)`` is the call ``func(**kwargs, n_paths=stop - start, first_path=start)``
    (with ``count_arg`` in place of ``n_paths``); the results are collected in chunk order and combined
    by :func:`combine_chunks` (or ``combine``).

    Parameters
    ----------
    func : callable
        The Monte-Carlo function; picklable when an executor is given.
    n_paths : int
        Number of paths of the whole run, ``>= 1``.
    chunk_size : int, optional
        Paths per chunk, ``>= 1``.  Default: the whole run in one chunk without an executor,
        ``ceil(n_paths / DEFAULT_TASKS)`` with one.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Where the chunks run (``executor.submit``); None runs them here, one after the other.
    first_path : int
        Global index of the first path, ``>= 0``.
    threads_per_task : int, optional
        Numba threads inside each chunk (``numba.set_num_threads``, at most the worker's
        ``NUMBA_NUM_THREADS``; the previous setting is restored afterwards).  Default: 1 with an
        executor (its workers run side by side), Numba's setting without one.
    count_arg : str
        Name of ``func``'s path-count argument (``"n_paths"``, ``"n_nets"``, ``"n_walkers"``, ...).
    rows : mapping of str to array_like, optional
        Arguments with one row per path of the run (initial states, Brownian increments): chunk
        ``[start, stop)`` receives rows ``start - first_path`` to ``stop - first_path``.
    combine : callable, optional
        ``combine(parts) -> result``; default :func:`combine_chunks`.
    **kwargs
        The other arguments of ``func``, the same for every chunk.

    Returns
    -------
    The combined result.

    Raises
    ------
    ValueError, TypeError
        For bad arguments, naming them: ``n_paths``, ``chunk_size``, ``first_path``,
        ``threads_per_task`` not integers in range, ``executor`` without ``submit``, a ``rows``
        array without ``n_paths`` rows.
    Exception
        When a chunk raises: an exception of the same type (:class:`ChunkError` if that type cannot
        be built from a message) naming ``func`` and the chunk's global path range, chained to the
        original.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from deeplimits.rng import normal_array
    >>> def draw(n_paths, first_path, seed):
    ...     return normal_array(seed, (n_paths, 3), first_path)
    >>> whole = draw(10, 0, seed=5)
    >>> with ThreadPoolExecutor(2) as ex:
    ...     split = run_in_chunks(draw, n_paths=10, chunk_size=4, executor=ex, seed=5)
    >>> bool((split == whole).all())
    True
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    n_paths = check_int(n_paths, count_arg, minimum=1)
    first_path = check_int(first_path, "first_path", minimum=0)
    executor = as_executor(executor)
    if chunk_size is None:
        chunk_size = n_paths if executor is None else max(1, math.ceil(n_paths / DEFAULT_TASKS))
    ranges = path_chunks(n_paths, chunk_size, first_path)
    if threads_per_task is None:
        threads = 1 if executor is not None else None
    else:
        threads = check_int(threads_per_task, "threads_per_task", minimum=1)
    row_args = _check_rows(rows, n_paths)
    combine = combine_chunks if combine is None else combine

    def chunk_kwargs(start: int, stop: int) -> dict[str, Any]:
        lo, hi = start - first_path, stop - first_path
        return (
            kwargs
            | {name: value[lo:hi] for name, value in row_args.items()}
            | {
                count_arg: stop - start,
                "first_path": start,
            }
        )

    parts: list[Any] = []
    if executor is None:
        for start, stop in ranges:
            try:
                parts.append(run_chunk(func, threads, chunk_kwargs(start, stop)))
            except Exception as exc:
                raise chunk_error(func, start, stop, exc) from exc
        return combine(parts)
    futures = [executor.submit(run_chunk, func, threads, chunk_kwargs(start, stop)) for start, stop in ranges]
    for (start, stop), future in zip(ranges, futures, strict=True):
        try:
            parts.append(future.result())
        except Exception as exc:
            for other in futures:
                other.cancel()
            raise chunk_error(func, start, stop, exc) from exc
    return combine(parts)


def _check_rows(rows: Mapping[str, Any] | None, n_paths: int) -> dict[str, Any]:
    out = {}
    for name, value in (rows or {}).items():
        if value is None:
            continue
        arr = np.asarray(value)
        if arr.ndim == 0 or arr.shape[0] != n_paths:
            raise ValueError(f"{name} must have one row per path (n_paths={n_paths} rows), got shape {arr.shape}")
        out[name] = arr
    return out


def run_chunk(func: Callable[..., Any], threads: int | None, kwargs: dict[str, Any]) -> Any:
    """Run one chunk, with ``threads`` Numba threads if given (set in the task: the setting is per thread)."""
    if threads is None:
        return func(**kwargs)
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        return func(**kwargs)
    finally:
        numba.set_num_threads(before)


def chunk_error(func: Callable[..., Any], start: int, stop: int, exc: Exception) -> Exception:
    """The exception to raise when chunk ``[start, stop)`` of ``func`` failed with ``exc``."""
    target = getattr(func, "func", func)  # the function inside a functools.partial
    name = getattr(target, "__qualname__", None) or type(target).__name__
    msg = f"{name} failed on paths [{start}, {stop}): {type(exc).__name__}: {exc}"
    if "pickle" in str(exc).lower():
        msg += " (functions and arguments sent to an executor must be picklable: use module-level functions)"
    if type(exc).__name__ == "BrokenProcessPool":
        msg += (
            " (a worker died; a pool forked after Numba's OpenMP threads started cannot run kernels: "
            "create it with mp_context=multiprocessing.get_context('spawn') or 'forkserver')"
        )
    try:
        new = type(exc)(msg)
    except Exception:
        return ChunkError(msg)
    return new if str(new) == msg else ChunkError(msg)
