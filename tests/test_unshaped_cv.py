"""The control variates of ``deeplimits.experiments._unshaped_cv`` (used by ``corr.unshaped_limit``).

``Z`` and ``Z_log`` are sums of innovations with exact conditional mean zero, so their means are zero at every
width; the test checks it at a small width with 20,000 networks against 4 standard errors (a false failure has
probability 6e-5 per statistic), and that the corrected estimates have smaller standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from deeplimits.experiments._unshaped_cv import network_y
from deeplimits.networks import gram_from_correlation


def test_control_variates_have_mean_zero_and_reduce_the_noise():
    ts = np.array([0.5, 1.0])
    samples, dead = network_y(gram_from_correlation(0.5), 32, ts, 20000, seed=3)
    assert dead < 20
    for y, z, z_log in samples:
        for c in (z, z_log):
            assert abs(c.mean()) < 4 * c.std(ddof=1) / np.sqrt(c.size)
        assert np.std(y + 0.5 * z) < 0.7 * np.std(y)
        assert np.std(np.log(y) + 0.5 * z_log) < 0.7 * np.std(np.log(y))


def test_network_y_needs_integer_depths():
    with pytest.raises(ValueError, match="layer index"):
        network_y(gram_from_correlation(0.5), 10, np.array([0.25]), 10, seed=0)
