"""Result container and input validation shared by the two engines."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["NetworkBatch", "gram_from_correlation"]


@dataclass
class NetworkBatch:
    """Per-layer second moments of a batch of random networks at initialisation.

    Attributes
    ----------
    arch : str
        ``"relu_mlp"``, ``"shaped_mlp"`` or ``"resnet"``.
    engine : str
        ``"dense"`` or ``"gram"``.
    layers : ndarray of int, shape (n_save,)
        Layer indices ``l`` (0 = input) of the saved layers, increasing.
    sqnorm : ndarray, shape (n_nets, n_save, m)
        Axis order (network, layer, input).  The diagonal of the layer's Gram matrix:
        MLPs: ``Phi_l^aa = (c/n) |phi(h_l^a)|^2`` (``Phi_0`` = the input Gram);
        ResNet: ``V_l^aa = |h_l^a|^2 / n``.
    one_minus_corr : ndarray, shape (n_nets, n_save, m, m)
        Axis order (network, layer, input, input).  ``1 - rho_l^ab`` computed without
        cancellation as ``|e_a - e_b|^2 / 2`` from the normalised vectors ``e``.  NaN where a
        column died (all units zero; only possible at tiny widths).
    width, depth : int
        ``n`` and ``d``.
    seed : int
    params : dict
        Architecture parameters (slopes, normalisation, ``sigma_r``...).
    """

    arch: str
    engine: str
    layers: np.ndarray
    sqnorm: np.ndarray
    one_minus_corr: np.ndarray
    width: int
    depth: int
    seed: int
    params: dict = field(default_factory=dict)

    @property
    def corr(self) -> np.ndarray:
        """Correlations ``rho_l^ab = 1 - one_minus_corr``.

        Returns
        -------
        ndarray, shape (n_nets, n_save, m, m)
        """
        return 1.0 - self.one_minus_corr

    @property
    def gram(self) -> np.ndarray:
        """Gram matrices ``sqrt(P^aa P^bb) rho^ab``.

        Returns
        -------
        ndarray, shape (n_nets, n_save, m, m)
            0 in the rows and columns of a dead column.
        """
        s = np.sqrt(self.sqnorm)
        scale = s[..., :, None] * s[..., None, :]
        return np.where(scale == 0, 0.0, scale * self.corr)

    def layer(self, l: int) -> int:
        """Slot of layer ``l`` in the second axis of ``sqnorm`` / ``one_minus_corr``.

        Parameters
        ----------
        l : int
            Layer index (0 = input).

        Returns
        -------
        int

        Raises
        ------
        ValueError
            If layer ``l`` was not saved.
        """
        hits = np.flatnonzero(self.layers == int(l))
        if hits.size == 0:
            raise ValueError(f"layer {l} was not saved; saved layers: {self.layers.tolist()}")
        return int(hits[0])


def gram_from_correlation(rho, sqnorm=1.0):
    """2 x 2 Gram matrix of two inputs with correlation ``rho`` and squared norm(s) ``sqnorm``.

    Parameters
    ----------
    rho : float
        Correlation in [-1, 1].
    sqnorm : float or (float, float)
        Squared norms (diagonal), positive.

    Returns
    -------
    ndarray, shape (2, 2)

    Raises
    ------
    ValueError
        If ``rho`` is not in [-1, 1] (NaN included) or a squared norm is not positive and finite.
    """
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"rho must be a number in [-1, 1], got {rho!r}") from None
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [-1, 1], got {rho}")
    p = np.broadcast_to(np.asarray(sqnorm, dtype=float), (2,))
    if np.any(~(p > 0)) or not np.all(np.isfinite(p)):
        raise ValueError(f"sqnorm must be positive, got {p.tolist()}")
    off = rho * np.sqrt(p[0] * p[1])
    return np.array([[p[0], off], [off, p[1]]])


def _as_integer(name, value, minimum):
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if not as_float.is_integer() or as_float < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(as_float)


def check_positive_int(name, value):
    """Validate a size argument.

    Parameters
    ----------
    name : str
        Argument name, used in the message.
    value : int-like
        Integer-valued number (``4`` or ``4.0``; not ``True``, ``2.5``, ``nan``, ``"4"``).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``value`` is not an integer >= 1; the message names ``name``.
    """
    return _as_integer(name, value, 1)


def check_seed(seed):
    """Validate a seed: a non-negative integer (ValueError naming ``seed`` otherwise); returns ``int``."""
    return _as_integer("seed", seed, 0)


def check_gram(gram0):
    """Validate an input Gram matrix.

    Parameters
    ----------
    gram0 : array_like, shape (m, m)
        Candidate Gram matrix of m >= 2 inputs.

    Returns
    -------
    gram : ndarray, shape (m, m)
        Symmetrised copy.
    P : ndarray, shape (m,)
        Its diagonal.
    D : ndarray, shape (m, m)
        ``2 (1 - rho)`` (zero diagonal).

    Raises
    ------
    ValueError
        Unless ``gram0`` is a finite, symmetric, positive semi-definite m x m matrix with m >= 2, positive
        diagonal and correlations in [-1, 1]; the message names ``gram0``.
    """
    try:
        g = np.array(gram0, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("gram0 must be a numeric m x m matrix") from None
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"gram0 must be a square m x m matrix, got shape {g.shape}")
    m = g.shape[0]
    if m < 2:
        raise ValueError(f"gram0 must describe m >= 2 inputs, got m = {m}")
    if not np.all(np.isfinite(g)):
        raise ValueError("gram0 must be finite")
    scale = np.max(np.abs(g))
    if not np.allclose(g, g.T, rtol=0, atol=1e-12 * scale):
        raise ValueError("gram0 must be symmetric")
    p = np.diag(g).copy()
    if np.any(p <= 0):
        raise ValueError(f"gram0 must have a positive diagonal (non-zero inputs), got {p.tolist()}")
    rho = g / np.sqrt(np.outer(p, p))
    if np.any(np.abs(rho) > 1 + 1e-12):
        raise ValueError("gram0 has correlations outside [-1, 1]")
    lam = np.linalg.eigvalsh(rho)
    if lam[0] < -1e-10:
        raise ValueError(
            f"gram0 must be positive semi-definite; smallest eigenvalue of its correlation matrix is {lam[0]:.3g}"
        )
    g = 0.5 * (g + g.T)
    D = 2.0 * (1.0 - np.clip(rho, -1.0, 1.0))
    np.fill_diagonal(D, 0.0)
    return g, p, D


def save_slots(save, depth):
    """Saved layers and their output slots.

    Parameters
    ----------
    save : "all", "last", None or sequence of int
        Layers to save (None = "all").
    depth : int
        Number of layers; valid layer indices are ``0..depth``.

    Returns
    -------
    layers : ndarray of int64
        Sorted unique saved layers.
    slot : ndarray of int64, shape (depth + 1,)
        ``slot[l]`` = output slot of layer ``l``, -1 if not saved.

    Raises
    ------
    ValueError
        If ``save`` names no layer, a non-integer, or a layer outside ``[0, depth]``.
    """
    if save is None or (isinstance(save, str) and save == "all"):
        layers = np.arange(depth + 1)
    elif isinstance(save, str) and save == "last":
        layers = np.array([depth])
    else:
        try:
            requested = np.asarray(save, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(f"save must be 'all', 'last' or a sequence of layer indices, got {save!r}") from None
        if not np.all(np.isfinite(requested) & (requested == np.round(requested))):
            raise ValueError(f"save layers must be integers, got {requested.tolist()}")
        layers = np.unique(requested.astype(np.int64))
        if layers.size == 0:
            raise ValueError("save must name at least one layer")
        if layers[0] < 0 or layers[-1] > depth:
            raise ValueError(f"save layers must lie in [0, depth={depth}], got {layers.tolist()}")
    slot = np.full(depth + 1, -1, dtype=np.int64)
    slot[layers] = np.arange(layers.size)
    return layers.astype(np.int64), slot
