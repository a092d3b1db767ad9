"""deeplimits: differential-equation limits of deep neural networks, with measured convergence.

Subpackages (imported lazily, on first attribute access, because the Numba
kernels they hold are loaded from the on-disk cache or compiled on import):

* :mod:`deeplimits.sde` -- SDE engine (Euler--Maruyama, Milstein, drift-implicit
  theta, weak order 2; torchsde backend);
* :mod:`deeplimits.convergence` -- measured strong and weak orders;
* :mod:`deeplimits.correlation` -- correlation maps and correlation/covariance
  SDEs of deep ReLU networks (Li & Nica 2023; Li, Nica & Roy 2022);
* :mod:`deeplimits.networks` -- finite random MLPs and ResNets at initialisation;
* :mod:`deeplimits.capacity` -- capacity propagation (Donier 2019): Markov chain,
  Kolmogorov forward equation solvers, finite conv nets;
* :mod:`deeplimits.resnet` -- depth-scaling regimes of ResNets (Cohen, Cont,
  Rossier & Xu 2021; Marion et al. 2022);
* :mod:`deeplimits.rng` -- counter-based random streams;
* :mod:`deeplimits.parallel` -- Monte-Carlo runs in chunks of paths on any executor
  (process pools, dask.distributed), bit-identical to one run;
* :mod:`deeplimits.validation` -- the validation harness.
"""

import importlib

from ._numba_cache import configure as _configure_numba_cache

__version__ = "0.2.0"

# Before any kernel is defined: a read-only install must still find a writable cache.
_configure_numba_cache()

_SUBMODULES = ("sde", "convergence", "correlation", "networks", "capacity", "resnet", "rng", "parallel", "validation")

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
