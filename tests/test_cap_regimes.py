"""Scaling regimes alpha = a L^-beta: growth exponent 1 - 2 beta and classification."""

import numpy as np
import pytest

from deeplimits.capacity import classify_regime, growth_exponent, spread, spread_vs_depth

DEPTHS = [256, 1024, 4096, 16384]


@pytest.mark.parametrize("beta, regime", [(0.25, "shattering"), (0.5, "diffusive"), (0.75, "frozen")])
@pytest.mark.parametrize("taps", [np.array([1.0, 1.0, 1.0]), np.ones((3, 3))], ids=["1d", "2d"])
def test_growth_exponent_recovered(beta, regime, taps):
    # Pre-asymptotic correction of the exponent ~ (1/2) a^2 ||w||^2 L^-1/2 / (1 + ...) for beta = 1/4,
    # i.e. < 0.03 over these depths with a = 0.5 (docs/theory/capacity.md); tolerance 0.05.
    s = spread_vs_depth(taps, DEPTHS, 0.5, beta)
    g = growth_exponent(DEPTHS, s)
    assert g == pytest.approx(1 - 2 * beta, abs=0.05)
    assert classify_regime(g) == regime


def test_spread_basic_and_bad_input():
    c = np.zeros(11)
    c[[4, 6]] = 0.5
    assert spread(c) == pytest.approx(1.0)
    c2 = np.zeros((5, 5))
    c2[1, 2] = c2[3, 2] = 0.5
    assert spread(c2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive total mass"):
        spread(np.zeros(3))
    with pytest.raises(ValueError, match="depths must"):
        spread_vs_depth([1.0, 1.0, 1.0], [0, 4], 1.0, 0.5)
    with pytest.raises(ValueError, match="same length"):
        growth_exponent([1, 2], [1.0])
    with pytest.raises(ValueError, match="distinct"):
        growth_exponent([4, 4], [1.0, 2.0])
    with pytest.raises(ValueError, match="exponent must be a finite"):
        classify_regime(np.nan)
