"""The result of a convergence study (:class:`OrderResult`), the log-log slope fit and its plot.

:func:`plot_orders` is :func:`deeplimits.plotting.plot_orders`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..plotting import plot_orders

__all__ = ["OrderResult", "fit_order", "plot_orders"]


@dataclass
class OrderResult:
    """Errors against step size and the fitted order.

    Attributes
    ----------
    kind : {"strong", "weak"}
    scheme : str
    hs : ndarray
        Nominal step sizes ``(t1 - t0) / n_steps``.
    errors : ndarray
        Measured errors for each step size.
    stderr : ndarray
        Monte-Carlo standard errors of ``errors``.
    order : float
        Least-squares slope of ``log(error)`` against ``log(h)``.
    ci : tuple of float
        95% bootstrap confidence interval of the order (resampling paths); ``(nan, nan)``
        when no interval was computed (e.g. errors against a closed form without per-path
        samples).
    expected : float or None
        The scheme's theoretical order, when known.
    n_paths : int
    """

    kind: str
    scheme: str
    hs: np.ndarray
    errors: np.ndarray
    stderr: np.ndarray
    order: float
    ci: tuple[float, float]
    expected: float | None = None
    n_paths: int = 0
    label: str = ""
    #: run metadata (e.g. the signed weak errors)
    stats: dict[str, Any] = field(default_factory=dict)

    def within(self, tol: float) -> bool:
        """True iff ``|order - expected| <= tol``."""
        if self.expected is None:
            raise ValueError("no expected order to compare with")
        return abs(self.order - self.expected) <= tol

    def plot(self, ax: Any = None, reference_slopes: Sequence[float] | None = None) -> Any:
        """Log-log plot of error against step with reference slopes (:func:`plot_orders`); returns the axes."""
        fig = plot_orders([self], ax=ax, reference_slopes=reference_slopes)
        return ax if ax is not None else fig.axes[0]

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready built-in types; ``ci`` is None when no interval was computed."""
        has_ci = all(np.isfinite(c) for c in self.ci)
        return dict(
            kind=self.kind,
            scheme=self.scheme,
            hs=self.hs.tolist(),
            errors=self.errors.tolist(),
            stderr=self.stderr.tolist(),
            order=float(self.order),
            ci=[float(c) for c in self.ci] if has_ci else None,
            expected=self.expected,
            n_paths=self.n_paths,
            label=self.label,
        )


def fit_order(hs: ArrayLike, errors: ArrayLike) -> float:
    """Least-squares slope of ``log(errors)`` on ``log(hs)``.

    Raises
    ------
    ValueError
        With fewer than 2 points, or non-positive/non-finite values.
    """
    hs = np.asarray(hs, dtype=float)
    errors = np.asarray(errors, dtype=float)
    if hs.ndim != 1 or hs.shape != errors.shape or hs.size < 2:
        raise ValueError(f"hs and errors must be 1-D of equal length >= 2, got shapes {hs.shape} and {errors.shape}")
    if np.any(~np.isfinite(hs)) or np.any(hs <= 0):
        raise ValueError(f"hs must be positive and finite to fit an order, got {hs}")
    if np.any(~np.isfinite(errors)) or np.any(errors <= 0):
        raise ValueError(f"errors must be positive and finite to fit an order, got {errors}")
    if np.unique(hs).size < 2:
        raise ValueError(f"hs must hold at least 2 distinct step sizes, got {hs}")
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])
