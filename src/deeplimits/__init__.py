"""deeplimits: differential-equation limits of deep neural networks."""

__version__ = "0.1.0"
