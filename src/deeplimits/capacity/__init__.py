"""Capacity propagation through deep convolutional networks (Donier 2019)."""
