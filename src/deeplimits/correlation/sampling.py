"""The arguments shared by the samplers of the shaped limits: :class:`ShapedSampling`, :func:`shaped_sampler`."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_int
from .._signature import entry_point, keyword, positional
from ..parallel import chunkable

__all__ = ["ShapedSampling", "shaped_sampler"]


@dataclass(frozen=True)
class ShapedSampling:
    """The time horizon, shaping, sample size and steps of a shaped-limit sampler, as given.

    The fields are the parameters :func:`~deeplimits.correlation.sample_correlation` and
    :func:`~deeplimits.correlation.sample_covariance` share, with their defaults; :meth:`grid`
    checks the horizon, the steps and the shaping.

    Examples
    --------
    >>> T, n_steps, kappa, grid = ShapedSampling(1.0, c_plus=1.0, n_steps=4).grid()
    >>> kappa, grid.size
    (4.0, 5)
    """

    T: float
    c_plus: float = 0.0
    c_minus: float = -1.0
    n_paths: int = 10_000
    seed: int = 0
    n_steps: int = 1000
    saveat: ArrayLike | None = None
    first_path: int = 0

    def grid(self) -> tuple[float, int, float, NDArray[np.float64]]:
        """``T``, ``n_steps`` and ``kappa = (c+ - c-)^2`` checked, and the uniform grid on ``[0, T]``.

        Raises
        ------
        ValueError
            Naming ``T`` (not finite and > 0), ``n_steps`` (not an integer >= 1), ``c_plus`` or
            ``c_minus`` (not finite).
        """
        from ..sde import uniform_grid
        from .shaped_sde import check_T, kappa_from_shaping  # that module's sampler is built here

        T = check_T(self.T)
        n_steps = check_int(self.n_steps, "n_steps", minimum=1)
        kappa = kappa_from_shaping(self.c_plus, self.c_minus)
        return T, n_steps, kappa, uniform_grid(0.0, T, n_steps)


def shaped_sampler(
    rows: Mapping[str, int] | None = None,
) -> Callable[[Callable[..., NDArray[np.float64]]], Callable[..., NDArray[np.float64]]]:
    """Decorator making a public sampler of a body written for a :class:`ShapedSampling`.

    The body is ``body(x0, shared, <own>)``.  The sampler takes ``(x0, T, c_plus, c_minus, n_paths,
    seed, n_steps, saveat, <own>, *, first_path)`` (its ``inspect.signature``, with the defaults of
    :class:`ShapedSampling`), collects the shared arguments into a :class:`ShapedSampling` and calls
    the body; it runs in chunks with ``executor=``/``chunk_size=`` (:func:`~deeplimits.parallel.chunkable`).

    Parameters
    ----------
    rows : mapping of str to int, optional
        The body's arguments with one row per sample (as for ``chunkable``).

    Returns
    -------
    callable
        Turns a body into its sampler.

    Examples
    --------
    >>> @shaped_sampler()
    ... def sketch(x0, shared):
    ...     return shared.grid()[1]
    >>> list(inspect.signature(sketch).parameters)[:3], sketch(0.5, 1.0, n_steps=8)
    (['x0', 'T', 'c_plus'], 8)
    """
    shared = dataclasses.fields(ShapedSampling)
    empty = inspect.Parameter.empty
    given = [positional(f.name, str(f.type), empty if f.default is dataclasses.MISSING else f.default) for f in shared]
    first_path = keyword("first_path", 0, "int")

    def decorate(body: Callable[..., NDArray[np.float64]]) -> Callable[..., NDArray[np.float64]]:
        params = list(inspect.signature(body).parameters.values())
        head, own = params[0], params[2:]

        def call(a: dict[str, Any]) -> NDArray[np.float64]:
            record = ShapedSampling(**{f.name: a[f.name] for f in shared})
            return body(a[head.name], record, *(a[p.name] for p in own))

        public = entry_point(body, [head, *given[:-1], *own, first_path], call)
        return chunkable("n_paths", rows=rows)(public)

    return decorate
