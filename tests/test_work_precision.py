"""Work-precision diagrams: coupled errors and costs of several schemes."""

import numpy as np
import pytest

from deeplimits.convergence import WorkPrecision, plot_work_precision, strong_order, work_precision
from deeplimits.sde import models


def test_errors_match_strong_order_on_the_same_paths():
    sde, exact = models.gbm(1.0, 0.5), models.gbm_exact(1.0, 1.0, 0.5)
    kw = dict(exact=exact, n_steps=[8, 16, 32, 64], n_paths=300, seed=4)
    wp = work_precision(sde, [1.0], 1.0, schemes=["euler", "milstein"], repeat=2, **kw)
    for i, scheme in enumerate(wp.schemes):
        res = strong_order(sde, [1.0], 1.0, scheme=scheme, n_boot=100, **kw)
        np.testing.assert_allclose(wp.errors[i], res.errors, rtol=1e-12)
        np.testing.assert_allclose(wp.hs, res.hs)
    assert np.all(wp.seconds > 0) and np.all(np.isfinite(wp.seconds))
    assert wp.path_steps.tolist() == [2400, 4800, 9600, 19200]
    assert np.all(wp.errors[1, 1:] < wp.errors[0, 1:])  # Milstein is more accurate at equal step
    scheme, seconds = wp.cheapest(wp.errors[0, -1])
    assert scheme in wp.schemes and seconds > 0
    assert wp.cheapest(0.0) is None


def test_fine_reference_and_plot():
    wp = work_precision(
        models.singular_logistic(0.3, 0.5),
        [1.0],
        1.5,
        t0=0.5,
        schemes=["euler", "theta"],
        ref_scheme="milstein",
        n_steps=[4, 8, 16],
        n_paths=100,
        repeat=1,
    )
    assert wp.stats["reference"] == "milstein" and np.all(wp.errors > 0)
    fig = plot_work_precision(wp, title="logistic")
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["euler", "theta"]


def test_bad_arguments():
    sde = models.gbm()
    with pytest.raises(ValueError, match="schemes"):
        work_precision(sde, [1.0], 1.0, schemes=["rk4"])
    with pytest.raises(ValueError, match="n_steps"):
        work_precision(sde, [1.0], 1.0, n_steps=[16])
    with pytest.raises(ValueError, match="divide"):
        work_precision(sde, [1.0], 1.0, n_steps=[3, 16], exact=models.gbm_exact(1.0, 1.0, 0.5))
    with pytest.raises(ValueError, match="t1"):
        work_precision(sde, [1.0], 0.0)
    with pytest.raises(TypeError, match="WorkPrecision"):
        plot_work_precision("not a result")
    assert WorkPrecision.__doc__
