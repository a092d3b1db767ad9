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

Integrators (through :func:`deeplimits.sde.solve`)
---------------------------------------------------
The equations are ``deeplimits.sde.SDE`` objects, :func:`q_sde`, :func:`y_sde` and
:func:`J_sde`, that run the generic schemes (and the torchsde backend) and carry
specialised kernels:

* ``solve(J_sde(), [0.0], grid, scheme="euler" | "milstein")`` -- (i) the regular
  J-equation from ``t = 0`` (strong orders 0.5 / 1, weak order 1); ``q`` and ``y``
  follow pathwise (:func:`q_from_J`, :func:`y_from_J`).
* ``solve(q_sde(), [Q_STAR], grid, scheme="euler" | "milstein")`` -- (ii) explicit
  schemes on ``q`` itself, started at ``t0 = grid[0] > 0`` from the asymptotic value
  ``q(t0) = Q_STAR``; their bias in ``t0`` is given in closed form by
  :func:`mean_y_from_t0`, :func:`second_moment_y_from_t0`.
* ``solve(q_sde(), [Q_STAR], grid, scheme="implicit_euler" | "implicit_milstein")`` --
  (iii) drift-implicit (theta = 1) Euler or Milstein on ``q`` from ``t = 0``: the drift
  is taken at ``t_{k+1}`` (never evaluated at ``t = 0``); each step solves a cubic in
  ``sqrt(q)`` with a unique positive root.  The Milstein variant keeps ``q > 0`` for
  every step ``h < 1/8``.
* ``solve(y_sde(), [Y_STAR], grid, scheme="implicit_euler" | "implicit_milstein")`` --
  (iii') the same idea on ``y = q^{-1/2}``, where the equation is linear: the singular
  part ``(Y_STAR - y)/t`` is taken at ``t_{k+1}``, ``2 y`` explicitly.

Each kernel is Numba-parallel over paths with per-path ``deeplimits.rng`` streams
(bit-identical results for any thread count), or takes coupled Brownian increments
``dW`` of shape ``(n_paths, n_steps, 1)`` (:func:`deeplimits.sde.brownian_increments`);
with the same ``seed`` and ``grid`` every scheme draws the same increments.  Steps of a
q-scheme that overshoot below 0 are reflected and counted in ``stats["n_exits"]``.

For users that only need samples (e.g. finite-network comparisons)::

    from deeplimits.correlation.unshaped import sample_q
    q = sample_q([0.25, 0.5, 1.0], n_paths=100_000, seed=0)   # (n_paths, 3)

Examples
--------
>>> from deeplimits.correlation.unshaped import Q_STAR, q_sde
>>> from deeplimits.sde import solve, uniform_grid
>>> sol = solve(q_sde(), [Q_STAR], uniform_grid(0.05, 0.5, 64), n_paths=5, seed=0, scheme="milstein")
>>> sol.ys.shape, sol.stats["n_exits"]
((5, 65, 1), 0)
"""

from . import engine, equation, moments, sampling
from .engine import *  # noqa: F403
from .equation import *  # noqa: F403
from .moments import *  # noqa: F403
from .sampling import *  # noqa: F403

__all__ = [*equation.__all__, *engine.__all__, *sampling.__all__, *moments.__all__]
