"""Unshaped ReLU MLP: the singular SDE of ``q_t = l^2 (1 - rho_l)``, ``t = l / n``.

Li & Nica (2023, arXiv 2310.12079) show that for an unshaped ReLU MLP of width
``n`` the rescaled correlation ``q_t = l^2 (1 - rho_l)`` at ``t = l / n``
converges to an SDE that is singular at ``t = 0``.  From the one-layer
conditional moments (``docs/theory/correlation.md``; confirmed by a width-n
Monte Carlo) the equation is::

    dq = [ (2 q - a q^{3/2}) / t + 2 q ] dt + 2 sqrt(2) q dB,     q_0 = Q_STAR = 9 pi^2 / 2,
    a  = 2 sqrt(2) / (3 pi)      (so that a sqrt(Q_STAR) = 2: Q_STAR is the drift's zero).

Equivalent regular forms (same Brownian motion ``B``, pathwise identical)::

    y = q^{-1/2}:      dy = [ (Y_STAR - y) / t + 2 y ] dt - sqrt(2) y dB,   y_0 = Y_STAR = sqrt(2) / (3 pi)
    J = t y / Y_STAR:  dJ = (1 + 2 J) dt - sqrt(2) J dB,                   J_0 = 0,
    q = Q_STAR t^2 / J^2.

``J`` solves a linear SDE with no singularity; in law
``J_t = int_0^t exp(r - sqrt(2) W_r) dr`` and its moments are closed-form
(:func:`mean_J`, :func:`second_moment_J`, :func:`mean_y`, :func:`mean_inv_q`).

Integrators (all start at ``t = 0`` exactly unless stated)
-----------------------------------------------------------
* :func:`simulate_J` -- (i) Euler--Maruyama or Milstein on the regular J-equation
  (strong orders 0.5 / 1, weak order 1); ``q`` and ``y`` follow pathwise.
* :func:`simulate_q_em` -- (ii) Euler--Maruyama (or Milstein) on ``q`` itself,
  started at ``t0 > 0`` from the asymptotic value ``q(t0) = Q_STAR``; its bias
  in ``t0`` and ``h`` is given in closed form by :func:`mean_y_from_t0`,
  :func:`second_moment_y_from_t0`.
* :func:`simulate_q_implicit` -- (iii) drift-implicit (theta = 1) Euler or Milstein
  on ``q`` itself: the drift is taken at ``t_{k+1}`` (never evaluated at ``t = 0``);
  each step solves a cubic in ``sqrt(q)`` with a unique positive root.  The Milstein
  variant keeps ``q > 0`` for every step ``h < 1/8``.
* :func:`simulate_y_implicit` -- (iii') the same idea on ``y = q^{-1/2}``, where the
  equation is linear: the singular part ``(Y_STAR - y)/t`` is taken at ``t_{k+1}``,
  ``2 y`` explicitly; optional Milstein correction.

Each kernel is Numba-parallel over paths with per-path ``deeplimits.rng``
streams (bit-identical results for any thread count), or takes coupled
Brownian increments ``dW`` of shape ``(n_paths, n_steps, 1)`` (:func:`deeplimits.sde.brownian_increments`).

For users that only need samples (e.g. finite-network comparisons)::

    from deeplimits.correlation.unshaped import sample_q
    q = sample_q([0.25, 0.5, 1.0], n_paths=100_000, seed=0)   # (n_paths, 3)

The same equations as ``deeplimits.sde.SDE`` objects (so they run through the
generic engine and its torchsde backend) are built by :func:`q_sde`,
:func:`y_sde` and :func:`J_sde`.
"""

from .equation import A_COEF, Q_STAR, Y_STAR, J_sde, q_diffusion, q_drift, q_from_J, q_sde, y_from_J, y_sde
from .integrators import sample_q, simulate_J, simulate_q_em, simulate_q_implicit, simulate_y_implicit
from .moments import (
    J_scheme_moments,
    mean_inv_q,
    mean_J,
    mean_y,
    mean_y_from_t0,
    second_moment_J,
    second_moment_y_from_t0,
    var_q_small_t,
    y_implicit_scheme_mean,
    y_implicit_scheme_moments,
)

__all__ = [
    "Q_STAR",
    "Y_STAR",
    "A_COEF",
    "q_drift",
    "q_diffusion",
    "q_from_J",
    "y_from_J",
    "q_sde",
    "y_sde",
    "J_sde",
    "simulate_J",
    "simulate_y_implicit",
    "simulate_q_implicit",
    "simulate_q_em",
    "sample_q",
    "mean_J",
    "second_moment_J",
    "mean_y",
    "mean_inv_q",
    "var_q_small_t",
    "mean_y_from_t0",
    "second_moment_y_from_t0",
    "J_scheme_moments",
    "y_implicit_scheme_moments",
    "y_implicit_scheme_mean",
]
