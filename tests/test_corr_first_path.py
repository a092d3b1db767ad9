"""Every Monte-Carlo entry point of deeplimits.correlation: sample i draws from stream (seed, first_path + i)."""

import numpy as np
import pytest

from deeplimits.correlation import depth, sample_covariance
from deeplimits.correlation.shaped_sde import sample_correlation
from deeplimits.correlation.unshaped import Q_STAR, Y_STAR, J_sde, q_sde, sample_q, y_sde
from deeplimits.sde import solve

G = np.linspace(0.0, 1.0, 33)
G0 = np.linspace(0.05, 1.0, 40)
V0 = np.array([[1.0, 0.3], [0.3, 2.0]])

ENTRY_POINTS = {
    "sample_q": lambda n, k: sample_q([0.25, 0.5], n_paths=n, seed=7, n_steps_per_unit=32, first_path=k),
    "J milstein": lambda n, k: solve(J_sde(), [0.0], G, n_paths=n, seed=7, first_path=k, scheme="milstein").ys,
    "J euler": lambda n, k: solve(J_sde(), [0.0], G, n_paths=n, seed=7, first_path=k, scheme="euler").ys,
    "y implicit_milstein": lambda n, k: (
        solve(y_sde(), [Y_STAR], G, n_paths=n, seed=7, first_path=k, scheme="implicit_milstein").ys
    ),
    "q implicit_milstein": lambda n, k: (
        solve(q_sde(), [Q_STAR], G, n_paths=n, seed=7, first_path=k, scheme="implicit_milstein").ys
    ),
    "q euler": lambda n, k: solve(q_sde(), [Q_STAR], G0, n_paths=n, seed=7, first_path=k, scheme="euler").ys,
    "sample_correlation": lambda n, k: sample_correlation(0.4, 1.0, n_paths=n, seed=7, n_steps=32, first_path=k),
    "sample_covariance": lambda n, k: sample_covariance(V0, 1.0, n_paths=n, seed=7, n_steps=32, first_path=k),
    "sample_one_layer": lambda n, k: np.stack(depth.sample_one_layer(0.3, 20, n, seed=7, first_path=k), axis=-1),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("split", [1, 5])
def test_split_batches_are_bit_identical(name, split):
    run = ENTRY_POINTS[name]
    whole = run(12, 0)
    parts = np.concatenate([run(split, 0), run(12 - split, split)])
    assert np.array_equal(whole, parts)


def test_covariance_draws_the_noise_model_increments():
    # the kernel draws exactly sde.brownian_increments (also for an odd number of noises, m = 2)
    from deeplimits.sde import brownian_increments, uniform_grid

    dW = brownian_increments(uniform_grid(0.0, 1.0, 16), n_paths=4, seed=3, n_noise=3, first_path=2)
    a = sample_covariance(V0, 1.0, n_paths=4, seed=3, n_steps=16, first_path=2)
    b = sample_covariance(V0, 1.0, n_steps=16, dW=dW)
    assert np.array_equal(a, b)
