"""Network Studio: design, train and export Keras networks visually."""

__version__ = "0.1.0"
