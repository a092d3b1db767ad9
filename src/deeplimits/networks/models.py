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

from .._checks import check_choice, check_float
from .activations import LeakySlopes
from .batch import NetworkBatch
from .dense import mlp_dense, resnet_dense
from .gram import mlp_gram, resnet_gram
from .spec import NetworkSpec, network_model

__all__ = ["relu_mlp", "shaped_mlp", "leaky_mlp", "resnet"]


def _batch(spec, arch, P, D, params):
    return NetworkBatch.from_moments(spec.layers, P, 0.5 * D, params=params, stats=spec.stats(arch))


def _mlp(spec, slopes, arch, extra):
    P, D = (mlp_gram if spec.engine == "gram" else mlp_dense)(spec, slopes)
    return _batch(spec, arch, P, D, slopes.params() | extra)


@network_model
def leaky_mlp(spec: NetworkSpec, *, s_plus: float = 1.0, s_minus: float = 0.0) -> NetworkBatch:
    """He-normalised MLP with the leaky ReLU ``s_plus max(x,0) + s_minus min(x,0)``.

    Parameters
    ----------
    gram0 : array_like, shape (m, m)
        Input Gram matrix ``Phi_0`` (symmetric PSD, positive diagonal, m >= 2; any magnitude).
    width, depth, n_nets : int
        ``n >= 1``, ``d >= 1`` hidden layers, number of independent networks.
    s_plus, s_minus : float
        Slopes, both >= 0 (monotone activation), not both zero.
    engine : {"gram", "dense"}
        Exact-in-distribution Gram sampler or real weight matrices.
    seed : int
        Non-negative seed.
    first_path : int
        Network ``k`` of the batch draws from stream ``(seed, first_path + k)``, so a batch can be
        computed in pieces with the same numbers.
    save : "all", "last" or sequence of int
        Layers ``0..depth`` to return.

    Returns
    -------
    NetworkBatch
        ``ys`` (n_nets, n_save, m, m) = ``Phi_l``; ``sqnorm`` and ``one_minus_corr`` in exact form.

    Raises
    ------
    ValueError
        Naming the argument: ``width``, ``depth``, ``n_nets`` not integers >= 1; ``seed`` or ``first_path``
        not an integer >= 0; ``gram0`` not a finite symmetric PSD m x m matrix (m >= 2, positive diagonal);
        slopes negative, both zero or not finite; unknown ``engine``; ``save`` outside 0..depth.
    MemoryError
        If the output or a network's scratch space (``width`` x m or ``width`` x ``width``) cannot fit.

    Examples
    --------
    >>> from deeplimits.networks import leaky_mlp, gram_from_correlation
    >>> b = leaky_mlp(gram_from_correlation(0.5), 16, 4, 3, s_plus=1.0, s_minus=0.2, save="last")
    >>> b.ys.shape, round(b.params["c"], 4)
    ((3, 1, 2, 2), 1.9231)
    """
    return _mlp(spec, LeakySlopes.check(s_plus, s_minus), "leaky_mlp", {})


@network_model
def relu_mlp(spec: NetworkSpec) -> NetworkBatch:
    """Unshaped He-initialised ReLU MLP (``c = 2``): :func:`leaky_mlp` with slopes (1, 0).

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, first_path, save, executor, chunk_size, progress
        As in :func:`leaky_mlp`.

    Returns
    -------
    NetworkBatch
        ``stats["arch"] = "relu_mlp"``.

    Raises
    ------
    ValueError, MemoryError
        As :func:`leaky_mlp`.

    Examples
    --------
    >>> from deeplimits.networks import relu_mlp, gram_from_correlation
    >>> b = relu_mlp(gram_from_correlation(0.5), width=64, depth=32, n_nets=100, seed=1)
    >>> b.one_minus_corr.shape
    (100, 33, 2, 2)
    """
    return _mlp(spec, LeakySlopes.check(1.0, 0.0), "relu_mlp", {})


@network_model
def shaped_mlp(
    spec: NetworkSpec, *, c_plus: float = 0.0, c_minus: float = -1.0, shaping: str = "width"
) -> NetworkBatch:
    """Shaped leaky-ReLU MLP, slopes ``s_pm = 1 + c_pm / sqrt(N)``, ``N = width`` or ``depth``.

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, first_path, save, executor, chunk_size, progress
        As in :func:`leaky_mlp`.
    c_plus, c_minus : float
        Shaping constants; ``|c_pm| <= sqrt(N)`` is required for a monotone activation.
    shaping : {"width", "depth"}
        ``N = n`` (Li, Nica & Roy 2022, regime d/n = T) or ``N = d`` (Li & Nica 2023, d << n).

    Returns
    -------
    NetworkBatch
        ``stats["arch"] = "shaped_mlp"``; ``params`` holds the slopes, ``c``, ``c_plus``, ``c_minus``, ``shaping``.

    Raises
    ------
    ValueError, MemoryError
        As :func:`leaky_mlp`; also unknown ``shaping``, and ``c_pm`` that make a slope negative
        (non-monotone activation) or are not finite.

    Examples
    --------
    >>> from deeplimits.networks import shaped_mlp, gram_from_correlation
    >>> b = shaped_mlp(gram_from_correlation(0.5), width=16, depth=4, n_nets=2, c_minus=-1.0)
    >>> b.params["s_minus"]
    0.75
    """
    shaping = check_choice(shaping, "shaping", ("width", "depth"))
    c_plus = check_float(c_plus, "c_plus")
    c_minus = check_float(c_minus, "c_minus")
    slopes = LeakySlopes.shaped(c_plus, c_minus, spec.width if shaping == "width" else spec.depth)
    return _mlp(spec, slopes, "shaped_mlp", dict(c_plus=c_plus, c_minus=c_minus, shaping=shaping))


@network_model
def resnet(spec: NetworkSpec, *, sigma_r: float = 1.0) -> NetworkBatch:
    """ReLU ResNet with a ``d^-1/2`` branch: ``h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l)``.

    Parameters
    ----------
    gram0, width, depth, n_nets, engine, seed, first_path, save, executor, chunk_size, progress
        As in :func:`leaky_mlp` (``gram0`` = covariance of the rows of ``h_0``).
    sigma_r : float
        Standard deviation of the branch weights, > 0.

    Returns
    -------
    NetworkBatch
        ``ys`` = ``h_l^T h_l / n``; ``sqnorm`` = ``|h_l^a|^2 / n``; ``one_minus_corr`` of the columns of ``h_l``.

    Raises
    ------
    ValueError, MemoryError
        As :func:`leaky_mlp`; also ``sigma_r`` not a positive finite number.

    Examples
    --------
    >>> from deeplimits.networks import resnet, gram_from_correlation
    >>> resnet(gram_from_correlation(0.2), width=16, depth=4, n_nets=5, save=[0, 4]).ts
    array([0., 4.])
    """
    sigma_r = check_float(sigma_r, "sigma_r", minimum=0.0, strict_min=True)
    P, D = (resnet_gram if spec.engine == "gram" else resnet_dense)(spec, sigma_r)
    return _batch(spec, "resnet", P, D, dict(sigma_r=sigma_r))
