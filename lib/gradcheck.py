"""Numerical gradient checking, as CS231n's ``gradient_check.py``: the one home of central differences.

* :func:`numerical_gradient` - d f / d x of a scalar function ``f(x)`` by
  central differences, one coordinate at a time.
* :func:`numerical_gradient_array` - the gradient of ``sum(f(x) * upstream)``:
  what a layer's backward pass must return for an upstream gradient.
* :func:`relative_error` - ``max |a - b| / max(|a| + |b|, tiny)``, the number
  to compare with about 1e-7 (float64, smooth) or 1e-2 (float32, kinks).

Work in float64: with float32 and ``h = 1e-5`` the differences lose every
digit. Kinks (ReLU at 0, max-pool ties) give wrong numerical gradients when a
step crosses them; keep inputs away from them. Introduced in notebook 01.
"""

from __future__ import annotations

import numpy as np

from lib import checks

__all__ = ["numerical_gradient", "numerical_gradient_array", "relative_error"]


def numerical_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every coordinate ``i`` of ``x``.

    ``f`` maps an array shaped like ``x`` to a scalar; ``x`` is not modified.
    Introduced in notebook 01 (the convolution's backward pass).
    """
    checks.positive(h, "h")
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(np.asarray(f(x)))
        flat[i] = old - h
        minus = float(np.asarray(f(x)))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(f, x, upstream, h: float = 1e-5) -> np.ndarray:
    """The gradient of ``sum(f(x) * upstream)`` with respect to ``x``: a backward pass's expected output.

    Introduced in notebook 01 (the convolution's backward pass).
    """
    upstream = np.asarray(upstream, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(np.asarray(f(z), dtype=np.float64) * upstream), x, h)


def relative_error(a, b) -> float:
    """``max |a - b| / max(|a| + |b|)`` over all entries (0 when both are 0).

    Introduced in notebook 01.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Expected arrays of the same shape. Received: shapes {a.shape} and {b.shape}")
    scale = np.max(np.abs(a) + np.abs(b)) if a.size else 0.0
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)
