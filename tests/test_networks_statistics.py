"""The distance-extrapolation statistic of the network validation experiments (deeplimits.experiments.corr_networks).

Synthetic laws with known finite-width corrections: N(shift(n), 1) samples against an N(0, 1) reference.
"""

import numpy as np
import pytest

from deeplimits.experiments._network_stats import fit_rates, quantile_extrapolation

WIDTHS = np.array([16, 32, 64, 128])
FIT = WIDTHS >= 16
N, N_REF = 2000, 20000


def synthetic(shift, seed):
    rng = np.random.default_rng(seed)
    samples = [rng.standard_normal(N) + shift(n) for n in WIDTHS]
    return samples, rng.standard_normal(N_REF)


def test_null_is_calibrated():
    # Equal laws at every width: W1_inf should look like a draw from its bootstrap null, i.e.
    # z = (W1_inf - null mean) / null sd has mean ~0 and sd ~1.  With R = 30 replications the mean of z has
    # standard error sd(z)/sqrt(R) and the sample sd of z a standard error ~1/sqrt(2R) = 0.13 (Gaussian
    # approximation; z is right-skewed, so this is optimistic): we require |mean z| < 4 se and
    # 1 - 4 * 0.13 < sd(z) < 1 + 4 * 0.13.  (Measured with 100 replications at N = 2000: mean 0.11,
    # sd 1.05, 2% above 3, none above 4; the tail is heavier than Gaussian, see docs/theory/finite-networks.md.)
    R, n_small, n_ref = 30, 500, 5000
    z = np.empty(R)
    for r in range(R):
        rng = np.random.default_rng(500 + r)
        samples = [rng.standard_normal(n_small) for _ in WIDTHS]
        q = quantile_extrapolation(samples, rng.standard_normal(n_ref), WIDTHS, FIT, n_boot=60, seed=r)
        z[r] = (q["w1_inf"] - q["null_mean"]) / q["null_sd"]
    assert abs(z.mean()) < 4 * z.std(ddof=1) / np.sqrt(R), z
    assert 1 - 4 / np.sqrt(2 * R) < z.std(ddof=1) < 1 + 4 / np.sqrt(2 * R), z


def test_vanishing_correction_rate_and_zero_limit():
    # shift 3/n: the extrapolated distance passes the zero-limit check and gamma = 1 is recovered (4 se).
    samples, ref = synthetic(lambda n: 3.0 / n, 100)
    q = quantile_extrapolation(samples, ref, WIDTHS, FIT, n_boot=100, seed=1)
    assert q["w1_inf"] < q["null_mean"] + 4 * q["null_sd"]
    assert abs(q["gamma"] - 1.0) < 4 * q["gamma_se"], (q["gamma"], q["gamma_se"])
    # W1(n) ~ |shift| = 3/n when the shift dominates the noise (n = 16: 0.19 against noise ~0.03)
    assert abs(q["w1"][0] - 3.0 / 16) < 0.05
    # n^-1/2 law: gamma = 0.5 recovered
    samples, ref = synthetic(lambda n: 1.0 / np.sqrt(n), 101)
    q = quantile_extrapolation(samples, ref, WIDTHS, FIT, n_boot=100, seed=2)
    assert abs(q["gamma"] - 0.5) < 4 * q["gamma_se"], (q["gamma"], q["gamma_se"])


def test_non_vanishing_difference_is_detected():
    # a limit law off by 0.1 (plus 3/n) must fail the zero-limit check by a wide margin
    samples, ref = synthetic(lambda n: 0.1 + 3.0 / n, 102)
    q = quantile_extrapolation(samples, ref, WIDTHS, FIT, n_boot=100, seed=3)
    assert q["w1_inf"] > q["null_mean"] + 8 * q["null_sd"], (q["w1_inf"], q["null_mean"], q["null_sd"])
    # mean_p |0.1 + e(p)| lies within mean_p |e(p)| of 0.1; mean_p |e(p)| is below null mean + 4 null sd
    assert abs(q["w1_inf"] - 0.1) < q["null_mean"] + 4 * q["null_sd"]


def test_two_rate_model_recovers_planted_limit():
    # y = a + b1 n^-1/2 + b2/n exactly (se only sets the weights): the fit returns a to rounding, and the
    # quantile extrapolation with rates (0.5, 1) of a law shifted by 1/sqrt(n) - 2/n passes the zero check.
    n = np.array([32.0, 64, 128, 256, 512])
    a, se_a, chi2 = fit_rates(n, 0.3 + 0.7 / np.sqrt(n) - 2.0 / n, np.full(n.size, 0.01), (0.5, 1.0))
    assert abs(a - 0.3) < 1e-12 and chi2 < 1e-20
    samples, ref = synthetic(lambda w: 1.0 / np.sqrt(w) - 2.0 / w, 103)
    q = quantile_extrapolation(samples, ref, WIDTHS, FIT, n_boot=100, seed=4, rates=(0.5, 1.0))
    assert q["w1_inf"] < q["null_mean"] + 4 * q["null_sd"]
    assert set(q["models"]) == {"1/n", "n^-1/2", "n^-1/2 + 1/n"}


def test_wasserstein_matches_scipy_and_needs_no_blas():
    # Equal to scipy's W1 up to rounding (ties and unequal sample sizes included); it sums with
    # np.sum, so its value cannot depend on the BLAS thread count of the process.
    from scipy import stats

    from deeplimits.experiments._network_stats import wasserstein

    rng = np.random.default_rng(3)
    for n, m in [(1000, 1000), (37, 1200), (5, 3)]:
        x, y = rng.normal(size=n), rng.normal(0.2, 1.3, size=m)
        assert wasserstein(x, y) == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12)
    ties = np.array([0.0, 0.0, 1.0, 1.0])
    assert wasserstein(ties, ties) == 0.0
    assert wasserstein([0.0], [2.0]) == 2.0
