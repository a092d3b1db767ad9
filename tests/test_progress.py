"""progress=: a bar on stderr that never changes the results, and one notice for the first slow call."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import deeplimits
from deeplimits.capacity import residual_stack, run_walkers
from deeplimits.networks import gram_from_correlation, relu_mlp
from deeplimits.progress import progress_wanted
from deeplimits.sde import models, solve, uniform_grid

SRC = str(Path(deeplimits.__file__).resolve().parents[1])


def test_progress_bar_gives_the_same_results(capsys):
    g = gram_from_correlation(0.5)
    a = relu_mlp(g, width=8, depth=4, n_nets=45, seed=2, progress=True)
    b = relu_mlp(g, width=8, depth=4, n_nets=45, seed=2, progress=False)
    np.testing.assert_array_equal(a.ys, b.ys)
    np.testing.assert_array_equal(a.one_minus_corr, b.one_minus_corr)
    assert "relu_mlp" in capsys.readouterr().err  # the bar's label
    grid = uniform_grid(0.0, 1.0, 8)
    y0 = np.linspace(0.5, 1.5, 30)[:, None]
    a = solve(models.gbm(1.0, 0.5), y0, grid, seed=1, progress=True)
    np.testing.assert_array_equal(a.ys, solve(models.gbm(1.0, 0.5), y0, grid, seed=1, progress=False).ys)
    stack = residual_stack([1.0, 1.0], 4, a=1.0)
    a = run_walkers(stack, np.eye(9)[4], 50, seed=4, progress=True)
    b = run_walkers(stack, np.eye(9)[4], 50, seed=4, progress=False)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.death_layer, b.death_layer)


def test_progress_argument_is_checked():
    assert progress_wanted(True) and not progress_wanted(False)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        relu_mlp(gram_from_correlation(0.5), width=8, depth=4, n_nets=2, progress="yes")


def test_one_notice_when_the_first_call_is_slow():
    code = textwrap.dedent("""
        import time
        import deeplimits.progress as p
        p.NOTICE_AFTER_S = 0.05

        @p.with_progress("n_paths")
        def slow(n_paths, *, first_path=0, executor=None, chunk_size=None, progress=None):
            time.sleep(0.3)
            return n_paths

        slow(1, progress=True)
        slow(1, progress=True)
        slow(1, progress=False)
    """)
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": SRC}).stderr
    assert err.count("compiles (or loads from the cache) its Numba kernels") == 1, err
