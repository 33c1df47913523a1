"""Pooling from scratch, in NumPy: max, average, L2 and global pooling.

Layout follows Keras: inputs are channels-last ``(batch, height, width,
channels)``. Every pooling works on each channel on its own, so it changes
height and width and never the depth.

* :func:`pool_windows`: the ``(pool_h, pool_w)`` windows a pooling reduces, as
  one array ``(batch, out_h, out_w, channels, pool_h * pool_w)``.
* :func:`max_pool2d`, :func:`average_pool2d`, :func:`l2_pool2d` (``sqrt`` of
  the sum of squares) and :func:`pool2d` that picks one by name.
* :func:`global_max_pool2d`, :func:`global_average_pool2d`: one number per channel.
* :func:`max_pool2d_backward`: the gradient of max pooling, routed to the
  argmax of each window (the first one, in row-major order, on ties, like
  TensorFlow).

``pool_size`` and ``strides`` are an int or a pair; ``strides=None`` means
``strides = pool_size`` (Keras's default, and the decks' "normally stride =
size"). ``padding`` is ``"valid"`` (windows that fit) or ``"same"`` (Keras /
TensorFlow: output ``ceil(size / stride)``; the extra rows/columns go at the
bottom/right; padded positions are ignored - never the max, not counted in the
average). Output sizes and "same" padding come from :mod:`lib.flops`
(:func:`lib.flops.conv_output_size`, :func:`lib.flops.same_padding`): a pooling
window slides like a convolution kernel.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import numpy as np

from lib import checks
from lib.flops import conv_output_size, same_padding

# fmt: off
__all__ = [
    "POOL_MODES", "pool_windows", "pool2d", "max_pool2d", "average_pool2d", "l2_pool2d", "global_max_pool2d",
    "global_average_pool2d", "max_pool2d_argmax", "max_pool2d_backward",
]
# fmt: on

#: The window reductions :func:`pool2d` knows.
POOL_MODES = ("max", "average", "l2")


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _input(x, rank: int = 4) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"Expected a numeric array. Received dtype {x.dtype}")
    if x.ndim != rank:
        raise ValueError(f"Expected a 4D input (batch, height, width, channels). Received shape {tuple(x.shape)}")
    if x.size == 0:
        raise ValueError(f"Expected a non-empty input. Received shape {tuple(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _arguments(pool_size, strides, padding):
    pool = checks.int_pair(pool_size, "pool_size")
    stride = pool if strides is None else checks.int_pair(strides, "strides")
    return pool, stride, checks.one_of(padding, "padding", ("valid", "same"))


def _pads(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """Positions added ``(before, after)`` along one axis (``"valid"``: none, and the window must fit)."""
    if padding == "same":
        return same_padding(size, k, s)
    conv_output_size(size, k, s)  # raises when the window is larger than the input
    return 0, 0


# ---------------------------------------------------------------------------
# windows and the three reductions
# ---------------------------------------------------------------------------


def _windows(x: np.ndarray, pool, stride, padding, fill):
    """Windows (N, OH, OW, C, kh*kw) of ``x`` padded with ``fill``, and the padding used."""
    (kh, kw), (sh, sw) = pool, stride
    ph = _pads(x.shape[1], kh, sh, padding)
    pw = _pads(x.shape[2], kw, sw, padding)
    if any(ph + pw):
        x = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # N, H', W', C, kh, kw
    view = view[:, ::sh, ::sw]
    n, oh, ow, c = view.shape[:4]
    return view.reshape(n, oh, ow, c, kh * kw), (ph, pw)


def pool_windows(x, pool_size=2, strides=None, padding="valid", fill: float = np.nan) -> np.ndarray:
    """The windows a pooling reduces: shape ``(batch, out_h, out_w, channels, pool_h * pool_w)``.

    Window entries are in row-major order; positions that ``"same"`` padding
    adds hold ``fill`` (NaN by default, so they cannot pass for data).

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    pool, stride, padding = _arguments(pool_size, strides, padding)
    return _windows(x, pool, stride, padding, fill)[0]


def max_pool2d(x, pool_size=2, strides=None, padding="valid") -> np.ndarray:
    """Max pooling: the largest value in each window, channel by channel.

    Matches ``keras.layers.MaxPooling2D(pool_size, strides, padding)``.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    pool, stride, padding = _arguments(pool_size, strides, padding)
    return _windows(x, pool, stride, padding, -np.inf)[0].max(axis=-1)


def average_pool2d(x, pool_size=2, strides=None, padding="valid") -> np.ndarray:
    """Average pooling: the mean of each window; ``"same"`` padding is left out of the mean.

    Matches ``keras.layers.AveragePooling2D(pool_size, strides, padding)``.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    pool, stride, padding = _arguments(pool_size, strides, padding)
    sums = _windows(x, pool, stride, padding, 0.0)[0].sum(axis=-1)
    ones = np.ones((1, *x.shape[1:3], 1), dtype=x.dtype)
    counts = _windows(ones, pool, stride, padding, 0.0)[0].sum(axis=-1)
    return sums / counts


def l2_pool2d(x, pool_size=2, strides=None, padding="valid") -> np.ndarray:
    """L2 pooling: ``sqrt(sum of squares)`` of each window (padding adds nothing).

    With ``"valid"`` padding it equals ``sqrt(AveragePooling2D(x**2) * pool_h * pool_w)``.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    pool, stride, padding = _arguments(pool_size, strides, padding)
    return np.sqrt((_windows(x, pool, stride, padding, 0.0)[0] ** 2).sum(axis=-1))


def pool2d(x, pool_size=2, strides=None, padding="valid", mode: str = "max") -> np.ndarray:
    """Pool with the reduction named by ``mode``: ``"max"``, ``"average"`` or ``"l2"``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    functions = {"max": max_pool2d, "average": average_pool2d, "l2": l2_pool2d}
    return functions[checks.one_of(mode, "mode", POOL_MODES)](x, pool_size, strides, padding)


def global_max_pool2d(x, keepdims: bool = False) -> np.ndarray:
    """The largest value of each channel over all positions: ``(batch, channels)``.

    Matches ``keras.layers.GlobalMaxPooling2D(keepdims=...)``.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    return _input(x).max(axis=(1, 2), keepdims=keepdims)


def global_average_pool2d(x, keepdims: bool = False) -> np.ndarray:
    """The mean of each channel over all positions: ``(batch, channels)``.

    Matches ``keras.layers.GlobalAveragePooling2D(keepdims=...)``.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    return _input(x).mean(axis=(1, 2), keepdims=keepdims)


# ---------------------------------------------------------------------------
# max pooling's gradient
# ---------------------------------------------------------------------------


def max_pool2d_argmax(x, pool_size=2, strides=None, padding="valid") -> tuple[np.ndarray, np.ndarray]:
    """Where each window's maximum sits in the input: ``(rows, cols)``, each ``(batch, out_h, out_w, channels)``.

    Ties go to the first maximum in row-major window order (as TensorFlow does).
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    pool, stride, padding = _arguments(pool_size, strides, padding)
    windows, ((top, _), (left, _)) = _windows(x, pool, stride, padding, -np.inf)
    arg = windows.argmax(axis=-1)
    oh, ow = windows.shape[1:3]
    rows = np.arange(oh)[None, :, None, None] * stride[0] + arg // pool[1] - top
    cols = np.arange(ow)[None, None, :, None] * stride[1] + arg % pool[1] - left
    return rows, cols


def max_pool2d_backward(x, grad_output, pool_size=2, strides=None, padding="valid") -> np.ndarray:
    """Gradient of max pooling with respect to its input.

    Each output's gradient goes to the input position that was the max of its
    window; every other position gets zero. Overlapping windows (stride < pool
    size) that share a max add their gradients there.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    x = _input(x)
    grad_output = _input(grad_output)
    rows, cols = max_pool2d_argmax(x, pool_size, strides, padding)
    if grad_output.shape != rows.shape:
        raise ValueError(
            f"Expected grad_output of shape {rows.shape} (the pooled output). Received shape {tuple(grad_output.shape)}"
        )
    n, _, _, c = rows.shape
    batch = np.broadcast_to(np.arange(n)[:, None, None, None], rows.shape)
    channel = np.broadcast_to(np.arange(c)[None, None, None, :], rows.shape)
    grad = np.zeros(x.shape, dtype=np.result_type(x, grad_output))
    np.add.at(grad, (batch, rows, cols, channel), grad_output)
    return grad
