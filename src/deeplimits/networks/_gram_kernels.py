"""Numba kernels of the Gram-exact engine (see :mod:`deeplimits.networks.gram`).

State representation
--------------------
The m x m Gram matrix of a layer is stored as

* ``P[a]``      -- its diagonal (scaled squared norms), and
* ``D[a, b]``   -- ``|e_a - e_b|^2`` with ``e_a`` the *normalised* vector of input ``a``,
  so that ``1 - rho_ab = D[a, b] / 2`` exactly.

``D`` is accumulated from differences of normalised vectors, never as ``1 - rho``, so that
``1 - rho`` keeps its relative precision when ``rho`` is close to 1 (deep ReLU networks reach
``1 - rho ~ 1e-5`` at depth 2000, where ``1 - G_ab / sqrt(G_aa G_bb)`` would lose 5 digits).

Sampling a Gaussian m-vector with correlation matrix ``C = 1 - D / 2`` is done relative to input 0:
``e_a = e_0 + v_a`` with ``v_0 = 0``.  For ``xi ~ N(0, I)`` put ``g_0 = e_0 . xi`` and ``w_a = v_a . xi``;
then ``(g_0, w_1, ..., w_{m-1})`` is Gaussian with covariance

    K_00 = 1,  K_0a = e_0 . v_a = -D_a0 / 2,  K_ab = v_a . v_b = (D_a0 + D_b0 - D_ab) / 2,

whose entries are all computed from small numbers, and ``z_a = sqrt(P_a) (g_0 + w_a)``.
The Cholesky factor of ``K`` is therefore accurate where that of ``C`` would not be.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import fill_normals, stream_state

# The random numbers are inlined into the cached kernels of this module, and Numba's on-disk cache does
# not see changes to imported functions: the normals changed with the vectorised Box--Muller blocks of
# deeplimits.rng (2026-12), and this note changes this file so that stale cached kernels are recompiled.


@nb.njit(cache=True)
def _factor_from_distances(D, L):
    """Lower Cholesky factor ``L`` of ``K`` (module docstring); negative rounding-level pivots -> 0."""
    m = D.shape[0]
    for i in range(m):
        for j in range(m):
            L[i, j] = 0.0
    for j in range(m):
        for i in range(j, m):
            if i == 0:
                kij = 1.0
            elif j == 0:
                kij = -0.5 * D[i, 0]
            else:
                kij = 0.5 * (D[i, 0] + D[j, 0] - D[i, j])
            acc = kij
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            if i == j:
                # K is PSD in exact arithmetic; a rank-deficient K (identical inputs) gives a zero pivot.
                L[j, j] = np.sqrt(acc) if acc > 0.0 else 0.0
            elif L[j, j] > 0.0:
                L[i, j] = acc / L[j, j]
            else:
                L[i, j] = 0.0


@nb.njit(cache=True, inline="always")
def _correlated_row(L, scale, xi, z):
    """z_a = scale_a (g_0 + w_a) with (g_0, w) = L xi (module docstring)."""
    m = xi.shape[0]
    g0 = L[0, 0] * xi[0]
    z[0] = scale[0] * g0
    for a in range(1, m):
        w = 0.0
        for k in range(a + 1):
            w += L[a, k] * xi[k]
        z[a] = scale[a] * (g0 + w)


@nb.njit(cache=True, inline="always")
def _gaussian_rows(s, L, scale, xi, z, out):
    """Fill the n rows of ``out`` with iid rows ``z`` (:func:`_correlated_row`) from stream state ``s``; returns it."""
    for i in range(out.shape[0]):
        s = fill_normals(s, xi)
        _correlated_row(L, scale, xi, z)
        for a in range(z.size):
            out[i, a] = z[a]
    return s


@nb.njit(cache=True)
def _column_stats(h, S, D):
    """S[a] = |h_a|^2 and D[a, b] = |h_a/|h_a| - h_b/|h_b||^2 (2 if a column vanishes)."""
    n, m = h.shape
    for a in range(m):
        acc = 0.0
        for i in range(n):
            acc += h[i, a] * h[i, a]
        S[a] = acc
    for a in range(m):
        D[a, a] = 0.0
        for b in range(a + 1, m):
            if S[a] > 0.0 and S[b] > 0.0:
                ra = 1.0 / np.sqrt(S[a])
                rb = 1.0 / np.sqrt(S[b])
                acc = 0.0
                for i in range(n):
                    d = h[i, a] * ra - h[i, b] * rb
                    acc += d * d
            else:
                # A dead column (all units zero) has no direction.  For sampling it is treated as
                # orthogonal to all others (K stays PSD and its scale is 0, so its values are exactly 0);
                # the stored output marks its correlations as NaN (see _store).
                acc = 2.0
            D[a, b] = acc
            D[b, a] = acc


@nb.njit(cache=True)
def _store(P, D, S, net, k, out_P, out_D):
    """Write layer output; correlations involving a dead column (S == 0) are undefined: NaN."""
    m = P.shape[0]
    for a in range(m):
        out_P[net, k, a] = P[a]
        for b in range(m):
            out_D[net, k, a, b] = np.nan if (S[a] == 0.0 or S[b] == 0.0) else D[a, b]


@nb.njit(cache=True, parallel=True)
def mlp_gram_kernel(P0, D0, n, depth, seed, first_path, save_slot, out_P, out_D, s_plus, s_minus, cnorm):
    """Gram-exact MLP: Phi_l = (cnorm/n) phi(h_l)^T phi(h_l), h_l | Phi_{l-1} ~ N(0, Phi_{l-1} (x) I_n).

    ``save_slot[l]`` is the output slot of layer ``l`` (``-1``: not saved).  Network ``k`` uses
    random stream ``(seed, first_path + k)``, so results do not depend on the number of threads.
    """
    n_nets = out_P.shape[0]
    m = P0.shape[0]
    for net in nb.prange(n_nets):
        s = stream_state(seed, first_path + net)
        P = P0.copy()
        D = D0.copy()
        L = np.zeros((m, m))
        h = np.empty((n, m))
        xi = np.empty(m)
        z = np.empty(m)
        scale = np.empty(m)
        S = P0.copy()
        if save_slot[0] >= 0:
            _store(P, D, S, net, save_slot[0], out_P, out_D)
        for layer in range(1, depth + 1):
            _factor_from_distances(D, L)
            for a in range(m):
                scale[a] = np.sqrt(P[a])
            s = _gaussian_rows(s, L, scale, xi, z, h)
            for i in range(n):
                for a in range(m):
                    h[i, a] = s_plus * h[i, a] if h[i, a] > 0.0 else s_minus * h[i, a]
            _column_stats(h, S, D)
            for a in range(m):
                P[a] = cnorm * S[a] / n
            k = save_slot[layer]
            if k >= 0:
                _store(P, D, S, net, k, out_P, out_D)


@nb.njit(cache=True, parallel=True)
def resnet_gram_kernel(P0, D0, n, depth, seed, first_path, save_slot, out_P, out_D, sigma_r):
    """Gram-exact ResNet h_{l+1} = h_l + d^-1/2 n^-1/2 W_l relu(h_l), W_l iid N(0, sigma_r^2).

    Given h_l the branch has iid rows N(0, (sigma_r^2/d) G_l), G_l = relu(h_l)^T relu(h_l) / n, so the
    state is the n x m matrix h_l itself (O(n m^2) per layer).  Rows of h_0 are iid N(0, Phi_0).
    Outputs are P = |h_l^a|^2 / n and the normalised distances D of the columns of h_l.
    """
    n_nets = out_P.shape[0]
    m = P0.shape[0]
    var_scale = sigma_r * sigma_r / depth
    for net in nb.prange(n_nets):
        s = stream_state(seed, first_path + net)
        L = np.zeros((m, m))
        h = np.empty((n, m))
        act = np.empty((n, m))
        xi = np.empty(m)
        z = np.empty(m)
        scale = np.empty(m)
        S = np.empty(m)
        Dn = np.empty((m, m))
        _factor_from_distances(D0, L)
        for a in range(m):
            scale[a] = np.sqrt(P0[a])
        s = _gaussian_rows(s, L, scale, xi, z, h)
        for layer in range(0, depth + 1):
            k = save_slot[layer]
            if k >= 0:
                _column_stats(h, S, Dn)
                for a in range(m):
                    z[a] = S[a] / n
                _store(z, Dn, S, net, k, out_P, out_D)
            if layer == depth:
                break
            for i in range(n):
                for a in range(m):
                    act[i, a] = h[i, a] if h[i, a] > 0.0 else 0.0
            _column_stats(act, S, Dn)
            _factor_from_distances(Dn, L)
            for a in range(m):
                scale[a] = np.sqrt(var_scale * S[a] / n)
            s = _gaussian_rows(s, L, scale, xi, z, act)
            for i in range(n):
                for a in range(m):
                    h[i, a] += act[i, a]
