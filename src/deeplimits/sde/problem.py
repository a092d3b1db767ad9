"""The :class:`SDE` object: drift and diffusion as Numba-compiled functions.

An Itô SDE ``dY = f(t, Y) dt + g(t, Y) dW`` with state ``Y`` in R^dim and a
Brownian motion ``W`` in R^n_noise is described by two Numba functions that
write into preallocated outputs (so the inner loop never allocates)::

    @numba.njit(cache=True)
    def drift(t, y, p, out):        # out: (dim,)
        out[0] = p[0] * y[0]

    @numba.njit(cache=True)
    def diffusion(t, y, p, out):    # out: (dim, n_noise), zeroed before each call
        out[0, 0] = p[1] * y[0]

``p`` is a float64 parameter vector, so one compiled function serves every
parameter value.  With ``noise="diagonal"`` (``n_noise == dim``) only the
diagonal ``out[i, i]`` is used: component ``i`` is driven by ``W_i`` alone.
With ``noise="general"`` the full matrix multiplies ``dW``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["SDE"]

_NOISE_KINDS = ("diagonal", "general")


@dataclass(frozen=True)
class SDE:
    """An Itô stochastic differential equation ``dY = f dt + g dW``.

    Parameters
    ----------
    drift : numba.core.registry.CPUDispatcher
        ``drift(t, y, p, out)`` writes ``f(t, y)`` into ``out`` of shape ``(dim,)``.
    diffusion : numba.core.registry.CPUDispatcher
        ``diffusion(t, y, p, out)`` writes ``g(t, y)`` into ``out`` of shape
        ``(dim, n_noise)``; ``out`` is zeroed before each call.
    dim : int
        State dimension.
    noise : {"diagonal", "general"}
        Diagonal noise uses ``out[i, i]`` only and has ``n_noise = dim``.
    n_noise : int, optional
        Number of Brownian motions (general noise only; default ``dim``).
    params : array_like, optional
        Parameter vector passed as ``p`` (float64, may be empty).
    drift_jacobian : dispatcher, optional
        ``drift_jacobian(t, y, p, out)`` writes ``df_i/dy_j`` into ``out`` of
        shape ``(dim, dim)``.  Used by the implicit (theta) scheme's Newton
        iteration and the explicit-stability check; central finite differences
        are used when absent.
    diffusion_derivative : dispatcher, optional
        ``diffusion_derivative(t, y, p, out)`` writes ``dg_ii/dy_i`` into
        ``out`` of shape ``(dim,)`` (Milstein, diagonal noise); central finite
        differences when absent.
    name : str, optional
        Label used in reports.
    torch_drift, torch_diffusion : callable, optional
        Torch versions ``f(t, y, p) -> (batch, dim)`` and
        ``g(t, y, p) -> (batch, dim)`` (diagonal) or ``(batch, dim, n_noise)``
        for the torchsde backend on a GPU.  Without them the backend evaluates
        the Numba functions on CPU float64 arrays.

    Notes
    -----
    The functions are probed once at construction, in pure Python
    (``.py_func``), with arrays of the declared shapes: writing outside
    ``out`` or leaving entries unwritten is reported as a :class:`ValueError`
    naming the function, instead of corrupting memory inside a kernel.
    """

    drift: Any
    diffusion: Any
    dim: int = 1
    noise: str = "diagonal"
    n_noise: int | None = None
    params: Any = field(default_factory=lambda: np.zeros(0))
    drift_jacobian: Any = None
    diffusion_derivative: Any = None
    name: str = ""
    torch_drift: Callable | None = None
    torch_diffusion: Callable | None = None

    def __post_init__(self):
        dim = int(self.dim)
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        if self.noise not in _NOISE_KINDS:
            raise ValueError(f"noise must be one of {_NOISE_KINDS}, got {self.noise!r}")
        if self.noise == "diagonal":
            if self.n_noise not in (None, dim):
                raise ValueError(f"diagonal noise needs n_noise == dim == {dim}, got n_noise={self.n_noise}")
            m = dim
        else:
            m = dim if self.n_noise is None else int(self.n_noise)
            if m < 1:
                raise ValueError(f"n_noise must be >= 1, got {self.n_noise}")
        params = np.ascontiguousarray(np.atleast_1d(np.asarray(self.params, dtype=np.float64)))
        if params.ndim != 1:
            raise ValueError(f"params must be a 1-D vector, got shape {params.shape}")
        if not np.all(np.isfinite(params)):
            raise ValueError(f"params must be finite, got {params}")
        for fname in ("drift", "diffusion"):
            if not hasattr(getattr(self, fname), "py_func"):
                raise TypeError(f"{fname} must be a numba.njit-compiled function f(t, y, p, out)")
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "n_noise", m)
        object.__setattr__(self, "params", params)

    def with_params(self, params) -> "SDE":
        """Return a copy with another parameter vector (no recompilation)."""
        from dataclasses import replace

        return replace(self, params=params)

    # -- probing ------------------------------------------------------------------
    def probe(self, t: float, y: np.ndarray) -> None:
        """Evaluate drift and diffusion once in pure Python and check their output.

        Raises
        ------
        ValueError
            If a function writes outside its output, leaves the drift output
            unwritten, or returns non-finite values at ``(t, y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        f = np.full(self.dim, np.nan)
        _call_checked(self.drift, "drift", t, y, self.params, f, (self.dim,))
        if not np.all(np.isfinite(f)):
            raise ValueError(
                f"drift returned non-finite or unwritten entries {f} at t={t}, y={y} "
                f"(it must write all {self.dim} entries of out)")
        g = np.zeros((self.dim, self.n_noise))
        _call_checked(self.diffusion, "diffusion", t, y, self.params, g, (self.dim, self.n_noise))
        if not np.all(np.isfinite(g)):
            raise ValueError(f"diffusion returned non-finite entries {g} at t={t}, y={y}")


def _call_checked(func, name, t, y, p, out, shape):
    try:
        func.py_func(float(t), y, p, out)
    except ZeroDivisionError as exc:
        raise ValueError(f"{name} is singular at t={t}, y={y} ({exc}); start the grid where it is defined, "
                         f"or use scheme='theta' with theta=1, which never evaluates the drift at the first grid time"
                         ) from exc
    except IndexError as exc:
        raise ValueError(
            f"{name} wrote outside its output array of shape {shape}: {exc}. "
            f"Check dim/noise/n_noise of the SDE.") from exc
