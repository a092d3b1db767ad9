"""Property tests of deeplimits.correlation: rho in [-1, 1], PSD covariances, q >= 0, batch independence."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deeplimits.correlation import depth, maps, sample_covariance
from deeplimits.correlation.shaped_sde import sample_correlation
from deeplimits.correlation.unshaped import Q_STAR, q_sde, sample_q
from deeplimits.sde import solve

rhos = st.floats(-1.0, 1.0, allow_nan=False)
slopes = st.floats(0.0, 3.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(rho=rhos, s_plus=slopes, s_minus=slopes)
def test_corr_map_keeps_rho_in_range(rho, s_plus, s_minus):
    if s_plus == 0.0 and s_minus == 0.0:
        return
    r = maps.corr_map(rho, s_plus, s_minus)
    assert np.all(np.abs(r) <= 1.0)


@settings(max_examples=50, deadline=None)
@given(u0=st.floats(1e-12, 2.0), n_layers=st.integers(1, 200))
def test_depth_recursion_keeps_u_in_range(u0, n_layers):
    u = depth.depth_recursion_u(u0, n_layers)
    assert np.all((u >= 0.0) & (u <= 2.0))


@settings(max_examples=20, deadline=None)
@given(rho0=st.floats(-0.9, 0.99), seed=st.integers(0, 2**64 - 1))
def test_sample_correlation_in_open_interval(rho0, seed):
    r = sample_correlation(rho0, 1.0, n_paths=20, seed=seed, n_steps=16)
    assert np.all(np.abs(r) <= 1.0)


@settings(max_examples=20, deadline=None)
@given(
    c=st.floats(-0.95, 0.95),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**32),
    kappa_c=st.floats(0.0, 3.0),
)
def test_covariance_stays_psd(c, scale, seed, kappa_c):
    V0 = scale * np.array([[1.0, c], [c, 1.0]])
    V = sample_covariance(V0, 1.0, c_plus=kappa_c, c_minus=0.0, n_paths=10, seed=seed, n_steps=16)
    assert np.allclose(V, np.swapaxes(V, 1, 2))
    ev = np.linalg.eigvalsh(V)
    assert np.all(ev >= -1e-10 * np.abs(ev).max(axis=1, keepdims=True))


@settings(max_examples=20, deadline=None)
@given(n_steps=st.integers(9, 200), seed=st.integers(0, 2**63), milstein=st.booleans())
def test_q_implicit_stays_positive(n_steps, seed, milstein):
    g = np.linspace(0.0, 1.0, n_steps + 1)
    sol = solve(
        q_sde(), [Q_STAR], g, n_paths=20, seed=seed, scheme="implicit_milstein" if milstein else "implicit_euler"
    )
    assert np.all(sol.ys > 0.0)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 12), data=st.data())
def test_sample_q_independent_of_batch_split(n, data):
    k = data.draw(st.integers(1, n - 1))
    whole = sample_q([0.125, 0.25], n_paths=n, seed=3, n_steps_per_unit=16)
    parts = np.concatenate(
        [
            sample_q([0.125, 0.25], n_paths=k, seed=3, n_steps_per_unit=16),
            sample_q([0.125, 0.25], n_paths=n - k, seed=3, n_steps_per_unit=16, first_path=k),
        ]
    )
    assert np.array_equal(whole, parts)
    assert np.all(whole >= 0.0)
