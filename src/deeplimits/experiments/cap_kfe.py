"""Validation experiments for the capacity KFE solvers: ``cap.fd_orders`` and ``cap.kfe_to_diffusion``.

``cap.fd_orders``
    Spatial and depth orders of every finite-difference scheme of
    :mod:`deeplimits.capacity.kfe`, measured on problems with exact solutions
    (Fourier modes, Gaussian Green's functions, the exact solution of the
    spatially discretised system, the FFT solution of the periodic master
    equation), with depth-dependent coefficients.
``cap.kfe_to_diffusion``
    The lattice master equation against its drift--diffusion PDE as the jump rate
    grows like ``1 / eps^2`` while the lattice spacing ``eps`` shrinks (diffusive
    scaling: drift and diffusion of the limit fixed).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deeplimits.capacity.kfe import MasterEquation, gaussian_1d, integral, lattice_1d, master_exact_periodic
from deeplimits.plotting import legend_outside, log_ticks, series_style
from deeplimits.validation import Check, Outcome, experiment, save_figure

from ._cap_common import order_check, outcome, slope
from ._cap_kfe_problems import (
    TENSOR,
    depth_errors_1d,
    depth_errors_2d,
    depth_errors_master,
    space_errors_1d_absorbing,
    space_errors_1d_gaussian,
    space_errors_1d_periodic,
    space_errors_2d,
)
from ._perturbed import factors


@experiment(
    id="cap.fd_orders",
    checks="spatial order 2 (central; upwind 1) and depth orders 1 (explicit, implicit Euler [2-D: Douglas ADI "
    "theta = 1], Douglas with mixed term) / 2 (Crank-Nicolson [2-D: ADI], Peaceman-Rachford, Douglas diagonal, "
    "Hundsdorfer-Verwer) of the KFE "
    "finite-difference schemes, 1-D, 2-D and master equation, depth-dependent coefficients",
    criterion="every log-log slope of max error against h or dt, over >= 4 halvings, "
    "within +-0.2 of its theoretical order",
    quick=dict(
        ns_1d=[32, 64, 128, 256],
        ns_2d=[12, 24, 48, 96],
        n_steps_2d=400,
        steps_1d=[100, 200, 400, 800],
        steps_2d=[80, 160, 320, 640],
        steps_master=[20, 40, 80, 160],
    ),
    full=dict(
        ns_1d=[32, 64, 128, 256, 512, 1024],
        ns_2d=[12, 24, 48, 96, 192],
        n_steps_2d=1600,
        steps_1d=[100, 200, 400, 800, 1600, 3200],
        steps_2d=[80, 160, 320, 640, 1280],
        steps_master=[20, 40, 80, 160, 320, 640],
    ),
)
def fd_orders(params, *, seed, outdir):
    """Measure the orders of all KFE schemes (deterministic: ``seed`` unused)."""
    ns1 = params["ns_1d"]
    ns_abs = [n // 2 for n in ns1]
    ns_g = [int(n * 50 / 32) for n in ns1]
    space = {
        "1d_central_periodic_CN": (ns1, space_errors_1d_periodic(ns1), 2),
        "1d_upwind_periodic_CN": (
            [2 * n for n in ns1],
            space_errors_1d_periodic([2 * n for n in ns1], advection="upwind"),
            1,
        ),
        "1d_gaussian_drift_reflecting_CN": (ns_g, space_errors_1d_gaussian(ns_g), 2),
        "1d_sine_absorbing_CN": (ns_abs, space_errors_1d_absorbing(ns_abs), 2),
        "2d_full_tensor_periodic_HV": (params["ns_2d"], space_errors_2d(params["ns_2d"], params["n_steps_2d"]), 2),
    }
    s1, s2, sm = params["steps_1d"], params["steps_2d"], params["steps_master"]
    depth = {
        "1d_explicit": (s1, depth_errors_1d("euler", s1), 1),
        "1d_implicit_euler": (s1, depth_errors_1d("implicit_euler", s1), 1),
        "1d_crank_nicolson": (s1, depth_errors_1d("crank_nicolson", s1), 2),
        "2d_explicit": (s2, depth_errors_2d("euler", TENSOR, s2), 1),
        "2d_implicit_euler_adi_diagonal": (s2, depth_errors_2d("implicit_euler", (0.3, 0.2), s2), 1),
        "2d_crank_nicolson_adi_diagonal": (s2, depth_errors_2d("crank_nicolson", (0.3, 0.2), s2), 2),
        "2d_crank_nicolson_adi_mixed": (s2, depth_errors_2d("crank_nicolson", TENSOR, s2), 2),
        "2d_peaceman_rachford": (s2, depth_errors_2d("peaceman_rachford", (0.3, 0.2), s2), 2),
        "2d_douglas_diagonal": (s2, depth_errors_2d("douglas", (0.3, 0.2), s2), 2),
        "2d_douglas_mixed": (s2, depth_errors_2d("douglas", TENSOR, s2), 1),
        "2d_hundsdorfer_verwer": (s2, depth_errors_2d("hundsdorfer_verwer", TENSOR, s2), 2),
        "master_1d_explicit": (sm, depth_errors_master("euler", sm), 1),
        "master_1d_implicit_euler": (sm, depth_errors_master("implicit_euler", sm), 1),
        "master_1d_crank_nicolson": (sm, depth_errors_master("crank_nicolson", sm), 2),
        "master_2d_crank_nicolson": (sm, depth_errors_master("crank_nicolson", sm, dims=2), 2),
    }
    checks, metrics = [], {}
    for kind, table in (("space", space), ("depth", depth)):
        for name, (sizes, errs, order) in table.items():
            # error ~ h^p = (1/n)^p and ~ dt^p = (1/steps)^p: slope against n or steps is -p
            p = -slope(sizes, errs)
            checks.append(order_check(f"{kind}_order_{name}", p, order, f"theory {order}; {len(sizes)} refinements"))
            metrics[f"{kind}_{name}"] = dict(sizes=list(sizes), errors=[float(e) for e in errs], order=p)
    fig, axes = plt.subplots(2, 1, figsize=(9, 9.5))
    for ax, (kind, table) in zip(axes, (("space: error vs 1/h", space), ("depth: error vs 1/dt", depth)), strict=True):
        for i, (name, (sizes, errs, order)) in enumerate(table.items()):
            ax.loglog(sizes, errs, "-", ms=5, **series_style(i), label=f"{name}: {-slope(sizes, errs):.2f} ({order})")
        ax.set_title(kind, fontsize=10)
        ax.set_xlabel(
            "cells per unit length (1/h)" if kind.startswith("space") else "depth steps per unit depth (1/dt)"
        )
        ax.set_ylabel("max error over the grid (capacity units)")
        log_ticks(ax, [n for sizes, _, _ in table.values() for n in sizes])
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.grid(True, which="major", alpha=0.3)
        legend_outside(ax, title="measured order (theory)", title_fontsize=7)
    worst = max(abs(c.value - (c.threshold[0] + 0.2)) for c in checks)
    summary = f"{len(checks)} measured orders; largest deviation from theory {worst:.3f}"
    return outcome(fig, outdir, "cap_fd_orders.png", checks, metrics, summary)


# ----------------------------------------------------------------------------- master equation -> PDE
def _rate(t):
    # depth-varying jump rate lambda(t) (layers varying with depth), before the 1/eps^2 rescaling
    return 1.0 + 0.5 * np.sin(2 * np.pi * t)


_KERNELS = {
    # name: (offsets, weights(eps), predicted slope, (v, D) multipliers of lambda(t))
    # symmetric +-1 jumps with an O(eps) bias: v = lambda p mu, D = lambda p / 2; third cumulant O(eps^2): slope 2
    "symmetric_with_drift": (
        [-1, 0, 1],
        lambda e: [0.35 * (1 - e * 0.8), 0.3, 0.35 * (1 + e * 0.8)],
        2,
        (0.7 * 0.8, 0.35),
    ),
    # zero-mean skewed jumps {-1 (2/3), +2 (1/3)}: m1 = 0, m2 = 2, m3 = 2: third cumulant O(eps): slope 1
    "skewed_zero_mean": ([-1, 2], lambda e: [2 / 3, 1 / 3], 1, (0.0, 1.0)),
}


def _lattice_vs_pde(name, eps, t_end=1.0, width=16.0, f=None):
    """Lattice density c_j / eps and the PDE Gaussian at the sites, at depth t_end.

    ``f``: factors of the PDE's ``drift`` and ``diffusion`` (planted errors; default 1).
    """
    offs, wf, _, (vm, Dm) = _KERNELS[name]
    if f is not None:
        vm, Dm = vm * f["drift"], Dm * f["diffusion"]
    n = int(round(width / eps))
    g = lattice_1d(n, "periodic", spacing=eps, origin=-(n // 2) * eps)
    eq = MasterEquation(g, offs, wf(eps), rate=lambda t: _rate(t) / eps**2)
    c0 = np.zeros(n)
    c0[n // 2] = 1.0  # unit capacity on the site at x = 0 (one output unit)
    lat = master_exact_periodic(eq, c0, t_end) / eps
    Lam = float(integral(_rate, 0, t_end))
    pde = gaussian_1d(g.x, vm * Lam, Dm * Lam, 0.0, x0=0.0, period=n * eps)
    return g.x, lat, pde


@experiment(
    id="cap.kfe_to_diffusion",
    checks="the lattice master equation (rate lambda(t)/eps^2, spacing eps, depth-varying lambda) converges "
    "to its Kramers-Moyal drift-diffusion PDE as eps -> 0: error O(eps) for a skewed kernel, "
    "O(eps^2) for a kernel whose third cumulant is O(eps^2)",
    criterion="log-log slope of the relative sup error at t = 1 against eps within +-0.2 of 1 (skewed kernel) "
    "and of 2 (symmetric kernel with O(eps) drift bias); relative sup error at the finest eps < 0.05",
    quick=dict(eps=[0.2, 0.1, 0.05, 0.025, 0.0125], n_depths=41),
    full=dict(eps=[0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125], n_depths=101),
    resolution=dict(quick="2 % in the drift or the diffusion coefficient of the PDE", full="2 % (deterministic)"),
    perturbable=("drift", "diffusion"),
)
def kfe_to_diffusion(params, *, seed, outdir):
    """Master equation -> drift-diffusion PDE under diffusive rescaling (deterministic: ``seed`` unused)."""
    eps = np.array(params["eps"], dtype=float)
    f = factors(params, ("drift", "diffusion"))
    checks, metrics, profiles = [], {"perturb": f}, {}
    for name, (_, _, pred, _) in _KERNELS.items():
        errs, l1 = [], []
        for e in eps:
            x, lat, pde = _lattice_vs_pde(name, e, f=f)
            errs.append(np.abs(lat - pde).max() / pde.max())
            l1.append(e * np.abs(lat - pde).sum())
            profiles[(name, e)] = (x, lat, pde)
        p = slope(eps, errs)
        checks.append(order_check(f"slope_{name}", p, pred, f"Edgeworth/Kramers-Moyal remainder O(eps^{pred})"))
        checks.append(Check(f"finest_rel_sup_error_{name}", errs[-1], "<", 0.05, note=f"eps = {eps[-1]}"))
        metrics[name] = dict(
            eps=eps.tolist(),
            rel_sup_error=[float(v) for v in errs],
            l1_error=[float(v) for v in l1],
            slope=p,
            l1_slope=slope(eps, l1),
        )
        if pred == 1:
            # Edgeworth: density = phi_sigma(x) [1 + k3 / (6 sigma^3) He3(x / sigma)] + O(eps^2) with
            # k3 = Lambda eps m3, sigma^2 = Lambda m2 (Lambda = int lambda): relative sup error / eps ->
            # Lambda m3 / (6 (Lambda m2)^1.5) max_z |He3(z) exp(-z^2/2)|; an O(eps) correction remains
            z = np.linspace(0, 5, 200001)
            Lam = float(integral(_rate, 0, 1.0))
            coef = Lam * 2.0 / (6 * (Lam * 2.0) ** 1.5) * np.abs((z**3 - 3 * z) * np.exp(-z * z / 2)).max()
            ratio = errs[-1] / eps[-1] / coef
            checks.append(
                Check(
                    f"edgeworth_coefficient_ratio_{name}",
                    ratio,
                    "in",
                    (0.95, 1.05),
                    note=f"measured error/eps over predicted {coef:.4f}; 5% allows the O(eps) remainder",
                )
            )
            metrics[name]["edgeworth_coefficient"] = float(coef)
    figs = []
    # profiles overlaid
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, name in zip(axes, _KERNELS, strict=True):
        for e in eps[:3]:
            x, lat, pde = profiles[(name, e)]
            ax.plot(x, lat, ".-", ms=3, lw=0.8, label=f"master eq., eps={e}")
        x, lat, pde = profiles[(name, eps[-1])]
        ax.plot(x, pde, "k-", lw=1.5, label="drift-diffusion PDE")
        ax.set_xlim(-4, 4)
        ax.set_title(f"capacity at t = 1: {name}")
        ax.set_xlabel("x (input position)")
        ax.legend(fontsize=7)
    figs.append(save_figure(fig, outdir, "cap_kfe_to_diffusion_profiles.png"))
    # heat map over depth (skewed kernel, second-finest eps) and its difference to the PDE
    e = eps[-2]
    ts = np.linspace(0.05, 1.0, params["n_depths"])
    rows_lat, rows_diff = [], []
    for t in ts:
        x, lat, pde = _lattice_vs_pde("skewed_zero_mean", e, t_end=t, f=f)
        rows_lat.append(lat)
        rows_diff.append(lat - pde)
    sel = np.abs(x) <= 4
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    im = axes[0].imshow(
        np.array(rows_lat)[:, sel],
        aspect="auto",
        origin="lower",
        extent=[x[sel][0], x[sel][-1], ts[0], ts[-1]],
        cmap="viridis",
        vmax=1.0,
    )
    fig.colorbar(im, ax=axes[0])
    axes[0].set_title(f"master equation capacity over depth (skewed kernel, eps={e})")
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("depth t (0 = output)")
    d = np.array(rows_diff)[:, sel]
    im = axes[1].imshow(
        d,
        aspect="auto",
        origin="lower",
        extent=[x[sel][0], x[sel][-1], ts[0], ts[-1]],
        cmap="RdBu_r",
        vmin=-np.abs(d).max(),
        vmax=np.abs(d).max(),
    )
    fig.colorbar(im, ax=axes[1])
    axes[1].set_title("master equation - PDE")
    axes[1].set_xlabel("x")
    figs.append(save_figure(fig, outdir, "cap_kfe_to_diffusion_depth.png"))
    # log-log
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name in _KERNELS:
        m = metrics[name]
        ax.loglog(eps, m["rel_sup_error"], "o-", label=f"{name}: slope {m['slope']:.2f}")
    ax.set_xlabel("lattice spacing eps (rate ~ 1/eps^2)")
    ax.set_ylabel("relative sup error at t = 1")
    ax.legend()
    figs.append(save_figure(fig, outdir, "cap_kfe_to_diffusion_orders.png"))
    summ = "; ".join(
        f"{n}: slope {metrics[n]['slope']:.3f}, finest error {metrics[n]['rel_sup_error'][-1]:.2e}" for n in _KERNELS
    )
    return Outcome(checks=checks, metrics=metrics, figures=figs, summary=summ)
