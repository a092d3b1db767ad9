"""Tests of the exponential master-equation schemes (uniformization; exponential midpoint and CF4).

Orders are log-log slopes over 4 step halvings, asserted within +-0.2 of theory, against an
independent reference: SciPy's DOP853 on the generator ``G(t) = sum_k r_k(t) G_k - kappa(t) I``
assembled from the sparse per-jump generators, at ``rtol = 1e-13``.  The uniformization bound
(``||error||_1 <= tol ||c0||_1`` for depth-independent coefficients) is checked against
``scipy.sparse.linalg.expm_multiply`` and the Poisson tail against ``scipy.stats.poisson``.
"""

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import scipy.stats

from deeplimits.capacity.kfe import (
    SCHEMES_MASTER,
    DriftDiffusion1D,
    Grid1D,
    MasterEquation,
    generator_matrix,
    lattice_1d,
    lattice_2d,
    solve_kfe,
)
from deeplimits.capacity.kfe.exponential import CF4_NODES, CF4_WEIGHTS, exponential_actions
from deeplimits.capacity.kfe.uniformization import poisson_terms
from deeplimits.experiments._cap_common import slope

EXPONENTIAL = ["exponential_midpoint", "exponential_cf4"]
OFFSETS = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
W0 = np.array([0.5, 1.0, 0.5, 1.0, 2.0, 1.0, 0.5, 1.0, 0.5]) / 8.0
W1 = np.roll(W0, 2)


def _weights(t):
    s = 0.5 + 0.5 * np.sin(3.0 * t)
    return (1.0 - s) * W0 + s * W1


def _varying(boundary, n=10):
    # depth-dependent jump law, rate and sink on an n x n lattice
    rate = lambda t: 4.0 + 3.0 * np.cos(2.0 * t)
    return MasterEquation(lattice_2d(n, n, boundary), OFFSETS, _weights, rate=rate, kappa=lambda t: 0.5 * t)


def _c0(n=10):
    c0 = np.zeros((n, n))
    c0[n // 2, n // 2] = 1.0
    c0[1, 2] = 0.5
    return c0


def _dop853(eq, c0, t_end):
    # independent reference: DOP853 on G(t) = sum_k lambda(t) q_k(t) G_k - kappa(t) I
    m = eq.m
    basis = [generator_matrix(eq, np.eye(m)[k], 1.0, 0.0) for k in range(m)]
    eye = sp.identity(c0.size, format="csr")

    def rhs(t, y):
        q, lam, kap = eq.coefficients([t])
        G = sum(lam[0] * q[0, k] * basis[k] for k in range(m)) - kap[0] * eye
        return G @ y

    sol = scipy.integrate.solve_ivp(rhs, (0.0, t_end), c0.ravel(), method="DOP853", rtol=1e-13, atol=1e-16)
    return sol.y[:, -1].reshape(c0.shape)


ORDERS = [("exponential_midpoint", 2, [4, 8, 16, 32]), ("exponential_cf4", 4, [2, 4, 8, 16])]


@pytest.mark.parametrize("boundary", ["absorbing", "periodic", "reflecting"])
@pytest.mark.parametrize("scheme,order,steps", ORDERS)
def test_exponential_orders_depth_dependent(boundary, scheme, order, steps):
    eq, c0 = _varying(boundary), _c0()
    ref = _dop853(eq, c0, 1.0)
    errs = [np.abs(solve_kfe(eq, c0, 1.0, n_steps=n, scheme=scheme, tol=1e-15).y - ref).max() for n in steps]
    assert errs[-1] > 1e3 * 1e-13 * np.abs(ref).max()  # above the reference's error: the slope is the scheme's
    assert abs(slope(steps, errs) + order) < 0.2, errs


@pytest.mark.parametrize("boundary", ["absorbing", "periodic", "reflecting"])
@pytest.mark.parametrize("tol", [1e-3, 1e-6, 1e-12])
def test_constant_coefficients_match_expm_multiply_to_tol(boundary, tol):
    eq = MasterEquation(lattice_2d(12, 12, boundary), OFFSETS, W0, rate=9.0, kappa=0.3)
    c0 = _c0(12)
    ref = spla.expm_multiply(2.0 * generator_matrix(eq, W0, 9.0, 0.3), c0.ravel()).reshape(c0.shape)
    for scheme in EXPONENTIAL:
        for n in (1, 7):  # exact whatever the step: one exponential over [0, 2]
            res = solve_kfe(eq, c0, 2.0, n_steps=n, scheme=scheme, tol=tol)
            assert np.abs(res.y - ref).sum() <= tol * c0.sum() + 1e-13
            assert res.stats["solver"] == "uniformization" and res.stats["tol"] == tol
    a = solve_kfe(eq, c0, 2.0, n_steps=1, scheme="exponential_cf4", tol=tol)
    b = solve_kfe(eq, c0, 2.0, n_steps=64, scheme="exponential_midpoint", tol=tol)
    assert a.stats["n_matvec"] == b.stats["n_matvec"]
    np.testing.assert_array_equal(a.y, b.y)


def test_saveat_saves_between_exponentials():
    eq = MasterEquation(lattice_2d(12, 12, "absorbing"), OFFSETS, W0, rate=9.0)
    c0 = _c0(12)
    G = generator_matrix(eq, W0, 9.0, 0.0)
    res = solve_kfe(eq, c0, 1.0, n_steps=8, scheme="exponential_cf4", saveat=[0.0, 0.25, 1.0], tol=1e-12)
    assert res.ts.tolist() == [0.0, 0.25, 1.0]
    np.testing.assert_array_equal(res.ys[0], c0)
    for t, y in zip(res.ts[1:], res.ys[1:], strict=True):
        ref = spla.expm_multiply(t * G, c0.ravel()).reshape(c0.shape)
        assert np.abs(y - ref).sum() <= 1e-12 * c0.sum() + 1e-13


@pytest.mark.parametrize("boundary", ["periodic", "reflecting"])
@pytest.mark.parametrize("scheme", EXPONENTIAL)
def test_mass_conserved_and_positive(boundary, scheme):
    # no sink, closed lattice: the capacity is kept up to the truncated Poisson tails (<= tol)
    eq = MasterEquation(lattice_2d(10, 10, boundary), OFFSETS, _weights, rate=lambda t: 4.0 + 3.0 * np.cos(2.0 * t))
    tol = 1e-13
    res = solve_kfe(eq, _c0(), 1.0, n_steps=10, scheme=scheme, saveat=np.linspace(0, 1, 11), tol=tol)
    assert np.abs(res.mass() - 1.5).max() <= 1.5 * tol + 1e-13
    assert res.ys.min() >= 0.0


@pytest.mark.parametrize("scheme", EXPONENTIAL)
def test_absorbing_positive_and_mass_decreasing(scheme):
    res = solve_kfe(_varying("absorbing"), _c0(), 3.0, n_steps=12, scheme=scheme, saveat=np.linspace(0, 3, 13))
    assert res.ys.min() >= 0.0
    assert np.all(np.diff(res.mass()) < 0)


def test_1d_lattice_against_dense_expm_with_midpoint_rates():
    # on a 1-D lattice with one depth-dependent scalar rate the generators commute: both schemes are exact
    eq = MasterEquation(lattice_1d(15, "absorbing"), [-2, 1], [0.4, 0.6], rate=lambda t: 1.0 + t**2)
    c0 = np.eye(15)[7]
    G = generator_matrix(eq, np.array([0.4, 0.6]), 1.0, 0.0).toarray()
    ref = scipy.linalg.expm((1.0 + 1.0 / 3.0) * G) @ c0  # integral of the rate over [0, 1]
    for scheme in EXPONENTIAL:
        y = solve_kfe(eq, c0, 1.0, n_steps=3, scheme=scheme, tol=1e-14).y
        tol = 1e-12 if scheme == "exponential_cf4" else 1e-2  # CF4 integrates t^2 exactly, the midpoint rule not
        assert np.abs(y - ref).max() < tol


@pytest.mark.parametrize("x", [0.3, 9.0, 120.0, 2000.0])
@pytest.mark.parametrize("tol", [1e-3, 1e-8, 1e-14])
def test_poisson_terms_bound_the_tail(x, tol):
    k = poisson_terms(x, tol)  # terms 0..k-1 are summed
    assert scipy.stats.poisson.sf(k - 1, x) <= tol
    assert k == 1 or scipy.stats.poisson.sf(k - 2, x) > tol / 2  # and not many more than needed


def test_cf4_constants_and_order_of_factors():
    assert CF4_WEIGHTS[0] < 0 < CF4_WEIGHTS[1]
    assert sum(CF4_WEIGHTS) == pytest.approx(0.5, abs=1e-15)
    assert CF4_NODES[0] + CF4_NODES[1] == pytest.approx(1.0, abs=1e-15)
    # the factor applied first weights the earlier Gauss node more: a linear rate r(t) = t
    eq = MasterEquation(lattice_1d(6), [-1, 1], [0.5, 0.5], rate=lambda t: 1.0 + t)
    rates, _, tau, _ = exponential_actions(eq, np.array([0.0, 1.0]), "exponential_cf4", np.array([True, True]))
    first, second = rates[:, 0]  # the jump of offset -1, in the order the factors are applied
    assert first < second
    assert (first + second) * tau[0] == pytest.approx(0.5 * 1.5, rel=1e-14)  # integral of r q over the step


def test_cf4_refuses_negative_combined_rates():
    # a jump switched on within a step: a_1 r(t_1) + a_2 r(t_2) < 0 for the other factor
    eq = MasterEquation(lattice_1d(8), [-1, 1], [0.5, 0.5], rate=lambda t: max(t - 0.5, 0.0))
    # (zero at the first Gauss node, positive at the second)
    with pytest.raises(ValueError, match=r"dt=1\.0.*exponential_midpoint"):
        solve_kfe(eq, np.eye(8)[3], 1.0, n_steps=1, scheme="exponential_cf4")
    res = solve_kfe(eq, np.eye(8)[3], 1.0, n_steps=1, scheme="exponential_midpoint")
    assert res.ys.min() >= 0.0


def test_bad_input_names_the_argument():
    eq = MasterEquation(lattice_1d(8), [-1, 1], [0.5, 0.5])
    c0 = np.eye(8)[3]
    assert set(EXPONENTIAL) <= set(SCHEMES_MASTER)
    with pytest.raises(ValueError, match="scheme must be one of"):
        solve_kfe(eq, c0, 1.0, n_steps=2, scheme="exponential")
    for bad in (0.0, 1.0, -1e-3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tol"):
            solve_kfe(eq, c0, 1.0, n_steps=2, scheme="exponential_cf4", tol=bad)
    with pytest.raises(TypeError, match="tol"):
        solve_kfe(eq, c0, 1.0, n_steps=2, scheme="exponential_midpoint", tol="small")
    with pytest.raises(ValueError, match="tol applies"):
        solve_kfe(eq, c0, 1.0, n_steps=2, scheme="crank_nicolson", tol=1e-6)
    with pytest.raises(ValueError, match="theta"):
        solve_kfe(eq, c0, 1.0, n_steps=2, scheme="exponential_midpoint", theta=0.5)
    g = Grid1D(0, 1, 8, "periodic")
    with pytest.raises(ValueError, match="tol applies"):
        solve_kfe(DriftDiffusion1D(g, v=0.1, D=0.1), np.ones(8), 1.0, n_steps=2, tol=1e-6)
    with pytest.raises(ValueError, match="scheme must be one of"):
        solve_kfe(DriftDiffusion1D(g, v=0.1, D=0.1), np.ones(8), 1.0, n_steps=2, scheme="exponential_cf4")
