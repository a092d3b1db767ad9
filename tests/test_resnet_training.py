"""Training on Cohen et al.'s synthetic task (torch extra)."""

import numpy as np
import pytest

from deeplimits.resnet.estimation import estimate_scaling
from deeplimits.resnet.training import effective_weights, load_weights, synthetic_task, train_resnet


def test_synthetic_task_is_seeded_and_on_the_sphere():
    a = synthetic_task(n_train=64, n_test=16, seed=3)
    b = synthetic_task(n_train=64, n_test=16, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0)
    assert a[0].shape == (64, 10) and a[3].shape == (16, 10)
    # the target is a non-trivial map of the input
    assert np.mean(np.sum(a[0] * a[1], axis=1)) < 0.99


def test_training_reduces_loss_saves_and_feeds_the_estimator(tmp_path):
    pytest.importorskip("torch")
    data = synthetic_task(n_train=200, n_test=50, seed=0)
    nets = {}
    for L in (4, 8, 16):
        net = train_resnet("relu_multi", L, data, epochs=6, lr=1e-2, seed=L)
        assert net.train_loss[-1] < 0.5 * net.train_loss[0]
        net.save(tmp_path / f"n{L}.npz")
        nets[L] = load_weights(tmp_path / f"n{L}.npz")
        np.testing.assert_array_equal(nets[L].A, net.A)
        assert nets[L].delta.shape == (L,)
    w = effective_weights(nets[8])
    assert w.shape == (8, 110)
    np.testing.assert_allclose(w[:, :100], np.abs(nets[8].delta)[:, None] * nets[8].A.reshape(8, -1))
    est = estimate_scaling({L: effective_weights(n) for L, n in nets.items()}, n_boot=50)
    assert all(np.isfinite(v) for v in est.slopes.values())


def test_training_is_reproducible():
    pytest.importorskip("torch")
    data = synthetic_task(n_train=100, n_test=20, seed=1)
    a = train_resnet("tanh_shared", 5, data, epochs=1, seed=2)
    b = train_resnet("tanh_shared", 5, data, epochs=1, seed=2)
    np.testing.assert_array_equal(a.A, b.A)
    assert a.delta.shape == (1,)


@pytest.mark.parametrize("kw", [dict(config="sigmoid_shared"), dict(depth=0), dict(epochs=0)])
def test_bad_input(kw):
    pytest.importorskip("torch")
    args = dict(config="tanh_shared", depth=3, epochs=1) | kw
    with pytest.raises(ValueError):
        train_resnet(args.pop("config"), args.pop("depth"), synthetic_task(20, 5), **args)
    with pytest.raises(ValueError):
        synthetic_task(n_train=0)
