"""Numba CPU kernels (one module per family)."""
