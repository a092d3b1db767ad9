"""Training ResNets of Cohen et al.'s eq. (1) on their synthetic task (torch extra, CPU).

Model: ``h_{k+1} = h_k + delta_k sigma(A_k h_k + b_k)``, ``k = 0..L-1``, width ``d = 10``, output ``h_L``,
mean-squared error against the target.  Two configurations, as in Cohen et al. (2021, Sec. 3):

* ``"tanh_shared"``: ``sigma = tanh``, one trainable ``delta`` shared by all layers (initialised to ``1/L``);
* ``"relu_multi"``:  ``sigma = ReLU``, one trainable ``delta_k`` per layer (initialised ``N(0, 1/L^2)``).

Weights start from the "depth-scaled Xavier" initialisation of the authors' public code:
``A_k`` entries ``N(0, (s/(L d))^2)``, ``b_k`` entries ``N(0, (s/(L sqrt d))^2)``, ``s = 0.01``.

Synthetic task (built here, no download): ``x ~ U(-1, 1)^d``; the target is the 100-step map
``z_{k+1} = z_k + 100^{-1/2} tanh(sin(5 pi k / 100) z_k + cos(5 pi k / 100))`` started at ``z_0 = x``; inputs and
targets are then projected to the unit sphere.  1024 training and 256 test points; Adam, batch 50.

Everything is seeded (data from :mod:`deeplimits.rng`, initialisation and batch order from ``torch``);
torch runs single-threaded so that the result does not depend on the machine's thread count.  torch is
imported lazily: the rest of :mod:`deeplimits.resnet` works without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deeplimits.rng import uniform_array

from .._checks import check_int, check_seed

__all__ = [
    "synthetic_task",
    "TrainedResNet",
    "train_resnet",
    "train_sweep",
    "load_weights",
    "effective_weights",
    "CONFIGS",
]

#: activation and delta type of the two configurations
CONFIGS = {"tanh_shared": ("tanh", "shared"), "relu_multi": ("relu", "multi")}


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - exercised only without torch
        raise ImportError("training needs the optional dependency torch: pip install 'deeplimits[torch]'") from e
    return torch


def synthetic_task(
    n_train: int = 1024, n_test: int = 256, dim: int = 10, seed: int = 0, n_steps: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cohen et al.'s synthetic regression task (see module docstring).

    Parameters
    ----------
    n_train, n_test : int
        Numbers of training and test points (>= 1).
    dim : int
        Input dimension ``d``.
    seed : int
        Seed of the inputs (:func:`deeplimits.rng.uniform_array`).
    n_steps : int
        Steps of the target map.

    Returns
    -------
    (x_train, y_train, x_test, y_test) : ndarrays of float64, shapes ``(n, dim)``

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = synthetic_task(n_train=8, n_test=4, dim=3)
    >>> x_train.shape, y_test.shape
    ((8, 3), (4, 3))
    """
    n_train, n_test = check_int(n_train, "n_train", minimum=1), check_int(n_test, "n_test", minimum=1)
    dim, n_steps = check_int(dim, "dim", minimum=1), check_int(n_steps, "n_steps", minimum=1)
    x = 2.0 * uniform_array(seed, (n_train + n_test, dim)) - 1.0
    z = x.copy()
    for k in range(n_steps):
        s = 5.0 * np.pi * k / n_steps
        z = z + n_steps**-0.5 * np.tanh(np.sin(s) * z + np.cos(s))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    return x[:n_train], z[:n_train], x[n_train:], z[n_train:]


@dataclass
class TrainedResNet:
    """Weights and losses of one trained network.

    Attributes
    ----------
    config : str
    depth : int
    A : ndarray (L, d, d)
    b : ndarray (L, d)
    delta : ndarray, shape (1,) (shared) or (L,) (per layer)
    train_loss, test_loss : list of float
        Per epoch (index 0: before training).
    """

    config: str
    depth: int
    A: np.ndarray
    b: np.ndarray
    delta: np.ndarray
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` file (``A``, ``b``, ``delta``, losses, config, depth).

        Parameters
        ----------
        path : str or Path
            Output file.
        """
        np.savez(
            path,
            A=self.A,
            b=self.b,
            delta=self.delta,
            train_loss=np.array(self.train_loss),
            test_loss=np.array(self.test_loss),
            config=self.config,
            depth=self.depth,
        )


def load_weights(path: str | Path) -> TrainedResNet:
    """Read a :class:`TrainedResNet` written by :meth:`TrainedResNet.save`.

    Parameters
    ----------
    path : str or Path
        An ``.npz`` file.

    Returns
    -------
    TrainedResNet
    """
    z = np.load(path)
    return TrainedResNet(
        config=str(z["config"]),
        depth=int(z["depth"]),
        A=z["A"],
        b=z["b"],
        delta=z["delta"],
        train_loss=list(z["train_loss"]),
        test_loss=list(z["test_loss"]),
    )


def effective_weights(net: TrainedResNet, which: str = "effective") -> np.ndarray:
    """Per-layer weights of a trained network for :func:`~deeplimits.resnet.estimation.estimate_scaling`.

    Parameters
    ----------
    net : TrainedResNet
    which : {"effective", "raw"}
        ``"effective"``: ``|delta_k| (A_k, b_k)`` (the branch the hidden state sees); ``"raw"``: ``(A_k, b_k)``.

    Returns
    -------
    ndarray, shape (L, d*d + d)
    """
    L = net.depth
    w = np.concatenate([net.A.reshape(L, -1), net.b.reshape(L, -1)], axis=1)
    if which == "raw":
        return w
    if which != "effective":
        raise ValueError(f"which must be 'effective' or 'raw', got {which!r}")
    d = np.abs(np.broadcast_to(net.delta.reshape(-1), (L,)))
    return d[:, None] * w


def train_resnet(
    config: str,
    depth: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    epochs: int = 20,
    lr: float = 1e-3,
    batch_size: int = 50,
    init_scale: float = 0.01,
    seed: int = 0,
    epsilon: float = 0.0,
    progress: bool = False,
) -> TrainedResNet:
    """Train one ResNet of eq. (1) on ``data = (x_train, y_train, x_test, y_test)``.

    Parameters
    ----------
    config : {"tanh_shared", "relu_multi"}
    depth : int
        ``L >= 1``.
    data : tuple of ndarray
        From :func:`synthetic_task`.
    epochs : int
        Number of passes over the training set (>= 1).
    lr : float
        Adam learning rate.
    batch_size : int
    init_scale : float
        ``s`` of the depth-scaled initialisation.
    seed : int
        torch seed (initialisation and batch order).
    epsilon : float
        Stop early once the epoch's training loss is below ``epsilon``.
    progress : bool
        Show a tqdm bar over epochs.

    Returns
    -------
    TrainedResNet
    """
    torch = _torch()
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {sorted(CONFIGS)}, got {config!r}")
    depth, epochs, batch_size = (
        check_int(depth, "depth", minimum=1),
        check_int(epochs, "epochs", minimum=1),
        check_int(batch_size, "batch_size", minimum=1),
    )
    act, delta_type = CONFIGS[config]
    sigma = torch.tanh if act == "tanh" else torch.relu
    xtr, ytr, xte, yte = (torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in data)
    d = xtr.shape[1]
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(check_seed(seed))
    A = (torch.randn(depth, d, d, generator=gen, dtype=torch.float64) * (init_scale / (depth * d))).requires_grad_()
    b = (
        torch.randn(depth, d, generator=gen, dtype=torch.float64) * (init_scale / (depth * np.sqrt(d)))
    ).requires_grad_()
    if delta_type == "shared":
        delta = torch.full((1,), 1.0 / depth, dtype=torch.float64).requires_grad_()
    else:
        delta = (torch.randn(depth, generator=gen, dtype=torch.float64) / depth).requires_grad_()
    opt = torch.optim.Adam([A, b, delta], lr=lr)

    def forward(x):
        for k in range(depth):
            dk = delta.abs()[0] if delta_type == "shared" else delta[k]
            x = x + dk * sigma(x @ A[k] + b[k])
        return x

    def loss_on(x, y):
        with torch.no_grad():
            return float(torch.mean((forward(x) - y) ** 2))

    train_loss, test_loss = [loss_on(xtr, ytr)], [loss_on(xte, yte)]
    it: Any = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"{config} L={depth}", leave=False)
    n = xtr.shape[0]
    for _ in it:
        perm = torch.randperm(n, generator=gen)
        for lo in range(0, n, batch_size):
            idx = perm[lo : lo + batch_size]
            opt.zero_grad()
            loss = torch.mean((forward(xtr[idx]) - ytr[idx]) ** 2)
            loss.backward()
            opt.step()
        train_loss.append(loss_on(xtr, ytr))
        test_loss.append(loss_on(xte, yte))
        if progress:
            it.set_postfix(train=f"{train_loss[-1]:.2e}")
        if train_loss[-1] < epsilon:
            break
    return TrainedResNet(
        config=config,
        depth=depth,
        A=A.detach().numpy().copy(),
        b=b.detach().numpy().copy(),
        delta=delta.detach().numpy().copy(),
        train_loss=train_loss,
        test_loss=test_loss,
    )


def train_sweep(
    config: str,
    depths: Sequence[int],
    *,
    outdir: str | Path | None = None,
    epochs: int = 20,
    lr: float = 1e-3,
    batch_size: int = 50,
    seed: int = 0,
    data_seed: int = 0,
    progress: bool = True,
    **kw: Any,
) -> dict[int, TrainedResNet]:
    """Train ``config`` at every depth (same data, seeds ``seed + depth``), optionally saving ``.npz`` files.

    Parameters
    ----------
    config : {"tanh_shared", "relu_multi"}
    depths : sequence of int
        Depths ``L >= 1``.
    outdir : str or Path, optional
        Where to write ``{config}_L{L:04d}.npz``.
    epochs, lr, batch_size : see :func:`train_resnet`
    seed : int
        Network of depth ``L`` uses torch seed ``seed + L``.
    data_seed : int
        Seed of :func:`synthetic_task`.
    progress : bool
        tqdm bars over depths and epochs.
    **kw
        Passed to :func:`train_resnet`.

    Returns
    -------
    dict of int -> TrainedResNet
    """
    data = synthetic_task(seed=data_seed)
    out = {}
    depths = [check_int(L, "depth", minimum=1) for L in depths]
    it = depths
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(depths, desc=f"{config} sweep")
    for L in it:
        net = train_resnet(
            config, L, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed + L, progress=progress, **kw
        )
        if outdir is not None:
            Path(outdir).mkdir(parents=True, exist_ok=True)
            net.save(Path(outdir) / f"{config}_L{L:04d}.npz")
        out[L] = net
    return out
