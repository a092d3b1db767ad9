"""Dask clusters for deeplimits: a local cluster, a connection to a running scheduler, tasks.

Every entry point that takes ``executor=`` accepts the :class:`distributed.Client` these
functions return (or a :class:`concurrent.futures.Executor`).  Dask is an optional extra:
importing deeplimits never imports it, and the functions here raise an :class:`ImportError`
that says how to install it (``pip install "deeplimits[distributed]"``) when it is missing.

Numba's thread count is a per-thread setting, so a worker thread keeps whatever the last
task set.  Every task of deeplimits therefore sets it itself (:func:`with_numba_threads`):
one Numba thread per task by default, since a cluster of ``n`` single-threaded workers
already keeps ``n`` cores busy.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from .._checks import check_callable, check_float, check_int

__all__ = [
    "DEFAULT_TASK_THREADS",
    "INSTALL_HINT",
    "SchedulerUnreachableError",
    "NumbaThreadsTask",
    "as_completed",
    "check_executor",
    "connect",
    "is_dask_client",
    "local_cluster",
    "require_distributed",
    "submit",
    "with_numba_threads",
]

#: Numba threads a task uses unless told otherwise.
DEFAULT_TASK_THREADS = 1

#: How to install the optional Dask dependencies.
INSTALL_HINT = 'pip install "deeplimits[distributed]"'


class SchedulerUnreachableError(ConnectionError):
    """No Dask scheduler answered at the address given; the one-line message names it.

    Examples
    --------
    >>> isinstance(SchedulerUnreachableError("cannot reach the Dask scheduler at 'tcp://h:8786'"), OSError)
    True
    """


def require_distributed() -> ModuleType:
    """Import and return :mod:`distributed`, or explain how to install it.

    Returns
    -------
    module
        The :mod:`distributed` package.

    Raises
    ------
    ImportError
        dask or distributed is not installed; the message says ``pip install "deeplimits[distributed]"``.

    Examples
    --------
    >>> require_distributed().__name__  # doctest: +SKIP
    'distributed'
    """
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"running on a Dask cluster needs dask and distributed: {INSTALL_HINT} ({exc})") from None
    return distributed


@contextmanager
def local_cluster(n_workers: int = 2, threads_per_worker: int = 1) -> Iterator[Any]:
    """Start a Dask cluster of worker processes on this machine; yield a client connected to it.

    The workers are separate processes (no shared interpreter lock), the dashboard is off
    and Dask's log lines below ``ERROR`` are silenced.  The cluster stops when the block ends.

    Parameters
    ----------
    n_workers : int, default 2
        Worker processes; at most one per core is useful.
    threads_per_worker : int, default 1
        Tasks each worker runs at the same time.

    Yields
    ------
    distributed.Client

    Raises
    ------
    ImportError
        dask or distributed is not installed.
    ValueError, TypeError
        ``n_workers`` or ``threads_per_worker`` is not a positive integer.

    Examples
    --------
    >>> with local_cluster(1) as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    n_workers = check_int(n_workers, "n_workers", minimum=1)
    threads_per_worker = check_int(threads_per_worker, "threads_per_worker", minimum=1)
    distributed = require_distributed()
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=None,
        # Without a dashboard the scheduler still serves health checks over HTTP, by default
        # on port 8787; a free port keeps two clusters on one machine from contending for it.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def connect(address: str, timeout: float = 10.0) -> Any:
    """Connect to a running Dask scheduler (``dask scheduler`` prints its address).

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` (``HOST:PORT`` means tcp).
    timeout : float, default 10.0
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    distributed.Client
        Close it (or use it in a ``with`` block) when done.

    Raises
    ------
    SchedulerUnreachableError
        Nothing answered at ``address`` within ``timeout`` seconds (a :class:`ConnectionError`).
    ValueError
        ``address`` is not a scheduler address.
    ImportError
        dask or distributed is not installed.

    Examples
    --------
    >>> connect("tcp://127.0.0.1:1", timeout=0.5)  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    SchedulerUnreachableError: cannot reach the Dask scheduler at 'tcp://127.0.0.1:1' within 0.5 s: ...
    """
    if not isinstance(address, str):
        raise TypeError(f"address must be a str such as 'tcp://HOST:PORT', got {type(address).__name__} {address!r}")
    timeout = check_float(timeout, "timeout", minimum=0.0, strict_min=True)
    distributed = require_distributed()
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        parse_host_port(parse_address(address)[1])
    except ValueError as exc:
        raise ValueError(f"address must look like tcp://HOST:PORT, got {address!r} ({exc})") from None
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SchedulerUnreachableError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s: {reason}"
        ) from None


class NumbaThreadsTask:
    """A function that sets Numba's thread count for the calling thread, then runs.

    Made by :func:`with_numba_threads`; pickled with the function it wraps, so it can be
    sent to any worker.  The previous thread count is restored after the call.
    """

    def __init__(self, func: Callable[..., Any], n_threads: int) -> None:
        self.func = func
        self.n_threads = n_threads
        # Dask names its tasks after ``__name__``.
        self.__name__ = getattr(func, "__name__", type(func).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import numba

        previous = numba.get_num_threads()
        available = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        numba.set_num_threads(min(self.n_threads, available))
        try:
            return self.func(*args, **kwargs)
        finally:
            numba.set_num_threads(previous)

    def __repr__(self) -> str:
        return f"with_numba_threads({self.func!r}, n_threads={self.n_threads})"


def with_numba_threads(func: Callable[..., Any], n_threads: int = DEFAULT_TASK_THREADS) -> NumbaThreadsTask:
    """Wrap ``func`` so that it runs with ``n_threads`` Numba threads, on whatever thread calls it.

    Parameters
    ----------
    func : callable
    n_threads : int, default :data:`DEFAULT_TASK_THREADS` (1)
        Numba threads for the call; more than the worker's ``NUMBA_NUM_THREADS`` means all of them.

    Returns
    -------
    NumbaThreadsTask
        Callable like ``func``.

    Examples
    --------
    >>> import numba
    >>> with_numba_threads(numba.get_num_threads, 1)()
    1
    """
    check_callable(func, "func")
    return NumbaThreadsTask(func, check_int(n_threads, "n_threads", minimum=1))


def is_dask_client(executor: object) -> bool:
    """Whether ``executor`` is a :class:`distributed.Client` (without importing distributed).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> is_dask_client(ThreadPoolExecutor(1))
    False
    """
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(executor, distributed.Client)


def check_executor(executor: Any) -> Any:
    """Return ``executor`` if it can run tasks (has a ``submit`` method).

    Raises
    ------
    TypeError
        It has none; the message names the argument ``executor``.

    Examples
    --------
    >>> check_executor("local")
    Traceback (most recent call last):
    ...
    TypeError: executor must be a distributed.Client or a concurrent.futures.Executor, got str 'local'
    """
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "executor must be a distributed.Client or a concurrent.futures.Executor, "
            f"got {type(executor).__name__} {executor!r}"
        )
    return executor


def submit(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
    """Submit ``func(*args)`` to a Dask client or a :class:`concurrent.futures.Executor`.

    A Dask task is marked impure, so two equal submissions both run (they may use random numbers).

    Returns
    -------
    future
        Its ``result()`` is ``func(*args)``.

    Raises
    ------
    TypeError
        ``executor`` has no ``submit`` method.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1) as pool:
    ...     submit(pool, pow, 2, 5).result()
    32
    """
    check_executor(executor)
    if is_dask_client(executor):
        return executor.submit(func, *args, pure=False)
    return executor.submit(func, *args)


def as_completed(futures: Iterable[Any]) -> Iterator[Any]:
    """Yield futures (Dask's or :mod:`concurrent.futures`') in the order they finish.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     sorted(f.result() for f in as_completed([pool.submit(abs, -1), pool.submit(abs, -2)]))
    [1, 2]
    """
    futures = list(futures)
    if not futures:
        return iter(())
    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(futures[0], distributed.Future):
        return iter(distributed.as_completed(futures))
    import concurrent.futures

    return concurrent.futures.as_completed(futures)
