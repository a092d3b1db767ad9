"""Tests of the ResNet weight families (deeplimits.resnet.weights)."""

import numpy as np
import pytest

from deeplimits.resnet import weights as w


def test_fgn_autocovariance_within_4_standard_errors():
    # Exact circulant embedding: sample autocovariances at lags 0..3 match gamma_H(k).  Entries of one
    # network are independent sequences; 2000 x 16 sequences of length 64 -> the lag-k average over
    # n = 32000 sequences has standard error <= sqrt(var(x_0 x_k) / n) with var(x_0 x_k) = 1 + gamma(k)^2
    # (Gaussian, unit variance), so 4 standard errors is 4 sqrt(2 / n) at most (we use this bound).
    for hurst in (0.2, 0.5, 0.8):
        x = w.fgn_weights(2000, 64, (4, 4), hurst, seed=1, scale=1.0)  # (n, L, 4, 4)
        x = np.moveaxis(x, 1, -1).reshape(-1, 64)
        g = w.fgn_autocovariance(hurst, 4)
        n = x.shape[0]
        for k in range(4):
            emp = np.mean(x[:, 0] * x[:, k])
            assert abs(emp - g[k]) < 4 * np.sqrt(2 / n), (hurst, k, emp, g[k])
        # stationarity: the lag-1 covariance far from the start is the same
        emp_far = np.mean(x[:, 40] * x[:, 41])
        assert abs(emp_far - g[1]) < 4 * np.sqrt(2 / n)


def test_fgn_sum_variance_scales_like_L_to_2H():
    # Var(sum_{k<L} fGn_k) = L^{2H} exactly; 20000 sequences -> relative se sqrt(2/n) of a variance.
    for hurst in (0.3, 0.7):
        x = w.fgn_weights(20000, 50, (1,), hurst, seed=2, scale=1.0)[..., 0]
        v = np.var(x.sum(1))
        assert abs(v / 50 ** (2 * hurst) - 1) < 4 * np.sqrt(2 / 20000)


def test_rbf_gp_covariance():
    # Cov(A_k, A_m) = exp(-(k - m)^2 / (2 (l L)^2)); n = 40000 sequences -> 4 sqrt(2/n) bound as above.
    L, ell = 20, 0.2
    x = w.rbf_gp_weights(10000, L, (2, 2), ell, seed=3, scale=1.0)
    x = np.moveaxis(x, 1, -1).reshape(-1, L)
    n = x.shape[0]
    for k in (0, 1, 4, 10):
        emp = np.mean(x[:, 3] * x[:, 3 + k])
        assert abs(emp - np.exp(-0.5 * (k / L / ell) ** 2)) < 4 * np.sqrt(2 / n)


def test_default_scale_and_iid():
    x = w.iid_weights(500, 10, (8, 8), seed=4)
    n = x.size
    assert abs(x.var() * 8 - 1) < 4 * np.sqrt(2 / n)
    c = np.mean(x[:, 0] * x[:, 1]) * 8
    assert abs(c) < 4 / np.sqrt(x[:, 0].size)


def test_chunked_rows_equal_whole_batch():
    a = w.fgn_weights(6, 16, (3, 3), 0.7, seed=5)
    b = w.fgn_weights(2, 16, (3, 3), 0.7, seed=5, first_path=4)
    np.testing.assert_array_equal(a[4:], b)
    a = w.rbf_gp_weights(5, 16, (3,), 0.3, seed=5)
    b = w.rbf_gp_weights(1, 16, (3,), 0.3, seed=5, first_path=2)
    np.testing.assert_array_equal(a[2:3], b)


def test_smooth_function_on_grid_and_lipschitz():
    f = w.SmoothWeightFunction((3, 3), lengthscale=0.3, seed=1)
    g = f.on_grid(100)
    np.testing.assert_allclose(g[37], f(0.37))
    # increments of a smooth function on the grid are O(1/L)
    d1 = np.abs(np.diff(f.on_grid(100), axis=0)).max()
    d2 = np.abs(np.diff(f.on_grid(400), axis=0)).max()
    assert 3.5 < d1 / d2 < 4.5


@pytest.mark.parametrize(
    "call",
    [
        lambda: w.iid_weights(0, 4, (2, 2)),
        lambda: w.iid_weights(2, 0, (2, 2)),
        lambda: w.iid_weights(2, 3, (0, 2)),
        lambda: w.fgn_weights(2, 4, (2,), 1.0),
        lambda: w.fgn_weights(2, 4, (2,), 0.0),
        lambda: w.fgn_weights(2, 4, (2,), float("nan")),
        lambda: w.rbf_gp_weights(2, 4, (2,), lengthscale=0.0),
        lambda: w.iid_weights(2, 4, (2,), scale=-1.0),
        lambda: w.SmoothWeightFunction((2,), lengthscale=-1),
    ],
)
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
