"""Batches of random networks at initialisation: the finite systems behind the correlation limits.

Three architectures, each with the engines ``"gram"`` (exact in distribution, O(n m^2) per layer,
Numba-parallel over networks) and ``"dense"`` (real n x n weight matrices, numpy/BLAS):

* :func:`relu_mlp`   -- He-initialised ReLU MLP (Li, Nica & Roy 2022; Li & Nica 2023, unshaped);
* :func:`shaped_mlp` -- leaky ReLU with slopes ``1 + c_pm / sqrt(n)`` or ``/ sqrt(d)``;
* :func:`resnet`     -- ResNet with a ``d^-1/2`` branch (Li & Nica 2023, first result).

Conventions (MLPs).  ``Phi_0`` = ``gram0`` is the covariance of the first pre-activations:
``h_1 = W_0 x / sqrt(n_0)``, rows iid ``N(0, Phi_0)``.  For ``l = 1..d``:
``Phi_l = (c/n) phi(h_l)^T phi(h_l)`` and ``h_{l+1} = sqrt(c/n) W_l phi(h_l)``, so ``Phi_l`` is the
conditional covariance of the pre-activations of layer ``l+1`` and, at infinite width,
``rho_l = f(rho_{l-1})`` with ``f`` the (leaky) arc-cosine correlation map.  Layer ``l`` of the output
holds ``Phi_l`` for ``l = 0..d``.

Conventions (ResNet).  ``h_0`` has iid rows ``N(0, gram0)``; ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l)``,
``W_l`` iid ``N(0, sigma_r^2)``; layer ``l`` of the output holds ``V_l = h_l^T h_l / n``, ``l = 0..d``.
"""

from __future__ import annotations

import numpy as np

from .activations import check_slopes, he_normalisation, shaped_slopes
from .batch import NetworkBatch, check_gram, check_positive_int, check_seed, save_slots
from .dense import mlp_dense, resnet_dense
from .gram import mlp_gram, resnet_gram

__all__ = ["relu_mlp", "shaped_mlp", "leaky_mlp", "resnet"]

_ENGINES = ("gram", "dense")


def _common(gram0, width, depth, n_nets, engine, seed, save):
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {_ENGINES}, got {engine!r}")
    width = check_positive_int("width", width)
    depth = check_positive_int("depth", depth)
    n_nets = check_positive_int("n_nets", n_nets)
    seed = check_seed(seed)
    gram, P0, D0 = check_gram(gram0)
    layers, slot = save_slots(save, depth)
    return gram, P0, D0, width, depth, n_nets, seed, layers, slot


def leaky_mlp(gram0, width, depth, n_nets, *, s_plus=1.0, s_minus=0.0, engine="gram", seed=0, save="all"):
    """He-normalised MLP with the leaky ReLU ``s_plus max(x,0) + s_minus min(x,0)``.

    Parameters
    ----------
    gram0 : array_like, shape (m, m)
        Input Gram matrix ``Phi_0`` (symmetric PSD, positive diagonal, m >= 2).
    width, depth, n_nets : int
        ``n >= 1``, ``d >= 1`` hidden layers, number of independent networks.
    s_plus, s_minus : float
        Slopes, both >= 0 (monotone activation), not both zero.
    engine : {"gram", "dense"}
        Exact-in-distribution Gram sampler or real weight matrices.
    seed : int
        Non-negative seed; network ``k`` depends only on ``(seed, k)``.
    save : "all", "last" or sequence of int
        Layers ``0..depth`` to return.

    Returns
    -------
    NetworkBatch
        ``sqnorm`` (n_nets, n_save, m) and ``one_minus_corr`` (n_nets, n_save, m, m) of ``Phi_l``.

    Raises
    ------
    ValueError
        Naming the argument: ``width``, ``depth``, ``n_nets`` not integers >= 1; ``seed`` not an integer
        >= 0; ``gram0`` not a finite symmetric PSD m x m matrix (m >= 2, positive diagonal, correlations in
        [-1, 1]); slopes negative, both zero or not finite; unknown ``engine``; ``save`` outside 0..depth.
    """
    gram, P0, D0, width, depth, n_nets, seed, layers, slot = _common(gram0, width, depth, n_nets, engine, seed, save)
    try:
        s_plus, s_minus = float(s_plus), float(s_minus)
    except (TypeError, ValueError):
        raise ValueError(f"s_plus, s_minus must be numbers, got {s_plus!r}, {s_minus!r}") from None
    check_slopes(s_plus, s_minus, what="(s_plus, s_minus)")
    cnorm = he_normalisation(s_plus, s_minus)
    if engine == "gram":
        P, D = mlp_gram(P0, D0, width, depth, s_plus, s_minus, cnorm, seed, layers, slot, n_nets)
    else:
        P, D = mlp_dense(gram, P0, D0, width, depth, s_plus, s_minus, cnorm, seed, layers, slot, n_nets)
    return NetworkBatch(
        arch="leaky_mlp",
        engine=engine,
        layers=layers,
        sqnorm=P,
        one_minus_corr=0.5 * D,
        width=width,
        depth=depth,
        seed=seed,
        params=dict(s_plus=s_plus, s_minus=s_minus, c=cnorm),
    )


def relu_mlp(gram0, width, depth, n_nets, *, engine="gram", seed=0, save="all"):
    """Unshaped He-initialised ReLU MLP (``c = 2``): :func:`leaky_mlp` with slopes (1, 0).

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, save
        As in :func:`leaky_mlp`.

    Returns
    -------
    NetworkBatch
        ``arch = "relu_mlp"``.

    Raises
    ------
    ValueError
        As :func:`leaky_mlp`.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.networks import relu_mlp, gram_from_correlation
    >>> b = relu_mlp(gram_from_correlation(0.5), width=64, depth=32, n_nets=100, seed=1)
    >>> b.one_minus_corr.shape
    (100, 33, 2, 2)
    """
    out = leaky_mlp(gram0, width, depth, n_nets, s_plus=1.0, s_minus=0.0, engine=engine, seed=seed, save=save)
    out.arch = "relu_mlp"
    return out


def shaped_mlp(
    gram0, width, depth, n_nets, *, c_plus=0.0, c_minus=-1.0, shaping="width", engine="gram", seed=0, save="all"
):
    """Shaped leaky-ReLU MLP, slopes ``s_pm = 1 + c_pm / sqrt(N)``, ``N = width`` or ``depth``.

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, save
        As in :func:`leaky_mlp`.
    c_plus, c_minus : float
        Shaping constants; ``|c_pm| <= sqrt(N)`` is required for a monotone activation.
    shaping : {"width", "depth"}
        ``N = n`` (Li, Nica & Roy 2022, regime d/n = T) or ``N = d`` (Li & Nica 2023, d << n).

    Returns
    -------
    NetworkBatch
        ``arch = "shaped_mlp"``; ``params`` holds the slopes, ``c``, ``c_plus``, ``c_minus``, ``shaping``.

    Raises
    ------
    ValueError
        As :func:`leaky_mlp`; also unknown ``shaping``, and ``c_pm`` that make a slope negative
        (non-monotone activation) or are not finite.
    """
    if shaping not in ("width", "depth"):
        raise ValueError(f"shaping must be 'width' or 'depth', got {shaping!r}")
    width = check_positive_int("width", width)
    depth = check_positive_int("depth", depth)
    s_plus, s_minus = shaped_slopes(c_plus, c_minus, width if shaping == "width" else depth)
    out = leaky_mlp(gram0, width, depth, n_nets, s_plus=s_plus, s_minus=s_minus, engine=engine, seed=seed, save=save)
    out.arch = "shaped_mlp"
    out.params.update(c_plus=float(c_plus), c_minus=float(c_minus), shaping=shaping)
    return out


def resnet(gram0, width, depth, n_nets, *, sigma_r=1.0, engine="gram", seed=0, save="all"):
    """ReLU ResNet with a ``d^-1/2`` branch: ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l)``.

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, save
        As in :func:`leaky_mlp` (``gram0`` = covariance of the rows of ``h_0``).
    sigma_r : float
        Standard deviation of the branch weights, > 0.

    Returns
    -------
    NetworkBatch
        ``sqnorm`` = ``|h_l^a|^2 / n``; ``one_minus_corr`` of the columns of ``h_l``.

    Raises
    ------
    ValueError
        As :func:`leaky_mlp`; also ``sigma_r`` not a positive finite number.
    """
    gram, P0, D0, width, depth, n_nets, seed, layers, slot = _common(gram0, width, depth, n_nets, engine, seed, save)
    try:
        sigma_r = float(sigma_r)
    except (TypeError, ValueError):
        raise ValueError(f"sigma_r must be a positive number, got {sigma_r!r}") from None
    if not (np.isfinite(sigma_r) and sigma_r > 0):
        raise ValueError(f"sigma_r must be a positive number, got {sigma_r}")
    if engine == "gram":
        P, D = resnet_gram(P0, D0, width, depth, sigma_r, seed, layers, slot, n_nets)
    else:
        P, D = resnet_dense(gram, width, depth, sigma_r, seed, layers, slot, n_nets)
    return NetworkBatch(
        arch="resnet",
        engine=engine,
        layers=layers,
        sqnorm=P,
        one_minus_corr=0.5 * D,
        width=width,
        depth=depth,
        seed=seed,
        params=dict(sigma_r=sigma_r),
    )
