"""The chain's deep-limit coefficients feed the finite-difference KFE solvers (deeplimits.capacity.kfe)
with the same conventions: jump direction, rate, sink and the three boundary conditions."""

import numpy as np
import pytest

from deeplimits.capacity import kfe_coefficients, master_equation_periodic, propagate, residual_stack
from deeplimits.capacity.kfe import MasterEquation, kramers_moyal, lattice_1d, lattice_2d, solve

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
        eq = MasterEquation(lattice_1d(N, _BOUNDARY[padding]), co.offsets[:, 0], co.jump_probs, co.rate, co.sink)
        me = solve(eq, c0, 1.0, n_steps=400, scheme="crank_nicolson").ys[-1]
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
    me = solve(eq, c0, 1.0, n_steps=200, scheme="crank_nicolson").ys[-1]
    assert np.abs(master_equation_periodic(co, c0, 1.0) - me).sum() < 1e-3
