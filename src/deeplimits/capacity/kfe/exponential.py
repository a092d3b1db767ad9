"""Exponential integrators of the lattice master equation: exponential midpoint and commutator-free CF4.

The generator ``G(t) = sum_k lambda(t) q_k(t) G_k - kappa(t) I`` is linear in the jump rates
``r_k(t) = lambda(t) q_k(t)`` and the sink, so a linear combination of generators at two depths is
again a master-equation generator -- a rate matrix -- as long as its jump rates stay ``>= 0``.
Each exponential is applied by uniformization (:mod:`.uniformization`), so every step is positive.

* ``"exponential_midpoint"``: ``c_{n+1} = exp(h G(t_n + h/2)) c_n``, order 2.
* ``"exponential_cf4"``: the fourth-order commutator-free Magnus integrator with two exponentials
  (Blanes & Moan 2006; Alvermann & Fehske 2011), with ``G_i = G(t_n + c_i h)`` at the Gauss nodes
  ``c_{1,2} = 1/2 -+ sqrt(3)/6`` and ``a_{1,2} = (3 -+ 2 sqrt(3)) / 12``:
  ``c_{n+1} = exp(h (a_1 G_1 + a_2 G_2)) exp(h (a_2 G_1 + a_1 G_2)) c_n`` (the right factor first).
  ``a_1 < 0``, so a combined jump rate ``a_1 r_k(t_1) + a_2 r_k(t_2)`` is negative when a rate
  falls (or grows) by more than the factor ``-a_1 / a_2 = 0.072`` within one step; the
  exponential would then not be positive and the solve raises ``ValueError`` (use a smaller ``dt``
  or ``"exponential_midpoint"``).  A combined sink of either sign is an exact scalar factor.

With depth-independent coefficients both schemes are exact (up to the uniformization tolerance):
consecutive exponentials of one generator between two saved depths are merged into one, so the
cost does not depend on ``dt`` (and the fields saved depend on ``saveat`` only to within ``tol``).
"""

from __future__ import annotations

import math

import numpy as np

from ._linalg import Floats, Mask
from .equations import MasterEquation
from .uniformization import run_actions

__all__ = ["SCHEMES_EXPONENTIAL", "CF4_NODES", "CF4_WEIGHTS", "exponential_actions", "run_exponential"]

#: Exponential master-equation schemes and their orders.
SCHEMES_EXPONENTIAL = {"exponential_midpoint": 2, "exponential_cf4": 4}

#: Gauss nodes ``c_1, c_2`` of the CF4 step (fractions of the step).
CF4_NODES = (0.5 - math.sqrt(3.0) / 6.0, 0.5 + math.sqrt(3.0) / 6.0)

#: CF4 weights ``a_1 = (3 - 2 sqrt 3) / 12 < 0`` and ``a_2 = (3 + 2 sqrt 3) / 12``.
CF4_WEIGHTS = ((3.0 - 2.0 * math.sqrt(3.0)) / 12.0, (3.0 + 2.0 * math.sqrt(3.0)) / 12.0)


def exponential_actions(
    eq: MasterEquation, ts: Floats, scheme: str, save_mask: Mask
) -> tuple[Floats, Floats, Floats, Mask]:
    """The exponentials of a solve over the depths ``ts``: jump rates, sinks, depths, saves.

    Consecutive exponentials of the same generator with no save between them are merged (here
    the two halves of each step, the coefficients being constant).

    Parameters
    ----------
    eq, ts, scheme, save_mask
        As in :func:`run_exponential`.

    Returns
    -------
    rates : ndarray (n_actions, m)
        Jump rates of each exponential.
    kappa, tau : ndarray (n_actions,)
        Its sink and depth.
    save_after : ndarray of bool (n_actions,)
        Whether the field after it is saved.

    Raises
    ------
    ValueError
        CF4: a combined jump rate is negative (naming the depth and ``dt``).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(6), [-1, 1], [0.5, 0.5], rate=2.0)
    >>> r, kap, tau, save = exponential_actions(eq, np.linspace(0, 1, 5), "exponential_cf4", np.ones(5, bool) > 0)
    >>> r.shape, tau.round(12).tolist()
    ((4, 2), [0.25, 0.25, 0.25, 0.25])
    """
    ts = np.asarray(ts, dtype=float)
    h = float(ts[1] - ts[0]) if ts.size > 1 else 0.0
    n = ts.size - 1
    if scheme == "exponential_midpoint":
        q, lam, kap = eq.coefficients(ts[:-1] + 0.5 * h)
        rates = lam[:, None] * q
        per_step = 1
    else:
        nodes = np.column_stack([ts[:-1] + c * h for c in CF4_NODES]).ravel()
        q, lam, kap = eq.coefficients(nodes)
        r = (lam[:, None] * q).reshape(n, 2, -1)
        kp = kap.reshape(n, 2)
        a1, a2 = CF4_WEIGHTS
        # right factor first: a2 G1 + a1 G2, then a1 G1 + a2 G2
        rates = np.stack([a2 * r[:, 0] + a1 * r[:, 1], a1 * r[:, 0] + a2 * r[:, 1]], axis=1).reshape(2 * n, -1)
        kap = np.column_stack([a2 * kp[:, 0] + a1 * kp[:, 1], a1 * kp[:, 0] + a2 * kp[:, 1]]).ravel() * 2.0
        rates = rates * 2.0  # the weights sum to 1/2: each factor is exp((h / 2) (2 a G1 + 2 a' G2))
        moving = ~(eq.jumps == 0).all(axis=1)
        bad = (rates[:, moving] < 0).any(axis=1)
        if bad.any():
            k = int(np.argmax(bad)) // 2
            raise ValueError(
                f"exponential_cf4 needs a_1 r(t_1) + a_2 r(t_2) >= 0 for every jump rate r = rate * weight, "
                f"but a jump rate changes by more than a factor 13.9 within the step at t={ts[k]} "
                f"(dt={h}); use a smaller dt or scheme='exponential_midpoint'"
            )
        rates[:, ~moving] = 0.0
        per_step = 2
    tau = np.full(rates.shape[0], h / per_step)
    save_after = np.zeros(rates.shape[0], dtype=np.bool_)
    save_after[per_step - 1 :: per_step] = save_mask[1:]
    return _merge(rates, kap, tau, save_after)


def _merge(rates, kap, tau, save_after):
    # merge runs of equal generators that are not separated by a save
    keep = np.ones(tau.size, dtype=np.bool_)
    same = (rates[1:] == rates[:-1]).all(axis=1) & (kap[1:] == kap[:-1]) & ~save_after[:-1]
    keep[1:] = ~same
    start = np.flatnonzero(keep)
    tau_m = np.add.reduceat(tau, start) if tau.size else tau
    save_m = np.logical_or.reduceat(save_after, start) if tau.size else save_after
    return np.ascontiguousarray(rates[start]), kap[start].copy(), tau_m, save_m


def run_exponential(
    eq: MasterEquation, c0: Floats, ts: Floats, scheme: str, save_mask: Mask, tol: float
) -> tuple[Floats, int]:
    """Exponential-integrator solve of a master equation over the step depths ``ts``.

    Parameters
    ----------
    eq, c0
        As in :func:`.master.run_master`.
    ts : ndarray (n + 1,)
        Step depths ``t0 + k h``.
    scheme : str
        ``"exponential_midpoint"`` or ``"exponential_cf4"``.
    save_mask : ndarray of bool (n + 1,)
        Depths to save.
    tol : float
        Uniformization tolerance: the truncated Poisson tails of all exponentials together remove
        at most ``tol`` times the total capacity (each gets its share ``tol * tau / sum(tau)``).

    Returns
    -------
    ys : ndarray, shape ``(save_mask.sum(), *eq.grid.shape)``
        The fields at the saved depths.
    n_matvec : int
        Number of lattice passes (products with the uniformized matrices).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity.kfe import MasterEquation, lattice_1d
    >>> eq = MasterEquation(lattice_1d(8, "absorbing"), [-1, 1], [0.5, 0.5], rate=lambda t: 1 + t)
    >>> ys, n = run_exponential(eq, np.eye(8)[3], np.linspace(0, 1, 5), "exponential_cf4", np.ones(5, bool), 1e-10)
    >>> ys.shape, bool(ys.min() >= 0), bool(ys[-1].sum() < 1)
    ((5, 8), True, True)
    """
    rates, kap, tau, save_after = exponential_actions(eq, ts, scheme, np.asarray(save_mask, dtype=np.bool_))
    total = float(tau.sum())
    tols = tol * tau / total if total > 0 else np.full(tau.size, tol)
    shape2 = eq.shape2
    ys = np.empty((int(np.sum(save_mask)),) + shape2)
    bcx, bcy = eq.boundary_codes
    c = np.ascontiguousarray(np.asarray(c0, dtype=float).reshape(shape2))
    n = run_actions(c, eq.jumps, bcx, bcy, (rates, kap, tau, tols), bool(save_mask[0]), save_after, ys)
    return ys.reshape((ys.shape[0],) + eq.grid.shape), int(n)
