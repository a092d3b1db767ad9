"""Scaling exponents of ResNet weights against the depth, with bootstrap confidence intervals.

Cohen et al. (2021, Sec. 3) fit log-statistics of trained weights against ``log L``.  For per-layer weights
``A_0..A_{L-1}`` (any shape) of networks of several depths ``L`` we fit, by least squares on ``log L``:

``max_norm``        ``max_k ||A_k||_F``: slope ``-beta`` (the weights are ``O(L^-beta)``);
``max_norm_corrected`` the same divided by ``q_L``, the bootstrap expectation of the maximum of ``L`` draws
                    from the layer norms (in units of their RMS).  For i.i.d. noise ``q_L`` carries the
                    ``sqrt(2 log L)`` growth of maxima and the corrected statistic scales like the RMS
                    norm; for smooth weights ``q_L`` tends to a constant and the slope is unchanged;
``increment``       ``max_k ||A_{k+1} - A_k||_F / max_k ||A_k||_F`` (increments of ``L^beta A_k``, with no
                    ``beta`` typed in by hand): slope ``-1`` for smooth weights, about ``0`` for noise;
``root_ssq``        ``sqrt(sum_k ||A_k||_F^2)``: slope ``1/2 - beta`` for smooth weights, ``0`` for
                    i.i.d. ``L^-1/2`` noise;
``quadratic_variation`` ``L/(L-1) sum_k ||A_{k+1} - A_k||_F^2`` (``L`` times the mean squared increment; the
                    plain sum over the ``L - 1`` increments would carry a factor ``1 - 1/L`` that tilts the
                    slope, by +0.02 over depths 16 to 256): slope ``-1 - 2 beta`` (smooth), ``0`` (diffusive).

Confidence intervals: moving-block bootstrap of the layers within each network (blocks of length
``ceil(L^{1/3})`` keep the short-range dependence; increments are computed before resampling so block
joins create no spurious jumps), slopes refitted on every replicate, percentile intervals; the interval is
then widened to contain the ordinary-least-squares t-interval of the fit (model misfit across depths).  At
least three depths are required: with two the fit has no residual, and the bootstrap interval alone
under-covers (about 88 % at level 0.95 for i.i.d. weights).  With three or more depths the intervals are
conservative.  Measured coverage at level 0.95 (``d x d`` weights with ``d = 8``, 150 bootstrap replicates;
binomial standard error in brackets):

* i.i.d. ``L^-1/2`` weights, one network per depth, depths 16 to 256 (five, 400 designs): 96.8 % (0.9) for
  ``max_norm_corrected``, 97.8 % (0.7) for ``root_ssq``, 98.5 % (0.6) for ``quadratic_variation``; depths 16 to
  128 (four, 200 designs): 98.0 % (1.0), 96.5 % (1.3), 98.0 % (1.0); depths 16, 64, 256 (three, 200 designs):
  99.0 %, 99.5 %, 98.5 %, with intervals three to four times wider than with five depths;
* one smooth weight function ``L^-beta A(k/L)`` shared by all depths (300 designs at five depths, 200 at three):
  100 % for ``max_norm_corrected`` and ``root_ssq``, whose slope errors (standard deviations 0.002 and 0.001)
  are discretisation errors rather than noise, and 97.7 % (0.9) for ``increment`` (100 % at three depths).

Verdict (rule fixed here, reported with the result):
* ``"smooth (ODE)"`` if the upper end of the ``increment`` slope interval is below ``-1/2``;
* ``"diffusive (SDE)"`` if the ``increment`` interval lies above ``-1/2`` and the ``quadratic_variation``
  interval meets ``[-1/4, 1/4]`` (finite non-zero quadratic variation);
* ``"neither"`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as _st

from .._checks import check_array, check_int, check_probability, check_seed

__all__ = ["ScalingEstimate", "estimate_scaling", "layer_statistics", "expected_bootstrap_max"]

STATISTICS = ("max_norm", "max_norm_corrected", "increment", "root_ssq", "quadratic_variation")


@dataclass(repr=False)
class ScalingEstimate:
    """Result of :func:`estimate_scaling`.

    Attributes
    ----------
    depths : ndarray
        The depths, increasing.
    statistics : dict of str -> ndarray
        Each statistic at each depth.
    slopes : dict of str -> float
        Least-squares slope of ``log(statistic)`` on ``log L``.
    ci : dict of str -> (float, float)
        Confidence interval of each slope (level ``level``).
    beta : float
        ``-slope`` of ``max_norm_corrected``: the exponent of the weights, ``max_k ||A_k|| ~ L^-beta``.
    verdict : str
        ``"smooth (ODE)"``, ``"diffusive (SDE)"`` or ``"neither"``.
    rule : str
        The rule and the numbers that produced the verdict.
    level : float
    """

    depths: np.ndarray
    statistics: dict
    slopes: dict
    ci: dict
    beta: float
    verdict: str
    rule: str
    level: float = 0.95
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"ScalingEstimate(depths={self.depths.tolist()}, beta={self.beta:.3g}, verdict={self.verdict!r}, "
            f"level={self.level})"
        )


def _to_numpy(x):
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"weights_by_depth must hold arrays of numbers, got {type(x).__name__}") from None


def _from_state_dict(sd, pattern):
    rx = re.compile(pattern)
    items = []
    for name, val in sd.items():
        if rx.search(name):
            m = re.search(r"(\d+)", name)
            if m is None:
                raise ValueError(f"state-dict entry {name!r} matches {pattern!r} but has no layer index")
            items.append((int(m.group(1)), name, val))
    if not items:
        raise ValueError(f"no state-dict entry matches {pattern!r}")
    items.sort()
    return [v for _, _, v in items]


def _layers(w, pattern):
    if isinstance(w, dict):
        w = _from_state_dict(w, pattern)
    if isinstance(w, (list, tuple)):
        arrs = [_to_numpy(a) for a in w]
        shapes = {a.shape for a in arrs}
        if len(shapes) != 1:
            raise ValueError(
                f"weights_by_depth: per-layer weights of one network must share a shape, got {sorted(shapes)}"
            )
        a = np.stack(arrs)
    else:
        a = _to_numpy(w)
        if a.ndim < 1:
            raise ValueError("weights_by_depth: weights of one network must have a leading layer axis")
    if not np.all(np.isfinite(a)):
        raise ValueError("weights_by_depth must be finite (found NaN or inf)")
    return a.reshape(a.shape[0], -1)


def expected_bootstrap_max(x: ArrayLike, n: int | None = None) -> float:
    """Expectation of the maximum of ``n`` draws with replacement from the sample ``x``.

    ``sum_j x_(j) [(j/m)^n - ((j-1)/m)^n]`` over the order statistics ``x_(1) <= ... <= x_(m)`` (exact, no
    resampling).  Used to remove the ``sqrt(2 log L)`` growth of maxima of i.i.d. layer norms.

    Parameters
    ----------
    x : array_like, shape (m,)
        The sample.
    n : int, optional
        Number of draws; default ``m = len(x)``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(expected_bootstrap_max([1.0, 2.0, 3.0]), 4)
    2.6667
    """
    xs = np.sort(check_array(x, "x", ndim=1, min_size=1))
    m = xs.size
    n = m if n is None else check_int(n, "n", minimum=1)
    j = np.arange(1, m + 1)
    w = (j / m) ** n - ((j - 1) / m) ** n
    return float(np.dot(w, xs))


def _stats_from(nrm, inc):
    # nrm: layer norms (L,), inc: increment norms (L-1,)
    mx = nrm.max()
    rms = np.sqrt(np.mean(nrm**2))
    q = expected_bootstrap_max(nrm / rms) if rms > 0 else 1.0
    return np.array(
        [
            mx,
            mx / q,
            inc.max() / mx if inc.size else np.nan,
            np.sqrt(np.sum(nrm**2)),
            nrm.size * np.mean(inc**2) if inc.size else np.nan,
        ]
    )


def layer_statistics(layers: ArrayLike) -> NDArray[np.float64]:
    """The five scaling statistics of one network's per-layer weights.

    Parameters
    ----------
    layers : array_like, shape (L, n_params)
        Flattened weights of layers ``0..L-1``.

    Returns
    -------
    ndarray, shape (5,)
        ``max_norm``, ``max_norm_corrected``, ``increment``, ``root_ssq``, ``quadratic_variation`` (the order
        of ``STATISTICS``; definitions in the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> layer_statistics(np.ones((4, 2))).shape
    (5,)
    """
    layers = np.asarray(layers, dtype=np.float64)
    nrm = np.linalg.norm(layers, axis=1)
    inc = np.linalg.norm(np.diff(layers, axis=0), axis=1)
    return _stats_from(nrm, inc)


def _fit(logL, logS):
    # OLS slope for each column of logS (n_depths, n_stats)
    x = logL - logL.mean()
    return (x @ (logS - logS.mean(0))) / (x @ x)


def _block_resample(rng, nrm, inc, block):
    L = nrm.size
    n_blocks = -(-L // block)
    starts = rng.integers(0, L - block + 1, size=n_blocks)
    idx = (starts[:, None] + np.arange(block)[None]).ravel()[:L]
    idx_inc = idx[idx < L - 1]
    return nrm[idx], inc[idx_inc]


def estimate_scaling(
    weights_by_depth: Mapping[int, Any] | Sequence[Any],
    *,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int = 0,
    pattern: str = r"weight",
) -> ScalingEstimate:
    """Scaling exponents of per-layer weights against the depth.

    Parameters
    ----------
    weights_by_depth : dict or sequence
        For each depth, one network's per-layer weights: an array ``(L, ...)`` (leading layer axis), a list of
        ``L`` equally shaped arrays, or a torch state dict (entries whose name matches ``pattern``, ordered by
        the first integer in the name).  As a dict, keys are the depths and must equal the number of layers;
        as a sequence, the depth is the number of layers.  At least three distinct depths.
    n_boot : int
        Bootstrap replicates (>= 50).
    level : float
        Confidence level in (0, 1).
    seed : int
        Seed of the bootstrap.
    pattern : str
        Regular expression selecting state-dict entries.

    Returns
    -------
    ScalingEstimate

    Raises
    ------
    ValueError
        Fewer than three distinct depths, a network with fewer than 2 layers, inconsistent shapes, a key that
        differs from the number of layers, or non-finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> from deeplimits.resnet import estimate_scaling, iid_weights
    >>> ws = {L: iid_weights(1, L, (4, 4), seed=L)[0] / np.sqrt(L) for L in (16, 32, 64, 128)}
    >>> est = estimate_scaling(ws, n_boot=100)
    >>> est.verdict, round(est.beta, 1)
    ('diffusive (SDE)', 0.5)
    """
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a regular expression (str), got {type(pattern).__name__}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern must be a valid regular expression, got {pattern!r} ({exc})") from None
    if not isinstance(weights_by_depth, (dict, list, tuple)):
        raise TypeError(
            "weights_by_depth must be a dict depth -> weights or a list of weights, "
            f"got {type(weights_by_depth).__name__}"
        )
    if isinstance(weights_by_depth, dict) and weights_by_depth and all(isinstance(k, str) for k in weights_by_depth):
        raise ValueError("weights_by_depth must map depth -> weights (got a single state dict?)")
    items = (
        list(weights_by_depth.items()) if isinstance(weights_by_depth, dict) else [(None, w) for w in weights_by_depth]
    )
    nets = []
    for key, w in items:
        a = _layers(w, pattern)
        if key is not None and check_int(key, "weights_by_depth key", minimum=2) != a.shape[0]:
            raise ValueError(f"weights_by_depth[{key}] has {a.shape[0]} layers, expected {key}")
        if a.shape[0] < 2:
            raise ValueError(f"weights_by_depth: each network needs at least 2 layers (increments), got {a.shape[0]}")
        nets.append(a)
    if len({a.shape[1] for a in nets}) > 1:
        raise ValueError(
            "weights_by_depth: per-layer weights have inconsistent shapes across depths: "
            f"{sorted({a.shape[1] for a in nets})} parameters per layer"
        )
    depths = np.array([a.shape[0] for a in nets], dtype=np.float64)
    if np.unique(depths).size < 3:
        # With two depths the fit has no residual to measure the misfit across depths, and the
        # within-network bootstrap alone covers only ~88 % at level 0.95 (i.i.d. L^-1/2 weights).
        raise ValueError(
            "weights_by_depth needs at least three distinct depths: with two, the slope has no confidence "
            f"interval of the stated level (got depths {sorted({int(d) for d in depths})})"
        )
    n_boot = check_int(n_boot, "n_boot", minimum=50)
    level = check_probability(level, "level")
    seed = check_seed(seed)
    order = np.argsort(depths, kind="stable")
    nets = [nets[i] for i in order]
    depths = depths[order]
    logL = np.log(depths)

    norms = [np.linalg.norm(a, axis=1) for a in nets]
    incs = [np.linalg.norm(np.diff(a, axis=0), axis=1) for a in nets]
    S = np.array([_stats_from(n, i) for n, i in zip(norms, incs, strict=True)])
    if np.any(S <= 0):
        raise ValueError("a statistic is zero at some depth (all-zero weights?); no log-log slope")
    logS = np.log(S)
    slopes = _fit(logL, logS)

    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, len(STATISTICS)))
    for r in range(n_boot):
        Sb = np.empty_like(S)
        for j, (n, i) in enumerate(zip(norms, incs, strict=True)):
            block = int(np.ceil(n.size ** (1.0 / 3.0)))
            nb_, ib_ = _block_resample(rng, n, i, block)
            Sb[j] = _stats_from(nb_, ib_)
        boot[r] = _fit(logL, np.log(np.maximum(Sb, 1e-300)))
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, a, axis=0), np.quantile(boot, 1.0 - a, axis=0)
    # Widen by the OLS t-interval (misfit across depths), when there are enough depths for one.
    k = depths.size
    if k > 2:
        x = logL - logL.mean()
        resid = logS - logS.mean(0) - np.outer(x, slopes)
        se = np.sqrt((resid**2).sum(0) / (k - 2) / (x @ x))
        t = _st.t.ppf(1.0 - a, k - 2)
        lo = np.minimum(lo, slopes - t * se)
        hi = np.maximum(hi, slopes + t * se)
    sl = {s: float(v) for s, v in zip(STATISTICS, slopes, strict=True)}
    ci = {s: (float(l_), float(h_)) for s, l_, h_ in zip(STATISTICS, lo, hi, strict=True)}
    stats_d = {s: S[:, j] for j, s in enumerate(STATISTICS)}
    verdict, rule = _verdict(sl, ci)
    return ScalingEstimate(
        depths=depths.astype(int),
        statistics=stats_d,
        slopes=sl,
        ci=ci,
        beta=-sl["max_norm_corrected"],
        verdict=verdict,
        rule=rule,
        level=level,
    )


def _verdict(sl, ci):
    ilo, ihi = ci["increment"]
    qlo, qhi = ci["quadratic_variation"]
    nums = (
        f"increment slope {sl['increment']:.3f} [{ilo:.3f}, {ihi:.3f}], quadratic-variation slope "
        f"{sl['quadratic_variation']:.3f} [{qlo:.3f}, {qhi:.3f}]"
    )
    if ihi < -0.5:
        return "smooth (ODE)", f"increment-slope interval below -1/2: {nums}"
    if ilo > -0.5 and qlo <= 0.25 and qhi >= -0.25:
        return (
            "diffusive (SDE)",
            f"increment-slope interval above -1/2 and quadratic-variation interval meets [-1/4, 1/4]: {nums}",
        )
    return "neither", f"neither rule holds: {nums}"
