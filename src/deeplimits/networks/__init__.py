"""Finite random networks at initialisation (MLP, shaped MLP, ResNet) with two engines.

See :mod:`deeplimits.networks.models` for the conventions and :mod:`deeplimits.networks.gram` for why the
Gram engine is exact in distribution.
"""

from .activations import he_normalisation, leaky_relu, shaped_slopes
from .batch import NetworkBatch, gram_from_correlation
from .models import leaky_mlp, relu_mlp, resnet, shaped_mlp
from .summaries import summarise_networks

__all__ = [
    "NetworkBatch",
    "gram_from_correlation",
    "he_normalisation",
    "leaky_relu",
    "shaped_slopes",
    "leaky_mlp",
    "relu_mlp",
    "shaped_mlp",
    "resnet",
    "summarise_networks",
]
