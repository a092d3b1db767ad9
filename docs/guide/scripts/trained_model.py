"""Estimate the scaling exponent beta from your own trained PyTorch ResNets.

ResNets of several depths L are trained on scikit-learn's handwritten digits (1 797 images of 8 x 8
pixels, shipped with scikit-learn: nothing is downloaded).  Each residual block is
h <- h + V_k relu(h) with V_k initialised i.i.d. with standard deviation 1 / sqrt(width L) (the
diffusive scaling, beta = 1/2).  estimate_scaling reads beta and the regime from the trained weights.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from deeplimits.resnet import estimate_scaling

SMALL = os.environ.get("DEEPLIMITS_GUIDE_SMALL") == "1"  # small parameters (CI)
OUT = os.environ.get("DEEPLIMITS_GUIDE_OUT", ".")
DEPTHS = [4, 8, 16] if SMALL else [4, 8, 16, 32, 64]
WIDTH, EPOCHS = 32, (1 if SMALL else 20)
torch.set_num_threads(1)  # the matrices are tiny: one thread is fastest, and does not compete with others


class ResNet(torch.nn.Module):
    def __init__(self, depth: int, width: int = WIDTH):
        super().__init__()
        self.embed = torch.nn.Linear(64, width)
        self.blocks = torch.nn.ModuleList(torch.nn.Linear(width, width, bias=False) for _ in range(depth))
        self.head = torch.nn.Linear(width, 10)
        for block in self.blocks:
            torch.nn.init.normal_(block.weight, std=1.0 / np.sqrt(width * depth))

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            h = h + block(torch.relu(h))
        return self.head(h)


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
X_train, X_test = (torch.tensor(a, dtype=torch.float32) for a in (X_train, X_test))
y_train, y_test = (torch.tensor(a) for a in (y_train, y_test))


def train(depth: int, seed: int) -> ResNet:
    torch.manual_seed(seed)
    net = ResNet(depth)
    init = [block.weight.detach().clone() for block in net.blocks]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(X_train)).split(50):  # mini-batches of 50
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X_train[idx]), y_train[idx]).backward()
            opt.step()
    with torch.no_grad():
        acc = (net(X_test).argmax(dim=1) == y_test).float().mean().item()
        moved = sum(((b.weight - w0) ** 2).sum() for b, w0 in zip(net.blocks, init, strict=True))
        moved = (moved / sum((w0**2).sum() for w0 in init)).sqrt().item()
    print(f"L = {depth:3d}: test accuracy {acc:.3f}, residual weights moved by {moved:.0%} of their initial norm")
    return net


# One trained network per depth; estimate_scaling takes the state dicts and picks the residual
# weights by name ("blocks.<k>.weight", ordered by k).
state_dicts = {L: train(L, seed=L).state_dict() for L in DEPTHS}
est = estimate_scaling(state_dicts, pattern=r"blocks\.\d+\.weight", n_boot=200, seed=0)
print(f"beta = {est.beta:.2f}, verdict: {est.verdict}")
print(est.rule)

fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
for k, (name, values) in enumerate(est.statistics.items()):
    lo, hi = est.ci[name]
    label = f"{name}: slope {est.slopes[name]:.2f} [{lo:.2f}, {hi:.2f}]"
    ax.loglog(est.depths, values, "o-", color=f"C{k}", label=label)
ax.set(xlabel="depth L", ylabel="statistic of the trained weights", title=f"trained on digits: beta = {est.beta:.2f}")
ax.set_xticks(DEPTHS, [str(L) for L in DEPTHS], minor=False)
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, title="statistic: slope [95% CI]")
fig.savefig(os.path.join(OUT, "trained_model.png"), dpi=120)
