"""Limits with planted coefficient errors, for measuring what an experiment can detect.

An experiment that declares ``perturbable=(...)`` reads ``params["perturb"]`` (coefficient name ->
relative factor, see :meth:`deeplimits.validation.Experiment.run`) through :func:`factors` and takes its
limit from the functions here, which integrate the same equations as the package's samplers with the
named coefficients multiplied by their factors.  With no factor other than 1 the experiments call the
package's own samplers, so an unperturbed run is the validation run itself.

Unshaped q-SDE, in ``y = q^{-1/2}``: ``dy = [(Y_STAR - y)/t + c_d y] dt - c_n y dB`` with ``c_d = 2 f_drift``
and ``c_n = sqrt(2) f_noise``; integrated as ``y = Y_STAR J / t`` with ``dJ = (1 + c_d J) dt - c_n J dB``
(the same change of variables as :func:`deeplimits.correlation.sample_q`), whose mean gives
``E[y_t] = Y_STAR (e^{c_d t} - 1)/(c_d t)``.

Shaped correlation SDE: ``d rho = [f_kappa nu(rho; kappa) - rho (1 - rho^2)/2] dt + f_noise (1 - rho^2) dB``,
integrated in Fisher-z form ``d zeta = [f_kappa nu cosh^2 zeta + (f_noise^2 - 1/2) tanh zeta] dt + f_noise dW``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numba as nb
import numpy as np

from deeplimits.correlation import sample_correlation, sample_q
from deeplimits.correlation.maps import g_scalar
from deeplimits.correlation.shaped_sde import correlation_sde, kappa_from_shaping
from deeplimits.correlation.unshaped import Y_STAR, J_sde, mean_y
from deeplimits.sde import solve, uniform_grid

__all__ = ["SHAPED_COEFFICIENTS", "factors", "unshaped_y", "unshaped_mean_y", "shaped_rho"]


def factors(params: dict, names: Iterable[str]) -> dict[str, float]:
    """``{name: factor}`` for every coefficient in ``names``: ``params["perturb"]`` or 1.

    Raises
    ------
    ValueError
        A name in ``params["perturb"]`` that is not in ``names``, or a factor that is not finite and > 0.
    """
    names = tuple(names)
    given = dict(params.get("perturb") or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"perturb: unknown coefficient(s) {unknown}; this experiment perturbs {list(names)}")
    out = {}
    for name in names:
        f = float(given.get(name, 1.0))
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f"perturb[{name!r}] must be a finite factor > 0, got {given[name]!r}")
        out[name] = f
    return out


@nb.njit(cache=True)
def _J_drift(t, y, p, out):
    out[0] = 1.0 + p[0] * y[0]


@nb.njit(cache=True)
def _J_diffusion(t, y, p, out):
    out[0, 0] = -p[1] * y[0]


@nb.njit(cache=True)
def _J_dgdy(t, y, p, out):
    out[0] = -p[1]


@nb.njit(cache=True)
def _J_jac(t, y, p, out):
    out[0, 0] = p[0]


def unshaped_y(ts, n_paths, seed, steps_per_unit, f):
    """Samples ``(n_paths, len(ts))`` of ``y_t`` of the unshaped limit with factors ``f`` (drift, noise)."""
    if f["drift"] == 1.0 and f["noise"] == 1.0:
        return sample_q(ts, n_paths=n_paths, seed=seed, n_steps_per_unit=steps_per_unit, return_y=True)
    ta = np.asarray(ts, dtype=float)
    k = np.rint(ta * steps_per_unit).astype(int)
    grid = np.arange(k[-1] + 1) / steps_per_unit
    grid[k] = ta
    sde = dataclasses.replace(
        J_sde(),
        drift=_J_drift,
        diffusion=_J_diffusion,
        diffusion_derivative=_J_dgdy,
        drift_jacobian=_J_jac,
        params=[2.0 * f["drift"], math.sqrt(2.0) * f["noise"]],
        kernels={},
    )
    sol = solve(sde, [0.0], grid, n_paths=n_paths, seed=seed, scheme="milstein", saveat=ta)
    return Y_STAR * sol.ys[:, :, 0] / ta[None, :]


def unshaped_mean_y(ts, f):
    """``E[y_t]`` of the unshaped limit with factors ``f`` (the noise factor does not enter)."""
    if f["drift"] == 1.0:
        return mean_y(ts)
    c = 2.0 * f["drift"]
    ta = np.asarray(ts, dtype=float)
    return Y_STAR * np.expm1(c * ta) / (c * ta)


@nb.njit(cache=True)
def _z_drift(t, y, p, out):
    zeta = y[0]
    theta = 2.0 * math.atan(math.exp(-zeta))
    c = math.cosh(zeta)
    out[0] = p[0] / (2.0 * math.pi) * g_scalar(theta) * c * c + (p[1] * p[1] - 0.5) * math.tanh(zeta)


@nb.njit(cache=True)
def _z_diffusion(t, y, p, out):
    out[0, 0] = p[1]


@nb.njit(cache=True)
def _z_dgdy(t, y, p, out):
    out[0] = 0.0


#: Perturbable coefficients of ``corr.shaped_limit``: ``kappa`` and ``noise`` of the correlation SDE,
#: ``norm_noise`` the ``sqrt 2`` of the norm part ``d Phi^aa = sqrt2 Phi^aa dB`` of the covariance SDE.
SHAPED_COEFFICIENTS = ("kappa", "noise", "norm_noise")


def shaped_rho(rho0, T, c_plus, c_minus, n_paths, seed, n_steps, f):
    """Samples ``(n_paths,)`` of ``rho_T`` of the shaped correlation SDE with factors ``f`` (kappa, noise)."""
    if f["kappa"] == 1.0 and f["noise"] == 1.0:
        return sample_correlation(rho0, T, c_plus, c_minus, n_paths=n_paths, seed=seed, n_steps=n_steps)
    kappa = kappa_from_shaping(c_plus, c_minus) * f["kappa"]
    sde = dataclasses.replace(
        correlation_sde(kappa),
        drift=_z_drift,
        diffusion=_z_diffusion,
        diffusion_derivative=_z_dgdy,
        params=[kappa, f["noise"]],
    )
    sol = solve(sde, [math.atanh(rho0)], uniform_grid(0.0, T, n_steps), saveat=[T], n_paths=n_paths, seed=seed)
    return np.tanh(sol.ys[:, 0, 0])
