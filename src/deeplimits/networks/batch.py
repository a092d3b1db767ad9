"""The result type of the network simulators, and the Gram matrix of two inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_array, check_float
from .._solution import Solution

__all__ = ["NetworkBatch", "gram_from_correlation", "safe_sqrt_product"]


@dataclass(repr=False)
class NetworkBatch(Solution):
    """Per-layer Gram matrices of a batch of random networks at initialisation.

    A :class:`~deeplimits._solution.Solution` whose time axis is the layer index.

    Attributes
    ----------
    ts : ndarray, shape (n_save,)
        Saved layer indices ``l`` (0 = input), increasing, as floats.
    ys : ndarray, shape (n_nets, n_save, m, m)
        Gram matrices of the saved layers, axis order (network, layer, input, input).
        MLPs: ``Phi_l = (c/n) phi(h_l)^T phi(h_l)`` (``Phi_0`` = the input Gram);
        ResNet: ``V_l = h_l^T h_l / n``.  0 in the rows and columns of a dead column.
    sqnorm : ndarray, shape (n_nets, n_save, m)
        The diagonal of ``ys``.
    one_minus_corr : ndarray, shape (n_nets, n_save, m, m)
        ``1 - rho_l^ab`` computed without cancellation as ``|e_a - e_b|^2 / 2`` from the normalised
        vectors ``e`` (use it rather than ``1 - corr`` when ``rho`` is close to 1).  NaN where a column
        died (all units zero; only possible at tiny widths).
    params : dict
        Model parameters: slopes ``s_plus``, ``s_minus`` and He constant ``c`` (MLPs), ``c_plus``,
        ``c_minus``, ``shaping`` (shaped MLP), ``sigma_r`` (ResNet).
    stats : dict
        Run metadata: ``arch``, ``engine``, ``width``, ``depth``, ``n_nets``, ``seed``, ``first_path``.

    Examples
    --------
    >>> from deeplimits.networks import relu_mlp, gram_from_correlation
    >>> b = relu_mlp(gram_from_correlation(0.5), width=16, depth=4, n_nets=3, seed=1)
    >>> b
    NetworkBatch(ts: 5 in [0, 4], ys: (3, 5, 2, 2) float64, relu_mlp, stats: arch='relu_mlp', ...)
    >>> b.corr[:, b.index(4), 0, 1].shape
    (3,)
    """

    sqnorm: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0, 0)))
    one_minus_corr: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0, 0, 0)))
    params: dict[str, Any] = field(default_factory=dict)

    per_sample_fields: ClassVar[tuple[str, ...]] = ("sqnorm", "one_minus_corr")
    dims: ClassVar[tuple[str, ...]] = ("net", "layer", "input", "input_b")
    field_dims: ClassVar[dict[str, tuple[str, ...]]] = {
        "sqnorm": ("net", "layer", "input"),
        "one_minus_corr": ("net", "layer", "input", "input_b"),
    }

    @property
    def corr(self) -> NDArray[np.float64]:
        """Correlations ``rho_l^ab = 1 - one_minus_corr``, shape (n_nets, n_save, m, m)."""
        return 1.0 - self.one_minus_corr

    def _extra_repr(self) -> str:
        return str(self.stats.get("arch", ""))

    def states(self) -> NDArray[np.float64]:
        """Per-network state vectors ``(n_nets, n_save, m + m (m - 1) / 2)``, the input of summaries.

        Components: the squared norms ``q_a`` (``a = 1..m``), then ``1 - rho_ab`` for ``a < b`` in
        row order (``(1, 2), (1, 3), ..., (m - 1, m)``), in the cancellation-free form.

        Examples
        --------
        >>> from deeplimits.networks import relu_mlp, gram_from_correlation
        >>> relu_mlp(gram_from_correlation(0.5), 16, 4, 3, seed=1).states().shape
        (3, 5, 3)
        """
        iu = np.triu_indices(self.sqnorm.shape[-1], k=1)
        return np.concatenate([self.sqnorm, self.one_minus_corr[..., iu[0], iu[1]]], axis=-1)

    @classmethod
    def from_moments(
        cls,
        layers: NDArray[np.int64],
        sqnorm: NDArray[np.float64],
        one_minus_corr: NDArray[np.float64],
        params: dict[str, Any],
        stats: dict[str, Any],
    ) -> NetworkBatch:
        """Build a batch from the engines' outputs (squared norms and ``1 - rho``); ``ys`` is their Gram."""
        s = np.sqrt(sqnorm)
        scale = s[..., :, None] * s[..., None, :]
        gram = np.where(scale == 0, 0.0, scale * (1.0 - one_minus_corr))
        return cls(
            ts=layers.astype(np.float64),
            ys=gram,
            stats=stats,
            sqnorm=sqnorm,
            one_minus_corr=one_minus_corr,
            params=params,
        )


def safe_sqrt_product(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sqrt(a b)`` for positive ``a``, ``b`` without overflow or underflow of the product.

    Where ``a b`` is a normal float the result is ``sqrt(a b)`` exactly; elsewhere
    (``a = b = 1e160``) it is ``sqrt(a) sqrt(b)``.
    """
    with np.errstate(over="ignore", under="ignore"):
        prod = a * b
        ok = np.isfinite(prod) & (prod >= np.finfo(np.float64).tiny)
        return np.where(ok, np.sqrt(np.where(ok, prod, 1.0)), np.sqrt(a) * np.sqrt(b))


def gram_from_correlation(rho: float, sqnorm: float | ArrayLike = 1.0) -> NDArray[np.float64]:
    """2 x 2 Gram matrix of two inputs with correlation ``rho`` and squared norm(s) ``sqnorm``.

    Parameters
    ----------
    rho : float
        Correlation in [-1, 1].
    sqnorm : float or (float, float)
        Squared norms (diagonal), positive and finite.

    Returns
    -------
    ndarray, shape (2, 2)

    Raises
    ------
    ValueError
        If ``rho`` is not in [-1, 1] (NaN included) or a squared norm is not positive and finite.

    Examples
    --------
    >>> gram_from_correlation(0.5, (1.0, 4.0))
    array([[1., 1.],
           [1., 4.]])
    """
    rho = check_float(rho, "rho", minimum=-1.0, maximum=1.0)
    p = check_array(np.broadcast_to(np.asarray(sqnorm, dtype=float), (2,)), "sqnorm", minimum=0.0, strict_min=True)
    off = rho * safe_sqrt_product(p[:1], p[1:])[0]
    return np.array([[p[0], off], [off, p[1]]])
