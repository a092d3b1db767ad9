"""Tests of the capacity KFE finite-difference solvers (deeplimits.capacity.kfe).

Orders are log-log slopes over >= 4 refinements (factor 2), asserted within +-0.2
of theory; exact references: Fourier modes and Gaussians (space), the exact
solution of the spatially discretised system (depth), and the FFT solution of the
periodic master equation.
"""

import numpy as np
import pytest

from deeplimits.capacity.kfe import (
    DriftDiffusion1D,
    DriftDiffusion2D,
    Grid1D,
    Grid2D,
    MasterEquation,
    fourier_mode_1d,
    generator_matrix,
    integral,
    lattice_1d,
    lattice_2d,
    master_exact_periodic,
    semidiscrete_exact,
    solve_kfe,
)
from deeplimits.capacity.kfe._linalg import tri_factor, tri_solve, tri_solve_dense_check
from deeplimits.capacity.limits import kramers_moyal
from deeplimits.experiments._cap_common import slope
from deeplimits.experiments._cap_kfe_problems import (
    TENSOR,
    depth_errors_1d,
    depth_errors_2d,
    depth_errors_master,
    diffusion,
    drift,
    sink,
    space_errors_1d_gaussian,
    space_errors_1d_periodic,
    space_errors_2d,
)


# ----------------------------------------------------------------------------- linear algebra
@pytest.mark.parametrize("periodic", [False, True])
def test_tridiagonal_solve_matches_dense(periodic):
    rng = np.random.default_rng(1)
    for n in (3, 4, 17):
        lo, up = -rng.random(n), -rng.random(n)
        di = 2.5 + rng.random(n)
        d = rng.standard_normal(n)
        cp, inv, z, corr = tri_factor(lo, di, up, periodic)
        x = np.empty(n)
        tri_solve(lo, cp, inv, z, corr, periodic, d, x)
        np.testing.assert_allclose(x, tri_solve_dense_check(lo, di, up, periodic, d), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("periodic", [False, True])
def test_2d_axis_operators_equal_line_by_line_1d_kernels(periodic):
    # the 2-D kernels apply / invert the 1-D tridiagonal operator along each axis without copies;
    # they must equal tri_matvec / tri_solve applied line by line (up to summation order)
    from deeplimits.capacity.kfe._linalg import tri_matvec
    from deeplimits.capacity.kfe.operators import axpy_x, axpy_y
    from deeplimits.capacity.kfe.pde2d import solve_x, solve_y

    rng = np.random.default_rng(7)
    nx, ny = 7, 5
    c = rng.standard_normal((nx, ny))
    for axis, n in ((0, nx), (1, ny)):
        lo, up = -rng.random(n), -rng.random(n)
        di = 2.5 + rng.random(n)
        lines = c if axis == 1 else c.T
        ref = np.array([np.empty(n) for _ in range(lines.shape[0])])
        for r, line in zip(ref, lines, strict=True):
            tri_matvec(lo, di, up, periodic, np.ascontiguousarray(line), r)
        out = np.zeros((nx, ny))
        (axpy_y if axis == 1 else axpy_x)(c, lo, di, up, periodic, 1.0, out)
        np.testing.assert_allclose(out, ref if axis == 1 else ref.T, rtol=1e-14, atol=1e-14)
        cp, inv, z, corr = tri_factor(lo, di, up, periodic)
        sol = np.empty((nx, ny))
        (solve_y if axis == 1 else solve_x)(c, lo, cp, inv, z, corr, periodic, sol)
        dense = np.array([tri_solve_dense_check(lo, di, up, periodic, line) for line in lines])
        np.testing.assert_allclose(sol, dense if axis == 1 else dense.T, rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------------------- 1-D PDE: space
def test_1d_spatial_order_2_fourier_mode_periodic_depth_dependent():
    ns = [32, 64, 128, 256]
    errs = space_errors_1d_periodic(ns)
    assert abs(slope(ns, errs) + 2) < 0.2, errs


@pytest.mark.parametrize("bc,kind", [("reflecting", "cos"), ("absorbing", "sin")])
def test_1d_spatial_order_2_bounded_modes(bc, kind):
    # on [0, 1] with v = 0: cos(pi x) has zero flux at the ends, sin(pi x) vanishes there
    ns = [16, 32, 64, 128]
    errs = []
    T = 0.3
    for n in ns:
        g = Grid1D(0.0, 1.0, n, bc)
        eq = DriftDiffusion1D(g, v=0.0, D=diffusion, kappa=0.5)
        c0 = fourier_mode_1d(g.x, np.pi, 0.8, 0, 0, 0, kind)
        res = solve_kfe(eq, c0, T, dt=g.h / 8, scheme="crank_nicolson")
        ex = fourier_mode_1d(g.x, np.pi, 0.8, 0.0, integral(diffusion, 0, T), 0.5 * T, kind)
        errs.append(np.abs(res.y - ex).max())
    assert abs(slope(ns, errs) + 2) < 0.2, errs


def test_1d_gaussian_green_function_with_drift_order_2():
    # Gaussian of initial width 0.3 on a reflecting domain wide enough that the boundary is invisible (1e-30)
    ns = [50, 100, 200, 400]
    errs = space_errors_1d_gaussian(ns)
    assert abs(slope(ns, errs) + 2) < 0.2, errs


def test_upwind_is_first_order_in_space():
    ns = [64, 128, 256, 512]
    errs = []
    for n in ns:
        g = Grid1D(0.0, 1.0, n, "periodic")
        eq = DriftDiffusion1D(g, v=1.0, D=0.05, advection="upwind")
        res = solve_kfe(eq, 1 + np.cos(2 * np.pi * g.x), 0.3, dt=g.h / 8, scheme="crank_nicolson")
        errs.append(np.abs(res.y - fourier_mode_1d(g.x, 2 * np.pi, 1, 0.3, 0.015)).max())
    assert abs(slope(ns, errs) + 1) < 0.2, errs


# ----------------------------------------------------------------------------- 1-D PDE: depth
@pytest.mark.parametrize("scheme,order", [("euler", 1), ("implicit_euler", 1), ("crank_nicolson", 2)])
def test_1d_depth_orders_against_semidiscrete_exact(scheme, order):
    steps = [100, 200, 400, 800]  # explicit limit here is dt <= 1/(2 * 0.3 * 256 + 0.6) = 6.5e-3 > 0.5/100
    errs = depth_errors_1d(scheme, steps)
    assert abs(slope(steps, errs) + order) < 0.2, errs


@pytest.mark.parametrize("bc", ["reflecting", "absorbing"])
def test_1d_crank_nicolson_depth_order_2_bounded(bc):
    g = Grid1D(0.0, 1.0, 24, bc)
    eq = DriftDiffusion1D(g, v=0.0, D=diffusion, kappa=sink)
    c0 = np.exp(-30 * (g.x - 0.3) ** 2)
    ref = semidiscrete_exact(eq, c0, 0.5)
    steps = [20, 40, 80, 160]  # at 10 steps CN's stiff modes (dt * 2D/h^2 ~ 12) are not yet asymptotic
    errs = [np.abs(solve_kfe(eq, c0, 0.5, n_steps=s, scheme="crank_nicolson").y - ref).max() for s in steps]
    assert abs(slope(steps, errs) + 2) < 0.2, errs


# ----------------------------------------------------------------------------- 2-D PDE
def test_2d_spatial_order_2_full_tensor():
    ns = [12, 24, 48, 96]
    errs = space_errors_2d(ns, n_steps=400)
    assert abs(slope(ns, errs) + 2) < 0.2, errs


@pytest.mark.parametrize(
    "scheme,D,order",
    [
        ("peaceman_rachford", (0.3, 0.2), 2),
        ("douglas", (0.3, 0.2), 2),
        ("douglas", TENSOR, 1),  # mixed term explicit: first order (documented)
        ("hundsdorfer_verwer", TENSOR, 2),
        ("euler", TENSOR, 1),
        ("implicit_euler", (0.3, 0.2), 1),  # Douglas ADI, theta = 1
        ("implicit_euler", TENSOR, 1),
        ("crank_nicolson", (0.3, 0.2), 2),  # Douglas ADI, theta = 1/2
        ("crank_nicolson", TENSOR, 2),  # Hundsdorfer-Verwer, theta = 1/2
    ],
)
def test_2d_depth_orders_against_semidiscrete_exact(scheme, D, order):
    steps = [80, 160, 320, 640]  # explicit limit dt <= 1/(2*0.3*144 + 2*0.2*144 + 0.1*144 + 0.6) ~ 6.3e-3
    errs = depth_errors_2d(scheme, D, steps)
    assert abs(slope(steps, errs) + order) < 0.2, errs


# ----------------------------------------------------------------------------- master equation
@pytest.mark.parametrize("scheme,order", [("euler", 1), ("implicit_euler", 1), ("crank_nicolson", 2)])
def test_master_depth_orders_against_fft_exact(scheme, order):
    steps = [20, 40, 80, 160]
    errs = depth_errors_master(scheme, steps)
    assert abs(slope(steps, errs) + order) < 0.2, errs


def test_master_2d_crank_nicolson_order_2():
    steps = [10, 20, 40, 80]
    errs = depth_errors_master("crank_nicolson", steps, dims=2)
    assert abs(slope(steps, errs) + 2) < 0.2, errs


@pytest.mark.parametrize("bc", ["reflecting", "absorbing"])
def test_master_sparse_and_explicit_agree_and_generator_columns(bc):
    g = lattice_1d(30, bc)
    eq = MasterEquation(g, [-2, 1, 3], [0.3, 0.5, 0.2], rate=1.5)
    G = generator_matrix(eq, np.array([0.3, 0.5, 0.2]), 1.5, 0.0).toarray()
    colsum = G.sum(axis=0)
    if bc == "reflecting":
        np.testing.assert_allclose(colsum, 0, atol=1e-14)  # no capacity leaves
    else:
        # site 28 loses the +3 jump (0.2) and the +1 jump only at 29; site 0 loses the -2 jump
        assert colsum[0] == pytest.approx(-1.5 * 0.3) and colsum[28] == pytest.approx(-1.5 * 0.2)
    c0 = np.linspace(1, 2, 30)
    a = solve_kfe(eq, c0, 1.0, n_steps=3000, scheme="euler").y
    b = solve_kfe(eq, c0, 1.0, n_steps=3000, scheme="implicit_euler").y
    # both first order: they differ by O(dt) = O(3e-4)
    assert np.abs(a - b).max() < 5e-3


# ----------------------------------------------------------------------------- conservation, positivity
def _delta_1d(g):
    c = np.zeros(g.n)
    c[g.n // 3] = 1 / g.h
    return c


@pytest.mark.parametrize("bc", ["periodic", "reflecting"])
@pytest.mark.parametrize("scheme", ["euler", "implicit_euler", "crank_nicolson"])
def test_1d_total_capacity_conserved(bc, scheme):
    g = Grid1D(-3.0, 3.0, 60, bc)
    eq = DriftDiffusion1D(g, v=drift, D=diffusion)
    res = solve_kfe(eq, _delta_1d(g), 1.0, dt=1e-3, scheme=scheme, saveat=np.linspace(0, 1, 11))
    m = res.mass()
    assert np.abs(m - 1).max() < 1e-12, m


@pytest.mark.parametrize(
    "scheme", ["euler", "implicit_euler", "crank_nicolson", "peaceman_rachford", "douglas", "hundsdorfer_verwer"]
)
@pytest.mark.parametrize("bc", ["periodic", "reflecting"])
def test_2d_total_capacity_conserved(bc, scheme):
    g = Grid2D.square(-2.0, 2.0, 20, bc)
    D = (0.3, 0.2) if scheme == "peaceman_rachford" else TENSOR
    eq = DriftDiffusion2D(g, v=(0.4, -0.2), D=D)
    c0 = np.zeros(g.shape)
    c0[5, 7] = 1 / g.cell_volume
    res = solve_kfe(eq, c0, 0.5, dt=2e-3, scheme=scheme, saveat=np.linspace(0, 0.5, 6))
    assert np.abs(res.mass() - 1).max() < 1e-12, res.mass()


@pytest.mark.parametrize("bc", ["periodic", "reflecting"])
@pytest.mark.parametrize("scheme", ["euler", "implicit_euler", "crank_nicolson"])
def test_master_total_capacity_conserved(bc, scheme):
    g2 = lattice_2d(12, 14, bc)
    eq = MasterEquation(g2, [[1, 0], [0, -2], [1, 1], [0, 0]], [0.3, 0.3, 0.2, 0.2], rate=lambda t: 2 + t)
    c0 = np.zeros(g2.shape)
    c0[3, 4] = 1.0
    res = solve_kfe(eq, c0, 1.0, n_steps=400, scheme=scheme, saveat=np.linspace(0, 1, 5))
    assert np.abs(res.mass() - 1).max() < 1e-12, res.mass()


def test_sink_and_absorbing_boundary_remove_capacity():
    g = Grid1D(0.0, 1.0, 50, "periodic")
    eq = DriftDiffusion1D(g, v=0.3, D=0.1, kappa=0.7)
    res = solve_kfe(eq, np.ones(50), 1.0, n_steps=400, scheme="crank_nicolson", saveat=np.linspace(0, 1, 401))
    # CN applies the sink to the mean exactly as the (1,1) Pade factor of exp(-kappa dt)
    r = (1 - 0.7 / 800) / (1 + 0.7 / 800)
    np.testing.assert_allclose(res.mass(), r ** np.arange(401), rtol=1e-12)
    ga = Grid1D(0.0, 1.0, 50, "absorbing")
    m = solve_kfe(
        DriftDiffusion1D(ga, D=0.1),
        np.ones(50),
        1.0,
        n_steps=100,
        saveat=np.linspace(0, 1, 101),
        scheme="implicit_euler",
    ).mass()
    assert np.all(np.diff(m) < 0)


def test_positivity_where_promised():
    g = Grid1D(0.0, 1.0, 80, "reflecting")
    c0 = _delta_1d(g)
    # explicit under its limit, and implicit Euler with upwind (M-matrix): exactly non-negative
    eq_up = DriftDiffusion1D(g, v=5.0, D=0.01, kappa=0.2, advection="upwind")  # cell Peclet 3.1
    assert solve_kfe(eq_up, c0, 0.3, n_steps=3000, scheme="euler").ys.min() >= 0
    assert solve_kfe(eq_up, c0, 0.3, n_steps=5, scheme="implicit_euler").ys.min() >= 0
    # central, cell Peclet <= 1: M-matrix too
    eq_c = DriftDiffusion1D(g, v=1.0, D=0.01, kappa=0.2)
    assert solve_kfe(eq_c, c0, 0.3, n_steps=5, scheme="implicit_euler").ys.min() >= 0
    # 2-D explicit under its limit (diagonal D)
    g2 = Grid2D.square(0.0, 1.0, 20, "absorbing")
    c2 = np.zeros(g2.shape)
    c2[4, 4] = 1.0
    eq2 = DriftDiffusion2D(g2, v=(0.5, 0.5), D=(0.05, 0.02))
    assert solve_kfe(eq2, c2, 0.2, dt=1e-3, scheme="euler").ys.min() >= 0
    # master equation: explicit under its limit, implicit Euler (M-matrix; sparse LU on a bounded lattice)
    gm = lattice_1d(40, "absorbing")
    em = MasterEquation(gm, [-1, 3], [0.6, 0.4], rate=4.0, kappa=0.5)
    cm = np.zeros(40)
    cm[20] = 1
    assert solve_kfe(em, cm, 1.0, n_steps=5, scheme="implicit_euler").ys.min() >= 0
    assert solve_kfe(em, cm, 1.0, dt=1 / 4.5, scheme="euler").ys.min() >= 0


# ----------------------------------------------------------------------------- misc
def test_substeps_equal_finer_explicit_run():
    g = Grid1D(0.0, 1.0, 32, "periodic")
    eq = DriftDiffusion1D(g, v=0.2, D=0.1)
    c0 = 1 + np.cos(2 * np.pi * g.x)
    a = solve_kfe(eq, c0, 0.5, n_steps=10, scheme="euler", substeps=True)
    m = a.stats["substeps"]
    assert m > 1 and a.ys.shape[0] == 2
    b = solve_kfe(eq, c0, 0.5, n_steps=10 * m, scheme="euler")
    np.testing.assert_allclose(a.y, b.y, rtol=1e-13)  # same steps; dt rounds differently


def test_kramers_moyal_moments():
    v, D = kramers_moyal([-1, 0, 2], [0.5, 0.2, 0.3], rate=2.0, spacing=0.5)
    assert v == pytest.approx(2.0 * 0.5 * (-0.5 + 0.6)) and D == pytest.approx(0.5 * 2.0 * 0.25 * (0.5 + 1.2))
    v2, D2 = kramers_moyal([[1, 0], [0, 1], [1, 1]], [0.25, 0.25, 0.5], rate=1.0)
    np.testing.assert_allclose(v2, [0.75, 0.75])
    np.testing.assert_allclose(D2, [[0.375, 0.25], [0.25, 0.375]])


# ----------------------------------------------------------------------------- bad input
def test_bad_input_errors():
    g = Grid1D(0.0, 1.0, 20, "periodic")
    c0 = np.ones(20)
    with pytest.raises(ValueError, match="v must be finite"):
        DriftDiffusion1D(g, v=np.nan)
    with pytest.raises(ValueError, match="D must be finite"):
        solve_kfe(DriftDiffusion1D(g, D=lambda t: np.inf if t > 0.5 else 1.0), c0, 1.0, dt=0.1)
    with pytest.raises(ValueError, match="D must be >= 0"):
        DriftDiffusion1D(g, D=-0.1)
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        solve_kfe(DriftDiffusion1D(g, kappa=lambda t: -t), c0, 1.0, dt=0.1)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solve_kfe(DriftDiffusion1D(g), c0, 1.0, dt=0.0)
    with pytest.raises(ValueError, match="dt must be > 0"):
        solve_kfe(DriftDiffusion1D(g), c0, 1.0, dt=-1e-3)
    with pytest.raises(ValueError, match=r"dt=0.01 exceeds the stability limit dt_max=0.00125"):
        solve_kfe(DriftDiffusion1D(g, D=1.0), c0, 1.0, dt=0.01, scheme="euler")
    with pytest.raises(ValueError, match="Peclet"):
        solve_kfe(DriftDiffusion1D(g, v=10.0, D=0.01), c0, 1.0, dt=1e-4, scheme="euler")
    with pytest.raises(ValueError, match="c0 must have the grid shape"):
        solve_kfe(DriftDiffusion1D(g), np.ones(21), 1.0, dt=0.1)
    with pytest.raises(ValueError, match="c0 must be finite"):
        solve_kfe(DriftDiffusion1D(g), np.full(20, np.nan), 1.0, dt=0.1)
    with pytest.raises(ValueError, match="scheme must be one of"):
        solve_kfe(DriftDiffusion1D(g), c0, 1.0, dt=0.1, scheme="rk4")
    with pytest.raises(ValueError, match="n .number of cells. must be an integer >= 3"):
        Grid1D(0.0, 1.0, 2)
    with pytest.raises(ValueError, match="boundary must be one of"):
        Grid1D(0.0, 1.0, 5, "open")
    g2 = Grid2D.square(0.0, 1.0, 8)
    with pytest.raises(ValueError, match="positive semi-definite"):
        DriftDiffusion2D(g2, D=[[0.1, 0.5], [0.5, 0.1]])
    with pytest.raises(ValueError, match="needs a diagonal D"):
        solve_kfe(DriftDiffusion2D(g2, D=TENSOR), np.ones((8, 8)), 1.0, dt=0.1, scheme="peaceman_rachford")
    with pytest.raises(ValueError, match="exceeds the stability limit"):
        solve_kfe(DriftDiffusion2D(g2, D=TENSOR), np.ones((8, 8)), 1.0, dt=0.1, scheme="euler")
    with pytest.raises(ValueError, match="theta applies to scheme='douglas'"):
        solve_kfe(DriftDiffusion2D(g2, D=TENSOR), np.ones((8, 8)), 1.0, dt=0.1, scheme="crank_nicolson", theta=0.6)
    with pytest.raises(ValueError, match="theta applies to scheme='theta' only"):
        solve_kfe(DriftDiffusion1D(g), c0, 1.0, dt=0.1, theta=0.6)
    with pytest.raises(ValueError, match="t_end must exceed t0"):  # negative depth interval
        solve_kfe(DriftDiffusion1D(g), c0, -1.0, dt=0.1)
    with pytest.raises(ValueError, match="t_end must exceed t0"):
        solve_kfe(DriftDiffusion1D(g), c0, 1.0, dt=0.1, t0=2.0)
    gl = lattice_1d(9, "reflecting")
    with pytest.raises(ValueError, match="grid too small for the kernel"):
        MasterEquation(gl, [-5, 4], [0.5, 0.5])  # span 10 > 9 sites
    with pytest.raises(ValueError, match="offsets must not be empty"):
        MasterEquation(gl, [], [])
    with pytest.raises(ValueError, match="weights must sum to 1"):
        MasterEquation(gl, [-1, 1], [0.5, 0.6])
    with pytest.raises(ValueError, match="weights must be finite"):
        MasterEquation(gl, [-1, 1], [np.nan, 0.5])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        MasterEquation(gl, [-1, 1], [1.5, -0.5])
    with pytest.raises(ValueError, match="rate must be >= 0"):
        MasterEquation(gl, [-1, 1], [0.5, 0.5], rate=-1.0)
    with pytest.raises(ValueError, match="offsets must be integers"):
        MasterEquation(gl, [-1.5, 1], [0.5, 0.5])
    em = MasterEquation(gl, [-1, 1], [0.5, 0.5], rate=10.0)
    with pytest.raises(ValueError, match=r"dt=0.5 exceeds the stability limit dt_max=0.1"):
        solve_kfe(em, np.ones(9), 1.0, dt=0.5, scheme="euler")
    with pytest.raises(ValueError, match="master_exact_periodic needs periodic"):
        master_exact_periodic(em, np.ones(9), 1.0)
    with pytest.raises(ValueError, match="need finite t0 <= t_end"):
        master_exact_periodic(MasterEquation(lattice_1d(9), [-1, 1], [0.5, 0.5]), np.ones(9), -0.5)
    with pytest.raises(ValueError, match="t_end must exceed t0"):
        solve_kfe(em, np.ones(9), -1.0, n_steps=4)


@pytest.mark.parametrize("scheme", ["euler", "implicit_euler", "crank_nicolson"])
@pytest.mark.parametrize("kind", ["pde1d", "pde2d", "master", "master_sparse"])
def test_saveat_selects_depths_of_the_full_run(kind, scheme):
    """saveat picks fields of the step grid (without t0 too) and never changes them; KFEResult is a Solution."""
    from deeplimits._solution import Solution

    if kind == "pde1d":
        g = Grid1D(-2.0, 2.0, 30, "reflecting")
        eq, c0 = DriftDiffusion1D(g, v=0.2, D=0.3), np.exp(-(g.x**2))
    elif kind == "pde2d":
        g2 = Grid2D.square(-2.0, 2.0, 10)
        X, Y = g2.mesh()
        eq, c0 = DriftDiffusion2D(g2, v=(0.2, 0.1), D=0.3), np.exp(-(X**2) - Y**2)
    else:
        lat = lattice_1d(15, "periodic" if kind == "master" else "absorbing")
        eq, c0 = MasterEquation(lat, [-1, 0, 2], [0.3, 0.4, 0.3], rate=1.5), np.eye(15)[7]
    kw = dict(n_steps=20, scheme=scheme, substeps=(scheme == "euler"))
    full = solve_kfe(eq, c0, 1.0, saveat=np.linspace(0, 1, 21), **kw)
    part = solve_kfe(eq, c0, 1.0, saveat=[0.25, 0.5, 1.0], **kw)
    assert isinstance(part, Solution) and not part.has_samples
    np.testing.assert_array_equal(part.ts, full.ts[[5, 10, 20]])
    np.testing.assert_array_equal(part.ys, full.ys[[5, 10, 20]])
    np.testing.assert_array_equal(part.at(0.5), full.ys[10])
    ends = solve_kfe(eq, c0, 1.0, **kw)
    np.testing.assert_array_equal(ends.ys, full.ys[[0, 20]])
    assert part.stats["scheme"] == scheme and part.stats["n_steps"] == 20


@pytest.mark.parametrize("kind", ["pde1d", "master"])
def test_theta_scheme_matches_the_named_schemes(kind):
    """scheme="theta" at theta = 1/2 and 1 is bit-identical to crank_nicolson and implicit_euler."""
    if kind == "pde1d":
        g = Grid1D(-2.0, 2.0, 30, "reflecting")
        eq, c0 = DriftDiffusion1D(g, v=lambda t: 0.2 * t, D=0.3), np.exp(-(g.x**2))
    else:
        eq, c0 = MasterEquation(lattice_1d(15, "absorbing"), [-1, 0, 2], [0.3, 0.4, 0.3], rate=1.5), np.eye(15)[7]
    for name, th in (("crank_nicolson", 0.5), ("implicit_euler", 1.0)):
        a = solve_kfe(eq, c0, 1.0, n_steps=16, scheme=name)
        b = solve_kfe(eq, c0, 1.0, n_steps=16, scheme="theta", theta=th)
        np.testing.assert_array_equal(a.ys, b.ys)
        assert b.stats["theta"] == th
    mid = solve_kfe(eq, c0, 1.0, n_steps=16, scheme="theta", theta=0.75).y
    assert np.all(np.isfinite(mid))
    with pytest.raises(ValueError, match="theta"):
        solve_kfe(eq, c0, 1.0, n_steps=16, scheme="theta")
    with pytest.raises(ValueError, match="theta"):
        solve_kfe(eq, c0, 1.0, n_steps=16, scheme="theta", theta=0.25)
