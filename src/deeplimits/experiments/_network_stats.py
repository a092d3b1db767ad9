"""Statistics of the network validation experiments: how "the distance extrapolates to zero" is tested.

Signed quantile differences fitted against the width, with a bootstrap null
(:func:`quantile_extrapolation`; ``docs/theory/finite-networks.md`` section 6.0), used by
:mod:`deeplimits.experiments.corr_networks` and :mod:`deeplimits.experiments.corr_networks_shaped`.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = [
    "PROBS",
    "MODELS",
    "LOG",
    "rate_label",
    "wasserstein",
    "fit_intercept",
    "fit_rates",
    "quantile_extrapolation",
    "experiment_doc",
    "hist",
]


def wasserstein(x, y):
    """W1 distance of two empirical laws.

    Parameters
    ----------
    x, y : array_like
        Samples.

    Returns
    -------
    float

    Examples
    --------
    >>> wasserstein([0.0, 1.0], [0.5, 1.5])
    0.5
    """
    # scipy's wasserstein_distance ends in a BLAS dot product whose rounding depends on the BLAS
    # thread count (cluster workers run with one): integrate |F_x - F_y| with a plain sum instead.
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    y = np.sort(np.asarray(y, dtype=np.float64).ravel())
    knots = np.sort(np.concatenate([x, y]))
    cdf_x = np.searchsorted(x, knots[:-1], side="right") / x.size
    cdf_y = np.searchsorted(y, knots[:-1], side="right") / y.size
    return float(np.sum(np.abs(cdf_x - cdf_y) * np.diff(knots)))


def fit_intercept(x, y, se):
    """Weighted least squares ``y = a + b x`` with weights ``1 / se^2``.

    Parameters
    ----------
    x, y, se : ndarray, shape (k,)
        Abscissae, values and their standard errors (k >= 2).

    Returns
    -------
    a, b, se_a, se_b, chi2_per_dof : float
        Coefficients, their standard errors from the fit covariance, and ``chi2 / max(1, k - 2)``.
    """
    A = np.stack([np.ones_like(x), x], axis=1)
    w = 1.0 / np.asarray(se) ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    resid = y - A @ coef
    dof = max(1, x.size - 2)
    chi2 = float(np.sum(w * resid**2) / dof)
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])), chi2


#: Quantile levels of the trimmed W1 distance (the 1% tails of heavy-tailed laws would dominate its noise).
PROBS = np.linspace(0.01, 0.99, 99)


#: Rate name of the ``log(n)/n`` column of a finite-width model (the other rates are exponents r of ``n^-r``).
LOG = "log(n)/n"


def _column(widths, rate):
    return np.log(widths) / widths if rate == LOG else widths ** -float(rate)


def _design(widths, rates):
    """Columns ``1, c_1(n), c_2(n), ...`` of ``a + sum_j b_j c_j(n)``, ``c_j = n^-r_j`` or ``log(n)/n``."""
    widths = np.asarray(widths, dtype=float)
    return np.stack([np.ones_like(widths)] + [_column(widths, r) for r in rates], axis=1)


def rate_label(rates):
    """``"b1 n^-0.5 + b2 log(n)/n"``-style text of a finite-width model's correction terms."""
    return " + ".join(f"b{k} {r}" if r == LOG else f"b{k} n^-{float(r):g}" for k, r in enumerate(rates, 1))


def fit_rates(widths, y, se, rates=(1.0,)):
    """Weighted least squares ``y = a + sum_j b_j c_j(n)`` (weights ``1 / se^2``).

    Parameters
    ----------
    widths, y, se : ndarray, shape (k,)
        Widths, values and standard errors (k > len(rates)).
    rates : sequence of float or str
        The corrections ``c_j(n)``: an exponent ``r`` for ``n^-r``, or :data:`LOG` for ``log(n)/n``.

    Returns
    -------
    a, se_a, chi2_per_dof : float
        Intercept (the value at n = infinity), its standard error from the fit covariance inflated by
        ``sqrt(chi2/dof)`` when that exceeds 1, and ``chi2 / max(1, dof)``.
    """
    A = _design(widths, rates)
    w = 1.0 / np.asarray(se) ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ coef) ** 2) / max(1, y.size - A.shape[1]))
    return float(coef[0]), float(np.sqrt(cov[0, 0]) * max(1.0, np.sqrt(chi2))), chi2


def _intercept_rows(A, w):
    """Row vectors r with ``a = r . y`` for the weighted fit ``y = A c`` (``a = c[0]``), one per column of ``w``."""
    rows = np.empty((w.shape[1], A.shape[0]))
    for j in range(w.shape[1]):
        AW = A.T * w[:, j]  # (n_coef, k)
        rows[j] = np.linalg.solve(AW @ A, AW)[0]
    return rows


def _power_law(x, delta, w):
    """Fit ``delta[k, p] = A[p] (x_k / x_ref)^gamma`` (x = 1/n, x_ref = min x) by weighted least squares.

    Returns ``(gamma, D_ref = mean_p |A(p)|)``: ``D_ref`` is the fitted distance at the largest fitted width,
    nearly uncorrelated with ``gamma`` (the prefactor of ``n^-gamma`` itself is not).
    """
    x = x / x.min()

    def amplitudes(g):
        xg = x**g
        return xg, (w * delta * xg[:, None]).sum(0) / (w * xg[:, None] ** 2).sum(0)

    def sse(g):
        xg, A = amplitudes(g)
        return float((w * (delta - xg[:, None] * A) ** 2).sum())

    g = optimize.minimize_scalar(sse, bounds=(0.05, 4.0), method="bounded", options=dict(xatol=1e-4)).x
    return float(g), float(np.mean(np.abs(amplitudes(g)[1])))


def _extrapolated(widths, rates, delta, boot, w):
    """W1_inf = mean_p |a(p)| for ``delta = a + sum_j b_j n^-r_j`` and its bootstrap null (mean, sd)."""
    rows = _intercept_rows(_design(widths, rates), w)  # (P, k_fit)
    a = np.einsum("pk,kp->p", rows, delta)
    null = np.abs(np.einsum("pk,bkp->bp", rows, boot) - a).mean(axis=1)
    return dict(w1_inf=float(np.abs(a).mean()), null_mean=float(null.mean()), null_sd=float(null.std(ddof=1)))


#: Finite-width models reported by :func:`quantile_extrapolation` besides the checked one.
MODELS = {"1/n": (1.0,), "n^-1/2": (0.5,), "n^-1/2 + 1/n": (0.5, 1.0)}


def quantile_extrapolation(samples, ref, widths, fit, *, scale=1.0, n_boot=200, seed=0, probs=PROBS, rates=(1.0,)):
    """Extrapolate the distance between finite-width laws and a limit law to infinite width.

    The trimmed W1 distance ``W1(n) = mean_p |delta_n(p)|``, ``delta_n(p) = (Q_n(p) - Q_ref(p)) / scale``
    (quantile functions on ``probs``), is biased upwards by sampling noise, so its own extrapolation cannot
    reach zero.  The signed quantile differences are not: each ``delta_n(p)`` is fitted as
    ``a(p) + sum_j b_j(p) n^-r_j`` (``rates``; default ``a + b/n``) over the widths ``fit`` (weights from
    bootstrap variances), and the extrapolated
    distance is ``W1_inf = mean_p |a(p)|``.  Its sampling law *if the true intercepts were zero* is
    ``mean_p |a*(p) - a(p)|`` over bootstrap replicates (every width's sample and the reference resampled
    together, so the reference shared by all widths is accounted for).  The finite-width correction is
    measured as ``delta_n(p) = A(p) (n / n_ref)^-gamma`` (common gamma, weighted least squares, ``n_ref`` the
    largest fitted width), i.e. ``W1(n) ~ C n^-gamma`` with ``C = D_ref n_ref^gamma``, ``D_ref = mean_p |A(p)|``;
    bootstrap standard errors for ``gamma`` and ``D_ref``.

    Parameters
    ----------
    samples : sequence of 1-D ndarray
        Finite-width samples, one per width.
    ref : 1-D ndarray
        Sample of the limit law.
    widths : ndarray of int
        Widths of ``samples``.
    fit : ndarray of bool
        Widths used in the fits (at least 2 for the intercept, 3 for the power law's standard error).
    scale : float
        Distances are divided by ``scale`` (e.g. the limit mean, for relative distances).
    n_boot : int
        Bootstrap replicates.
    seed : int
        Seed of the bootstrap resampling.
    probs : ndarray
        Quantile levels.
    rates : sequence of float
        Exponents of the finite-width model used for ``w1_inf``.

    Returns
    -------
    dict
        ``w1`` (per width), ``w1_noise`` (per width: bootstrap mean of ``mean_p |delta* - delta|``, the
        distance sampling noise alone produces), ``w1_inf``, ``null_mean``, ``null_sd`` (of the bootstrap
        null law of ``w1_inf``), ``models`` (the same three for every model of :data:`MODELS`), ``gamma``,
        ``gamma_se``, ``n_ref``, ``D_ref``, ``D_ref_se``, ``C``,
        and ``rates``.
    """
    rng = np.random.default_rng(seed)
    widths = np.asarray(widths, dtype=float)
    delta = np.array([np.quantile(s, probs) for s in samples]) - np.quantile(ref, probs)
    boot = np.empty((n_boot,) + delta.shape)
    for b in range(n_boot):
        qr = np.quantile(rng.choice(ref, ref.size), probs)
        for k, s in enumerate(samples):
            boot[b, k] = np.quantile(rng.choice(s, s.size), probs) - qr
    delta, boot = delta / scale, boot / scale
    w = 1.0 / boot.var(axis=0, ddof=1)  # (K, P)
    x = 1.0 / widths[fit]
    checked = _extrapolated(widths[fit], rates, delta[fit], boot[:, fit], w[fit])
    models = {
        name: _extrapolated(widths[fit], r, delta[fit], boot[:, fit], w[fit])
        for name, r in MODELS.items()
        if len(r) < fit.sum()
    }
    gamma, d_ref = _power_law(x, delta[fit], w[fit])
    gb = np.array([_power_law(x, boot[b, fit], w[fit]) for b in range(min(n_boot, 100))])
    n_ref = float(widths[fit].max())
    return dict(
        w1=np.abs(delta).mean(axis=1).tolist(),
        w1_noise=np.abs(boot - delta).mean(axis=2).mean(axis=0).tolist(),
        **checked,
        rates=list(rates),
        models=models,
        gamma=gamma,
        gamma_se=float(gb[:, 0].std(ddof=1)),
        n_ref=n_ref,
        D_ref=d_ref,
        D_ref_se=float(gb[:, 1].std(ddof=1)),
        C=d_ref * n_ref**gamma,
    )


def experiment_doc(func):
    """Append the Parameters/Returns sections shared by every experiment function to its docstring."""
    func.__doc__ = (
        func.__doc__
        + """

    Parameters
    ----------
    params : dict
        The ``quick`` or ``full`` parameter set of the decorator.
    seed : int
        Base seed; sub-tasks use ``seed * 1000 + k``.
    outdir : pathlib.Path
        Folder for the PNG figures.

    Returns
    -------
    deeplimits.validation.Outcome
        Checks (criterion of the decorator), metrics and figures.
    """
    )
    return func


def hist(ax, x, bins, **kw):
    h, e = np.histogram(x, bins=bins, density=True)
    ax.step(0.5 * (e[1:] + e[:-1]), h, where="mid", **kw)
