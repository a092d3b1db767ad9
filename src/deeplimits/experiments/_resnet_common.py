"""Small statistics shared by the ResNet validation experiments (:mod:`deeplimits.experiments.resnet`,
:mod:`deeplimits.experiments.resnet_scaling`)."""

from __future__ import annotations

import numpy as np

from deeplimits.resnet import alternative_ode

__all__ = ["slope", "mean_log_norm_ratio", "ks_crit", "tanh_argument_max", "tanh_fit_depths"]


def slope(x, y):
    # least-squares slope of log y on log x
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def mean_log_norm_ratio(res):
    # E log(R_L / R_0), R = ||h||^2, over the networks of a ResNetBatch
    return float(np.mean(2 * np.log(res.norms[:, -1] / res.norms[:, 0])))


def ks_crit(n1, n2=None, alpha=1e-3):
    # Kolmogorov-Smirnov critical value sqrt(-ln(alpha/2)/2) * sqrt(1/n1 [+ 1/n2]) (asymptotic, level alpha).
    c = np.sqrt(-np.log(alpha / 2) / 2)
    return float(c * np.sqrt(1 / n1 + (0 if n2 is None else 1 / n2)))


def tanh_argument_max(W, b, h0, n_grid=1025):
    # (max_t |W(t) H(t) + b(t)|_inf, H(1)) along the tanh alternative ODE dH/dt = W H + b: the ResNet's branch is
    # L^-1/2 tanh(y) with y = L^-1/2 (W H + b), so y_max^2 = x_max^2 / L sets how far tanh is from linear
    ts = np.linspace(0.0, 1.0, n_grid)
    H = alternative_ode("tanh", h0, W, b, t_eval=ts)
    x = np.einsum("tij,tj->ti", W(ts), H) + b(ts)
    return float(np.abs(x).max()), H[-1]


def tanh_fit_depths(depths, x_max, max_depth):
    # the depths scaled by the smallest power of 2 that makes L_0 >= 4 x_max^2 at the first depth (the next Taylor
    # term of tanh, 2 y^5 / 15, is then at most 10 % of the cubic one, y^3 / 3, whose sum is part of the leading
    # error), or None when the largest depth would exceed max_depth
    depths = np.asarray(depths, dtype=np.int64)
    k = max(0, int(np.ceil(np.log2(4.0 * x_max**2 / depths[0]))))
    out = depths * 2**k
    return None if out[-1] > max_depth else out
