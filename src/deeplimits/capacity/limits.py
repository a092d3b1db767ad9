"""Deep limits of the capacity chain: KFE coefficients of a layer, and the exact
periodic solution of the lattice master equation.

With ``alpha = a / sqrt(L)`` and depth fraction ``t = (L - l) / L`` (``t = 0`` at the
output, ``t = 1`` at the input), the chain of :mod:`deeplimits.capacity.chain` converges
on a fixed lattice to the continuous-depth jump process (master equation)::

    dc/dt (x) = lambda * sum_k q_k [c(x - o_k) - c(x)] - kappa c(x),
    lambda = a^2 d ||w||^2,   q_k = w_k^2 / ||w||^2,   kappa = a^2 b^2,

whose second-order (Kramers--Moyal) truncation is the drift--diffusion--sink PDE::

    dc/dt = -v . grad c + sum_ij D_ij d_i d_j c - kappa c,
    v = a^2 d sum_k o_k w_k^2,   D = (a^2 d / 2) sum_k o_k o_k^T w_k^2.

(Derived by us, ``docs/theory/capacity.md``; the papers state the Markov rule and the
existence of the Kolmogorov forward limit under ``L^-1/2`` scaling.)  The coefficients are
returned as plain floats and arrays so that the finite-difference solvers of
``deeplimits.capacity.kfe`` can consume them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array
from ._validate import check_depth, check_scalar
from .kfe.discrete_exact import master_exact_periodic
from .kfe.equations import DriftDiffusion1D, DriftDiffusion2D, MasterEquation
from .kfe.grid import Grid1D, Grid2D, lattice_1d, lattice_2d
from .layers import ConvLayer

__all__ = ["KFECoefficients", "kfe_coefficients", "kramers_moyal", "master_equation_periodic"]


def kramers_moyal(offsets: ArrayLike, weights: ArrayLike, rate: float, spacing: float = 1.0) -> tuple[Any, Any]:
    """Drift and diffusion of the PDE approximating a master equation (second-order Kramers--Moyal).

    With jumps ``spacing * k`` at rate ``rate * q_k``::

        v = rate * spacing * sum_k q_k k,      D = (rate * spacing^2 / 2) sum_k q_k k k^T

    (the raw second moment: the variance of a compound Poisson process is ``rate * E[jump^2]``).

    Parameters
    ----------
    offsets : array_like of int, shape (m,) in 1-D or (m, ndim)
        Jump offsets ``k`` in lattice units.
    weights : array_like, shape (m,)
        Jump probabilities ``q_k`` (any non-negative weights: the formulas are linear in them).
    rate : float
        Jump rate ``lambda``.
    spacing : float
        Lattice spacing.

    Returns
    -------
    v : float (1-D offsets) or ndarray (ndim,)
    D : float (1-D offsets) or ndarray (ndim, ndim)

    Examples
    --------
    >>> kramers_moyal([-1, 1], [0.25, 0.75], rate=2.0)
    (1.0, 1.0)
    """
    k = check_array(offsets, "offsets", ndim=(1, 2), min_size=1)
    q = check_array(weights, "weights", ndim=1, shape=(k.shape[0],), minimum=0.0)
    rate = check_scalar(rate, "rate")
    spacing = check_scalar(spacing, "spacing", allow_zero=False)
    if k.ndim == 1:
        return rate * spacing * float(q @ k), 0.5 * rate * spacing**2 * float(q @ k**2)
    v = rate * spacing * (q[:, None] * k).sum(axis=0)
    D = 0.5 * rate * spacing**2 * np.einsum("m,mi,mj->ij", q, k, k)
    return v, D


@dataclass(frozen=True, eq=False)
class KFECoefficients:
    """Coefficients of the continuous-depth limit of one residual layer type.

    Attributes
    ----------
    rate : float
        Jump rate ``lambda = a^2 d ||w||^2`` (per unit depth fraction).
    offsets : ndarray of int64 (K, ndim)
        Jump vectors ``o_k`` (one per tap; a zero offset is a null jump).
    jump_probs : ndarray (K,)
        ``q_k = w_k^2 / ||w||^2`` (all zero if the taps are all zero).
    drift : ndarray (ndim,)
        ``v = a^2 d sum_k o_k w_k^2``.
    diffusion : ndarray (ndim, ndim)
        ``D = (a^2 d / 2) sum_k o_k o_k^T w_k^2`` (a scalar ``D[0, 0]`` in 1-D).
    sink : float
        ``kappa = a^2 b^2``.

    Examples
    --------
    >>> from deeplimits.capacity import ConvLayer, kfe_coefficients
    >>> co = kfe_coefficients(ConvLayer([1.0, 1.0, 1.0], alpha=0.5), depth=4)
    >>> co.offsets[:, 0].tolist(), co.sink
    ([-1, 0, 1], 0.0)
    """

    rate: float
    offsets: np.ndarray
    jump_probs: np.ndarray
    drift: np.ndarray
    diffusion: np.ndarray
    sink: float

    def as_dict(self) -> dict:
        """The coefficients as plain floats and arrays.

        Returns
        -------
        dict
            Keys ``lam, offsets, q, v, D, kappa``.
        """
        return dict(
            lam=self.rate, offsets=self.offsets, q=self.jump_probs, v=self.drift, D=self.diffusion, kappa=self.sink
        )

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 or 2)."""
        return self.offsets.shape[1]

    def master_equation(self, grid: Any) -> MasterEquation:
        """The lattice master equation with these coefficients, for the KFE solvers.

        Parameters
        ----------
        grid : Grid1D or Grid2D
            A lattice whose cells are the sites (:func:`~deeplimits.capacity.kfe.lattice_1d`,
            :func:`~deeplimits.capacity.kfe.lattice_2d`); its boundary is the chain's.

        Returns
        -------
        MasterEquation
            Solve it with :func:`deeplimits.capacity.solve_kfe` or
            :func:`deeplimits.capacity.kfe.master_exact_periodic`.
        """
        self._check_grid(grid)
        if self.jump_probs.sum() == 0:  # all-zero taps: no jumps, only the sink
            return MasterEquation(
                grid, self.offsets[:1, 0] if self.ndim == 1 else self.offsets[:1], [1.0], 0.0, self.sink
            )
        offs = self.offsets[:, 0] if self.ndim == 1 else self.offsets
        return MasterEquation(grid, offs, self.jump_probs, self.rate, self.sink)

    def drift_diffusion(self, grid: Any, advection: str = "central") -> DriftDiffusion1D | DriftDiffusion2D:
        """The drift--diffusion--sink PDE (Kramers--Moyal truncation) with these coefficients.

        Parameters
        ----------
        grid : Grid1D or Grid2D
            Finite-volume grid in lattice units (``lattice_1d`` / ``lattice_2d`` put one cell
            on each site, so that the density equals the capacity per site).
        advection : {"central", "upwind"}
            Face value of the advective flux.

        Returns
        -------
        DriftDiffusion1D or DriftDiffusion2D
        """
        self._check_grid(grid)
        if self.ndim == 1:
            return DriftDiffusion1D(
                grid, v=float(self.drift[0]), D=float(self.diffusion[0, 0]), kappa=self.sink, advection=advection
            )
        return DriftDiffusion2D(grid, v=tuple(self.drift), D=self.diffusion, kappa=self.sink, advection=advection)

    def _check_grid(self, grid):
        want = Grid1D if self.ndim == 1 else Grid2D
        if not isinstance(grid, want):
            raise ValueError(
                f"grid must be a {want.__name__} for {self.ndim}-D coefficients, got {type(grid).__name__}"
            )


def kfe_coefficients(layer: ConvLayer, depth: int | None = None, *, a: float | None = None) -> KFECoefficients:
    """Map a residual layer to the coefficients of its deep (``L^-1/2``) limit.

    Parameters
    ----------
    layer : ConvLayer
        A residual layer (``alpha`` not ``None``).  Its taps, dilation, causality, bias and
        decoupling coefficient are used.
    depth : int, optional
        Depth ``L`` of the stack the layer belongs to; then ``a = alpha * sqrt(L)``.
    a : float, optional
        The prefactor of ``alpha = a / sqrt(L)`` directly (instead of ``depth``).

    Returns
    -------
    KFECoefficients

    Examples
    --------
    >>> from deeplimits.capacity import ConvLayer, kfe_coefficients
    >>> co = kfe_coefficients(ConvLayer([1.0, 2.0, 1.0], alpha=0.25), depth=16)
    >>> co.rate, co.drift.tolist(), co.diffusion.tolist()
    (6.0, [0.0], [[1.0]])
    """
    if not isinstance(layer, ConvLayer):
        raise ValueError(f"layer must be a ConvLayer, got {type(layer).__name__}")
    if not layer.residual:
        raise ValueError(
            "a plain layer has no continuous-depth limit on a fixed lattice "
            "(its limit is the central-limit Gaussian, see catalogue)"
        )
    if (depth is None) == (a is None):
        raise ValueError("give exactly one of depth and a")
    if a is None:
        depth = check_depth(depth)
        if depth == 0:
            raise ValueError("depth must be positive")
        a = layer.alpha * np.sqrt(depth)
    else:
        a = check_scalar(a, "a")
    w2 = layer.taps.ravel() ** 2
    norm = w2.sum()
    rate = float(a * a * layer.decoupling * norm)
    q = w2 / norm if norm > 0 else np.zeros_like(w2)
    drift, diffusion = kramers_moyal(layer.offsets, q, rate)
    return KFECoefficients(
        rate=rate,
        offsets=layer.offsets.copy(),
        jump_probs=q,
        drift=drift,
        diffusion=diffusion,
        sink=float(a * a * layer.bias**2),
    )


def master_equation_periodic(coeffs: KFECoefficients, c0: ArrayLike, t: float) -> NDArray[np.float64]:
    """Exact solution of the lattice master equation on a periodic lattice (by FFT).

    ``c_hat(t, xi) = exp(t * (lambda (q_hat(xi) - 1) - kappa)) * c_hat(0, xi)``, with
    ``q_hat`` the discrete Fourier transform of the jump law placed on the lattice; a
    shortcut for ``master_exact_periodic(coeffs.master_equation(lattice), c0, t)``.

    Parameters
    ----------
    coeffs : KFECoefficients
        From :func:`kfe_coefficients`.
    c0 : array_like (N,) or (Nx, Ny)
        Initial capacity (at the output, ``t = 0``); its shape is the periodic lattice.
    t : float
        Depth fraction, ``>= 0``.

    Returns
    -------
    ndarray, shape of ``c0``

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.capacity import kfe_coefficients, master_equation_periodic, residual_stack
    >>> co = kfe_coefficients(residual_stack([1.0, 2.0, 1.0], 64, a=1.0)[0], 64)
    >>> c = master_equation_periodic(co, np.eye(21)[10], 1.0)
    >>> round(float(c.sum()), 12), int(np.argmax(c))
    (1.0, 10)
    """
    c0 = np.asarray(c0, dtype=np.float64)
    t = check_scalar(t, "t")
    if c0.ndim != coeffs.ndim:
        raise ValueError(f"c0 must be {coeffs.ndim}-D, got shape {c0.shape}")
    grid = lattice_1d(c0.shape[0], "periodic") if c0.ndim == 1 else lattice_2d(c0.shape[0], c0.shape[1], "periodic")
    return master_exact_periodic(coeffs.master_equation(grid), c0, t)
