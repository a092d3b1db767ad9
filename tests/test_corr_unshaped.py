"""Unshaped q-SDE: closed-form moments, strong/weak orders of the integrators from the singular start."""

from dataclasses import replace

import numba
import numpy as np
import pytest

from deeplimits.correlation.unshaped import (
    Q_STAR,
    Y_STAR,
    J_scheme_moments,
    J_sde,
    mean_inv_q,
    mean_J,
    mean_y,
    mean_y_from_t0,
    q_drift,
    q_sde,
    sample_q,
    second_moment_J,
    second_moment_y_from_t0,
    var_q_small_t,
    y_from_J,
    y_implicit_scheme_mean,
    y_implicit_scheme_moments,
    y_sde,
)
from deeplimits.sde import brownian_increments, coarsen_increments, solve

T = 0.5
# The Euler J- and y-schemes on coarse grids step below 0 on a few paths: the engine counts and reports
# it (stats["n_exits"], RuntimeWarning); the weak errors and exact moments below are those of the schemes
# as they are, including those steps.
_KEPT_EXITS = pytest.mark.filterwarnings("ignore:.*left the domain:RuntimeWarning")


def _J(grid, scheme="milstein", **kw):
    """J-paths ``(n_paths, n_save)`` of ``solve(J_sde(), [0], grid, ...)``."""
    return solve(J_sde(), [0.0], grid, scheme=scheme, **kw).ys[:, :, 0]


def _y(grid, milstein=True, y0=Y_STAR, **kw):
    """y-paths of the drift-implicit y-scheme (Euler or Milstein)."""
    scheme = "implicit_milstein" if milstein else "implicit_euler"
    return solve(y_sde(), [y0], grid, scheme=scheme, **kw).ys[:, :, 0]


def _q(grid, scheme, q0=Q_STAR, **kw):
    """q-paths and the number of reflected steps of a q-scheme."""
    sol = solve(q_sde(), [q0], grid, scheme=scheme, **kw)
    return sol.ys[:, :, 0], sol.stats["n_exits"]


def _slope(hs, errs):
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def _run(name, grid, dW=None, n_paths=None, seed=0):
    kw = dict(dW=dW) if dW is not None else dict(n_paths=n_paths, seed=seed)
    if name == "J-euler":
        return y_from_J(T, _J(grid, "euler", saveat=[T], **kw)[:, 0])
    if name == "J-milstein":
        return y_from_J(T, _J(grid, "milstein", saveat=[T], **kw)[:, 0])
    if name == "y-implicit":
        return _y(grid, milstein=False, saveat=[T], **kw)[:, 0]
    if name == "y-implicit-milstein":
        return _y(grid, milstein=True, saveat=[T], **kw)[:, 0]
    if name == "q-implicit-milstein":
        return _q(grid, "implicit_milstein", saveat=[T], **kw)[0][:, 0] ** -0.5
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
    # Milstein on J with h = 1/1024: its weak error in E[1/q] at T = 0.5 is ~6e-4 (extrapolated from
    # test_weak_order_against_closed_form), a quarter of the 4-standard-error band (3.4e-3) used here
    ts = np.array([0.25, 0.5, 1.0])
    n = 100_000
    J = _J(np.linspace(0, 1, 1025), n_paths=n, seed=11, saveat=ts)
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
    dW = brownian_increments(g, n_paths=paths, seed=3)
    y_ref = _run("J-milstein", g, dW=dW)
    Ns = np.array([32, 64, 128, 256, 512])
    errs = [
        np.sqrt(np.mean((_run(name, np.linspace(0, T, N + 1), dW=coarsen_increments(dW, n_ref // N)) - y_ref) ** 2))
        for N in Ns
    ]
    assert _slope(T / Ns, errs) == pytest.approx(order, abs=0.2)


@pytest.mark.parametrize("name", ["J-euler", "y-implicit", "y-implicit-milstein", "q-implicit-milstein"])
@_KEPT_EXITS
def test_weak_order_against_closed_form(name):
    # E[q_T^{-1}] = E[y_T^2] against the closed form.  Exact control variate: J-Milstein on the same seed
    # (same increments), whose E[J_N^2] is an exact recursion (J_scheme_moments, itself checked against
    # Monte Carlo below): weak error = E[y^2 - y_JM^2] + (Y*/T)^2 E[J_N^2] - E[1/q_T].  With 2e4 paths the
    # coupled difference has a standard error below 1/5 of the finest-level error (asserted).
    # (J-Milstein itself: its weak error is the deterministic one of test_J_scheme_moments_match_monte_carlo;
    # q-implicit-milstein is the drift-implicit scheme on q itself, y = q^{-1/2}.)
    n = 20_000
    Ns = np.array([16, 32, 64, 128])
    errs, ses = [], []
    for N in Ns:
        g = np.linspace(0, T, N + 1)
        y = _run(name, g, n_paths=n, seed=100 + N)
        y_jm = _run("J-milstein", g, n_paths=n, seed=100 + N)
        d = y**2 - y_jm**2
        errs.append(abs(d.mean() + J_scheme_moments(g)[1][-1] * Y_STAR**2 / T**2 - mean_inv_q(T)))
        ses.append(d.std() / np.sqrt(n))
    assert 5 * ses[-1] < errs[-1]
    assert _slope(T / Ns, errs) == pytest.approx(1.0, abs=0.25)


@_KEPT_EXITS
def test_weak_order_of_E_J_euler():
    # E[J_T] = (e^{2T} - 1)/2; control variate J-Milstein on the same seed with its exact E[J_N]
    n = 20_000
    Ns = np.array([8, 16, 32, 64])
    errs, ses = [], []
    for N in Ns:
        g = np.linspace(0, T, N + 1)
        Je = _J(g, "euler", n_paths=n, seed=200 + N, saveat=[T])
        Jm = _J(g, "milstein", n_paths=n, seed=200 + N, saveat=[T])
        d = Je[:, 0] - Jm[:, 0]
        errs.append(abs(d.mean() + J_scheme_moments(g)[0][-1] - mean_J(T)))
        ses.append(d.std() / np.sqrt(n))
    assert 5 * ses[-1] < errs[-1]
    assert _slope(T / Ns, errs) == pytest.approx(1.0, abs=0.25)


def test_q_euler_from_t0_start_bias_matches_closed_form():
    # Simulated start bias of Euler on q from t0 with q(t0) = q*: per t0 the total bias of E[q_T^{-1/2}]
    # against the exact singular-start mean is fitted as B(t0) + c h over h = 1/256, 1/512, 1/1024 and
    # extrapolated to h -> 0 (control variate: the y-scheme on the same grid and seed, exact mean by
    # recursion).  B(t0) must match the closed form mean_y_from_t0 - mean_y within 4 standard errors, and
    # it shrinks like t0^2.
    n = 10_000
    B = {}
    for t0 in [0.2, 0.1]:
        hs, tot, w = [], [], []
        for h in [1 / 256, 1 / 512, 1 / 1024]:
            N = int(round((T - t0) / h))
            g = np.linspace(t0, T, N + 1)
            q, _ = _q(g, "euler", n_paths=n, seed=11, saveat=[T])
            ycv = _y(g, n_paths=n, seed=11, saveat=[T])
            d = q[:, 0] ** -0.5 - ycv[:, 0]
            hs.append((T - t0) / N)
            tot.append(d.mean() + y_implicit_scheme_mean(g)[-1] - mean_y(T))
            w.append(n / d.var())
        A = np.vstack([np.ones(3), hs]).T * np.sqrt(w)[:, None]
        coef = np.linalg.lstsq(A, np.asarray(tot) * np.sqrt(w), rcond=None)[0]
        se = np.sqrt(np.linalg.inv(A.T @ A)[0, 0])
        closed = mean_y_from_t0(T, t0) - mean_y(T)
        assert abs(coef[0] - closed) < 4 * se
        B[t0] = coef[0]
    assert B[0.2] / B[0.1] > 2.5  # closed form: 3.5 (t0^2 would be 4)


@pytest.mark.parametrize("milstein,Ns,order", [(True, [32, 64, 128, 256], 1.0), (False, [256, 512, 1024, 2048], 0.5)])
def test_q_implicit_strong_order_from_singular_start(milstein, Ns, order):
    # drift-implicit scheme on q itself from t = 0, error E|log q_h - log q_ref| (q is heavy-tailed,
    # log q is not) against J-Milstein at h = T/8192 on the same Brownian path.  Euler's levels start
    # at h = T/256: coarser steps hit rhs <= 0 (noise overshoot) and sit in a pre-asymptotic range.
    n_ref, paths = 8192, 1000
    g = np.linspace(0, T, n_ref + 1)
    dW = brownian_increments(g, n_paths=paths, seed=3)
    Jr = _J(g, dW=dW, saveat=[T])
    log_q_ref = np.log(Q_STAR * T**2 / Jr[:, 0] ** 2)
    Ns = np.array(Ns)
    errs = []
    for N in Ns:
        q, n_exits = _q(
            np.linspace(0, T, N + 1),
            "implicit_milstein" if milstein else "implicit_euler",
            dW=coarsen_increments(dW, n_ref // N),
            saveat=[T],
        )
        assert n_exits == 0 and np.all(q > 0)
        errs.append(np.mean(np.abs(np.log(q[:, 0]) - log_q_ref)))
    assert _slope(T / Ns, errs) == pytest.approx(order, abs=0.2)


@_KEPT_EXITS
def test_J_scheme_moments_match_monte_carlo():
    # exact moments of the discrete J-schemes against 2e5 paths, 4 standard errors
    g = np.linspace(0, T, 9)
    n = 200_000
    for scheme in ["euler", "milstein"]:
        J = _J(g, scheme, n_paths=n, seed=21, saveat=[T])
        m1, m2 = J_scheme_moments(g, scheme)
        assert abs(J.mean() - m1[-1]) < 4 * J.std() / np.sqrt(n)
        assert abs((J**2).mean() - m2[-1]) < 4 * (J**2).std() / np.sqrt(n)
    # and they converge to the closed forms at first order (deterministic: the weak error of the
    # J-schemes in E[J^2], i.e. in E[1/q], without Monte Carlo; local slopes 0.93 -> 0.98 here)
    Ns = np.array([32, 64, 128, 256])
    e = [abs(J_scheme_moments(np.linspace(0, T, N + 1), "euler")[1][-1] - second_moment_J(T)) for N in Ns]
    assert _slope(T / Ns, e) == pytest.approx(1.0, abs=0.1)


@_KEPT_EXITS
def test_y_implicit_scheme_moments_match_monte_carlo():
    # exact moments of the discrete y-scheme (both variants, start at 0 and at t0) against 4e5 paths, 4 SE
    n = 400_000
    for g in [np.linspace(0, T, 9), np.linspace(0.05, T, 9)]:
        for milstein in [False, True]:
            y = _y(g, milstein=milstein, n_paths=n, seed=3, saveat=[T])
            m1, m2 = y_implicit_scheme_moments(g, milstein=milstein)
            assert abs(y.mean() - m1[-1]) < 4 * y.std() / np.sqrt(n)
            assert abs((y**2).mean() - m2[-1]) < 4 * (y**2).std() / np.sqrt(n)
    assert np.array_equal(y_implicit_scheme_mean(g), y_implicit_scheme_moments(g)[0])


def test_q_euler_from_t0_orders_and_start_bias():
    t0 = 0.05
    # strong orders in h against a fine Milstein run from the same start (coupled noise).
    # Error measured as E|log q_h - log q_ref| (q is heavy-tailed); levels from h = 0.45/128,
    # below which the stiff O(h / t0) drift error no longer masks the 0.5 noise term.
    n_ref, paths = 8192, 2000
    g = np.linspace(t0, T, n_ref + 1)
    dW = brownian_increments(g, n_paths=paths, seed=4)
    qr, _ = _q(g, "milstein", dW=dW, saveat=[T])
    Ns = np.array([128, 256, 512, 1024])
    for milstein, order in [(False, 0.5), (True, 1.0)]:
        errs = []
        for N in Ns:
            dWc = coarsen_increments(dW, n_ref // N)
            q, _ = _q(np.linspace(t0, T, N + 1), "milstein" if milstein else "euler", dW=dWc, saveat=[T])
            errs.append(np.mean(np.abs(np.log(q[:, 0]) - np.log(qr[:, 0]))))
        assert _slope((T - t0) / Ns, errs) == pytest.approx(order, abs=0.2)
    # weak order 1 in h against the closed-form E[q_T^{-1/2}] and E[q_T^{-1}] of the deterministic start
    # at t0.  Control variate: the drift-implicit Milstein y-scheme on the same grid and seed (same dB),
    # whose first and second moments are exact recursions; the MC error of the difference is asserted
    # below 1/4 of the finest-level error.
    n = 10_000
    exact = {1: mean_y_from_t0(T, t0), 2: second_moment_y_from_t0(T, t0)}
    for milstein, Ns in [(False, np.array([128, 256, 512, 1024])), (True, np.array([64, 128, 256, 512]))]:
        werrs, ses = {1: [], 2: []}, {1: [], 2: []}
        for N in Ns:
            g = np.linspace(t0, T, N + 1)
            q, n_exits = _q(g, "milstein" if milstein else "euler", n_paths=n, seed=7, saveat=[T])
            y_cv = _y(g, n_paths=n, seed=7, saveat=[T], y0=Y_STAR)
            assert n_exits == 0
            m = y_implicit_scheme_moments(g, milstein=True)
            for p_ in (1, 2):
                d = q[:, 0] ** (-p_ / 2) - y_cv[:, 0] ** p_
                werrs[p_].append(abs(d.mean() + m[p_ - 1][-1] - exact[p_]))
                ses[p_].append(d.std() / np.sqrt(n))
        for p_ in (1, 2):
            assert 4 * ses[p_][-1] < werrs[p_][-1]
            assert _slope((T - t0) / Ns, werrs[p_]) == pytest.approx(1.0, abs=0.25)
    # the start bias itself is O(t0^2) in E[q^{-1/2}] and E[q^{-1}] (closed forms)
    assert abs(mean_y_from_t0(T, t0) - mean_y(T)) < 0.01 * mean_y(T)


def test_reproducible_across_thread_counts():
    g = np.linspace(0, 1, 257)
    default = numba.get_num_threads()
    a = _y(g, n_paths=1000, seed=9)
    b = _J(g, n_paths=1000, seed=9)
    c = _q(g, "implicit_milstein", n_paths=1000, seed=9)[0]
    numba.set_num_threads(1)
    try:
        a1 = _y(g, n_paths=1000, seed=9)
        b1 = _J(g, n_paths=1000, seed=9)
        c1 = _q(g, "implicit_milstein", n_paths=1000, seed=9)[0]
    finally:
        numba.set_num_threads(default)
    assert np.array_equal(a, a1) and np.array_equal(b, b1) and np.array_equal(c, c1)


def test_bad_input():
    with pytest.raises(ValueError, match="t0 > 0"):
        _q(np.linspace(0, 1, 11), "euler")
    with pytest.raises(ValueError, match="grid steps must be positive"):
        _J(np.array([0.0, 0.5, 0.4]))
    with pytest.raises(ValueError, match="n_paths"):
        _J(np.linspace(0, 1, 11), n_paths=0)
    with pytest.raises(ValueError, match="t must"):
        sample_q([-0.1, 0.5])
    with pytest.raises(ValueError, match="multiple"):
        sample_q([0.3333], n_steps_per_unit=64)
    with pytest.raises(ValueError, match="singular"):
        q_drift(0.0, Q_STAR)
    with pytest.raises(ValueError, match="dW"):
        _J(np.linspace(0, 1, 11), dW=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="scheme"):
        _J(np.linspace(0, 1, 11), scheme="rk4")
    with pytest.raises(ValueError, match="scheme"):
        _J(np.linspace(0, 1, 11), scheme="implicit_euler")  # a scheme of the q- and y-SDEs only
    with pytest.raises(ValueError, match="t0"):
        mean_y_from_t0(0.1, 0.2)
    with pytest.raises(ValueError, match="start at t = 0"):
        _q(np.linspace(0.1, 1, 11), "implicit_milstein")
    with pytest.raises(ValueError, match="y0"):
        _q(np.linspace(0, 1, 11), "implicit_euler", q0=1.0)
    with pytest.raises(ValueError, match="1/8"):
        _q(np.linspace(0, 1, 5), "implicit_milstein")
    with pytest.raises(ValueError, match="grid steps must be positive"):
        _y(np.array([0.0, 0.1, 0.1, 0.2]))
    with pytest.raises(ValueError, match="t must"):
        mean_inv_q(0.0)
    with pytest.raises(ValueError, match="y0"):
        _y(np.linspace(0, 1, 11), y0=1.0)
    with pytest.raises(ValueError, match="y0"):
        _q(np.linspace(0.1, 1, 11), "euler", q0=-1.0)
    with pytest.raises(ValueError, match="factor"):
        coarsen_increments(np.zeros((2, 6, 1)), 4)
    with pytest.raises(ValueError, match="scheme"):
        J_scheme_moments(np.linspace(0, 1, 3), "rk4")
    with pytest.raises(ValueError, match="q must"):
        q_drift(0.5, -1.0)
    with pytest.raises(ValueError, match="n_paths"):
        sample_q([0.0], n_paths=0)
    with pytest.raises(ValueError, match="t must"):
        y_from_J(-0.5, 1.0)


def test_specialised_kernels_agree_with_generic_kernels_and_torchsde():
    from deeplimits.sde import brownian_increments as bi
    from deeplimits.sde import uniform_grid

    g = uniform_grid(0.0, T, 64)
    dW = bi(g, n_paths=500, seed=1)
    # the same SDE without its specialised kernels runs the generic ones
    for scheme in ["euler", "milstein"]:
        J = _J(g, scheme, dW=dW)
        generic = solve(replace(J_sde(), kernels={}), [0.0], g, dW=dW, scheme=scheme)
        assert np.allclose(generic.ys[:, :, 0], J, rtol=1e-12, atol=1e-14)
    # drift-implicit theta = 1 on y from t = 0 (drift never evaluated at 0) is the same scheme as
    # implicit_euler except that 2y is implicit too: both converge to the same path
    ys = solve(
        y_sde(),
        [Y_STAR],
        uniform_grid(0.0, T, 1024),
        saveat=[T],
        scheme="theta",
        dW=bi(uniform_grid(0.0, T, 1024), n_paths=500, seed=2),
    )
    yk = _y(
        uniform_grid(0.0, T, 1024),
        dW=bi(uniform_grid(0.0, T, 1024), n_paths=500, seed=2),
        milstein=False,
        saveat=[T],
    )
    assert np.sqrt(np.mean((ys.ys[:, 0, 0] - yk[:, 0]) ** 2)) < 2e-3
    # drift-implicit theta = 1 on q itself from t = 0: the generic theta scheme (Newton) and the
    # specialised implicit_euler kernel (cubic in sqrt q) are the same scheme
    gq = uniform_grid(0.0, T, 256)
    dq = brownian_increments(gq, n_paths=300, seed=5)
    qk, _ = _q(gq, "implicit_euler", dW=dq)
    qe = solve(q_sde(), [Q_STAR], gq, scheme="theta", dW=dq).ys[:, :, 0]
    assert np.max(np.abs(qk - qe) / qe) < 1e-12
    # explicit q-schemes from t0 > 0: specialised and generic kernels agree to rounding
    g0 = uniform_grid(0.05, T, 64)
    dW0 = bi(g0, n_paths=200, seed=4)
    for scheme in ["euler", "milstein"]:
        qs, _ = _q(g0, scheme, dW=dW0)
        qg = solve(replace(q_sde(), kernels={}), [Q_STAR], g0, scheme=scheme, dW=dW0).ys[:, :, 0]
        assert np.max(np.abs(qs - qg) / qg) < 1e-12
    # torchsde backend: same equation, same increments, Euler: agreement to rounding
    pytest.importorskip("torchsde")
    a = solve(J_sde(), [0.0], g, saveat=g, dW=dW, backend="torchsde").ys
    b = solve(J_sde(), [0.0], g, saveat=g, dW=dW).ys
    assert np.max(np.abs(a - b)) < 1e-12
    # the singular equations run through torchsde from t0 > 0 (Euler; q with its torch coefficients)
    for sde, x0 in [(q_sde(), Q_STAR), (y_sde(), Y_STAR)]:
        a = solve(sde, [x0], g0, dW=dW0, backend="torchsde").ys
        b = solve(sde, [x0], g0, dW=dW0).ys
        assert np.max(np.abs(a - b) / np.abs(b)) < 1e-12


def test_specialised_q_kernels_count_reflections():
    # Euler noise overshoots below 0 on coarse grids (h = 1/4 from t = 0, h = 0.05 from t0 = 0.05):
    # each such step is reflected, counted in n_exits, and no q <= 0 is returned
    for grid, scheme in [(np.linspace(0, 1, 5), "implicit_euler"), (np.linspace(0.05, 1, 20), "euler")]:
        q, n_exits = _q(grid, scheme, n_paths=3000, seed=1)
        assert n_exits > 0 and np.all(q > 0)
    # the Milstein variant of the implicit scheme never needs it for h < 1/8
    q, n_exits = _q(np.linspace(0, 1, 41), "implicit_milstein", n_paths=3000, seed=1)
    assert n_exits == 0 and np.all(q > 0)


def test_specialised_kernels_apply_the_domain_rule_raise():
    from deeplimits.sde import Box, DomainError

    strict = replace(q_sde(), domain=Box(lower=0.0, on_exit="raise"))
    with pytest.raises(DomainError, match="left the domain"):
        solve(strict, [Q_STAR], np.linspace(0, 1, 5), n_paths=3000, seed=1, scheme="implicit_euler")
    strict_y = replace(y_sde(), domain=Box(lower=0.0, on_exit="raise"))
    with pytest.raises(DomainError, match="left the domain"):
        solve(strict_y, [Y_STAR], np.linspace(0, 1, 3), n_paths=5000, seed=0, scheme="implicit_euler")


def test_specialised_kernel_reports_a_non_finite_state():
    # explicit Euler on q far from its asymptote, with h >> t0: q^{3/2}/t blows up to inf within a few steps
    with pytest.raises(ValueError, match="failed"):
        _q(np.linspace(1e-6, 1.0, 50), "euler", q0=1000.0, n_paths=2, seed=0, check_stability=False)
