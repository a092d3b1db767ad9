"""SDE engine: Numba-compiled drift/diffusion, parallel paths, measured orders.

>>> import numba as nb, numpy as np
>>> from deeplimits.sde import SDE, solve, uniform_grid
>>> @nb.njit
... def drift(t, y, p, out):
...     out[0] = -p[0] * y[0]
>>> @nb.njit
... def diffusion(t, y, p, out):
...     out[0, 0] = p[1]
>>> ou = SDE(drift, diffusion, dim=1, params=[1.0, 0.5], name="OU")
>>> sol = solve(ou, [1.0], uniform_grid(0.0, 1.0, 100), saveat=[1.0], n_paths=1000, seed=0)
>>> sol.ys.shape
(1000, 1, 1)
"""

from .._solution import Solution
from .domain import PSD, Box, Domain, DomainError
from .grids import geometric_grid, insert_times, uniform_grid
from .noise import brownian_increments, coarsen_increments
from .problem import SDE
from .solve import BATCHED_SCHEMES, SCHEMES, solve
from .special import KernelCall, KernelResult
from .summaries import (
    Histogram,
    HistogramResult,
    Moments,
    MomentsResult,
    Quantiles,
    QuantilesResult,
    Reducer,
    SummarySolution,
)

__all__ = [
    "SDE",
    "Solution",
    "solve",
    "SCHEMES",
    "BATCHED_SCHEMES",
    "uniform_grid",
    "geometric_grid",
    "insert_times",
    "brownian_increments",
    "coarsen_increments",
    "Domain",
    "Box",
    "PSD",
    "DomainError",
    "KernelCall",
    "KernelResult",
    "Moments",
    "MomentsResult",
    "Histogram",
    "HistogramResult",
    "Quantiles",
    "QuantilesResult",
    "Reducer",
    "SummarySolution",
]
