"""The checked arguments of a batch of finite networks: one record for every simulator and both engines."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_choice, check_gram, check_int, check_seed
from .._signature import entry_point, keyword, positional
from ..parallel import chunkable
from ..progress import with_progress
from .batch import NetworkBatch, safe_sqrt_product

__all__ = ["ENGINES", "NetworkSpec", "input_gram", "network_model", "save_slots"]

#: The engines of the network simulators.
ENGINES = ("gram", "dense")


@dataclass(frozen=True)
class NetworkSpec:
    """The arguments shared by the network simulators, checked once by :meth:`check`.

    Attributes
    ----------
    gram : ndarray, shape (m, m)
        The input Gram matrix, symmetrised.
    P0 : ndarray, shape (m,)
        Its diagonal.
    D0 : ndarray, shape (m, m)
        ``2 (1 - rho_0)`` of the inputs (zero diagonal).
    width, depth, n_nets : int
        ``n >= 1``, ``d >= 1`` layers and the number of networks.
    engine : {"gram", "dense"}
        The engine that runs them.
    seed : int
        Non-negative seed.
    first_path : int
        Network ``k`` of the batch draws from stream ``(seed, first_path + k)``.
    layers : ndarray of int64
        Sorted saved layers.
    slot : ndarray of int64, shape (depth + 1,)
        ``slot[l]`` = output slot of layer ``l``, -1 if not saved.

    Examples
    --------
    >>> from deeplimits.networks import gram_from_correlation
    >>> spec = NetworkSpec.check(gram_from_correlation(0.5), 16, 4, 3, "gram", 0, 0, "last")
    >>> spec.m, spec.layers, spec.stats("relu_mlp")["n_nets"]
    (2, array([4]), 3)
    """

    gram: NDArray[np.float64]
    P0: NDArray[np.float64]
    D0: NDArray[np.float64]
    width: int
    depth: int
    n_nets: int
    engine: str
    seed: int
    first_path: int
    layers: NDArray[np.int64]
    slot: NDArray[np.int64]

    @classmethod
    def check(
        cls, gram0: ArrayLike, width: Any, depth: Any, n_nets: Any, engine: Any, seed: Any, first_path: Any, save: Any
    ) -> NetworkSpec:
        """Check the shared arguments of a simulator.

        Parameters
        ----------
        gram0, width, depth, n_nets, engine, seed, first_path, save
            As in :func:`deeplimits.networks.leaky_mlp`.

        Returns
        -------
        NetworkSpec

        Raises
        ------
        ValueError
            Naming the argument: unknown ``engine``; ``width``, ``depth``, ``n_nets`` not integers >= 1;
            ``seed`` or ``first_path`` not an integer >= 0; ``gram0`` not a valid Gram matrix
            (:func:`input_gram`); ``save`` outside ``0..depth``.
        MemoryError
            If the output or a network's scratch space (``width`` x m for the Gram engine, ``width`` x
            ``width`` for the dense engine) cannot fit.
        """
        engine = check_choice(engine, "engine", ENGINES)
        width = check_int(width, "width", minimum=1)
        depth = check_int(depth, "depth", minimum=1)
        n_nets = check_int(n_nets, "n_nets", minimum=1)
        seed = check_seed(seed)
        first_path = check_int(first_path, "first_path", minimum=0)
        gram, P0, D0 = input_gram(gram0)
        layers, slot = save_slots(save, depth)
        m = gram.shape[0]
        check_allocation((n_nets, layers.size, m, m), "n_nets (output of shape (n_nets, n_save, m, m))")
        # scratch per network: the layer's n x m activations (gram engine) or n x n weights (dense engine)
        check_allocation((width, m) if engine == "gram" else (width, width), "width")
        return cls(gram, P0, D0, width, depth, n_nets, engine, seed, first_path, layers, slot)

    @property
    def m(self) -> int:
        """Number of inputs."""
        return int(self.gram.shape[0])

    def empty_outputs(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Uninitialised engine outputs: squared norms ``(n_nets, n_save, m)``, ``D`` ``(n_nets, n_save, m, m)``."""
        shape = (self.n_nets, self.layers.size, self.m)
        return np.empty(shape), np.empty(shape + (self.m,))

    def stats(self, arch: str) -> dict[str, Any]:
        """Run metadata of a :class:`~deeplimits.networks.NetworkBatch` of architecture ``arch``."""
        return dict(
            arch=arch,
            engine=self.engine,
            width=self.width,
            depth=self.depth,
            n_nets=self.n_nets,
            seed=self.seed,
            first_path=self.first_path,
        )


#: The parameters every simulator takes, before and after its own keywords (as in ``leaky_mlp``).
_LEADING = [
    positional(name, "ArrayLike" if name == "gram0" else "int") for name in ("gram0", "width", "depth", "n_nets")
]
_TRAILING = [
    keyword("engine", "gram", "str"),
    keyword("seed", 0, "int"),
    keyword("first_path", 0, "int"),
    keyword("save", "all", "Any"),
    keyword("progress", None, "bool | None"),
]


def network_model(model: Callable[..., NetworkBatch]) -> Callable[..., NetworkBatch]:
    """Decorator making a public simulator of a model written for a checked :class:`NetworkSpec`.

    The model is ``model(spec, *, own keywords) -> NetworkBatch``.  The simulator takes
    ``(gram0, width, depth, n_nets, *, <own keywords>, engine, seed, first_path, save, progress)``
    (its ``inspect.signature``), checks the shared ones into a :class:`NetworkSpec` and calls the
    model with it and its own keywords; it runs in chunks with ``executor=``/``chunk_size=`` and
    shows progress (:func:`~deeplimits.parallel.chunkable`, :func:`~deeplimits.progress.with_progress`).

    Parameters
    ----------
    model : callable
        ``model(spec, *, ...) -> NetworkBatch``.

    Returns
    -------
    callable
        The simulator.

    Examples
    --------
    >>> import inspect
    >>> from deeplimits.networks import gram_from_correlation
    >>> @network_model
    ... def sketch(spec, *, gain=1.0):
    ...     return spec.stats("sketch") | dict(gain=gain)
    >>> list(inspect.signature(sketch).parameters)[3:6]
    ['n_nets', 'gain', 'engine']
    >>> sketch(gram_from_correlation(0.5), 8, 2, 3, gain=2.0)["n_nets"]
    3
    """
    own = list(inspect.signature(model).parameters.values())[1:]

    def call(a: dict[str, Any]) -> NetworkBatch:
        spec = NetworkSpec.check(*(a[p.name] for p in _LEADING + _TRAILING[:-1]))
        return model(spec, **{p.name: a[p.name] for p in own})

    simulator = entry_point(model, [*_LEADING, *own, *_TRAILING], call)
    return chunkable("n_nets")(with_progress("n_nets")(simulator))


def input_gram(
    gram0: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate an input Gram matrix (overflow-safe: any magnitude is judged on its correlations).

    Parameters
    ----------
    gram0 : array_like, shape (m, m)
        Candidate Gram matrix of m >= 2 inputs.

    Returns
    -------
    gram : ndarray, shape (m, m)
        Symmetrised copy.
    P : ndarray, shape (m,)
        Its diagonal.
    D : ndarray, shape (m, m)
        ``2 (1 - rho)`` (zero diagonal).

    Raises
    ------
    ValueError
        Unless ``gram0`` is a finite, symmetric, positive semi-definite m x m matrix with m >= 2 and
        a positive diagonal; the message names ``gram0``.
    """
    g = check_gram(gram0, "gram0")
    if g.ndim != 2:
        raise ValueError(f"gram0 must be one m x m matrix, got shape {g.shape}")
    m = g.shape[0]
    if m < 2:
        raise ValueError(f"gram0 must describe m >= 2 inputs, got m = {m}")
    p = np.diag(g).copy()
    if np.any(p <= 0):
        raise ValueError(f"gram0 must have a positive diagonal (non-zero inputs), got {p.tolist()}")
    rho = g / safe_sqrt_product(p[:, None], p[None, :])
    if np.any(np.abs(rho) > 1 + 1e-12):
        raise ValueError("gram0 has correlations outside [-1, 1]")
    g = 0.5 * (g + g.T)
    D = 2.0 * (1.0 - np.clip(rho, -1.0, 1.0))
    np.fill_diagonal(D, 0.0)
    return g, p, D


def save_slots(save: str | ArrayLike | None, depth: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Saved layers and their output slots.

    Parameters
    ----------
    save : "all", "last", None or sequence of int
        Layers to save (None = "all").
    depth : int
        Number of layers; valid layer indices are ``0..depth``.

    Returns
    -------
    layers : ndarray of int64
        Sorted unique saved layers.
    slot : ndarray of int64, shape (depth + 1,)
        ``slot[l]`` = output slot of layer ``l``, -1 if not saved.

    Raises
    ------
    ValueError
        If ``save`` names no layer, a non-integer, or a layer outside ``[0, depth]``.
    """
    if save is None or (isinstance(save, str) and save == "all"):
        layers = np.arange(depth + 1)
    elif isinstance(save, str) and save == "last":
        layers = np.array([depth])
    else:
        try:
            requested = np.asarray(save, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(f"save must be 'all', 'last' or a sequence of layer indices, got {save!r}") from None
        if not np.all(np.isfinite(requested) & (requested == np.round(requested))):
            raise ValueError(f"save layers must be integers, got {requested.tolist()}")
        layers = np.unique(requested.astype(np.int64))
        if layers.size == 0:
            raise ValueError("save must name at least one layer")
        if layers[0] < 0 or layers[-1] > depth:
            raise ValueError(f"save layers must lie in [0, depth={depth}], got {layers.tolist()}")
    slot = np.full(depth + 1, -1, dtype=np.int64)
    slot[layers] = np.arange(layers.size)
    return layers.astype(np.int64), slot
