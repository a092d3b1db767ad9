"""Unshaped q-SDE: closed-form moments, strong/weak orders of the integrators from the singular start."""

import numba
import numpy as np
import pytest

from deeplimits.correlation.unshaped_sde import (
    Q_STAR,
    Y_STAR,
    brownian_increments,
    coarsen_increments,
    mean_inv_q,
    mean_J,
    mean_y,
    mean_y_from_t0,
    q_drift,
    sample_q,
    second_moment_J,
    second_moment_y_from_t0,
    simulate_J,
    simulate_q_em,
    simulate_y_implicit,
    var_q_small_t,
    y_from_J,
    y_implicit_scheme_mean,
)

T = 0.5


def _slope(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def _run(name, grid, dW=None, n_paths=None, seed=0):
    kw = dict(dW=dW) if dW is not None else dict(n_paths=n_paths, seed=seed)
    if name == "J-euler":
        _, J = simulate_J(grid, scheme="euler", saveat=[T], **kw)
        return y_from_J(T, J[:, 0])
    if name == "J-milstein":
        _, J = simulate_J(grid, scheme="milstein", saveat=[T], **kw)
        return y_from_J(T, J[:, 0])
    if name == "y-implicit":
        return simulate_y_implicit(grid, milstein=False, saveat=[T], **kw)[1][:, 0]
    if name == "y-implicit-milstein":
        return simulate_y_implicit(grid, milstein=True, saveat=[T], **kw)[1][:, 0]
    raise AssertionError(name)


def test_closed_form_moments_consistent():
    t = np.array([0.1, 0.5, 1.0])
    # E[J^2] solves m' = 2 E[J] + 6 m: check by central differences
    h = 1e-6
    dm = (second_moment_J(t + h) - second_moment_J(t - h)) / (2 * h)
    assert np.allclose(dm, 2 * mean_J(t) + 6 * second_moment_J(t), rtol=1e-6)
    # small t: E[J] ~ t, E[J^2] ~ t^2 (no cancellation in the expm1 form)
    assert second_moment_J(1e-8) == pytest.approx(1e-16, rel=1e-6)
    assert mean_J(1e-8) == pytest.approx(1e-8, rel=1e-6)
    # t0 -> 0 limits of the deterministic-start formulas recover the exact ones
    assert np.allclose(mean_y_from_t0(t[1:], 1e-7), mean_y(t[1:]), rtol=1e-9)
    assert np.allclose(second_moment_y_from_t0(t[1:], 1e-9), mean_inv_q(t[1:]), rtol=1e-6)
    # E[y] and E[y^2] biases of the deterministic start are both O(t0^2)
    b1 = [abs(mean_y_from_t0(0.5, s) - mean_y(0.5)) for s in (1e-2, 1e-3)]
    b2 = [abs(second_moment_y_from_t0(0.5, s) - mean_inv_q(0.5)) for s in (1e-2, 1e-3)]
    assert np.log10(b1[0] / b1[1]) == pytest.approx(2.0, abs=0.05)
    assert np.log10(b2[0] / b2[1]) == pytest.approx(2.0, abs=0.05)
    assert mean_y(0.0) == Y_STAR


def test_monte_carlo_confirms_closed_forms():
    # Milstein on J with h = 1/1024 (bias ~ 4e-3 * h-scale, far below the MC error here)
    ts = np.array([0.25, 0.5, 1.0])
    n = 200_000
    _, J = simulate_J(np.linspace(0, 1, 1025), n_paths=n, seed=11, saveat=ts)
    y = y_from_J(ts[None, :], J)
    for i, t in enumerate(ts):
        # 4 standard errors of the sample mean (J, y and y^2 have all moments)
        assert abs(J[:, i].mean() - mean_J(t)) < 4 * J[:, i].std() / np.sqrt(n) + 2e-3 * mean_J(t)
        assert abs((y[:, i] ** 2).mean() - mean_inv_q(t)) < 4 * (y[:, i] ** 2).std() / np.sqrt(n) + 2e-3 * mean_inv_q(t)
    # small-t variance of q: (8/3) Q*^2 t, relative correction O(t); t = 1/1024
    q = sample_q([1.0 / 1024], n_paths=n, seed=5, n_steps_per_unit=65536)[:, 0]
    assert q.var() / var_q_small_t(1.0 / 1024) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    "name,order",
    [("J-euler", 0.5), ("J-milstein", 1.0), ("y-implicit", 0.5), ("y-implicit-milstein", 1.0)],
)
def test_strong_order_from_singular_start(name, order):
    # reference: J-Milstein on the same Brownian path at h = T/4096; 5 levels T/32 .. T/512
    n_ref, paths = 4096, 2000
    g = np.linspace(0, T, n_ref + 1)
    dW = brownian_increments(g, paths, seed=3)
    y_ref = _run("J-milstein", g, dW=dW)
    Ns = np.array([32, 64, 128, 256, 512])
    errs = [
        np.sqrt(np.mean((_run(name, np.linspace(0, T, N + 1), dW=coarsen_increments(dW, n_ref // N)) - y_ref) ** 2))
        for N in Ns
    ]
    assert _slope(T / Ns, errs) == pytest.approx(order, abs=0.2)


@pytest.mark.parametrize("name", ["J-euler", "J-milstein", "y-implicit", "y-implicit-milstein"])
def test_weak_order_against_closed_form(name):
    # E[q_T^{-1}] = E[y_T^2] against the closed form; 4e5 paths give a standard error
    # ~3e-4, below 1/5 of the finest-level bias (asserted, so the fit is meaningful).
    n = 400_000
    Ns = np.array([8, 16, 32, 64])
    errs, ses = [], []
    for N in Ns:
        y = _run(name, np.linspace(0, T, N + 1), n_paths=n, seed=100 + N)
        errs.append(abs(np.mean(y**2) - mean_inv_q(T)))
        ses.append(np.std(y**2) / np.sqrt(n))
    assert 5 * ses[-1] < errs[-1]
    assert _slope(T / Ns, errs) == pytest.approx(1.0, abs=0.25)


def test_weak_order_of_E_J_euler():
    # E[J_T] = (e^{2T} - 1)/2; std(J_T) = 0.65 at T = 0.5 -> SE 1e-3 with 4e5 paths
    n = 400_000
    Ns = np.array([8, 16, 32, 64])
    errs = []
    for N in Ns:
        _, J = simulate_J(np.linspace(0, T, N + 1), n_paths=n, seed=200 + N, scheme="euler", saveat=[T])
        errs.append(abs(J.mean() - mean_J(T)))
    assert _slope(T / Ns, errs) == pytest.approx(1.0, abs=0.25)


def test_q_euler_from_t0_orders_and_start_bias():
    t0 = 0.05
    # strong orders in h against a fine Milstein run from the same start (coupled noise).
    # Error measured as E|log q_h - log q_ref| (q is heavy-tailed); levels from h = 0.45/128,
    # below which the stiff O(h / t0) drift error no longer masks the 0.5 noise term.
    n_ref, paths = 8192, 2000
    g = np.linspace(t0, T, n_ref + 1)
    dW = brownian_increments(g, paths, seed=4)
    _, qr = simulate_q_em(g, dW=dW, saveat=[T], milstein=True)
    Ns = np.array([128, 256, 512, 1024])
    for milstein, order in [(False, 0.5), (True, 1.0)]:
        errs = []
        for N in Ns:
            dWc = coarsen_increments(dW, n_ref // N)
            _, q = simulate_q_em(np.linspace(t0, T, N + 1), dW=dWc, saveat=[T], milstein=milstein)
            errs.append(np.mean(np.abs(np.log(q[:, 0]) - np.log(qr[:, 0]))))
        assert _slope((T - t0) / Ns, errs) == pytest.approx(order, abs=0.2)
    # weak order 1 in h against the closed-form E[q_T^{-1/2}] of the deterministic start at t0.
    # Control variate: the drift-implicit y-scheme on the same grid and seed (same dB), whose
    # exact mean is a deterministic recursion; the MC error of the difference is ~1e-4,
    # below 1/5 of the finest-level error (asserted).
    n = 10_000
    exact = mean_y_from_t0(T, t0)
    for milstein, Ns in [(False, np.array([128, 256, 512, 1024])), (True, np.array([64, 128, 256, 512]))]:
        werrs, ses = [], []
        for N in Ns:
            g = np.linspace(t0, T, N + 1)
            _, q, n_refl = simulate_q_em(g, n_paths=n, seed=7, saveat=[T], milstein=milstein, return_stats=True)
            _, y_cv = simulate_y_implicit(g, n_paths=n, seed=7, saveat=[T], y0=Y_STAR)
            assert n_refl == 0
            d = q[:, 0] ** -0.5 - y_cv[:, 0]
            werrs.append(abs(d.mean() + y_implicit_scheme_mean(g)[-1] - exact))
            ses.append(d.std() / np.sqrt(n))
        assert 5 * ses[-1] < werrs[-1]
        assert _slope((T - t0) / Ns, werrs) == pytest.approx(1.0, abs=0.25)
    # the start bias itself is O(t0^2) in E[q^{-1/2}] and E[q^{-1}] (closed forms)
    assert abs(mean_y_from_t0(T, t0) - mean_y(T)) < 0.01 * mean_y(T)


def test_reproducible_across_thread_counts():
    g = np.linspace(0, 1, 257)
    default = numba.get_num_threads()
    a = simulate_y_implicit(g, n_paths=1000, seed=9)[1]
    b = simulate_J(g, n_paths=1000, seed=9)[1]
    numba.set_num_threads(1)
    try:
        a1 = simulate_y_implicit(g, n_paths=1000, seed=9)[1]
        b1 = simulate_J(g, n_paths=1000, seed=9)[1]
    finally:
        numba.set_num_threads(default)
    assert np.array_equal(a, a1) and np.array_equal(b, b1)


def test_bad_input():
    with pytest.raises(ValueError, match="t0 > 0"):
        simulate_q_em(np.linspace(0, 1, 11))
    with pytest.raises(ValueError, match="start at t = 0"):
        simulate_J(np.linspace(0.1, 1, 11))
    with pytest.raises(ValueError, match="increasing"):
        simulate_J(np.array([0.0, 0.5, 0.4]))
    with pytest.raises(ValueError, match="n_paths"):
        simulate_J(np.linspace(0, 1, 11), n_paths=0)
    with pytest.raises(ValueError, match="t must"):
        sample_q([-0.1, 0.5])
    with pytest.raises(ValueError, match="multiple"):
        sample_q([0.3333], n_steps_per_unit=64)
    with pytest.raises(ValueError, match="singular"):
        q_drift(0.0, Q_STAR)
    with pytest.raises(ValueError, match="dW"):
        simulate_J(np.linspace(0, 1, 11), dW=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="scheme"):
        simulate_J(np.linspace(0, 1, 11), scheme="rk4")
    with pytest.raises(ValueError, match="t0"):
        mean_y_from_t0(0.1, 0.2)


def test_engine_objects_agree_with_kernels_and_torchsde():
    from deeplimits.correlation.unshaped_sde import J_sde, q_sde, y_sde
    from deeplimits.sde import brownian_increments as bi
    from deeplimits.sde import solve, uniform_grid

    g = uniform_grid(0.0, T, 64)
    dW = bi(1, 500, g)
    _, J = simulate_J(g, dW=dW[:, :, 0], scheme="milstein")
    sol = solve(J_sde(), [0.0], g, dW=dW, scheme="milstein")
    assert np.allclose(sol.ys[:, :, 0], J, rtol=1e-12, atol=1e-14)
    # drift-implicit theta = 1 on y from t = 0 (drift never evaluated at 0) is the same scheme as
    # simulate_y_implicit except that 2y is implicit too: both converge to the same path
    ys = solve(y_sde(), [Y_STAR], uniform_grid(0.0, T, 1024), saveat=[T], scheme="theta", dW=bi(2, 500, uniform_grid(0.0, T, 1024)))
    yk = simulate_y_implicit(uniform_grid(0.0, T, 1024), dW=bi(2, 500, uniform_grid(0.0, T, 1024))[:, :, 0], milstein=False, saveat=[T])[1]
    assert np.sqrt(np.mean((ys.ys[:, 0, 0] - yk[:, 0]) ** 2)) < 2e-3
    # drift-implicit theta = 1 on q itself from t = 0 (engine, Newton): strong order 1/2 in
    # E|log q_h - log q_ref| against J-Milstein at h = T/8192 on the same Brownian path
    from deeplimits.sde import coarsen_increments as ci

    n_ref = 8192
    gq = uniform_grid(0.0, T, n_ref)
    dq = bi(3, 1000, gq)
    _, Jr = simulate_J(gq, dW=dq[:, :, 0], saveat=[T])
    log_q_ref = np.log(Q_STAR * T**2 / Jr[:, 0] ** 2)
    Ns = np.array([128, 256, 512, 1024])
    errs = []
    for N in Ns:
        qs = solve(q_sde(), [Q_STAR], uniform_grid(0.0, T, N), saveat=[T], scheme="theta", dW=ci(dq, n_ref // N)).ys[:, 0, 0]
        assert np.all(qs > 0)
        errs.append(np.mean(np.abs(np.log(qs) - log_q_ref)))
    assert _slope(T / Ns, errs) == pytest.approx(0.5, abs=0.2)
    # torchsde backend: same equation, same increments, Euler: agreement to rounding
    pytest.importorskip("torchsde")
    a = solve(J_sde(), [0.0], g, saveat=g, dW=dW, backend="torchsde").ys
    b = solve(J_sde(), [0.0], g, saveat=g, dW=dW).ys
    assert np.max(np.abs(a - b)) < 1e-12
