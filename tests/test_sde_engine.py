"""Tests of the SDE engine: orders of every scheme, singular start, reproducibility, backends, bad input."""

import numba as nb
import numpy as np
import pytest

from deeplimits.convergence import strong_order, weak_order
from deeplimits.sde import SDE, brownian_increments, coarsen_increments, geometric_grid, models, solve, uniform_grid

STRONG_TOL = 0.2  # brief: strong orders within +-0.2 of theory
WEAK_TOL = 0.25  # brief: weak orders within +-0.25 of theory


# ----------------------------------------------------------------------------- measured orders
@pytest.mark.parametrize("scheme, expected", [("euler", 0.5), ("milstein", 1.0), ("theta", 0.5)])
def test_strong_order_gbm(scheme, expected):
    sde = models.gbm(1.0, 0.5)
    res = strong_order(
        sde,
        [1.0],
        1.0,
        n_steps=[16, 32, 64, 128, 256],
        scheme=scheme,
        exact=models.gbm_exact(1.0, 1.0, 0.5),
        n_paths=1000,
        seed=1,
        n_boot=100,
    )
    assert res.expected == expected
    assert abs(res.order - expected) <= STRONG_TOL, res.as_dict()


def test_strong_order_against_fine_reference_without_exact_solution():
    # Milstein on a non-linear SDE with no closed form: reference = Milstein on a grid 8x finer.
    sde = models.singular_logistic(c=0.3, sigma=0.5)
    res = strong_order(
        sde, [1.0], 1.5, t0=0.5, n_steps=[8, 16, 32, 64], scheme="milstein", n_paths=500, seed=2, n_boot=100
    )
    assert abs(res.order - 1.0) <= STRONG_TOL, res.as_dict()


@pytest.mark.parametrize("scheme, expected", [("euler", 1.0), ("weak2", 2.0)])
def test_weak_order_ou_second_moment(scheme, expected):
    lam, sigma = 2.0, 1.0
    res = weak_order(
        models.ornstein_uhlenbeck(lam, sigma),
        [1.0],
        1.0,
        lambda y: y[:, 0] ** 2,
        n_steps=[4, 8, 16, 32, 64],
        scheme=scheme,
        exact=models.ou_exact_law(1.0, lam, sigma),
        n_paths=20000,
        seed=3,
        n_boot=100,
    )
    assert abs(res.order - expected) <= WEAK_TOL, res.as_dict()
    # every error is resolved by the sample (> 3 standard errors of the paired differences)
    assert np.all(res.errors > 3 * res.stderr)


def test_weak2_order_multiplicative_noise():
    # weak-2 on GBM, f(y) = y: E[Y_T] = e^{mu T}; reference: exact pathwise solution.
    mu, sigma = 1.0, 0.5
    res = weak_order(
        models.gbm(mu, sigma),
        [1.0],
        1.0,
        lambda y: y[:, 0],
        n_steps=[2, 4, 8, 16, 32],
        scheme="weak2",
        exact=models.gbm_exact(1.0, mu, sigma),
        n_paths=20000,
        seed=4,
        n_boot=100,
    )
    assert abs(res.order - 2.0) <= WEAK_TOL, res.as_dict()


def test_implicit_euler_from_singular_start_weak_order_and_law():
    a, b, sigma, T = 1.0, 2.0, 1.0, 1.0
    sde = models.singular_linear(a, b, sigma)
    fine = geometric_grid(0.0, T, 1025, 1e-4)
    grids = [np.concatenate([[0.0], fine[1::c]]) for c in (32, 16, 8, 4)]
    res = weak_order(
        sde,
        [b],
        T,
        lambda y: (y[:, 0] - b) ** 2,
        grids=grids,
        scheme="theta",
        exact=models.singular_linear_exact_law(a, b, sigma),
        n_paths=10000,
        seed=5,
        n_boot=100,
        expected=1.0,
    )
    assert abs(res.order - 1.0) <= WEAK_TOL, res.as_dict()
    # law at T from the singular start: N(b, sigma^2 T / (2a + 1)); 4 standard errors of mean and variance
    n = 20000
    q = solve(sde, [b], grids[-1], saveat=[T], n_paths=n, scheme="theta", seed=6).ys[:, 0, 0]
    v = sigma**2 * T / (2 * a + 1)
    assert abs(q.mean() - b) < 4 * np.sqrt(v / n)
    assert abs(q.var() - v) < 4 * v * np.sqrt(2 / n) + res.errors[-1]  # sampling + the scheme's own O(h) bias


def test_theta_scheme_newton_on_nonlinear_drift_matches_fixed_point():
    # theta = 1 on dq = -q^3 dt + 0.1 dW: each step solves z + h z^3 = rhs; check the residual.
    @nb.njit(cache=True)
    def f(t, y, p, out):
        out[0] = -(y[0] ** 3)

    @nb.njit(cache=True)
    def g(t, y, p, out):
        out[0, 0] = 0.1

    sde = SDE(f, g)
    grid = uniform_grid(0.0, 1.0, 10)
    dW = brownian_increments(grid, n_paths=5, seed=7)
    sol = solve(sde, [2.0], grid, dW=dW, scheme="theta")
    h = 0.1
    z = sol.ys[:, 1:, 0]
    prev = sol.ys[:, :-1, 0]
    residual = z + h * z**3 - (prev + 0.1 * dW[:, :, 0])
    assert np.max(np.abs(residual)) < 1e-10


# ----------------------------------------------------------------------------- noise structures
def test_general_noise_variance():
    @nb.njit(cache=True)
    def f(t, y, p, out):
        out[0] = 0.0

    @nb.njit(cache=True)
    def g(t, y, p, out):
        out[0, 0] = p[0]
        out[0, 1] = p[1]

    sde = SDE(f, g, dim=1, noise="general", n_noise=2, params=[0.6, 0.8])
    n = 40000
    y = solve(sde, [0.0], uniform_grid(0, 2.0, 8), saveat=[2.0], n_paths=n, seed=8).ys[:, 0, 0]
    v = 2.0 * (0.6**2 + 0.8**2)
    assert abs(y.var() - v) < 4 * v * np.sqrt(2 / n)


def test_diagonal_noise_two_components_independent():
    @nb.njit(cache=True)
    def f(t, y, p, out):
        out[0] = 0.0
        out[1] = 0.0

    @nb.njit(cache=True)
    def g(t, y, p, out):
        out[0, 0] = 1.0
        out[1, 1] = 2.0
        out[0, 1] = 99.0  # off-diagonal entries are ignored for diagonal noise

    n = 40000
    y = solve(SDE(f, g, dim=2), [0.0, 0.0], uniform_grid(0, 1.0, 4), saveat=[1.0], n_paths=n, seed=9).ys[:, 0]
    assert abs(y[:, 0].var() - 1.0) < 4 * np.sqrt(2 / n)
    assert abs(y[:, 1].var() - 4.0) < 4 * 4.0 * np.sqrt(2 / n)
    assert abs(np.corrcoef(y.T)[0, 1]) < 4 / np.sqrt(n)


def test_milstein_finite_difference_derivative_matches_analytic():
    sde_exact = models.gbm(1.0, 0.5)
    sde_fd = SDE(sde_exact.drift, sde_exact.diffusion, params=[1.0, 0.5])  # no diffusion_derivative
    grid = uniform_grid(0, 1, 64)
    dW = brownian_increments(grid, n_paths=100, seed=10)
    a = solve(sde_exact, [1.0], grid, dW=dW, scheme="milstein").ys
    b = solve(sde_fd, [1.0], grid, dW=dW, scheme="milstein").ys
    assert np.max(np.abs(a - b)) < 1e-7


# ----------------------------------------------------------------------------- reproducibility
def test_same_seed_bit_identical_across_thread_counts():
    sde = models.singular_logistic(0.3, 1.0)
    grid = uniform_grid(0.5, 1.5, 50)
    a = solve(sde, [1.0], grid, n_paths=257, seed=11)
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        b = solve(sde, [1.0], grid, n_paths=257, seed=11)
    finally:
        nb.set_num_threads(old)
    assert np.array_equal(a.ys, b.ys)
    assert not np.array_equal(a.ys, solve(sde, [1.0], grid, n_paths=257, seed=12).ys)


def test_seed_draws_equal_supplied_increments_and_coarsening():
    sde = models.gbm()
    grid = uniform_grid(0, 1, 32)
    dW = brownian_increments(grid, n_paths=20, seed=13)
    assert np.array_equal(solve(sde, [1.0], grid, dW=dW).ys, solve(sde, [1.0], grid, n_paths=20, seed=13).ys)
    coarse = coarsen_increments(dW, 4)
    assert coarse.shape == (20, 8, 1)
    assert np.allclose(coarse.sum(axis=1), dW.sum(axis=1), rtol=0, atol=1e-13)


def test_saveat_and_solution_layout():
    sde = models.ornstein_uhlenbeck()
    grid = uniform_grid(0, 1, 10)
    sol = solve(sde, [[1.0], [2.0], [3.0]], grid, saveat=[0.0, 0.5, 1.0], seed=0)
    assert sol.ys.shape == (3, 3, 1)
    assert np.array_equal(sol.ts, [0.0, 0.5, 1.0])
    assert np.array_equal(sol.ys[:, 0, 0], [1.0, 2.0, 3.0])
    assert sol.at(0.5).shape == (3, 1)
    assert sol.stats["n_steps"] == 10 and sol.stats["n_paths"] == 3
    full = solve(sde, [1.0], grid, seed=0)
    assert full.ys.shape == (1, 11, 1)
    assert np.array_equal(full.ys[:, [0, 5, 10]], solve(sde, [1.0], grid, saveat=[0, 0.5, 1.0], seed=0).ys)


def test_torchsde_backend_agrees_with_numba():
    pytest.importorskip("torchsde")
    sde = models.singular_logistic()
    grid = uniform_grid(0.2, 1.2, 100)
    dW = brownian_increments(grid, n_paths=64, seed=14)
    a = solve(sde, [1.0], grid, dW=dW)
    b = solve(sde, [1.0], grid, dW=dW, backend="torchsde")
    assert b.stats["backend"] == "torchsde"
    assert np.max(np.abs(a.ys - b.ys) / np.maximum(1, np.abs(a.ys))) < 1e-10
    # without dW both backends draw the same increments from the seed
    c = solve(sde, [1.0], grid, n_paths=64, seed=14, backend="torchsde")
    assert np.max(np.abs(a.ys - c.ys) / np.maximum(1, np.abs(a.ys))) < 1e-10


# ----------------------------------------------------------------------------- bad input
@nb.njit(cache=True)
def _zero_drift(t, y, p, out):
    out[0] = 0.0


@nb.njit(cache=True)
def _unit_diffusion(t, y, p, out):
    out[0, 0] = 1.0


@nb.njit(cache=True)
def _drift_out_of_bounds(t, y, p, out):
    out[1] = 0.0


@nb.njit(cache=True)
def _drift_nan(t, y, p, out):
    out[0] = np.nan


@nb.njit(cache=True)
def _drift_blows_up_later(t, y, p, out):
    out[0] = 0.0 if t < 0.5 else np.inf


@nb.njit(cache=True)
def _drift_unwritten(t, y, p, out):
    pass


BM = SDE(_zero_drift, _unit_diffusion)


@pytest.mark.parametrize(
    "grid, match",
    [
        ([0.0, 0.5, 0.5, 1.0], "positive"),
        ([0.0, 0.6, 0.5, 1.0], "positive"),
        ([0.0, np.nan, 1.0], "non-finite"),
        ([0.0], "at least 2"),
    ],
)
def test_bad_grid(grid, match):
    with pytest.raises(ValueError, match=match):
        solve(BM, [0.0], grid)


def test_bad_grid_builders():
    with pytest.raises(ValueError, match="n_steps"):
        uniform_grid(0, 1, 0)
    with pytest.raises(ValueError, match="t0 < t1"):
        uniform_grid(1, 1, 4)
    with pytest.raises(ValueError, match="t_first"):
        geometric_grid(0, 1, 10, 0.0)


@pytest.mark.parametrize(
    "saveat, match",
    [
        ([0.5, 0.25], "increasing"),
        ([1.5], "lie in the grid"),
        ([0.3], "not a point of the grid"),
        ([np.inf], "non-finite"),
    ],
)
def test_bad_saveat(saveat, match):
    with pytest.raises(ValueError, match=match):
        solve(BM, [0.0], uniform_grid(0, 1, 4), saveat=saveat)


def test_bad_shapes_and_arguments():
    grid = uniform_grid(0, 1, 4)
    with pytest.raises(ValueError, match="y0"):
        solve(BM, [0.0, 1.0], grid)
    with pytest.raises(ValueError, match="y0"):
        solve(BM, [np.nan], grid)
    with pytest.raises(ValueError, match="dW must have shape"):
        solve(BM, [0.0], grid, dW=np.zeros((3, 5, 1)))
    with pytest.raises(ValueError, match="dW must be finite"):
        solve(BM, [0.0], grid, dW=np.full((3, 4, 1), np.nan))
    with pytest.raises(ValueError, match="n_paths"):
        solve(BM, [0.0], grid, n_paths=0)
    with pytest.raises(ValueError, match="scheme"):
        solve(BM, [0.0], grid, scheme="rk4")
    with pytest.raises(ValueError, match="theta"):
        solve(BM, [0.0], grid, scheme="theta", theta=1.5)
    with pytest.raises(ValueError, match="seed"):
        solve(BM, [0.0], grid, seed=-1)
    with pytest.raises(ValueError, match="backend"):
        solve(BM, [0.0], grid, backend="jax")
    with pytest.raises(ValueError, match="weak2"):
        solve(SDE(_zero_drift, _unit_diffusion, dim=1, noise="general", n_noise=2), [0.0], grid, scheme="weak2")
    with pytest.raises(ValueError, match="milstein"):
        solve(SDE(_zero_drift, _unit_diffusion, noise="general"), [0.0], grid, scheme="milstein")


def test_bad_sde_definitions():
    with pytest.raises(ValueError, match="dim"):
        SDE(_zero_drift, _unit_diffusion, dim=0)
    with pytest.raises(ValueError, match="noise"):
        SDE(_zero_drift, _unit_diffusion, noise="scalar")
    with pytest.raises(ValueError, match="params"):
        SDE(_zero_drift, _unit_diffusion, params=[np.nan])
    with pytest.raises(TypeError, match="njit"):
        SDE(lambda t, y, p, out: None, _unit_diffusion)
    grid = uniform_grid(0, 1, 4)
    with pytest.raises(ValueError, match="drift wrote outside"):
        solve(SDE(_drift_out_of_bounds, _unit_diffusion), [0.0], grid)
    with pytest.raises(ValueError, match="drift returned non-finite"):
        solve(SDE(_drift_nan, _unit_diffusion), [0.0], grid)
    with pytest.raises(ValueError, match="unwritten"):
        solve(SDE(_drift_unwritten, _unit_diffusion), [0.0], grid)


def test_nonfinite_during_run_raises_or_is_kept():
    sde = SDE(_drift_blows_up_later, _unit_diffusion)
    grid = uniform_grid(0, 1, 4)
    with pytest.raises(ValueError, match="non-finite"):
        solve(sde, [0.0], grid, n_paths=3, check_stability=False)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        sol = solve(sde, [0.0], grid, n_paths=3, check_stability=False, nonfinite="keep")
    assert np.all(np.isfinite(sol.ys[:, :3])) and np.all(np.isnan(sol.ys[:, 3:]))


def test_unstable_explicit_step_near_singularity_refused():
    sde = models.singular_linear(a=1.0)
    with pytest.raises(ValueError, match="unstable"):
        solve(sde, [2.0], uniform_grid(0.01, 1.0, 20))  # h a / t0 = 4.95 > 2
    # a singular drift evaluated at t = 0 by an explicit scheme is refused, not turned into NaN
    with pytest.raises(ValueError, match="singular|non-finite|unstable"):
        solve(sde, [2.0], uniform_grid(0.0, 1.0, 20))
    # the implicit scheme with theta = 1 starts there
    sol = solve(sde, [2.0], geometric_grid(0.0, 1.0, 40, 1e-3), scheme="theta", n_paths=4)
    assert np.all(np.isfinite(sol.ys))


def test_insert_times_makes_output_times_valid():
    from deeplimits.sde import insert_times

    grid = insert_times(geometric_grid(0.0, 1.0, 64, 1e-3), [0.25, 0.5])
    sol = solve(models.singular_linear(), [2.0], grid, saveat=[0.25, 0.5, 1.0], scheme="theta", n_paths=3)
    assert np.array_equal(sol.ts, [0.25, 0.5, 1.0])
    with pytest.raises(ValueError, match="lie in"):
        insert_times(grid, [2.0])


# ----------------------------------------------------------------------------- compile on first use
_LAZY_PROBE = """
import numpy as np
from deeplimits.sde import evaluate, kernels, models, solve, uniform_grid
names = ["euler_kernel", "milstein_kernel", "theta_kernel", "weak2_kernel"]
before = [getattr(kernels, n).is_compiled for n in names]
solve(models.gbm(), [1.0], uniform_grid(0.0, 1.0, 4), n_paths=2, scheme="milstein")
print(before, [getattr(kernels, n).is_compiled for n in names], evaluate.explicit_stiffness.is_compiled)
"""


def test_import_compiles_nothing_and_a_run_only_its_scheme():
    import os
    import subprocess
    import sys

    import deeplimits

    src = os.path.dirname(os.path.dirname(deeplimits.__file__))
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", _LAZY_PROBE], env=env, capture_output=True, text=True, check=True)
    # nothing at import; milstein after a milstein run (a 4-step grid is checked for stability without compiling)
    assert out.stdout.split("\n")[0] == "[False, False, False, False] [False, True, False, False] False"


def test_lazy_kernel_has_one_signature_and_its_dispatcher_attributes():
    from deeplimits.sde import kernels

    solve(models.gbm(), [1.0], uniform_grid(0.0, 1.0, 4), n_paths=2)
    solve(models.ornstein_uhlenbeck(), [1.0], uniform_grid(0.0, 1.0, 4), n_paths=2)  # another SDE: no new compile
    assert len(kernels.euler_kernel.signatures) == 1
    assert kernels.euler_kernel.__name__ == "euler_kernel" and "Euler" in kernels.euler_kernel.__doc__


@nb.njit(cache=True)
def _linear3_drift(t, y, p, out):
    out[0] = -p[0] * y[0] / (t + 0.01) + y[1]
    out[1] = -p[1] * y[1] + 0.5 * y[2] * y[0]
    out[2] = -(y[2] ** 3) + t


@nb.njit(cache=True)
def _linear3_jac(t, y, p, out):
    out[:, :] = 0.0
    out[0, 0] = -p[0] / (t + 0.01)
    out[0, 1] = 1.0
    out[1, 1] = -p[1]
    out[1, 0] = 0.5 * y[2]
    out[1, 2] = 0.5 * y[0]
    out[2, 2] = -3.0 * y[2] ** 2


def test_stability_check_in_python_equals_the_compiled_check():
    from deeplimits.sde._steps import no_matrix_function
    from deeplimits.sde.evaluate import PYTHON_CHECK_EVALUATIONS, _explicit_stiffness_python, explicit_stiffness

    y = np.array([0.7, -1.3, 2.1])
    p = np.array([2.0, 5.0])
    for grid in (uniform_grid(0.0, 1.0, 50), geometric_grid(0.0, 1.0, 40, 1e-3)):
        for jac, has_jac in ((no_matrix_function, False), (_linear3_jac, True)):
            args = (_linear3_drift, jac, has_jac, grid, y, p)
            assert _explicit_stiffness_python(*args) == explicit_stiffness(*args)  # the same operations
    # a grid above the threshold takes the compiled check, with the same verdict and message
    sde = SDE(_linear3_drift, _unit_diffusion3, dim=3, params=p)
    for n in (40, PYTHON_CHECK_EVALUATIONS // 3 + 10):
        with pytest.raises(ValueError, match="unstable on this grid: at step 0"):
            solve(sde, y, geometric_grid(0.0, 1.0, n, 0.5), n_paths=2)


@nb.njit(cache=True)
def _unit_diffusion3(t, y, p, out):
    for a in range(3):
        out[a, a] = 1.0


def test_specialised_explicit_kernels_check_stability():
    from deeplimits.correlation.unshaped import Q_STAR, J_sde, q_sde

    coarse = uniform_grid(0.01, 1.0, 20)  # h / t0 = 4.95: the explicit q-step is unstable at t0
    for scheme in ("euler", "milstein"):
        with pytest.raises(ValueError, match=f"explicit scheme '{scheme}' is unstable"):
            solve(q_sde(), [Q_STAR], coarse, n_paths=4, scheme=scheme)
    # overridden, the specialised kernel runs
    sol = solve(q_sde(), [Q_STAR], coarse, n_paths=4, scheme="euler", check_stability=False, nonfinite="keep")
    assert sol.ys.shape == (4, 21, 1)
    fine = geometric_grid(0.0, 1.0, 200, 0.01)[1:]
    assert np.all(np.isfinite(solve(q_sde(), [Q_STAR], fine, n_paths=4, scheme="euler").ys))
    # the regular J-equation passes on any reasonable grid; the implicit kernels are not checked
    solve(J_sde(), [0.0], uniform_grid(0.0, 1.0, 4), n_paths=2, scheme="euler")
    solve(q_sde(), [Q_STAR], uniform_grid(0.0, 1.0, 4), n_paths=2, scheme="implicit_euler")
