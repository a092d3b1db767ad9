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

One-layer coefficients (``corr.infinite_width``): :func:`unshaped_q_coefficients` reads the regular drift
``2 q`` and the squared noise ``8 q^2`` of the q-SDE from :func:`deeplimits.correlation.q_sde` (the object
that is integrated), times ``f_drift`` and ``f_noise^2``; :func:`shaped_rho_coefficients` the drift and
variance of ``rho`` from the Fisher-z coefficients of :func:`deeplimits.correlation.correlation_sde` by Ito's
formula (with factors: the Fisher-z coefficients below).

Shaped correlation SDE: ``d rho = [f_kappa nu(rho; kappa) - rho (1 - rho^2)/2] dt + f_noise (1 - rho^2) dB``,
integrated in Fisher-z form ``d zeta = [f_kappa nu cosh^2 zeta + (f_noise^2 - 1/2) tanh zeta] dt + f_noise dW``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numba as nb
import numpy as np

from deeplimits.correlation import q_sde, sample_correlation, sample_q
from deeplimits.correlation.maps import g_scalar
from deeplimits.correlation.shaped_sde import correlation_sde, kappa_from_shaping
from deeplimits.correlation.unshaped import Y_STAR, J_sde, mean_y
from deeplimits.resnet.moments import norm_factor_moments, norm_moments
from deeplimits.sde import solve, uniform_grid

__all__ = [
    "SHAPED_COEFFICIENTS",
    "factors",
    "unshaped_y",
    "unshaped_mean_y",
    "shaped_rho",
    "unshaped_q_coefficients",
    "shaped_rho_coefficients",
    "resnet_norm_moments",
]


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


def unshaped_q_coefficients(f):
    """``(drift, variance)`` constants of the q-SDE, ``dq = [A(q)/t + drift q] dt + sqrt(variance) q dB``.

    Read from the coefficient functions of :func:`deeplimits.correlation.q_sde` (the drift at two times
    separates the regular part from the singular ``A(q)/t``), times ``f["drift"]`` and ``f["noise"]^2``.
    """
    sde = q_sde()
    p = np.asarray(sde.params, dtype=float)
    q = np.array([0.7])
    b = np.empty(1)
    drift = []
    for t in (1.0, 2.0):
        sde.drift(t, q, p, b)
        drift.append(t * b[0])
    g = np.empty((1, 1))
    sde.diffusion(1.0, q, p, g)
    # t b(t) = A(q) + c q t, so c q = t2 b(t2) - t1 b(t1) with t2 - t1 = 1
    c = (drift[1] - drift[0]) / q[0]
    return c * f["drift"], (g[0, 0] / q[0]) ** 2 * f["noise"] ** 2


def shaped_rho_coefficients(rho, kappa, f):
    """``(drift, variance)`` of ``rho`` in the shaped correlation SDE at ``rho``, factors ``f`` (kappa, shaped_noise).

    Ito's formula on ``rho = tanh(zeta)``: drift ``(1 - rho^2) (b - rho s^2)``, variance ``(1 - rho^2)^2 s^2``,
    with ``b``, ``s`` the Fisher-z drift and noise of :func:`deeplimits.correlation.correlation_sde` (with
    factors other than 1, the same equation with ``kappa`` and its noise scaled, as in :func:`shaped_rho`).
    """
    if f["kappa"] == 1.0 and f["shaped_noise"] == 1.0:
        sde = correlation_sde(kappa)
    else:
        params = [kappa * f["kappa"], f["shaped_noise"]]
        sde = dataclasses.replace(correlation_sde(kappa), drift=_z_drift, diffusion=_z_diffusion, params=params)
    p = np.asarray(sde.params, dtype=float)
    z = np.array([math.atanh(rho)])
    b, s = np.empty(1), np.empty((1, 1))
    sde.drift(0.0, z, p, b)
    sde.diffusion(0.0, z, p, s)
    w = 1.0 - rho * rho
    return w * (b[0] - rho * s[0, 0] ** 2), w * w * s[0, 0] ** 2


def resnet_norm_moments(variant, activation, width, depth, beta, noise):
    """``(E||h_L||^2, E||h_L||^4)`` of i.i.d.-weight ResNets (:func:`deeplimits.resnet.moments.norm_moments`) with
    the noise of the norm SDE scaled by ``noise``.

    In the one-layer factor ``F = 1 + 2 a s xi_1 / sqrt(d) + a^2 s^2 chi^2_d / d`` the term ``2 a s xi_1 / sqrt(d)``,
    of variance ``4 a^2 E s^2 / d = 4 (E F - 1) / d``, is the noise of the limit; scaling it by ``noise`` adds
    ``(noise^2 - 1) 4 (E F - 1) / d`` to ``E F^2`` and leaves ``E F`` unchanged.
    """
    m2, m4 = norm_moments(variant, activation, width, depth, beta)
    if noise == 1.0:
        return m2, m4
    ef, ef2 = norm_factor_moments(variant, activation, width, float(depth) ** -beta)
    return m2, (ef2 + (noise**2 - 1.0) * 4.0 * (ef - 1.0) / width) ** depth
