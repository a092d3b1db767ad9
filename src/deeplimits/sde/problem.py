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

With ``batched=True`` the functions receive a block of states instead of one
state, and fill one output row per state::

    @numba.njit(cache=True)
    def drift(t, Y, p, OUT):        # Y, OUT: (B, dim)
        for r in range(Y.shape[0]):
            OUT[r, 0] = p[0] * Y[r, 0]

    @numba.njit(cache=True)
    def diffusion(t, Y, p, OUT):    # OUT: (B, dim, n_noise), zeroed before each call
        for r in range(Y.shape[0]):
            OUT[r, 0, 0] = p[1] * Y[r, 0]

Row ``r`` of ``OUT`` must depend on row ``r`` of ``Y`` only (and on ``t``,
``p``): the engine calls the functions on blocks of paths whose size and
composition it chooses, and a path's values do not depend on them only under
this rule.  One call per block instead of one per path lets the compiler
vectorise the loop over rows, which makes the explicit schemes faster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_array, check_bool, check_choice, check_int
from .domain import Box, Domain

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
    domain : Domain, optional
        Where the state lives and what a step that leaves it does
        (:class:`~deeplimits.sde.Box`, :class:`~deeplimits.sde.PSD`); every
        exit is counted in ``Solution.stats["n_exits"]``.
    kernels : mapping, optional
        Specialised kernels for some schemes, ``{scheme: run}``, where
        ``run(call: KernelCall) -> KernelResult`` integrates this SDE faster or
        more accurately than the generic kernel (see
        :mod:`deeplimits.sde.special`); :func:`~deeplimits.sde.solve` uses them
        behind the same interface.
    torch_drift, torch_diffusion : callable, optional
        Torch versions ``f(t, y, p) -> (batch, dim)`` and
        ``g(t, y, p) -> (batch, dim)`` (diagonal) or ``(batch, dim, n_noise)``
        for the torchsde backend on a GPU.  Without them the backend evaluates
        the Numba functions on CPU float64 arrays.
    batched : bool
        The functions are written for a block of states (see the module
        documentation): ``drift(t, Y, p, OUT)`` with ``Y`` and ``OUT`` of shape
        ``(B, dim)``, ``diffusion`` with ``OUT`` of shape ``(B, dim, n_noise)``,
        ``drift_jacobian`` with ``OUT`` of shape ``(B, dim, dim)`` and
        ``diffusion_derivative`` with ``OUT`` of shape ``(B, dim)``; row ``r``
        of every output may depend on row ``r`` of ``Y`` only.  The generic
        schemes ``"euler"`` and ``"milstein"`` run batched SDEs (default False).

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
    domain: Domain | None = None
    kernels: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    torch_drift: Callable[..., Any] | None = None
    torch_diffusion: Callable[..., Any] | None = None
    batched: bool = False

    def __post_init__(self) -> None:
        dim = check_int(self.dim, "dim", minimum=1)
        check_bool(self.batched, "batched")
        check_choice(self.noise, "noise", _NOISE_KINDS)
        if self.noise == "diagonal":
            if self.n_noise is not None and check_int(self.n_noise, "n_noise") != dim:
                raise ValueError(f"n_noise must equal dim={dim} for diagonal noise, got {self.n_noise}")
            m = dim
        else:
            m = dim if self.n_noise is None else check_int(self.n_noise, "n_noise", minimum=1)
        params = check_array(np.atleast_1d(np.asarray(self.params, dtype=np.float64)), "params", ndim=1)
        for fname in ("drift", "diffusion"):
            if not hasattr(getattr(self, fname), "py_func"):
                raise TypeError(f"{fname} must be a numba.njit-compiled function f(t, y, p, out)")
        for fname in ("drift_jacobian", "diffusion_derivative"):
            value = getattr(self, fname)
            if value is not None and not hasattr(value, "py_func"):
                raise TypeError(f"{fname} must be a numba.njit-compiled function f(t, y, p, out) or None")
        if self.domain is not None and not isinstance(self.domain, Domain):
            raise TypeError(f"domain must be a deeplimits.sde.Domain (Box, PSD) or None, got {self.domain!r}")
        if not isinstance(self.kernels, Mapping) or not all(callable(v) for v in self.kernels.values()):
            raise TypeError("kernels must map scheme names to callables")
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "n_noise", m)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "kernels", dict(self.kernels))

    @property
    def box(self) -> Box | None:
        """The domain if it is a :class:`Box` (enforced inside the kernels), else None."""
        return self.domain if isinstance(self.domain, Box) else None

    def with_params(self, params: ArrayLike) -> SDE:
        """Return a copy with another parameter vector (no recompilation)."""
        return replace(self, params=params)

    # -- probing ------------------------------------------------------------------
    def probe(self, t: float, y: ArrayLike) -> None:
        """Evaluate drift and diffusion once in pure Python and check their output.

        Raises
        ------
        ValueError
            If a function writes outside its output, leaves the drift output
            unwritten, or returns non-finite values at ``(t, y)``.
        """
        y = np.asarray(y, dtype=np.float64)
        if self.batched:  # two equal rows: an output row left unwritten, or depending on another row, shows
            y = np.repeat(y.reshape(1, self.dim), 2, axis=0)
        lead = (2,) if self.batched else ()
        f = np.full(lead + (self.dim,), np.nan)
        _call_checked(self.drift, "drift", t, y, self.params, f, f.shape)
        if not np.all(np.isfinite(f)):
            raise ValueError(
                f"drift returned non-finite or unwritten entries {f} at t={t}, y={y} "
                f"(it must write all {self.dim} entries of out"
                + (", in every row r of OUT, from row r of Y)" if self.batched else ")")
            )
        _check_rows(self.batched, "drift", f)
        n_noise = int(self.n_noise or 1)
        g = np.zeros(lead + (self.dim, n_noise))
        _call_checked(self.diffusion, "diffusion", t, y, self.params, g, g.shape)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"diffusion returned non-finite entries {g} at t={t}, y={y}")
        _check_rows(self.batched, "diffusion", g)


def _check_rows(batched: bool, name: str, out: np.ndarray) -> None:
    """A batched function given two equal rows must return two equal output rows."""
    if batched and not np.array_equal(out[0], out[1]):
        raise ValueError(
            f"{name} (batched=True) returned different rows {out[0]} and {out[1]} for two equal states: "
            f"it must fill every row r of OUT from row r of Y alone"
        )


def _call_checked(
    func: Any, name: str, t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray, shape: tuple[int, ...]
) -> None:
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported by the caller
            func.py_func(float(t), y, p, out)
    except ZeroDivisionError as exc:
        raise ValueError(
            f"{name} is singular at t={t}, y={y} ({exc}); start the grid where it is defined, "
            f"or use scheme='theta' with theta=1, which never evaluates the drift at the first grid time"
        ) from exc
    except IndexError as exc:
        raise ValueError(f"{name} {_which_index_error(func, t, y, p, out)}: {exc}") from exc


def _which_index_error(func: Any, t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> str:
    """Find which argument a user function indexed past, by calling it again with one argument enlarged."""
    pad = 64

    def runs(yy: np.ndarray, pp: np.ndarray, oo: np.ndarray) -> bool:
        try:
            with np.errstate(all="ignore"):
                func.py_func(float(t), yy, pp, oo)
        except IndexError:
            return False
        return True

    big_out = np.zeros(tuple(s + pad for s in out.shape))
    if runs(y, p, big_out):
        return f"wrote outside its output array of shape {out.shape} (check dim/noise/n_noise of the SDE)"
    if runs(y, np.concatenate([p, np.zeros(pad)]), out):
        return f"read past the end of params (the SDE has {p.size} parameters)"
    if runs(np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, pad)]), p, out):
        return f"read past the end of the state y (the SDE has dim={y.size})"
    return "raised IndexError"
