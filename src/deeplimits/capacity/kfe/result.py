"""Result of a capacity KFE solve: a deterministic :class:`~deeplimits._solution.Solution`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..._solution import Solution
from .grid import Grid1D, Grid2D

__all__ = ["KFEResult", "grid_from_dict"]


@dataclass(repr=False)
class KFEResult(Solution):
    """Solution of a capacity KFE: the package's :class:`~deeplimits._solution.Solution`, deterministic.

    Attributes
    ----------
    ts : ndarray, shape (n_save,)
        Output depths (the solver's ``saveat``; by default ``t0`` and ``t_end``).
    ys : ndarray, shape (n_save, *grid.shape)
        Fields at the output depths, ``ys[save, *state]`` (no sample axis).
    stats : dict
        ``scheme``, ``n_steps``, ``dt``, ``substeps``, ``dt_limit`` (explicit
        schemes; ``nan`` otherwise), ``wall_time`` and ``mass`` (total capacity at
        each output depth); 2-D PDE solves add ``scheme_used`` and ``theta``,
        master-equation solves ``solver`` (``"fft"`` or ``"sparse_lu"``).
    grid : Grid1D or Grid2D
        The spatial grid.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import lattice_1d
    >>> res = KFEResult(ts=np.array([0.0, 1.0]), ys=np.full((2, 4), 0.25), grid=lattice_1d(4))
    >>> res.mass().tolist(), res.at(1.0).shape
    ([1.0, 1.0], (4,))
    """

    grid: Any = None

    has_samples: ClassVar[bool] = False
    dims: ClassVar[tuple[str, ...]] = ("sample", "depth", "x", "y")

    def __post_init__(self) -> None:
        if isinstance(self.grid, dict):  # as read back by Solution.load / from_xarray
            self.grid = grid_from_dict(self.grid)

    def _coords(self) -> dict[str, NDArray[Any]]:
        if isinstance(self.grid, Grid1D):
            return {"x": self.grid.x}
        if isinstance(self.grid, Grid2D):
            return {"x": self.grid.gx.x, "y": self.grid.gy.x}
        return {}

    @property
    def y(self) -> NDArray[np.float64]:
        """The field at the last output depth."""
        return self.ys[-1]

    def mass(self) -> NDArray[np.float64]:
        """Total capacity of every saved field, shape ``(n_save,)``."""
        return np.asarray(self.grid.total(self.ys))

    def _extra_repr(self) -> str:
        return f"grid: {self.grid.shape}" if self.grid is not None else ""


def grid_from_dict(d: dict[str, Any]) -> Grid1D | Grid2D:
    """The grid of a saved result: ``{"type": "Grid1D", "x_min": ..., ...}`` or a ``Grid2D`` of two of them.

    Examples
    --------
    >>> grid_from_dict({"type": "Grid1D", "x_min": 0.0, "x_max": 1.0, "n": 4, "boundary": "periodic"}).n
    4
    """
    fields_ = {k: v for k, v in d.items() if k != "type"}
    if d.get("type") == "Grid2D":
        return Grid2D(*(Grid1D(**{k: v for k, v in fields_[a].items() if k != "type"}) for a in ("gx", "gy")))
    if d.get("type") == "Grid1D":
        return Grid1D(**fields_)
    raise ValueError(f"not a saved grid: {d!r}")
