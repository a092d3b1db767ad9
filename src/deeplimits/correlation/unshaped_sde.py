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
Brownian increments ``dW`` of shape ``(n_paths, n_steps)``.

For users that only need samples (e.g. finite-network comparisons)::

    from deeplimits.correlation.unshaped_sde import sample_q
    q = sample_q([0.25, 0.5, 1.0], n_paths=100_000, seed=0)   # (n_paths, 3)

The same equations as ``deeplimits.sde.SDE`` objects (so they run through the
generic engine and its torchsde backend) are built by :func:`q_sde`,
:func:`y_sde` and :func:`J_sde`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._checks import check_array, check_int
from ..rng import kernel_seed, normal_pair, stream_state
from .maps import Q_STAR

__all__ = [
    "Q_STAR",
    "Y_STAR",
    "A_COEF",
    "q_drift",
    "q_diffusion",
    "simulate_J",
    "simulate_q_em",
    "simulate_y_implicit",
    "simulate_q_implicit",
    "y_implicit_scheme_mean",
    "y_implicit_scheme_moments",
    "J_scheme_moments",
    "sample_q",
    "q_from_J",
    "y_from_J",
    "mean_J",
    "second_moment_J",
    "mean_y",
    "mean_inv_q",
    "var_q_small_t",
    "mean_y_from_t0",
    "second_moment_y_from_t0",
    "brownian_increments",
    "coarsen_increments",
    "q_sde",
    "y_sde",
    "J_sde",
]

#: ``y_0 = Q_STAR^{-1/2} = sqrt(2) / (3 pi)``.
Y_STAR = math.sqrt(2.0) / (3.0 * math.pi)
#: Coefficient ``a = 2 sqrt(2) / (3 pi)`` of ``q^{3/2} / t`` in the drift of ``q``.
A_COEF = 2.0 * math.sqrt(2.0) / (3.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


# ----------------------------------------------------------------------------- coefficients


def q_drift(t, q):
    """Drift of the q-SDE, ``(2 q - a q^{3/2}) / t + 2 q`` (vectorised).

    Parameters
    ----------
    t : array_like
        Times ``> 0`` (the drift is singular at ``t = 0``).
    q : array_like
        States ``q >= 0``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If a time is ``<= 0``.
    """
    t = np.asarray(t, dtype=float)
    if np.any(t <= 0.0):
        raise ValueError("t must be > 0: the q-drift is singular at t = 0")
    q = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(q)) or np.any(q < 0.0):
        raise ValueError("q must be finite and >= 0 (q = l^2 (1 - rho) >= 0)")
    return (2.0 * q - A_COEF * q**1.5) / t + 2.0 * q


def q_diffusion(q):
    """Diffusion coefficient of the q-SDE, ``2 sqrt(2) q``.

    Parameters
    ----------
    q : array_like
        States.

    Returns
    -------
    numpy.ndarray
    """
    return 2.0 * _SQRT2 * np.asarray(q, dtype=float)


# ----------------------------------------------------------------------------- closed forms


def _check_t(t, allow_zero=True):
    ta = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(ta)):
        raise ValueError("t must be finite")
    if np.any(ta < 0.0) or (not allow_zero and np.any(ta == 0.0)):
        raise ValueError(f"t must be {'>= 0' if allow_zero else '> 0'}")
    return ta


def mean_J(t):
    """``E[J_t] = (e^{2t} - 1) / 2`` (``expm1`` form, accurate as ``t -> 0``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[J_t]``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = _check_t(t)
    return 0.5 * np.expm1(2.0 * ta)


def second_moment_J(t):
    """``E[J_t^2] = e^{6t}/12 - e^{2t}/4 + 1/6`` (solves ``m' = 2 E[J] + 6 m``, ``m(0) = 0``).

    Written as ``expm1(6t)/12 - expm1(2t)/4`` so that it stays accurate as ``t -> 0``
    (where it behaves like ``t^2``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[J_t^2]``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = _check_t(t)
    return np.expm1(6.0 * ta) / 12.0 - np.expm1(2.0 * ta) / 4.0


def mean_y(t):
    """``E[q_t^{-1/2}] = Y_STAR (e^{2t} - 1) / (2t)`` (``Y_STAR`` at ``t = 0``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``E[y_t]``, ``y = q^{-1/2}``.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = _check_t(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ta > 0, 0.5 * np.expm1(2.0 * ta) / np.where(ta > 0, ta, 1.0), 1.0)
    return Y_STAR * r


def mean_inv_q(t):
    """``E[q_t^{-1}] = E[J_t^2] / (Q_STAR t^2)``.

    Parameters
    ----------
    t : array_like
        Times ``> 0``.

    Returns
    -------
    numpy.ndarray
        ``E[1/q_t]``.

    Raises
    ------
    ValueError
        If a time is non-finite or <= 0.
    """
    ta = _check_t(t, allow_zero=False)
    return second_moment_J(ta) / (Q_STAR * ta**2)


def var_q_small_t(t):
    """Leading small-t variance ``Var q_t ~ (8/3) Q_STAR^2 t`` (relative correction ``O(t)``).

    Parameters
    ----------
    t : array_like
        Times ``>= 0``.

    Returns
    -------
    numpy.ndarray
        The leading term.

    Raises
    ------
    ValueError
        If a time is non-finite or negative.
    """
    ta = _check_t(t)
    return 8.0 / 3.0 * Q_STAR**2 * ta


def mean_y_from_t0(t, t0, y0=Y_STAR):
    """``E[y_t]`` for the y-equation started at ``y(t0) = y0`` (deterministic start).

    With ``m = E[y]``: ``(t m)' = Y_STAR + 2 t m``, so
    ``t m(t) = (t0 y0 + Y_STAR/2) e^{2(t - t0)} - Y_STAR / 2``.  For ``y0 = Y_STAR``
    the bias against :func:`mean_y` is ``-Y_STAR e^{2t} t0^2 / t + O(t0^3)``.

    Parameters
    ----------
    t : array_like
        Times ``>= t0``.
    t0 : float
        Start time ``> 0``.
    y0 : float, optional
        Start value (default ``Y_STAR``, the asymptotic start).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Unless ``0 < t0 <= t``.
    """
    ta = _check_t(t, allow_zero=False)
    t0 = float(t0)
    if t0 <= 0 or np.any(ta < t0):
        raise ValueError("need 0 < t0 <= t")
    return ((t0 * y0 + 0.5 * Y_STAR) * np.exp(2.0 * (ta - t0)) - 0.5 * Y_STAR) / ta


def second_moment_y_from_t0(t, t0, y0=Y_STAR):
    """``E[y_t^2] = E[q_t^{-1}]`` for the y-equation started at ``y(t0) = y0``.

    ``P = t^2 E[y^2]`` solves ``P' = 6 P + 2 Y_STAR (t E[y])``; with
    ``t E[y] = A e^{2t} - Y_STAR/2``, ``A = (t0 y0 + Y_STAR/2) e^{-2 t0}``:
    ``P = B e^{6t} - (Y_STAR A / 2) e^{2t} + Y_STAR^2 / 6``, ``B`` from ``P(t0) = t0^2 y0^2``.
    The bias against :func:`mean_inv_q` is ``O(t0^2)``, not ``O(t0)``: the missing
    variance ``O(t0)`` of ``y_{t0}`` is damped by ``(t0/t)^2`` by the drift ``-y/t``.

    Parameters
    ----------
    t : array_like
        Times ``>= t0``.
    t0 : float
        Start time ``> 0``.
    y0 : float, optional
        Start value (default ``Y_STAR``).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Unless ``0 < t0 <= t``.
    """
    ta = _check_t(t, allow_zero=False)
    t0 = float(t0)
    if t0 <= 0 or np.any(ta < t0):
        raise ValueError("need 0 < t0 <= t")
    A = (t0 * y0 + 0.5 * Y_STAR) * math.exp(-2.0 * t0)
    C = -0.5 * Y_STAR * A
    D = Y_STAR**2 / 6.0
    B = math.exp(-6.0 * t0) * (t0**2 * y0**2 - C * math.exp(2.0 * t0) - D)
    return (B * np.exp(6.0 * ta) + C * np.exp(2.0 * ta) + D) / ta**2


# ----------------------------------------------------------------------------- conversions


def q_from_J(t, J):
    """``q = Q_STAR t^2 / J^2 = y^{-2}`` (``Q_STAR`` where ``t = 0``); arguments as :func:`y_from_J`."""
    t = _check_t(t)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, y_from_J(t, J) ** -2.0, Q_STAR)


def y_from_J(t, J):
    """``y = q^{-1/2} = Y_STAR J / t`` (``Y_STAR`` where ``t = 0``).

    Parameters
    ----------
    t : array_like
        Times (broadcast against ``J``).
    J : array_like
        Values of the regular J-process.

    Returns
    -------
    numpy.ndarray
        ``y``, broadcast shape of ``t`` and ``J``.
    """
    t = _check_t(t)
    J = np.asarray(J, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(t > 0, Y_STAR * J / np.where(t > 0, t, 1.0), Y_STAR)


# ----------------------------------------------------------------------------- noise


def brownian_increments(grid, n_paths, seed):
    """Brownian increments on ``grid`` for coupled (strong-error) runs.

    Parameters
    ----------
    grid : array_like
        Strictly increasing times ``t_0 < ... < t_N``.
    n_paths : int
        Number of paths (>= 1).
    seed : int
        Non-negative seed; row ``i`` uses stream ``i`` (see ``deeplimits.rng``).

    Returns
    -------
    numpy.ndarray
        ``(n_paths, N)`` increments ``sqrt(h_k) Z``.
    """
    from ..rng import normal_array

    g = _check_grid(grid)
    n_paths = _check_positive_int(n_paths, "n_paths")
    return normal_array(seed, (n_paths, g.size - 1)) * np.sqrt(np.diff(g))[None, :]


def coarsen_increments(dW, factor):
    """Sum consecutive groups of ``factor`` increments (the same Brownian path on a coarser grid).

    Parameters
    ----------
    dW : array_like, shape (n_paths, N)
        Increments on a fine grid.
    factor : int
        Coarsening factor; must divide ``N``.

    Returns
    -------
    numpy.ndarray, shape (n_paths, N // factor)

    Raises
    ------
    ValueError
        If ``factor`` is not a positive divisor of ``N``.
    """
    dW = np.asarray(dW, dtype=float)
    factor = _check_positive_int(factor, "factor")
    if dW.shape[1] % factor:
        raise ValueError(f"factor {factor} must divide the number of steps {dW.shape[1]}")
    return dW.reshape(dW.shape[0], -1, factor).sum(axis=2)


# ----------------------------------------------------------------------------- kernels


@nb.njit(cache=True, inline="always")
def _next_dB(use_dW, dW, i, k, h, s, cache, have):
    # Returns (dB, state, cache, have): normals are produced in pairs and the
    # second one is kept for the next step, so no random number is wasted.
    if use_dW:
        return dW[i, k], s, cache, have
    if have:
        return cache * math.sqrt(h), s, 0.0, False
    z0, z1, s = normal_pair(s)
    return z0 * math.sqrt(h), s, z1, True


@nb.njit(cache=True, inline="always")
def _implicit_q_root(r, alpha, beta):
    # Unique positive root x of p(x) = alpha x^3 + beta x^2 - r (alpha > 0, r > 0): p(0) < 0 and
    # p(x) = x^2 (alpha x + beta) <= 0 < r for x <= -beta/alpha, so the root exceeds max(0, -beta/alpha),
    # where p is increasing and convex; Newton started at x0 = max(0, -beta/alpha) + (r/alpha)^{1/3}
    # (p(x0) >= 0) therefore decreases monotonically to the root, with no overshoot.
    x = max(0.0, -beta / alpha) + (r / alpha) ** (1.0 / 3.0)
    for _ in range(200):
        px = (alpha * x + beta) * x * x - r
        dp = (3.0 * alpha * x + 2.0 * beta) * x
        step = px / dp
        x -= step
        if abs(step) <= 4e-16 * x:
            break
    return x


# scheme kinds of _path_kernel
_J_SCHEME, _Y_IMPLICIT, _Q_EXPLICIT, _Q_IMPLICIT = 0, 1, 2, 3


@nb.njit(cache=True, inline="always")
def _step(kind, x, t0, t1, h, dB, milstein, p):
    """One step of the scalar schemes of this module; returns (x_next, reflected)."""
    if kind == _J_SCHEME:
        # dJ = (1 + 2J) dt - sqrt2 J dB; Milstein: (1/2) g g' (dB^2 - h) with g = -sqrt2 J, g' = -sqrt2
        xn = x + (1.0 + 2.0 * x) * h - _SQRT2 * x * dB
        if milstein:
            xn += x * (dB * dB - h)
        return xn, False
    if kind == _Y_IMPLICIT:
        # dy = [(y* - y)/t + 2y] dt - sqrt2 y dB; singular part (y* - y)/t implicit at t_{k+1} > 0
        rhs = x * (1.0 + 2.0 * h) + h * p / t1 - _SQRT2 * x * dB
        if milstein:
            rhs += x * (dB * dB - h)
        return rhs / (1.0 + h / t1), False
    # q-schemes, f(t, q) = (2 q - a q^{3/2}) / t + 2 q, a = p, v = q + 2 sqrt2 q dB [+ 4 q (dB^2 - h)]:
    #   explicit:  q_{k+1} = v + h f(t_k, q_k)                 (needs t_k > 0)
    #   implicit:  q_{k+1} - h f(t_{k+1}, q_{k+1}) = v,  i.e. with x = sqrt(q_{k+1}):
    #              (a h / t_{k+1}) x^3 + (1 - 2h / t_{k+1} - 2h) x^2 = v
    v = x * (1.0 + 2.0 * _SQRT2 * dB)
    if milstein:
        v += 4.0 * x * (dB * dB - h)
    if kind == _Q_EXPLICIT:
        v += ((2.0 * x - p * x * math.sqrt(x)) / t0 + 2.0 * x) * h
    reflected = False
    if v <= 0.0:
        # the Euler noise term can overshoot below 0 (probability ~ P(Z < -1/(2 sqrt(2h))) per step;
        # in the implicit Milstein scheme v >= q (1/2 - 4h) > 0 for h < 1/8): reflect, and count it
        v = -v if v < 0.0 else 1e-300
        reflected = True
    if kind == _Q_IMPLICIT:
        r = _implicit_q_root(v, p * h / t1, 1.0 - 2.0 * h / t1 - 2.0 * h)
        return r * r, reflected
    return v, reflected


@nb.njit(cache=True, parallel=True)
def _path_kernel(kind, grid, save_idx, n_paths, seed, first_path, dW, use_dW, milstein, x0, p, out, n_refl):
    # one path per prange iteration, stream first_path + i (independent of threads and batches)
    n_steps = grid.size - 1
    for i in nb.prange(n_paths):
        s = stream_state(seed, first_path + i)
        cache = 0.0
        have = False
        x = x0
        j = 0
        refl = 0
        if save_idx[0] == 0:
            out[i, 0] = x
            j = 1
        for k in range(n_steps):
            h = grid[k + 1] - grid[k]
            dB, s, cache, have = _next_dB(use_dW, dW, i, k, h, s, cache, have)
            x, reflected = _step(kind, x, grid[k], grid[k + 1], h, dB, milstein, p)
            if reflected:
                refl += 1
            if j < save_idx.size and save_idx[j] == k + 1:
                out[i, j] = x
                j += 1
        n_refl[i] = refl


# ----------------------------------------------------------------------------- drivers


def _check_positive_int(x, name):
    return check_int(x, name, minimum=1)


def _check_grid(grid, t_min=0.0):
    g = np.ascontiguousarray(np.asarray(grid, dtype=np.float64))
    if g.ndim != 1 or g.size < 2:
        raise ValueError("grid must be a 1-D array of at least two times")
    if not np.all(np.isfinite(g)):
        raise ValueError("grid must be finite")
    if np.any(np.diff(g) <= 0):
        raise ValueError("grid must be strictly increasing")
    if g[0] < t_min:
        raise ValueError(f"grid must start at t >= {t_min}, got {g[0]}")
    return g


def _save_indices(g, saveat):
    if saveat is None:
        return np.arange(g.size, dtype=np.int64), g.copy()
    sa = np.atleast_1d(np.asarray(saveat, dtype=np.float64))
    idx = np.searchsorted(g, sa)
    ok = (idx < g.size) & np.isclose(g[np.minimum(idx, g.size - 1)], sa, rtol=0, atol=1e-12 * max(1.0, g[-1]))
    if not np.all(ok):
        raise ValueError("saveat must be points of grid")
    if np.any(np.diff(idx) <= 0):
        raise ValueError("saveat must be strictly increasing")
    return idx.astype(np.int64), g[idx]


def _noise_args(dW, n_paths, n_steps):
    if dW is None:
        return np.zeros((1, 1)), False, n_paths
    # finite entries only: a NaN increment would silently propagate into every later state
    dW = check_array(dW, "dW", shape=(None, n_steps))
    if dW.shape[0] < 1:
        raise ValueError("dW must hold at least one path")
    return dW, True, dW.shape[0]


def _run_paths(kind, g, n_paths, seed, dW, saveat, milstein, x0, p, first_path=0):
    """Validate the common arguments, run ``_path_kernel``; returns (ts, out, n_reflected)."""
    seed_bits = kernel_seed(seed)
    n_paths = _check_positive_int(n_paths, "n_paths")
    first_path = check_int(first_path, "first_path", minimum=0)
    idx, ts = _save_indices(g, saveat)
    dWa, use_dW, n_paths = _noise_args(dW, n_paths, g.size - 1)
    out = np.empty((n_paths, idx.size))
    n_refl = np.zeros(n_paths, dtype=np.int64)
    _path_kernel(
        kind, g, idx, n_paths, seed_bits, first_path, dWa, use_dW, bool(milstein), float(x0), float(p), out, n_refl
    )
    return ts, out, int(n_refl.sum())


def simulate_J(grid, n_paths=1000, seed=0, scheme="milstein", dW=None, saveat=None, *, first_path: int = 0):
    """Integrate the regular J-equation ``dJ = (1 + 2J) dt - sqrt(2) J dB``, ``J_0 = 0``.

    Parameters
    ----------
    grid : array_like
        Step times ``0 = t_0 < t_1 < ... < t_N`` (must start at 0).
    n_paths : int
        Number of paths (ignored when ``dW`` is given).
    seed : int
        Seed of the per-path streams.
    scheme : {"euler", "milstein"}
        Euler--Maruyama (strong order 0.5) or Milstein (strong order 1).  Both
        have weak order 1.
    dW : array_like, optional
        Brownian increments ``(n_paths, N)`` for coupled runs.
    saveat : array_like, optional
        Output times (points of ``grid``); default every grid point.

    Returns
    -------
    ts : numpy.ndarray
        Output times.
    J : numpy.ndarray
        ``(n_paths, len(ts))``.  Use :func:`q_from_J` / :func:`y_from_J`.

    Raises
    ------
    ValueError
        On an invalid grid (not starting at 0, not increasing), scheme, seed,
        ``n_paths < 1`` or ``dW`` of the wrong shape.
    """
    g = _check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (J_0 = 0)")
    if scheme not in ("euler", "milstein"):
        raise ValueError(f"scheme must be 'euler' or 'milstein', got {scheme!r}")
    ts, out, _ = _run_paths(_J_SCHEME, g, n_paths, seed, dW, saveat, scheme == "milstein", 0.0, 0.0, first_path)
    return ts, out


def simulate_y_implicit(
    grid, n_paths=1000, seed=0, milstein=True, dW=None, saveat=None, y0=Y_STAR, *, first_path: int = 0
):
    """Drift-implicit scheme for ``y = q^{-1/2}`` from ``t = 0`` exactly.

    One step ``t_k -> t_{k+1}``::

        y_{k+1} (1 + h / t_{k+1}) = y_k (1 + 2h) + h Y_STAR / t_{k+1} - sqrt(2) y_k dB
                                    [+ y_k (dB^2 - h)   (Milstein)]

    The singular drift ``(Y_STAR - y)/t`` is only evaluated at ``t_{k+1} > 0``
    and is treated implicitly (unconditionally stable for any ``h``).

    Parameters
    ----------
    grid : array_like
        Step times starting at ``t_0 = 0`` (or at ``t_0 > 0`` with a chosen ``y0``).
    n_paths, seed, dW, saveat
        As in :func:`simulate_J`.  With the same ``seed`` and ``grid`` every
        kernel of this module draws the same Brownian increments.
    milstein : bool
        Add the Milstein correction (strong order 1 instead of 0.5).
    y0 : float
        Initial value; must be ``Y_STAR`` when ``grid[0] = 0``.

    Returns
    -------
    ts, y : numpy.ndarray
        Output times and ``(n_paths, len(ts))`` values of ``y``; ``q = y^{-2}``.
    """
    g = _check_grid(grid)
    y0 = float(y0)
    if g[0] == 0.0 and y0 != Y_STAR:
        raise ValueError("y0 must be Y_STAR when the grid starts at t = 0 (the start is pinned)")
    if not (y0 > 0 and np.isfinite(y0)):
        raise ValueError(f"y0 must be positive and finite, got {y0}")
    ts, out, _ = _run_paths(_Y_IMPLICIT, g, n_paths, seed, dW, saveat, milstein, y0, Y_STAR, first_path)
    return ts, out


def y_implicit_scheme_moments(grid, y0=Y_STAR, milstein=False):
    """Exact first and second moments of :func:`simulate_y_implicit` at every grid point.

    The scheme is linear, ``y_{k+1} = A_k y_k + b_k`` with ``A_k`` independent of ``y_k``:
    ``A = (1 + 2h - sqrt(2) dB [+ dB^2 - h]) / (1 + h/t_{k+1})``, ``b = (h Y_STAR/t_{k+1}) / (1 + h/t_{k+1})``,
    so ``E[y]`` and ``E[y^2]`` follow deterministic recursions with ``E[A] = (1 + 2h)/(1 + h/t_{k+1})`` and
    ``E[A^2] = ((1 + 2h)^2 + 2h)/(1 + h/t_{k+1})^2`` (Euler) or
    ``((1 + h)^2 + 2 (1 + h) h + 3 h^2 + 2h)/(1 + h/t_{k+1})^2`` (Milstein).  Used as exact control
    variates for weak errors in ``E[q^{-1/2}]`` and ``E[q^{-1}]``.

    Parameters
    ----------
    grid : array_like
        Step times (strictly increasing; ``grid[0] = 0`` or ``> 0``).
    y0 : float, optional
        Start value (deterministic).
    milstein : bool, optional
        Moments of the Milstein variant.

    Returns
    -------
    m1, m2 : numpy.ndarray
        ``E[y_k]`` and ``E[y_k^2]`` for every grid point.

    Raises
    ------
    ValueError
        On an invalid grid.
    """
    g = _check_grid(grid)
    m1 = np.empty(g.size)
    m2 = np.empty(g.size)
    m1[0] = float(y0)
    m2[0] = float(y0) ** 2
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        den = 1.0 + h / g[k + 1]
        b = h * Y_STAR / g[k + 1] / den
        ea = (1.0 + 2.0 * h) / den
        if milstein:
            ea2 = ((1.0 + h) ** 2 + 2.0 * (1.0 + h) * h + 3.0 * h * h + 2.0 * h) / den**2
        else:
            ea2 = ((1.0 + 2.0 * h) ** 2 + 2.0 * h) / den**2
        m1[k + 1] = ea * m1[k] + b
        m2[k + 1] = ea2 * m2[k] + 2.0 * b * ea * m1[k] + b * b
    return m1, m2


def y_implicit_scheme_mean(grid, y0=Y_STAR):
    """Exact expectation of :func:`simulate_y_implicit` at every grid point (see :func:`y_implicit_scheme_moments`).

    Parameters
    ----------
    grid : array_like
        Step times (strictly increasing).
    y0 : float, optional
        Start value.

    Returns
    -------
    numpy.ndarray
        ``E[y_k]`` for every grid point (the Milstein term has mean zero: the same for both variants).
    """
    return y_implicit_scheme_moments(grid, y0)[0]


def simulate_q_implicit(
    grid, n_paths=1000, seed=0, milstein=True, dW=None, saveat=None, return_stats=False, *, first_path: int = 0
):
    """Drift-implicit (theta = 1) Euler or Milstein scheme on ``q`` itself, from ``t = 0`` exactly.

    One step ``t_k -> t_{k+1}``::

        q_{k+1} - h f(t_{k+1}, q_{k+1}) = q_k + 2 sqrt(2) q_k dB  [+ 4 q_k (dB^2 - h)   (Milstein)],
        f(t, q) = (2 q - a q^{3/2}) / t + 2 q.

    The singular drift is only evaluated at ``t_{k+1} > 0``, so the scheme starts at
    ``q_0 = Q_STAR``, ``t_0 = 0``.  In ``x = sqrt(q_{k+1})`` the step is the cubic
    ``(a h/t_{k+1}) x^3 + (1 - 2h/t_{k+1} - 2h) x^2 = rhs``, which has exactly one
    positive root for ``rhs > 0``; it is found by monotone Newton iteration.
    With the Milstein term ``rhs >= q_k (1/2 - 4h) > 0`` for ``h < 1/8``, so the
    scheme keeps ``q > 0`` without any fix; plain Euler can produce ``rhs <= 0``
    (probability ``P(Z < -1/(2 sqrt(2h)))`` per step), which is reflected and counted.

    Parameters
    ----------
    grid : array_like
        Step times starting at ``t_0 = 0``, strictly increasing.
    n_paths : int
        Number of paths (ignored when ``dW`` is given).
    seed : int
        Seed of the per-path streams (the same increments as :func:`simulate_J`
        for the same ``grid`` and ``seed``).
    milstein : bool
        Add the Milstein term (strong order 1 instead of 1/2; keeps ``q > 0``).
    dW : array_like, optional
        Brownian increments ``(n_paths, N)`` for coupled runs.
    saveat : array_like, optional
        Output times (points of ``grid``); default every grid point.
    return_stats : bool
        Also return the number of reflected steps, summed over paths.

    Returns
    -------
    ts : numpy.ndarray
        Output times.
    q : numpy.ndarray
        ``(n_paths, len(ts))``.
    n_reflected : int
        Only if ``return_stats``.

    Raises
    ------
    ValueError
        If the grid does not start at 0 or is not strictly increasing, if
        ``milstein`` and a step is ``>= 1/8``, or on invalid counts, seed or ``dW``.
    """
    g = _check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (q_0 = Q_STAR is pinned there)")
    if milstein and np.max(np.diff(g)) >= 0.125:
        raise ValueError("grid steps must be < 1/8 for the Milstein variant (positivity of the right-hand side)")
    ts, out, n_refl = _run_paths(_Q_IMPLICIT, g, n_paths, seed, dW, saveat, milstein, Q_STAR, A_COEF, first_path)
    return (ts, out, n_refl) if return_stats else (ts, out)


def J_scheme_moments(grid, scheme="milstein"):
    """Exact first and second moments of :func:`simulate_J`'s discrete solution.

    Both J-schemes are linear, ``J_{k+1} = A_k J_k + h_k`` with ``A_k`` independent
    of ``J_k``: ``A = 1 + 2h - sqrt(2) dB`` (Euler) or ``A = 1 + h + dB^2 - sqrt(2) dB``
    (Milstein), so ``E[J]`` and ``E[J^2]`` follow deterministic recursions with
    ``E[A] = 1 + 2h`` and ``E[A^2] = (1 + 2h)^2 + 2h`` (Euler) or
    ``(1 + h)^2 + 2 (1 + h) h + 3 h^2 + 2 h`` (Milstein).  Used as an exact
    control variate for weak errors of schemes driven by the same increments.

    Parameters
    ----------
    grid : array_like
        Step times starting at 0, strictly increasing.
    scheme : {"euler", "milstein"}
        Which J-scheme.

    Returns
    -------
    m1, m2 : numpy.ndarray
        ``E[J_k]`` and ``E[J_k^2]`` at every grid point.

    Raises
    ------
    ValueError
        On an invalid grid or scheme.
    """
    g = _check_grid(grid)
    if g[0] != 0.0:
        raise ValueError("grid must start at t = 0 (J_0 = 0)")
    if scheme not in ("euler", "milstein"):
        raise ValueError(f"scheme must be 'euler' or 'milstein', got {scheme!r}")
    m1 = np.zeros(g.size)
    m2 = np.zeros(g.size)
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        ea = 1.0 + 2.0 * h
        if scheme == "euler":
            ea2 = ea * ea + 2.0 * h
        else:
            ea2 = (1.0 + h) ** 2 + 2.0 * (1.0 + h) * h + 3.0 * h * h + 2.0 * h
        m1[k + 1] = ea * m1[k] + h
        m2[k + 1] = ea2 * m2[k] + 2.0 * h * ea * m1[k] + h * h
    return m1, m2


def simulate_q_em(
    grid,
    n_paths=1000,
    seed=0,
    q0=Q_STAR,
    milstein=False,
    dW=None,
    saveat=None,
    return_stats=False,
    *,
    first_path: int = 0,
):
    """Euler--Maruyama (or Milstein) on ``q`` itself, from ``t0 = grid[0] > 0``.

    The q-drift is singular at ``t = 0``, so this explicit scheme must start at
    ``t0 > 0`` from an approximate initial value, by default the asymptote
    ``q(t0) = Q_STAR``.  Two errors result: the start bias (the true ``q_{t0}``
    has spread ``~ Q_STAR sqrt(8 t0 / 3)``; bias ``O(t0^2)`` in ``E[q^{-1/2}]`` and
    also ``O(t0^2)`` in ``E[q^{-1}]``: the deterministic start misses the mean shift
    ``Y_STAR t0`` and the variance ``O(t0)`` of ``y_{t0}``, but the drift ``-y/t``
    damps a perturbation at ``t0`` by ``t0 / t``; see :func:`second_moment_y_from_t0`) and the
    step bias ``O(h)`` (measured ``~ 2.6 h`` in ``E[q_T^{-1/2}]`` at ``T = 0.5``,
    essentially independent of ``t0``; the drift's stiffness ``-1/t`` at
    ``q = Q_STAR`` only limits stability: ``h < 2 t0``).  Steps with
    ``h >~ 0.005`` send ``q`` below 0 with visible probability (reflected and counted).

    Parameters
    ----------
    grid : array_like
        Step times ``t0 = grid[0] > 0 < ...``.
    n_paths, seed, dW, saveat
        As in :func:`simulate_J`.
    q0 : float
        Initial value at ``t0`` (> 0).
    milstein : bool
        Add the Milstein term ``4 q (dB^2 - h)``.
    return_stats : bool
        Also return the number of steps, summed over paths, that overshot
        below 0 and were reflected (should be 0 for sensible steps).

    Returns
    -------
    ts, q : numpy.ndarray
        Output times and ``(n_paths, len(ts))`` values.
    n_reflected : int
        Only if ``return_stats``.
    """
    g = _check_grid(grid)
    if g[0] <= 0.0:
        raise ValueError(
            "grid must start at t0 > 0: the q-drift is singular at t = 0 "
            "(use simulate_J or simulate_y_implicit to start at 0)"
        )
    q0 = float(q0)
    if not (q0 > 0 and np.isfinite(q0)):
        raise ValueError(f"q0 must be positive and finite, got {q0}")
    ts, out, n_refl = _run_paths(_Q_EXPLICIT, g, n_paths, seed, dW, saveat, milstein, q0, A_COEF, first_path)
    return (ts, out, n_refl) if return_stats else (ts, out)


def sample_q(ts, n_paths=10_000, seed=0, n_steps_per_unit=1024, return_y=False, *, first_path: int = 0):
    """Samples of ``q_t`` (law of ``l^2 (1 - rho_l)`` at ``t = l/n``, ``n -> infinity``).

    Integrates the regular J-equation with Milstein on a uniform grid of step
    ``1 / n_steps_per_unit`` that contains every requested time, and returns
    ``q = Q_STAR t^2 / J^2``.  The strong error in ``y = q^{-1/2}`` is of
    order ``h`` (measured in ``tests/test_corr_unshaped.py``); with the default
    ``h = 1/1024`` it is below 1e-3 relative at ``t <= 1``.

    Parameters
    ----------
    ts : array_like
        Times ``>= 0`` (strictly increasing).
    n_paths : int
        Number of samples.
    seed : int
        Seed (per-path streams: reproducible for any thread count).
    n_steps_per_unit : int
        Grid resolution; each ``t`` is rounded to the grid and must lie on it
        to within 1e-12.
    return_y : bool
        Return ``y = q^{-1/2}`` instead of ``q`` (light-tailed, preferred for
        distances between distributions).

    Returns
    -------
    numpy.ndarray
        ``(n_paths, len(ts))``.

    Raises
    ------
    ValueError
        If a time is negative, not on the grid, or not increasing.
    """
    ta = np.atleast_1d(_check_t(ts))
    if np.any(np.diff(ta) <= 0):
        raise ValueError("ts must be strictly increasing")
    m = _check_positive_int(n_steps_per_unit, "n_steps_per_unit")
    n_paths = _check_positive_int(n_paths, "n_paths")
    first_path = check_int(first_path, "first_path", minimum=0)
    kernel_seed(seed)  # validate the seed even when no step is taken
    # grid membership is checked before the t = 0 shortcut, so that a time between grid
    # points (e.g. 1e-4 with 1024 steps per unit) raises instead of returning Q_STAR
    k = np.rint(ta * m)
    if np.any(np.abs(k / m - ta) > 1e-12 * max(1.0, ta[-1])):
        raise ValueError(f"ts: every t must be a multiple of 1/n_steps_per_unit = {1.0 / m}, got {ts!r}")
    n_total = int(k[-1])
    if n_total < 1:
        return np.full((n_paths, ta.size), (Y_STAR if return_y else Q_STAR))
    grid = np.arange(n_total + 1) / m
    grid[k.astype(int)] = ta  # exact requested times
    _, J = simulate_J(grid, n_paths=n_paths, seed=seed, scheme="milstein", saveat=ta, first_path=first_path)
    return y_from_J(ta[None, :], J) if return_y else q_from_J(ta[None, :], J)


# ----------------------------------------------------------------------------- engine objects


@nb.njit(cache=True)
def _q_drift_nb(t, y, p, out):
    q = y[0]
    out[0] = (2.0 * q - p[0] * q * math.sqrt(abs(q))) / t + 2.0 * q


@nb.njit(cache=True)
def _q_diffusion_nb(t, y, p, out):
    out[0, 0] = 2.0 * _SQRT2 * y[0]


@nb.njit(cache=True)
def _q_dgdy_nb(t, y, p, out):
    out[0] = 2.0 * _SQRT2


@nb.njit(cache=True)
def _q_jac_nb(t, y, p, out):
    out[0, 0] = (2.0 - 1.5 * p[0] * math.sqrt(abs(y[0]))) / t + 2.0


@nb.njit(cache=True)
def _y_drift_nb(t, y, p, out):
    out[0] = (p[0] - y[0]) / t + 2.0 * y[0]


@nb.njit(cache=True)
def _y_diffusion_nb(t, y, p, out):
    out[0, 0] = -_SQRT2 * y[0]


@nb.njit(cache=True)
def _y_dgdy_nb(t, y, p, out):
    out[0] = -_SQRT2


@nb.njit(cache=True)
def _y_jac_nb(t, y, p, out):
    out[0, 0] = -1.0 / t + 2.0


@nb.njit(cache=True)
def _J_drift_nb(t, y, p, out):
    out[0] = 1.0 + 2.0 * y[0]


@nb.njit(cache=True)
def _J_jac_nb(t, y, p, out):
    out[0, 0] = 2.0


def _q_drift_torch(t, y, p):
    return (2.0 * y - p[0] * y * y.abs().sqrt()) / t + 2.0 * y


def _q_diffusion_torch(t, y, p):
    return 2.0 * _SQRT2 * y


def q_sde():
    """The singular q-SDE as a ``deeplimits.sde.SDE`` (state ``q``, diagonal noise).

    ``dq = [(2q - a q^{3/2})/t + 2q] dt + 2 sqrt(2) q dB``.  Start it with
    ``scheme="theta", theta=1`` from ``t = 0`` (drift never evaluated at 0) or
    with an explicit scheme from ``t0 > 0`` (``y0 = Q_STAR``).  Torch versions of
    the coefficients are attached, so ``backend="torchsde"`` runs natively in
    torch (CPU or GPU).

    Returns
    -------
    deeplimits.sde.SDE
    """
    from ..sde import SDE, Box

    return SDE(
        _q_drift_nb,
        _q_diffusion_nb,
        dim=1,
        params=[A_COEF],
        drift_jacobian=_q_jac_nb,
        diffusion_derivative=_q_dgdy_nb,
        name="unshaped ReLU q-SDE",
        # q = l^2 (1 - rho) > 0: a step of a generic scheme that overshoots below 0 (Euler noise,
        # theta = 1 on coarse grids) is reflected and counted in stats["n_exits"], never returned silently
        domain=Box(lower=0.0, on_exit="reflect"),
        torch_drift=_q_drift_torch,
        torch_diffusion=_q_diffusion_torch,
    )


def y_sde():
    """``y = q^{-1/2}``: ``dy = [(Y_STAR - y)/t + 2y] dt - sqrt(2) y dB`` as an engine ``SDE``.

    Returns
    -------
    deeplimits.sde.SDE
        Linear, diagonal noise; start with ``scheme="theta"`` at ``t = 0`` (``y0 = Y_STAR``).
    """
    from ..sde import SDE

    return SDE(
        _y_drift_nb,
        _y_diffusion_nb,
        dim=1,
        params=[Y_STAR],
        drift_jacobian=_y_jac_nb,
        diffusion_derivative=_y_dgdy_nb,
        name="unshaped ReLU y = q^-1/2",
    )


def J_sde():
    """Regular transformed equation ``dJ = (1 + 2J) dt - sqrt(2) J dB``, ``J_0 = 0``, as an engine ``SDE``.

    Returns
    -------
    deeplimits.sde.SDE
        No singularity: any scheme starts at ``t = 0``; ``q = Q_STAR t^2 / J^2``.
    """
    from ..sde import SDE

    return SDE(
        _J_drift_nb,
        _y_diffusion_nb,
        dim=1,
        drift_jacobian=_J_jac_nb,
        diffusion_derivative=_y_dgdy_nb,
        name="unshaped ReLU J (regular)",
    )
