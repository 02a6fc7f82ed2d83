"""cnnmacros: tensor sizes and parameter counts of convolutional networks, computed from formulas."""

__version__ = "0.1.0"
