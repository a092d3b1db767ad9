"""Small statistics shared by the ResNet validation experiments (:mod:`deeplimits.experiments.resnet`,
:mod:`deeplimits.experiments.resnet_scaling`)."""

from __future__ import annotations

import numpy as np

__all__ = ["slope", "mean_log_norm_ratio", "ks_crit"]


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
