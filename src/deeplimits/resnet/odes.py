"""Deep limits of smooth-weight ResNets: the neural ODE and Cohen et al.'s alternative ODE.

Smooth weights ``A_k = A(k/L)``: ``alpha_L = 1/L`` gives the neural ODE ``dH/dt = branch_t(H)``
(:func:`neural_ode`; the finite network :func:`smooth_resnet` is its Euler scheme); Cohen's ``delta = L^-a``,
weights ``L^-b A(k/L)`` with ``a + b = 1``, ``b > 0`` give the linear alternative ODE
``dH/dt = sigma'(0) (A(t) H + b(t))`` (:func:`alternative_ode`).  Derivations in ``docs/theory/resnet.md``.
The neural-SDE limits of i.i.d.-weight ResNets are in :mod:`deeplimits.resnet.limits`.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .._checks import check_int
from ._kernels import act_array, activation_code, variant_code
from .finite import simulate_resnets
from .limits import activation_derivatives

__all__ = ["neural_ode", "alternative_ode", "smooth_resnet"]


def _branch(variant, code, V, W, b, h):
    if variant == "res1":
        return V @ act_array(h, code)
    pre = W @ h
    if variant == "cohen":
        return act_array(pre + (0.0 if b is None else b), code)
    return V @ act_array(pre, code)


def neural_ode(variant, activation, h0, *, V=None, W=None, b=None, t_eval=None, rtol=1e-11, atol=1e-12):
    """Solve the neural ODE ``dH/dt = branch_t(H)`` of a smooth-weight ResNet with ``alpha_L = 1/L``.

    ``res1``: ``V(t) sigma(H)``; ``res3``: ``V(t) sigma(W(t) H)``; ``cohen``: ``sigma(W(t) H + b(t))``.

    Parameters
    ----------
    variant : {"res1", "res3", "cohen"}
    activation : str
    h0 : array, shape (d,)
    V, W, b : callable
        ``t -> matrix`` (``(d, d)``) or vector (``(d,)``), e.g.
        :class:`~deeplimits.resnet.SmoothWeightFunction`.
    t_eval : array, optional
        Output times in [0, 1] (default ``[1]``).
    rtol, atol : float
        Tolerances of the DOP853 integrator (reference solution).

    Returns
    -------
    ndarray, shape (len(t_eval), d)
    """
    variant_code(variant)
    code = activation_code(activation)
    h0 = np.asarray(h0, dtype=np.float64)
    t_eval = np.array([1.0]) if t_eval is None else np.asarray(t_eval, dtype=np.float64)

    def rhs(t, h):
        return _branch(
            variant, code, None if V is None else V(t), None if W is None else W(t), None if b is None else b(t), h
        )

    sol = solve_ivp(rhs, (0.0, float(t_eval.max())), h0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.y.T


def alternative_ode(activation, h0, A, b=None, t_eval=None, rtol=1e-11, atol=1e-12):
    """Solve Cohen et al.'s alternative linear ODE ``dH/dt = sigma'(0) (A(t) H + b(t))``.

    The limit of ``h_{k+1} = h_k + L^-a sigma(L^-b (A(k/L) h_k + b(k/L)))`` with ``a + b = 1``, ``b > 0``
    (:func:`smooth_resnet` with ``delta_exp = a``, ``weight_exp = b``).

    Parameters
    ----------
    activation : {"linear", "tanh", "swish"}
        Differentiable at 0.
    h0 : array, shape (d,)
    A : callable
        ``t -> (d, d)`` matrix, e.g. :class:`~deeplimits.resnet.weights.SmoothWeightFunction`.
    b : callable, optional
        ``t -> (d,)`` vector (default 0).
    t_eval : array, optional
        Output times (default ``[1]``).
    rtol, atol : float
        Tolerances of the DOP853 integrator.

    Returns
    -------
    ndarray, shape (len(t_eval), d)
    """
    s1, _ = activation_derivatives(activation)
    h0 = np.asarray(h0, dtype=np.float64)
    t_eval = np.array([1.0]) if t_eval is None else np.asarray(t_eval, dtype=np.float64)

    def rhs(t, h):
        return s1 * (A(t) @ h + (0.0 if b is None else b(t)))

    sol = solve_ivp(rhs, (0.0, float(t_eval.max())), h0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.y.T


def smooth_resnet(
    variant, activation, h0, depth, *, V=None, W=None, b=None, delta_exp=1.0, weight_exp=0.0, save_trajectories=True
):
    """The finite ResNet whose weights are functions sampled on the grid: ``L^-weight_exp F(k/L)``.

    ``delta_exp = 1, weight_exp = 0`` is the Euler scheme of :func:`neural_ode`; Cohen's
    ``delta_exp + weight_exp = 1`` with ``weight_exp > 0`` approximates :func:`alternative_ode`.

    Parameters
    ----------
    variant : {"res1", "res3", "cohen"}
    activation : str
    h0 : array, shape (d,)
    depth : int
        ``L >= 1``.
    V, W, b : callable, optional
        Weight functions with an ``on_grid(L)`` method (:class:`~deeplimits.resnet.weights.SmoothWeightFunction`),
        as the variant needs them.
    delta_exp, weight_exp : float
        Branch scale ``L^-delta_exp`` and weight scale ``L^-weight_exp``.
    save_trajectories : bool
        Keep all hidden states.

    Returns
    -------
    ResNetBatch
        One network.
    """
    depth = check_int(depth, "depth", minimum=1)
    h0 = np.asarray(h0, dtype=np.float64)[None]
    s = float(depth) ** (-float(weight_exp))
    grid = lambda f: None if f is None else (s * f.on_grid(depth))[None]
    return simulate_resnets(
        h0,
        variant,
        float(depth) ** (-float(delta_exp)),
        activation,
        V=grid(V),
        W=grid(W),
        b=grid(b),
        save_trajectories=save_trajectories,
    )
