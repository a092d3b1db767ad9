"""The chain's deep-limit coefficients feed the finite-difference KFE solvers (deeplimits.capacity.kfe)
with the same conventions: jump direction, rate, sink and the three boundary conditions."""

import numpy as np
import pytest

from deeplimits.capacity import (
    DriftDiffusion1D,
    DriftDiffusion2D,
    kfe_coefficients,
    kramers_moyal,
    lattice_1d,
    lattice_2d,
    master_equation_periodic,
    propagate,
    residual_stack,
    solve_kfe,
)
from deeplimits.capacity.kfe import MasterEquation

_BOUNDARY = {"circular": "periodic", "zero": "absorbing", "reflecting": "reflecting"}


@pytest.mark.parametrize("padding", sorted(_BOUNDARY))
def test_chain_converges_to_fd_master_equation_all_boundaries(padding):
    # Chain (alpha = a/sqrt(L)) vs the Crank-Nicolson master-equation solver at t = 1 (400 steps: time
    # error ~1e-5, far below the O(1/L) chain error): the error must fall like 1/L (slope -1 +- 0.2).
    N = 40
    c0 = np.zeros(N)
    c0[30] = 1.0
    depths = [128, 256, 512, 1024]
    errs = []
    for L in depths:
        st = residual_stack([0.5, 1.0, 2.0, 1.0], L, 1.2, causal=True, dilation=2, bias=0.4, padding=padding)
        co = kfe_coefficients(st[0], L)
        eq = co.master_equation(lattice_1d(N, _BOUNDARY[padding]))
        me = solve_kfe(eq, c0, 1.0, n_steps=400, scheme="crank_nicolson").ys[-1]
        errs.append(np.abs(propagate(st, c0) - me).sum())
        if padding == "circular":
            assert np.abs(master_equation_periodic(co, c0, 1.0) - me).sum() < 1e-4
    assert np.polyfit(np.log(depths), np.log(errs), 1)[0] == pytest.approx(-1.0, abs=0.2)


def test_kramers_moyal_coefficients_agree():
    st = residual_stack(np.array([[0.0, 1.0, 0.5], [1.0, 2.0, 1.0]]), 64, 1.5, causal=(True, False), decoupling=0.5)
    co = kfe_coefficients(st[0], 64)
    v, D = kramers_moyal(co.offsets, co.jump_probs, co.rate)
    assert v == pytest.approx(co.drift, rel=1e-13)
    assert np.allclose(D, co.diffusion, rtol=1e-13, atol=0)


def test_2d_master_equation_solver_matches_exact_fft():
    st = residual_stack(np.ones((3, 3)), 16, 1.0)
    co = kfe_coefficients(st[0], 16)
    c0 = np.zeros((12, 12))
    c0[6, 6] = 1.0
    eq = MasterEquation(lattice_2d(12, 12, "periodic"), co.offsets, co.jump_probs, co.rate, co.sink)
    me = solve_kfe(eq, c0, 1.0, n_steps=200, scheme="crank_nicolson").ys[-1]
    assert np.abs(master_equation_periodic(co, c0, 1.0) - me).sum() < 1e-3


def test_coefficients_build_the_solver_equations():
    co = kfe_coefficients(residual_stack([0.5, 1.0, 2.0], 64, 1.3, causal=True, bias=0.2)[0], 64)
    eq = co.master_equation(lattice_1d(20, "absorbing"))
    assert isinstance(eq, MasterEquation) and eq.m == 3
    np.testing.assert_array_equal(eq.offsets, co.offsets[:, 0])
    assert (eq.rate, eq.kappa) == (co.rate, co.sink)
    pde = co.drift_diffusion(lattice_1d(20, "reflecting"), advection="upwind")
    assert isinstance(pde, DriftDiffusion1D) and pde.advection == "upwind"
    assert (pde.v, pde.D, pde.kappa) == pytest.approx((co.drift[0], co.diffusion[0, 0], co.sink), rel=1e-15)
    co2 = kfe_coefficients(residual_stack(np.ones((3, 2)), 16, 1.0, causal=(False, True))[0], 16)
    pde2 = co2.drift_diffusion(lattice_2d(9, 9))
    assert isinstance(pde2, DriftDiffusion2D)
    np.testing.assert_allclose(pde2.D, co2.diffusion, rtol=1e-15)
    with pytest.raises(ValueError, match="grid must be a Grid2D for 2-D coefficients"):
        co2.master_equation(lattice_1d(9))
    with pytest.raises(ValueError, match="grid must be a Grid1D for 1-D coefficients"):
        co.drift_diffusion(lattice_2d(5, 5))
    # all-zero taps: no jumps, only the sink
    co0 = kfe_coefficients(residual_stack([0.0, 0.0, 0.0], 4, 1.0, bias=0.5)[0], 4)
    c0 = np.zeros(7)
    c0[3] = 1.0
    np.testing.assert_allclose(
        master_equation_periodic(co0, c0, 1.0), c0 * np.exp(-co0.sink), atol=1e-15
    )  # FFT roundoff
