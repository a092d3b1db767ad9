"""torchsde backend: run an :class:`~deeplimits.sde.SDE` through :func:`torchsde.sdeint`.

The point of this backend is cross-checking: with the same Brownian increments,
Euler--Maruyama paths from torchsde and from the Numba kernels agree to
rounding error.  On CPU the drift and diffusion are the SDE's own Numba
functions evaluated over the batch; with ``torch_drift``/``torch_diffusion``
set on the SDE they are torch functions, which also run on a GPU
(``device="cuda"``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._solution import Solution
from . import evaluate
from .noise import brownian_increments

__all__ = ["solve_torchsde", "increments_brownian"]

# Only Euler--Maruyama: torchsde's Milstein needs autograd through g, which the
# Numba functions do not provide, and its derivative-free variant is a different scheme.
_METHODS = {"euler": "euler"}


def _import_torch() -> tuple[Any, Any]:
    try:
        import torch
        import torchsde
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("backend='torchsde' needs the torch extra: pip install 'deeplimits[torch]'") from exc
    return torch, torchsde


def increments_brownian(dW: np.ndarray, grid: np.ndarray, device: str = "cpu") -> Any:
    """A torchsde Brownian motion that returns the given increments on ``grid``.

    Parameters
    ----------
    dW : ndarray, shape (batch, n_steps, m)
        Increments over the grid steps.
    grid : ndarray, shape (n_steps + 1,)
        The step times; queries ``W(tb) - W(ta)`` must fall on grid points.
    """
    torch, torchsde = _import_torch()
    W = np.concatenate([np.zeros((dW.shape[0], 1, dW.shape[2])), np.cumsum(dW, axis=1)], axis=1)
    W_t = torch.as_tensor(W, dtype=torch.float64, device=device)
    grid = np.asarray(grid, dtype=np.float64)

    class _IncrementsBrownian(torchsde.BaseBrownian):  # type: ignore[name-defined]
        __slots__ = ()

        def _index(self, t):
            t = float(t)
            k = int(np.argmin(np.abs(grid - t)))
            if abs(grid[k] - t) > 1e-9 * max(1.0, abs(t)):
                raise ValueError(f"Brownian query at t={t} is not a grid point")
            return k

        def __call__(self, ta, tb=None, return_U=False, return_A=False):
            if tb is None:
                return W_t[:, self._index(ta), :]
            return W_t[:, self._index(tb), :] - W_t[:, self._index(ta), :]

        def __repr__(self):
            return f"IncrementsBrownian(steps={dW.shape[1]})"

        dtype = property(lambda self: torch.float64)
        device = property(lambda self: W_t.device)
        shape = property(lambda self: (dW.shape[0], dW.shape[2]))
        levy_area_approximation = property(lambda self: "none")

    return _IncrementsBrownian()


def _module(sde: Any, torch: Any, device: str) -> Any:
    params_np = sde.params
    params_t = torch.as_tensor(params_np, dtype=torch.float64, device=device)
    diag = sde.noise == "diagonal"

    class _Module(torch.nn.Module):
        noise_type = "diagonal" if diag else "general"
        sde_type = "ito"

        def f(self, t, y):
            if sde.torch_drift is not None:
                return sde.torch_drift(t, y, params_t)
            Y = y.detach().cpu().numpy()
            out = np.empty_like(Y)
            evaluate.eval_drift_batch(sde.drift, float(t), np.ascontiguousarray(Y), params_np, out)
            return torch.as_tensor(out, device=y.device)

        def g(self, t, y):
            if sde.torch_diffusion is not None:
                return sde.torch_diffusion(t, y, params_t)
            Y = np.ascontiguousarray(y.detach().cpu().numpy())
            out = np.empty((Y.shape[0], sde.dim, sde.n_noise))
            evaluate.eval_diffusion_batch(sde.diffusion, float(t), Y, params_np, out)
            if diag:
                out = np.diagonal(out, axis1=1, axis2=2).copy()
            return torch.as_tensor(out, device=y.device)

    return _Module()


def solve_torchsde(
    sde: Any,
    y0: np.ndarray,
    grid: np.ndarray,
    save_idx: np.ndarray,
    *,
    scheme: str = "euler",
    seed: int = 0,
    first_path: int = 0,
    dW: np.ndarray | None = None,
    device: str = "cpu",
) -> Solution:
    """Integrate ``sde`` with :func:`torchsde.sdeint` (called by ``solve(..., backend="torchsde")``).

    Only uniform grids are supported (torchsde steps with a fixed ``dt``).
    Without ``dW``, increments come from :func:`deeplimits.sde.brownian_increments`
    with the same seed and ``first_path``, so both backends see the same
    Brownian paths.  ``device`` is the torch device (``"cpu"``, ``"cuda"``).
    """
    torch, torchsde = _import_torch()
    if scheme not in _METHODS:
        raise ValueError(f"scheme must be one of {sorted(_METHODS)} with backend='torchsde', got {scheme!r}")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device must be a torch device available here, got {device!r} ({exc})") from None
    h = np.diff(grid)
    if not np.allclose(h, h[0], rtol=1e-10, atol=0):
        raise ValueError("grid must be uniform with backend='torchsde'")
    n_paths = y0.shape[0]
    seed_u = seed + (1 << 64) if seed < 0 else seed  # kernel seeds are signed 64-bit; undo for the generator
    if dW is None:
        dW = brownian_increments(grid, n_paths=n_paths, seed=seed_u, n_noise=sde.n_noise, first_path=first_path)
    bm = increments_brownian(dW, grid, device=device)
    module = _module(sde, torch, device)
    y0_t = torch.as_tensor(np.ascontiguousarray(y0), dtype=torch.float64, device=device)
    ts = torch.as_tensor(grid[save_idx], dtype=torch.float64, device=device)
    t0 = time.perf_counter()
    with torch.no_grad():
        out = torchsde.sdeint(module, y0_t, ts, bm=bm, method=_METHODS[scheme], dt=float(h[0]))
    wall = time.perf_counter() - t0
    ys = np.ascontiguousarray(out.detach().cpu().numpy().transpose(1, 0, 2))
    stats = dict(
        scheme=scheme,
        backend="torchsde",
        device=str(device),
        n_paths=n_paths,
        n_steps=int(h.size),
        n_save=int(save_idx.size),
        seed=seed_u,
        first_path=first_path,
        wall_time=wall,
        path_steps_per_second=n_paths * h.size / max(wall, 1e-12),
        n_failed=int(np.count_nonzero(~np.isfinite(ys).all(axis=(1, 2)))),
        n_exits=0,
    )
    return Solution(ts=grid[save_idx].copy(), ys=ys, stats=stats)
