"""The q-SDE declares its domain q > 0: the recipe of its docstring never returns q <= 0 unreported."""

import numpy as np
import pytest

from deeplimits.correlation import q_sde
from deeplimits.correlation.unshaped import Q_STAR
from deeplimits.sde import solve, uniform_grid


@pytest.mark.parametrize("n_steps", [1, 2, 10, 100, 1000])
def test_q_sde_theta_from_zero_stays_positive(n_steps):
    # 4000 paths: before the domain was declared, 37-47 % of paths ended with q <= 0 at 1-10 steps
    # and about 87 of 4000 at 100 steps, with stats["n_failed"] == 0 and no warning.
    n_paths = 4000 if n_steps <= 100 else 1000
    sol = solve(
        q_sde(),
        [Q_STAR],
        uniform_grid(0.0, 1.0, n_steps),
        n_paths=n_paths,
        seed=0,
        scheme="theta",
        theta=1.0,
        nonfinite="keep",
    )
    q = sol.ys[:, :, 0]
    failed = np.isnan(q).any(axis=1)
    assert failed.sum() == sol.stats["n_failed"]
    assert np.all(q[~failed] > 0.0)
    assert sol.stats["on_exit"] == "reflect"
    assert sol.stats["n_exits"] >= 0


def test_q_sde_reflections_are_counted_on_coarse_grid():
    sol = solve(q_sde(), [Q_STAR], uniform_grid(0.0, 1.0, 2), n_paths=4000, seed=0, scheme="theta", nonfinite="keep")
    # a coarse grid overshoots below 0 on a visible fraction of paths: every such step is reported
    assert sol.stats["n_exits"] > 0


def test_J_sde_reports_every_step_below_zero():
    # Two Euler steps of h = 1/2 from J_0 = 0: the first is deterministic (J_1 = 1/2), the second is
    # J_2 = 3/2 - (1/sqrt 2) dB with dB ~ N(0, 1/2), below 0 when dB > 3/sqrt 2 (P = 1.3e-3, about 27 of
    # 20,000 paths). With on_exit="report" each such path is kept and counted: n_exits == #(J_2 < 0) > 0.
    import warnings

    from deeplimits.correlation import J_sde
    from deeplimits.sde import solve, uniform_grid

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = solve(J_sde(), [0.0], uniform_grid(0.0, 1.0, 2), n_paths=20_000, seed=0, scheme="euler")
    below = int(np.sum(sol.ys[:, -1, 0] < 0))
    assert below > 0
    assert sol.stats["n_exits"] == below
    assert any("domain" in str(w.message) or "left" in str(w.message) for w in caught)


def test_y_sde_declares_positive_domain():
    from deeplimits.correlation import y_sde

    assert y_sde().domain.contains(0.5) and not y_sde().domain.contains(-0.5)
