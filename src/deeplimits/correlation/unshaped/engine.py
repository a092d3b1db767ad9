"""The unshaped SDEs as ``deeplimits.sde.SDE`` objects, with their specialised kernels.

Each object runs through :func:`deeplimits.sde.solve` with the generic schemes and
with specialised scalar Numba kernels (attached as ``SDE.kernels``), which take the
same arguments, raise a ValueError naming ``grid`` or ``y0`` for a start they cannot
take, and return a ``Solution`` like every scheme:

============  ===================================  =======================================================
SDE           scheme                                what runs
============  ===================================  =======================================================
``J_sde()``   ``"euler"``, ``"milstein"``           the scalar J-step, from any start
``y_sde()``   ``"implicit_euler"``,                 ``(Y_STAR - y)/t`` at ``t_{k+1}``, ``2 y`` explicit;
              ``"implicit_milstein"``               ``y0 = Y_STAR`` when ``grid[0] = 0``
``q_sde()``   ``"euler"``, ``"milstein"``           explicit step from ``t0 = grid[0] > 0``
``q_sde()``   ``"implicit_euler"``,                 theta = 1 step solved as a cubic in ``sqrt q``, from
              ``"implicit_milstein"``               ``t = 0`` with ``y0 = Q_STAR`` (Milstein: steps < 1/8)
============  ===================================  =======================================================

Every kernel draws path ``i`` from stream ``(seed, first_path + i)`` exactly as the
generic kernels do (or reads ``dW``), so schemes can be coupled through ``seed`` or ``dW``.
A q-step whose right-hand side falls to ``<= 0`` is reflected and counted in
``Solution.stats["n_exits"]``.  The explicit kernels honour ``solve(check_stability=...)``
like the generic explicit schemes: a grid too coarse for an explicit step is refused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np

from ...sde import SDE, Box, KernelCall, KernelResult
from ...sde.evaluate import check_explicit_stability
from ..maps import Q_STAR
from ._kernels import J_SCHEME, Q_EXPLICIT, Q_IMPLICIT, Y_IMPLICIT, path_kernel
from .equation import A_COEF, SQRT2, Y_STAR, q_drift_value

__all__ = ["q_sde", "y_sde", "J_sde"]

Kernel = Callable[[KernelCall], KernelResult]
EXPLICIT = ("euler", "milstein")
IMPLICIT = ("implicit_euler", "implicit_milstein")


# ----------------------------------------------------------------------------- coefficients


@nb.njit(cache=True)
def _q_drift_nb(t, y, p, out):
    out[0] = q_drift_value(t, y[0], p[0])


@nb.njit(cache=True)
def _q_diffusion_nb(t, y, p, out):
    out[0, 0] = 2.0 * SQRT2 * y[0]


@nb.njit(cache=True)
def _q_dgdy_nb(t, y, p, out):
    out[0] = 2.0 * SQRT2


@nb.njit(cache=True)
def _q_jac_nb(t, y, p, out):
    out[0, 0] = (2.0 - 1.5 * p[0] * math.sqrt(abs(y[0]))) / t + 2.0


@nb.njit(cache=True)
def _y_drift_nb(t, y, p, out):
    out[0] = (p[0] - y[0]) / t + 2.0 * y[0]


@nb.njit(cache=True)
def _y_diffusion_nb(t, y, p, out):
    out[0, 0] = -SQRT2 * y[0]


@nb.njit(cache=True)
def _y_dgdy_nb(t, y, p, out):
    out[0] = -SQRT2


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
    return 2.0 * SQRT2 * y


# ----------------------------------------------------------------------------- specialised kernels


def _run(call: KernelCall, kind: int, milstein: bool) -> KernelResult:
    """Run :func:`path_kernel` on a checked call; the first parameter of the SDE is the scheme's constant."""
    sde = call.sde
    out = KernelResult.empty(call.y0.shape[0], call.save_idx.size, 1)
    box = sde.box
    lo, hi, closed, code = (
        (box.lower, box.upper, box.closed, box.code) if box is not None else (-math.inf, math.inf, False, 0)
    )
    p = float(sde.params[0]) if sde.params.size else 0.0
    use_dW = call.dW is not None
    dW = call.dW if call.dW is not None else np.zeros((1, 1, 1))
    grid, idx, y0, seed, first = call.grid, call.save_idx, call.y0, call.seed, call.first_path
    path_kernel(
        kind, milstein, p, grid, idx, y0, seed, first, dW, use_dW, lo, hi, closed, code, out.ys, out.fail, out.exits
    )
    return out


def _positive_start(call: KernelCall) -> None:
    if np.any(call.y0 <= 0.0):
        raise ValueError(f"y0 must be > 0, got {call.y0.min()}")


def _pinned_start(call: KernelCall, value: float, name: str) -> None:
    """At ``t = 0`` the singular equations have one admissible start, ``value``."""
    if call.grid[0] == 0.0 and np.any(call.y0 != value):
        raise ValueError(f"y0 must be {name} = {value!r} when the grid starts at t = 0 (the start is pinned there)")


def _check_y(call: KernelCall, milstein: bool) -> None:
    if call.grid[0] < 0.0:
        raise ValueError(f"grid must start at t >= 0, got {call.grid[0]}")
    _positive_start(call)
    _pinned_start(call, Y_STAR, "Y_STAR")


def _check_q_explicit(call: KernelCall, milstein: bool) -> None:
    if call.grid[0] <= 0.0:
        raise ValueError(
            "grid must start at t0 > 0 for the explicit q-schemes: the q-drift is singular at t = 0 "
            "(use scheme='implicit_euler' or 'implicit_milstein', or y_sde() or J_sde(), to start at 0)"
        )
    _positive_start(call)


def _check_q_implicit(call: KernelCall, milstein: bool) -> None:
    if call.grid[0] != 0.0:
        raise ValueError(f"grid must start at t = 0 for the implicit q-schemes (q_0 = Q_STAR), got {call.grid[0]}")
    _pinned_start(call, Q_STAR, "Q_STAR")
    if milstein and np.max(np.diff(call.grid)) >= 0.125:
        raise ValueError("grid steps must be < 1/8 for scheme='implicit_milstein' (positivity of the right-hand side)")


def _no_check(call: KernelCall, milstein: bool) -> None:
    """The J-equation is regular: every start is admissible."""


Check = Callable[[KernelCall, bool], None]


def _checked_run(call: KernelCall, *, kind: int, milstein: bool, check: Check, scheme: str) -> KernelResult:
    check(call, milstein)
    if call.check_stability and kind in (J_SCHEME, Q_EXPLICIT):
        # the explicit steps have the generic schemes' stability limit h |df/dq| <= 2 (q's drift ~ -q/t near t0)
        check_explicit_stability(call.sde, call.grid, call.y0[0], scheme)
    return _run(call, kind, milstein)


def _kernels(names: tuple[str, str], kind: int, check: Check) -> dict[str, Kernel]:
    """``{names[0]: Euler-type kernel, names[1]: with the Milstein term}`` of one scheme kind.

    Partials of module-level functions, so that the SDEs can be pickled (sent to an executor).
    """
    return {
        name: functools.partial(_checked_run, kind=kind, milstein=milstein, check=check, scheme=name)
        for name, milstein in zip(names, (False, True), strict=True)
    }


# ----------------------------------------------------------------------------- engine objects


# (drift, diffusion, diffusion_derivative, drift_jacobian) of each equation
_Q = (_q_drift_nb, _q_diffusion_nb, _q_dgdy_nb, _q_jac_nb)
_Y = (_y_drift_nb, _y_diffusion_nb, _y_dgdy_nb, _y_jac_nb)
_J = (_J_drift_nb, _y_diffusion_nb, _y_dgdy_nb, _J_jac_nb)


def _scalar_sde(name: str, functions: tuple[Any, ...], domain: Box, kernels: dict[str, Kernel], **kw: Any) -> SDE:
    drift, diffusion, derivative, jacobian = functions
    return SDE(
        drift,
        diffusion,
        dim=1,
        drift_jacobian=jacobian,
        diffusion_derivative=derivative,
        name=name,
        domain=domain,
        kernels=kernels,
        **kw,
    )


def q_sde() -> SDE:
    """The singular q-SDE as a ``deeplimits.sde.SDE`` (state ``q``, diagonal noise).

    ``dq = [(2q - a q^{3/2})/t + 2q] dt + 2 sqrt(2) q dB``, domain ``q > 0``
    (reflect).  From ``t = 0`` (``y0 = Q_STAR``) use ``scheme="implicit_euler"``
    or ``"implicit_milstein"`` (drift at ``t_{k+1}``, each step the unique
    positive root of a cubic in ``sqrt q``; the Milstein variant keeps ``q > 0``
    for steps ``< 1/8``, strong order 1) or the generic ``"theta"`` scheme.
    From ``t0 > 0`` use ``"euler"`` or ``"milstein"`` (specialised kernels),
    with the asymptotic start ``y0 = Q_STAR``: its bias in ``t0`` is given in
    closed form by :func:`~deeplimits.correlation.unshaped.mean_y_from_t0`.
    Torch versions of the coefficients are attached, so ``backend="torchsde"``
    runs natively in torch (CPU or GPU).

    Returns
    -------
    deeplimits.sde.SDE

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.correlation import q_sde
    >>> from deeplimits.correlation.unshaped import Q_STAR
    >>> from deeplimits.sde import solve, uniform_grid
    >>> sol = solve(q_sde(), [Q_STAR], uniform_grid(0.0, 1.0, 100), n_paths=200, seed=0, scheme="theta")
    >>> sol.stats["on_exit"], bool(np.all(sol.ys > 0))
    ('reflect', True)
    >>> sol = solve(q_sde(), [Q_STAR], uniform_grid(0.0, 1.0, 16), n_paths=4, seed=0, scheme="implicit_milstein")
    >>> sol.ys.shape, sol.stats["n_exits"]
    ((4, 17, 1), 0)
    """
    # q = l^2 (1 - rho) > 0: a step that overshoots below 0 (Euler noise, theta = 1 on coarse
    # grids) is reflected and counted in stats["n_exits"], never returned silently
    domain = Box(lower=0.0, on_exit="reflect")
    kernels = {**_kernels(EXPLICIT, Q_EXPLICIT, _check_q_explicit), **_kernels(IMPLICIT, Q_IMPLICIT, _check_q_implicit)}
    torch = dict(torch_drift=_q_drift_torch, torch_diffusion=_q_diffusion_torch)
    return _scalar_sde("unshaped ReLU q-SDE", _Q, domain, kernels, params=[A_COEF], **torch)


def y_sde() -> SDE:
    """``y = q^{-1/2}``: ``dy = [(Y_STAR - y)/t + 2y] dt - sqrt(2) y dB`` as an engine ``SDE``.

    From ``t = 0`` (``y0 = Y_STAR``) use ``scheme="implicit_euler"`` or
    ``"implicit_milstein"`` (specialised: the singular part ``(Y_STAR - y)/t``
    taken at ``t_{k+1}``, ``2 y`` explicit; strong orders 1/2 and 1) or the
    generic ``"theta"`` scheme.

    Returns
    -------
    deeplimits.sde.SDE
        Linear, diagonal noise; domain ``y > 0``: steps below 0 are kept, counted and warned about.

    Examples
    --------
    >>> from deeplimits.correlation.unshaped import Y_STAR, y_sde
    >>> from deeplimits.sde import solve, uniform_grid
    >>> sol = solve(y_sde(), [Y_STAR], uniform_grid(0.0, 0.5, 8), n_paths=3, seed=0, scheme="implicit_milstein")
    >>> sol.ys.shape
    (3, 9, 1)
    """
    domain = Box(lower=0.0, on_exit="report")
    return _scalar_sde(
        "unshaped ReLU y = q^-1/2", _Y, domain, _kernels(IMPLICIT, Y_IMPLICIT, _check_y), params=[Y_STAR]
    )


def J_sde() -> SDE:
    """Regular transformed equation ``dJ = (1 + 2J) dt - sqrt(2) J dB``, ``J_0 = 0``, as an engine ``SDE``.

    No singularity: any scheme starts at ``t = 0``; ``q = Q_STAR t^2 / J^2``
    (:func:`~deeplimits.correlation.unshaped.q_from_J`).  ``"euler"`` and
    ``"milstein"`` (strong orders 1/2 and 1, weak order 1) run a specialised
    scalar kernel.

    Returns
    -------
    deeplimits.sde.SDE
        Domain ``J >= 0`` (Milstein never leaves it; Euler steps below 0 are kept, counted and warned about).

    Examples
    --------
    >>> from deeplimits.correlation.unshaped import J_sde, q_from_J
    >>> from deeplimits.sde import solve
    >>> grid = [0.0, 0.5, 1.0]
    >>> sol = solve(J_sde(), [0.0], grid, n_paths=3, seed=1, scheme="milstein")
    >>> q_from_J(sol.ts, sol.ys[:, :, 0]).shape
    (3, 3)
    """
    domain = Box(lower=0.0, closed=True, on_exit="report")
    return _scalar_sde("unshaped ReLU J (regular)", _J, domain, _kernels(EXPLICIT, J_SCHEME, _no_check))
