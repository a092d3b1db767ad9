"""Correlation and covariance limits of deep ReLU networks (Li, Nica & Roy 2022; Li & Nica 2023).

Modules
-------
maps
    Exact infinite-width correlation maps (ReLU, leaky/shaped ReLU) in ``u = 1 - rho``
    and angle form.
depth
    The depth recursion of the map to ``l = 1e6``, its ``9 pi^2 / (2 l^2)`` asymptote,
    and the finite-width one-layer sampler whose limit the map is.
odes
    Deterministic limits: shaped MLP with ``d << n`` and ResNet with a ``d^{-1/2}``
    branch, which coincide when ``(c+ - c-)^2 = sigma_r^2``.
shaped_sde
    Neural covariance SDE (shaped ReLU, ``d/n = T``): the correlation marginal in Fisher-z
    form (``rho`` stays in ``(-1, 1)``).
shaped_covariance
    PSD-preserving integration of the covariance of ``m`` inputs (factor form).
unshaped
    Singular SDE of ``q_t = l^2 (1 - rho_l)``, ``t = l/n`` (subpackage: ``equation``,
    ``engine``, ``moments``, ``sampling``): ``q_sde()``, ``y_sde()``, ``J_sde()`` run through
    ``deeplimits.sde.solve`` with specialised kernels from ``t = 0`` (regular J-equation,
    drift-implicit schemes on ``y = q^{-1/2}`` and on ``q`` itself) and Euler/Milstein from
    ``t0 > 0``; closed-form moments.  ``q_sde()`` declares its domain ``q > 0`` (reflect).

Quick use
---------
>>> from deeplimits.correlation import sample_correlation, sample_q
>>> sample_q([0.25, 0.5], n_paths=10, seed=0, n_steps_per_unit=64).shape
(10, 2)
>>> sample_correlation(0.5, T=1.0, c_plus=0, c_minus=-1, n_paths=10, seed=0, n_steps=50).shape
(10,)
"""

from . import depth, maps, odes, shaped_covariance, shaped_sde, unshaped
from .depth import depth_recursion_u, relu_asymptote
from .maps import Q_STAR, corr_map, corr_map_u
from .odes import correlation_ode, resnet_covariance_ode
from .shaped_covariance import covariance_factor_sde, sample_covariance
from .shaped_sde import correlation_sde, sample_correlation
from .unshaped import J_sde, q_sde, sample_q, y_sde

__all__ = [
    "maps",
    "depth",
    "odes",
    "shaped_sde",
    "shaped_covariance",
    "unshaped",
    "Q_STAR",
    "corr_map",
    "corr_map_u",
    "depth_recursion_u",
    "relu_asymptote",
    "correlation_ode",
    "resnet_covariance_ode",
    "correlation_sde",
    "covariance_factor_sde",
    "sample_correlation",
    "sample_covariance",
    "J_sde",
    "q_sde",
    "y_sde",
    "sample_q",
]
