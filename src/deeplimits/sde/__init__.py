"""SDE engine: Numba-compiled drift/diffusion, parallel paths, measured orders.

>>> import numba as nb, numpy as np
>>> from deeplimits.sde import SDE, solve, uniform_grid
>>> @nb.njit(cache=True)
... def drift(t, y, p, out):
...     out[0] = -p[0] * y[0]
>>> @nb.njit(cache=True)
... def diffusion(t, y, p, out):
...     out[0, 0] = p[1]
>>> ou = SDE(drift, diffusion, dim=1, params=[1.0, 0.5], name="OU")
>>> sol = solve(ou, [1.0], uniform_grid(0.0, 1.0, 100), saveat=[1.0], n_paths=1000, seed=0)
>>> sol.ys.shape
(1000, 1, 1)
"""

from .grids import check_grid, geometric_grid, save_indices, uniform_grid
from .problem import SDE
from .solve import SCHEMES, Solution, solve

__all__ = ["SDE", "Solution", "solve", "SCHEMES", "uniform_grid", "geometric_grid", "check_grid",
           "save_indices", "brownian_increments", "coarsen_increments"]


def brownian_increments(seed: int, n_paths: int, grid, n_noise: int = 1):
    """Brownian increments ``(n_paths, n_steps, n_noise)`` on ``grid`` from stream ``(seed, path)``.

    These are the increments ``solve(..., seed=seed)`` would draw on a uniform
    grid with ``n_noise == 1``; pass them as ``dW`` to couple schemes and step sizes.
    """
    import numpy as np

    from ..rng import normal_array

    grid = check_grid(grid)
    h = np.diff(grid)
    z = normal_array(seed, (int(n_paths), h.size * int(n_noise))).reshape(int(n_paths), h.size, int(n_noise))
    return z * np.sqrt(h)[None, :, None]


def coarsen_increments(dW, factor: int):
    """Sum consecutive groups of ``factor`` steps: increments of the coarser grid ``grid[::factor]``."""
    import numpy as np

    dW = np.asarray(dW)
    factor = int(factor)
    if factor < 1 or dW.shape[1] % factor:
        raise ValueError(f"factor must be >= 1 and divide n_steps={dW.shape[1]}, got {factor}")
    return dW.reshape(dW.shape[0], dW.shape[1] // factor, factor, dW.shape[2]).sum(axis=2)
