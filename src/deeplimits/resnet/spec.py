"""The checked arguments of a batch of random ResNets: one record for the dense and the exact simulators."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_allocation, check_array, check_bool, check_float, check_int, check_seed
from .._signature import entry_point, keyword, positional
from ..parallel import chunkable
from ..rng import kernel_seed
from ._kernels import activation_code, variant_code

__all__ = ["ResNetSpec", "check_beta", "initial_state", "resnet_simulator"]


def check_beta(beta: float, name: str = "beta") -> float:
    """Validate a scaling exponent (``alpha_L = L^-beta``): finite and >= 0.

    Examples
    --------
    >>> check_beta(0.5)
    0.5
    """
    return check_float(beta, name, minimum=0.0)


def initial_state(h0: ArrayLike | None, n_nets: int, width: int) -> NDArray[np.float64]:
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
    arr = check_array(h0, "h0", ndim=(1, 2))
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n_nets, arr.size))
    if arr.shape != (n_nets, width):
        raise ValueError(f"h0 must have shape ({width},) or ({n_nets}, {width}), got {arr.shape}")
    return np.ascontiguousarray(arr)


@dataclass(frozen=True)
class ResNetSpec:
    """The arguments shared by the random-ResNet simulators, checked once by :meth:`check`.

    Attributes
    ----------
    variant, activation : str
        Residual branch and activation, with their Numba codes ``vc`` and ``ac``.
    vc, ac : int
    n_nets, width, depth : int
        Number of networks, width ``d`` and depth ``L``.
    beta, gamma, bias_std : float
        ``alpha_L = L^-beta``; Cohen's weight exponent and bias standard deviation.
    seed, first_path : int
        Network ``i`` of the batch draws from stream ``first_path + i`` of ``seed``.
    save : bool
        Keep every hidden state (``save_trajectories``).

    Examples
    --------
    >>> spec = ResNetSpec.check("res1", "tanh", 4, 3, 16, 0.5, 0.0, 0.0, 0, 0, False)
    >>> spec.alpha, spec.params("iid")["variant"]
    (0.25, 'res1')
    """

    variant: str
    activation: str
    vc: int
    ac: int
    n_nets: int
    width: int
    depth: int
    beta: float
    gamma: float
    bias_std: float
    seed: int
    first_path: int
    save: bool

    @classmethod
    def check(
        cls,
        variant: Any,
        activation: Any,
        n_nets: Any,
        width: Any,
        depth: Any,
        beta: Any,
        gamma: Any,
        bias_std: Any,
        seed: Any,
        first_path: Any,
        save: Any,
        dense: bool = True,
    ) -> ResNetSpec:
        """Check the arguments of a simulator (``save`` is its ``save_trajectories``).

        Raises
        ------
        ValueError
            Unknown variant or activation, counts below 1, ``beta`` or ``gamma`` out of range, ``bias_std``
            negative or not finite, negative ``seed`` or ``first_path``.
        MemoryError
            If the output (``n_nets x (L + 1) x width`` with ``save_trajectories``) or, for the dense
            simulators (``dense=True``), one network's ``width x width`` weights cannot fit.
        """
        vc, ac = variant_code(variant), activation_code(activation)
        n_nets = check_int(n_nets, "n_nets", minimum=1)
        width = check_int(width, "width", minimum=1)
        depth = check_int(depth, "depth", minimum=1)
        beta, gamma = check_beta(beta), check_beta(gamma, "gamma")
        bias_std = check_float(bias_std, "bias_std", minimum=0.0)
        seed = check_seed(seed)
        first_path = check_int(first_path, "first_path", minimum=0)
        save = check_bool(save, "save_trajectories")
        check_allocation((n_nets, depth + 1 if save else 1, width), "n_nets x depth x width (the hidden states)")
        check_allocation((n_nets, depth + 1), "n_nets x depth (the norms)")
        if dense:
            check_allocation((width, width), "width (one layer's weights)")
        return cls(variant, activation, vc, ac, n_nets, width, depth, beta, gamma, bias_std, seed, first_path, save)

    @property
    def alpha(self) -> float:
        """The branch scale ``alpha_L = L^-beta``."""
        return float(self.depth) ** (-self.beta)

    @property
    def cohen_scale(self) -> float:
        """``L^-gamma``, the factor of Cohen's weights and biases."""
        return float(self.depth) ** (-self.gamma)

    def empty_outputs(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Uninitialised hidden states ``(n_nets, L + 1 or 1, d)`` and norms ``(n_nets, L + 1)``."""
        traj = np.empty((self.n_nets, self.depth + 1 if self.save else 1, self.width))
        return traj, np.empty((self.n_nets, self.depth + 1))

    def run(
        self, kernel: Any, h0: NDArray[np.float64], *scales: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Run the Numba simulator ``kernel(h0, seed, first_path, vc, ac, alpha, save, traj, norms, *scales)``.

        Returns
        -------
        traj, norms : ndarray
            As :meth:`empty_outputs`, filled in.
        """
        traj, norms = self.empty_outputs()
        kernel(
            h0, kernel_seed(self.seed), self.first_path, self.vc, self.ac, self.alpha, self.save, traj, norms, *scales
        )
        return traj, norms

    def params(self, weights: str, **extra: Any) -> dict[str, Any]:
        """The ``params`` of a :class:`~deeplimits.resnet.ResNetBatch` drawn with weight family ``weights``."""
        return dict(
            variant=self.variant,
            activation=self.activation,
            weights=weights,
            beta=self.beta,
            alpha=self.alpha,
            depth=self.depth,
            width=self.width,
            **extra,
            gamma=self.gamma,
            bias_std=self.bias_std,
        )

    def stats(self, simulator: str) -> dict[str, Any]:
        """The ``stats`` of a :class:`~deeplimits.resnet.ResNetBatch` run by ``simulator``."""
        return dict(seed=self.seed, first_path=self.first_path, n_nets=self.n_nets, simulator=simulator)


#: The arguments of :meth:`ResNetSpec.check` in order, as the simulators name them.
_CHECKED = ("variant", "activation", "n_nets", "width", "depth", "beta", "gamma", "bias_std", "seed", "first_path")
#: The keywords every simulator ends with, and their defaults.
_TRAILING = dict(gamma=0.0, bias_std=0.0, h0=None, seed=0, first_path=0, save_trajectories=False)


def resnet_simulator(dense: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator making a public random-ResNet simulator of a model written for a checked :class:`ResNetSpec`.

    The model is ``model(spec, <own positional>, *, <own keywords>, h0)``.  The simulator takes
    ``(variant, n_nets, width, depth, beta, <own positional>, *, activation, <own keywords>, gamma,
    bias_std, h0, seed, first_path, save_trajectories)`` (its ``inspect.signature``, annotated as the
    fields of :class:`ResNetSpec`), checks the shared arguments into a :class:`ResNetSpec` and calls
    the model with it, its own arguments and ``h0`` as given; it runs in chunks with
    ``executor=``/``chunk_size=`` (:func:`~deeplimits.parallel.chunkable`).

    Parameters
    ----------
    dense : bool
        Whether the model holds a network's ``width x width`` weights (checked to fit in memory).

    Returns
    -------
    callable
        Turns a model into its simulator.

    Examples
    --------
    >>> @resnet_simulator(dense=False)
    ... def sketch(spec, *, h0):
    ...     return spec.alpha
    >>> list(inspect.signature(sketch).parameters)[5:7], sketch("res1", 2, 3, 16, 0.5)
    (['activation', 'gamma'], 0.25)
    """
    field = ResNetSpec.__annotations__ | dict(save_trajectories="bool", h0="ArrayLike | None")
    leading = [positional(name, field[name]) for name in ("variant", "n_nets", "width", "depth", "beta")]
    trailing = [keyword(name, default, field[name]) for name, default in _TRAILING.items()]

    def decorate(model: Callable[..., Any]) -> Callable[..., Any]:
        own = list(inspect.signature(model).parameters.values())[1:]
        own_positional = [p for p in own if p.kind is p.POSITIONAL_OR_KEYWORD]
        own_keywords = [p for p in own if p.kind is p.KEYWORD_ONLY and p.name != "h0"]

        def call(a: dict[str, Any]) -> Any:
            checked = {name: a[name] for name in _CHECKED}
            spec = ResNetSpec.check(**checked, save=a["save_trajectories"], dense=dense)
            keywords = {p.name: a[p.name] for p in own_keywords}
            return model(spec, *(a[p.name] for p in own_positional), **keywords, h0=a["h0"])

        activation = keyword("activation", "tanh", field["activation"])
        public = entry_point(model, [*leading, *own_positional, activation, *own_keywords, *trailing], call)
        return chunkable("n_nets", rows={"h0": 2})(public)

    return decorate
