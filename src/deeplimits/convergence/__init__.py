"""Measured orders of convergence of SDE schemes.

:func:`strong_order` and :func:`weak_order` run a scheme on a sequence of
nested grids driven by *the same* Brownian paths (increments of the finest grid
summed over the coarser steps), measure the error against an exact solution,
an exact-in-law coupled sample, or a fine reference, and fit the log-log slope
of error against step size with a bootstrap confidence interval over paths.

Errors
------
* strong: ``E |Y^h_T - Y_T|`` (component ``component``, mean over paths);
* weak:   ``|E f(Y^h_T) - E f(Y_T)|``, estimated as the mean of the paired
  differences ``f(Y^h_T) - f(Y_T)`` over coupled paths, which has a much
  smaller variance than the difference of two independent means.

Example
-------
>>> from deeplimits.sde.models import gbm, gbm_exact
>>> res = strong_order(gbm(1.0, 0.5), [1.0], t1=1.0, exact=gbm_exact(1.0, 1.0, 0.5),
...                    n_steps=[8, 16, 32, 64], scheme="milstein", n_paths=400, seed=0)
>>> round(res.order, 1)
1.0
"""

from .result import OrderResult, fit_order, plot_orders
from .study import coupled_increments, strong_order, weak_order
from .work_precision import WorkPrecision, plot_work_precision, work_precision

__all__ = [
    "OrderResult",
    "fit_order",
    "strong_order",
    "weak_order",
    "plot_orders",
    "coupled_increments",
    "WorkPrecision",
    "work_precision",
    "plot_work_precision",
]
