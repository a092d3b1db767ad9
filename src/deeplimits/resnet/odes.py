"""Deep limits of smooth-weight ResNets: the neural ODE and Cohen et al.'s alternative ODE.

Smooth weights ``A_k = A(k/L)``: ``alpha_L = 1/L`` gives the neural ODE ``dH/dt = branch_t(H)``
(:func:`neural_ode`; the finite network :func:`smooth_resnet` is its Euler scheme); Cohen's ``delta = L^-a``,
weights ``L^-b A(k/L)`` with ``a + b = 1``, ``b > 0`` give the linear alternative ODE
``dH/dt = sigma'(0) (A(t) H + b(t))`` (:func:`alternative_ode`).  Derivations in ``docs/theory/resnet.md``.
The neural-SDE limits of i.i.d.-weight ResNets are in :mod:`deeplimits.resnet.limits`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from .._checks import check_array, check_callable, check_float, check_int
from ._kernels import act_array, activation_code, variant_code
from .finite import ResNetBatch, simulate_resnets
from .limits import activation_derivatives

__all__ = ["neural_ode", "alternative_ode", "smooth_resnet"]

#: A weight as a function of depth time ``t -> array``.
WeightFunction = Callable[[float], Any]


def _check_ivp(h0, t_eval, rtol, atol):
    h0 = check_array(h0, "h0", ndim=1, min_size=1)
    if t_eval is None:
        t_eval = np.array([1.0])
    else:
        t_eval = check_array(t_eval, "t_eval", ndim=1, minimum=0.0, min_size=1)
        if np.any(np.diff(t_eval) <= 0):
            raise ValueError(f"t_eval must be increasing, got {t_eval}")
    rtol = check_float(rtol, "rtol", minimum=0.0, strict_min=True)
    atol = check_float(atol, "atol", minimum=0.0, strict_min=True)
    return h0, t_eval, rtol, atol


def _integrate(rhs, y0, ts, rtol, atol):
    # the reference solution: DOP853 from t = 0 to the last output time
    sol = solve_ivp(rhs, (0.0, float(ts.max())), y0, method="DOP853", t_eval=ts, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.y.T


def _branch(variant, code, V, W, b, h):
    if variant == "res1":
        return V @ act_array(h, code)
    pre = W @ h
    if variant == "cohen":
        return act_array(pre + (0.0 if b is None else b), code)
    return V @ act_array(pre, code)


def neural_ode(
    variant: str,
    activation: str,
    h0: ArrayLike,
    *,
    V: WeightFunction | None = None,
    W: WeightFunction | None = None,
    b: WeightFunction | None = None,
    t_eval: ArrayLike | None = None,
    rtol: float = 1e-11,
    atol: float = 1e-12,
) -> NDArray[np.float64]:
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

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.resnet import neural_ode
    >>> neural_ode("res1", "linear", [1.0], V=lambda t: np.eye(1)).round(6)
    array([[2.718282]])
    """
    variant_code(variant)
    code = activation_code(activation)
    y0, ts, rtol, atol = _check_ivp(h0, t_eval, rtol, atol)
    for name, f in (("V", V), ("W", W), ("b", b)):
        if f is not None:
            check_callable(f, name)
    need = {"res1": ("V",), "res3": ("V", "W"), "cohen": ("W",)}[variant]
    for name in need:
        if {"V": V, "W": W, "b": b}[name] is None:
            raise ValueError(f"variant {variant!r} needs {name}")

    def rhs(t, h):
        return _branch(
            variant, code, None if V is None else V(t), None if W is None else W(t), None if b is None else b(t), h
        )

    return _integrate(rhs, y0, ts, rtol, atol)


def alternative_ode(
    activation: str,
    h0: ArrayLike,
    A: WeightFunction,
    b: WeightFunction | None = None,
    t_eval: ArrayLike | None = None,
    rtol: float = 1e-11,
    atol: float = 1e-12,
) -> NDArray[np.float64]:
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
    t_eval, rtol, atol
        As in :func:`neural_ode`.

    Returns
    -------
    ndarray
        Shape (len(t_eval), d).

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.resnet import alternative_ode
    >>> alternative_ode("tanh", [1.0], A=lambda t: np.eye(1)).round(6)
    array([[2.718282]])
    """
    s1, _ = activation_derivatives(activation)
    y0, ts, rtol, atol = _check_ivp(h0, t_eval, rtol, atol)
    check_callable(A, "A")
    if b is not None:
        check_callable(b, "b")

    return _integrate(lambda t, h: s1 * (A(t) @ h + (0.0 if b is None else b(t))), y0, ts, rtol, atol)


def smooth_resnet(
    variant: str,
    activation: str,
    h0: ArrayLike,
    depth: int,
    *,
    V: Any = None,
    W: Any = None,
    b: Any = None,
    delta_exp: float = 1.0,
    weight_exp: float = 0.0,
    save_trajectories: bool = True,
) -> ResNetBatch:
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

    Examples
    --------
    >>> from deeplimits.resnet import SmoothWeightFunction, smooth_resnet
    >>> smooth_resnet("res1", "linear", [1.0], 10, V=SmoothWeightFunction((1, 1), seed=0)).ys.shape
    (1, 11, 1)
    """
    depth = check_int(depth, "depth", minimum=1)
    h0 = check_array(h0, "h0", ndim=1, min_size=1)[None]
    delta_exp = check_float(delta_exp, "delta_exp")
    weight_exp = check_float(weight_exp, "weight_exp")
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
