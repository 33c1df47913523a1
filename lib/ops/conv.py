"""Convolution from scratch, in NumPy, four ways.

Layout follows Keras: images are channels-last ``(batch, height, width,
channels)`` and kernels ``(kernel_height, kernel_width, in_channels,
out_channels)``, the layout of ``keras.ops.conv``. Like every deep-learning
library, the "convolution" of a CNN is a **cross-correlation** (the kernel is
not flipped); :func:`convolve1d` and :func:`convolve2d` are the true
convolutions of signal processing, with the flip.

* :func:`convolve1d`, :func:`conv1d_smooth`: 1D convolution, smoothing a noisy sensor.
* :func:`correlate2d`, :func:`convolve2d`: one channel, the lecture worked examples.
* :func:`conv2d_direct`: nested loops, the definition.
* :func:`im2col` + :func:`conv2d_im2col`: "lowering" to one matrix product.
* :func:`conv2d_fft`: a product in the frequency domain.
* :func:`conv2d_winograd`: Winograd's F(2x2, 3x3), 16 multiplications per
  2x2 output tile instead of 36 (:func:`winograd_multiplications`).
* :func:`pointwise_conv2d`, :func:`depthwise_conv2d`, :func:`separable_conv2d`.
* :func:`conv2d_backward`: the gradients of a convolution with respect to its
  input, kernel and bias (the backward pass), by lowering.

``padding`` is ``"valid"``, ``"same"`` (exactly Keras/TensorFlow: output
``ceil(size / stride)``, the odd zero at the bottom/right), an int ``p`` (``p``
zeros on every side), a pair ``(ph, pw)`` or ``((top, bottom), (left, right))``.
Bad arguments raise ``ValueError`` worded like Keras.

Introduced in notebook 01 (convolution).
"""

from __future__ import annotations

import numpy as np

from lib import checks
from lib.flops import same_padding

# fmt: off
__all__ = [
    "convolve1d", "conv1d_smooth", "correlate2d", "convolve2d", "resolve_padding", "pad_input", "conv2d_direct",
    "im2col", "conv2d_im2col", "conv2d_fft", "conv2d_winograd", "winograd_matrices", "winograd_multiplications",
    "conv2d", "CONV2D_METHODS", "pointwise_conv2d", "depthwise_conv2d", "separable_conv2d", "conv2d_backward",
]
# fmt: on


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _array(x, name: str) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"Expected a numeric array for {name}. Received dtype {x.dtype}")
    if x.dtype == bool or np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64)
    if x.size == 0:
        raise ValueError(f"Expected a non-empty {name}. Received shape {x.shape}")
    return x


def _operands(x, w, names: tuple[str, str], ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """A signal or image and its kernel as numeric arrays, both of rank ``ndim``."""
    x, w = _array(x, names[0]), _array(w, names[1])
    if x.ndim != ndim or w.ndim != ndim:
        raise ValueError(
            f"Expected a {ndim}D {names[0]} and a {ndim}D {names[1]}. Received shapes {x.shape} and {w.shape}"
        )
    return x, w


#: The output sizes of :func:`convolve1d` and :func:`convolve2d`, as ``np.convolve`` / ``scipy.signal`` name them.
_MODES = ("full", "same", "valid")


def _result_dtype(*arrays) -> np.dtype:
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _strides(stride) -> tuple[int, int]:
    return checks.int_pair(stride, "strides")


def _check_input(x: np.ndarray) -> None:
    if x.ndim != 4:
        raise ValueError(f"Expected a 4D input (batch, height, width, channels). Received shape {tuple(x.shape)}")


def _check_kernel(w: np.ndarray, name: str = "kernel") -> None:
    if w.ndim != 4:
        raise ValueError(
            f"Expected a 4D {name} (kernel_height, kernel_width, in_channels, out_channels). "
            f"Received shape {tuple(w.shape)}"
        )


def _check_channels(x: np.ndarray, w: np.ndarray) -> None:
    if x.shape[-1] != w.shape[2]:
        raise ValueError(
            f"Expected input with {w.shape[2]} channels to match kernel of shape {tuple(w.shape)}. "
            f"Received input shape {tuple(x.shape)}"
        )


def _check_bias(b, out_channels: int):
    if b is None:
        return None
    b = _array(b, "bias")
    if b.shape != (out_channels,):
        raise ValueError(f"Expected a bias of shape ({out_channels},). Received shape {tuple(b.shape)}")
    return b


def resolve_padding(padding, input_hw, kernel_hw, strides=(1, 1)) -> tuple[tuple[int, int], tuple[int, int]]:
    """Zeros to add, ``((top, bottom), (left, right))``, for a padding spec.

    ``"same"`` follows Keras/TensorFlow (see :func:`lib.flops.same_padding`): for
    an 8x8 input, a 2x2 kernel and stride 1 it is ``((0, 1), (0, 1))``.

    Introduced in notebook 01 (convolution).
    """
    sh, sw = _strides(strides)
    (h, w), (kh, kw) = input_hw, kernel_hw
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            return same_padding(h, kh, sh), same_padding(w, kw, sw)
        raise ValueError(
            "Expected padding to be 'valid', 'same', a non-negative int, (ph, pw) or "
            f"((top, bottom), (left, right)). Received: padding={padding!r}"
        )

    def _int(p):
        return checks.non_negative_int(p, "padding")

    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(
                f"Expected padding (ph, pw) or ((top, bottom), (left, right)). Received: padding={padding!r}"
            )
        pairs = []
        for p in padding:
            if isinstance(p, (tuple, list)):
                if len(p) != 2:
                    raise ValueError(f"Expected padding ((top, bottom), (left, right)). Received: padding={padding!r}")
                pairs.append((_int(p[0]), _int(p[1])))
            else:
                pairs.append((_int(p), _int(p)))
        return pairs[0], pairs[1]
    p = _int(padding)
    return (p, p), (p, p)


def pad_input(x, kernel_hw, stride=1, padding="valid") -> np.ndarray:
    """Zero-pad an NHWC batch as ``padding`` asks, checking the kernel fits.

    Raises ``ValueError`` when the kernel is larger than the padded input.

    Introduced in notebook 01 (convolution).
    """
    x = _array(x, "input")
    _check_input(x)
    sh, sw = _strides(stride)
    kh, kw = kernel_hw
    (pt, pb), (pl, pr) = resolve_padding(padding, x.shape[1:3], (kh, kw), (sh, sw))
    hp, wp = x.shape[1] + pt + pb, x.shape[2] + pl + pr
    if kh > hp or kw > wp:
        raise ValueError(
            f"Kernel of size ({kh}, {kw}) is larger than the padded input ({hp}, {wp}). "
            f"Received input shape {tuple(x.shape)} and padding={padding!r}; use a smaller kernel or more padding"
        )
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    return x


def _prepare(x, w, b, stride, padding, kernel_name="kernel"):
    x = _array(x, "input")
    w = _array(w, kernel_name)
    _check_input(x)
    _check_kernel(w, kernel_name)
    _check_channels(x, w)
    b = _check_bias(b, w.shape[3])
    strides = _strides(stride)
    xp = pad_input(x, w.shape[:2], strides, padding)
    dtype = _result_dtype(x, w) if b is None else _result_dtype(x, w, b)
    return xp, w, b, strides, dtype


def _out_hw(xp_shape, kernel_hw, strides):
    return ((xp_shape[1] - kernel_hw[0]) // strides[0] + 1, (xp_shape[2] - kernel_hw[1]) // strides[1] + 1)


def _finish(y, b, dtype):
    if b is not None:
        y = y + b
    return y.astype(dtype, copy=False)


# ---------------------------------------------------------------------------
# 1D and single-channel 2D (signal processing)
# ---------------------------------------------------------------------------


def convolve1d(signal, kernel, mode: str = "full") -> np.ndarray:
    """True 1D convolution ``s(t) = sum_a x(a) w(t - a)``, like ``np.convolve``.

    ``mode``: ``"full"`` (length ``N + M - 1``), ``"same"`` (length ``max(N, M)``,
    centred like ``np.convolve``) or ``"valid"`` (length ``max(N, M) - min(N, M) + 1``).
    Written as a sliding dot product with the flipped kernel.

    Introduced in notebook 01 (convolution).
    """
    x, w = _operands(signal, kernel, ("signal", "kernel"), 1)
    mode = checks.one_of(mode, "mode", _MODES)
    n, m = len(x), len(w)
    # Pad with m - 1 zeros each side and slide the flipped kernel: the full convolution.
    xp = np.concatenate([np.zeros(m - 1, x.dtype), x, np.zeros(m - 1, x.dtype)])
    flipped = w[::-1]
    full = np.array([np.dot(xp[t : t + m], flipped) for t in range(n + m - 1)])
    if mode == "full":
        return full
    short, long_ = min(n, m), max(n, m)
    if mode == "same":
        start = (short - 1) // 2
        return full[start : start + long_]
    return full[short - 1 : long_]


def conv1d_smooth(signal, width: int = 5, decay: float | None = None, causal: bool = True) -> np.ndarray:
    """Smooth a noisy 1D signal by convolving it with a normalised weighting kernel.

    The kernel holds ``width`` weights summing to one: equal weights (a moving
    average) or, with ``decay`` in (0, 1], weights ``decay**a`` for a sample
    ``a`` steps in the past, so recent data count most. ``causal=True`` gives
    ``s(t) = sum_a x(t - a) w(a)``, a weighted average of the most recent data
    (the first ``width - 1`` values see zeros before the start); ``causal=False``
    centres the window (``mode="same"``). Output length equals the input's.

    Introduced in notebook 01 (convolution).
    """
    x = _array(signal, "signal")
    if x.ndim != 1:
        raise ValueError(f"Expected a 1D signal. Received shape {x.shape}")
    checks.positive_int(width, "width")
    if decay is None:
        w = np.ones(width)
    else:
        decay = checks.number(decay, "decay", 0.0, 1.0, low_open=True)
        w = decay ** np.arange(width, dtype=np.float64)
    w = w / w.sum()
    if causal:
        return convolve1d(x, w, "full")[: len(x)]
    if width > len(x):
        raise ValueError(f"Expected width <= len(signal) for a centred window. Received: width={width}, len={len(x)}")
    return convolve1d(x, w, "same")


def correlate2d(image, kernel) -> np.ndarray:
    """ "Valid" 2D cross-correlation of one channel: what a CNN layer computes.

    ``out[i, j] = sum_{s,t} image[i + s, j + t] kernel[s, t]`` for every position
    where the kernel fits. The lecture's 5x5 image and X kernel give
    ``[[4, 3, 4], [2, 4, 3], [2, 3, 4]]``.

    Introduced in notebook 01 (convolution).
    """
    x, w = _operands(image, kernel, ("image", "kernel"), 2)
    kh, kw = w.shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(
            f"Kernel of size ({kh}, {kw}) is larger than the padded input {tuple(x.shape)}. "
            "Pad the image or use a smaller kernel"
        )
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.empty((oh, ow), dtype=_result_dtype(x, w))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * w)
    return out


def convolve2d(image, kernel, mode: str = "full") -> np.ndarray:
    """True 2D convolution ``(A * B)_ij = sum_s sum_t A_st B_{i-s, j-t}`` (kernel flipped).

    ``mode`` as ``scipy.signal.convolve2d``: ``"full"`` (every overlap,
    ``(H + kh - 1, W + kw - 1)``), ``"same"`` (the centre of ``"full"``, the
    image's size) or ``"valid"`` (kernel fully inside). The lecture example
    ``[[1, 3, 1], [0, -1, 1], [2, 2, -1]] * [[1, 2], [0, -1]]`` is
    ``[[1, 5, 7, 2], [0, -2, -4, 1], [2, 6, 4, -3], [0, -2, -2, 1]]``.

    Introduced in notebook 01 (convolution).
    """
    x, w = _operands(image, kernel, ("image", "kernel"), 2)
    mode = checks.one_of(mode, "mode", _MODES)
    kh, kw = w.shape
    flipped = w[::-1, ::-1]
    if mode == "valid":
        return correlate2d(x, flipped)
    full = correlate2d(np.pad(x, ((kh - 1, kh - 1), (kw - 1, kw - 1))), flipped)
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return full[top : top + x.shape[0], left : left + x.shape[1]]


# ---------------------------------------------------------------------------
# 4D convolution, four ways
# ---------------------------------------------------------------------------


def conv2d_direct(x, w, b=None, stride=1, padding="valid") -> np.ndarray:
    """2D convolution (cross-correlation) by its definition: loops over positions and filters.

    ``y[n, i, j, o] = b[o] + sum_{p, q, c} x_pad[n, i S_h + p, j S_w + q, c] w[p, q, c, o]``.
    Slow and readable; the reference the other methods are compared with.

    Introduced in notebook 01 (convolution).
    """
    xp, w, b, (sh, sw), dtype = _prepare(x, w, b, stride, padding)
    kh, kw, _, c_out = w.shape
    oh, ow = _out_hw(xp.shape, (kh, kw), (sh, sw))
    y = np.zeros((xp.shape[0], oh, ow, c_out), dtype=np.float64)
    for n in range(xp.shape[0]):
        for i in range(oh):
            for j in range(ow):
                patch = xp[n, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for o in range(c_out):
                    y[n, i, j, o] = np.sum(patch * w[:, :, :, o])
    return _finish(y, b, dtype)


def im2col(x, kh: int, kw: int, stride=1, padding="valid") -> np.ndarray:
    """Lower an NHWC batch to a matrix: one row per output position, one column per kernel weight.

    Returns shape ``(N x H2 x W2, kh x kw x C)``; columns are ordered like
    ``w.reshape(kh * kw * C, D2)``, so the convolution is one product
    ``im2col(x) @ w.reshape(-1, D2)`` (the UPV deck's "lowering": ``O = I x K``).
    Each input value is copied up to ``kh x kw`` times: memory traded for speed.

    Introduced in notebook 01 (convolution).
    """
    sh, sw = _strides(stride)
    xp = pad_input(x, (kh, kw), (sh, sw), padding)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    windows = windows[:, ::sh, ::sw]
    n, oh, ow, c = windows.shape[:4]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c)


def conv2d_im2col(x, w, b=None, stride=1, padding="valid") -> np.ndarray:
    """2D convolution by lowering: :func:`im2col` then one matrix product (a GEMM).

    Introduced in notebook 01 (convolution).
    """
    xp, w, b, strides, dtype = _prepare(x, w, b, stride, padding)
    kh, kw, c_in, c_out = w.shape
    oh, ow = _out_hw(xp.shape, (kh, kw), strides)
    cols = im2col(xp, kh, kw, strides, "valid")
    y = cols @ w.reshape(kh * kw * c_in, c_out)
    return _finish(y.reshape(xp.shape[0], oh, ow, c_out), b, dtype)


def conv2d_fft(x, w, b=None, stride=1, padding="valid") -> np.ndarray:
    """2D convolution as a product in the frequency domain (``numpy.fft``).

    A CNN's cross-correlation is a convolution with the flipped kernel, and a
    convolution is a pointwise product of Fourier transforms. With transforms
    of the padded input's size the product is a *circular* convolution, whose
    wrapped-around part is exactly the first ``kh - 1`` rows and ``kw - 1``
    columns; the rest is the "valid" result. Strides > 1 subsample the
    stride-1 result (wasteful, but exact).

    Introduced in notebook 01 (convolution).
    """
    xp, w, b, (sh, sw), dtype = _prepare(x, w, b, stride, padding)
    kh, kw = w.shape[:2]
    hp, wp = xp.shape[1:3]
    x_f = np.fft.rfft2(xp, axes=(1, 2))  # (N, Hp, Wp//2+1, C)
    w_f = np.fft.rfft2(w[::-1, ::-1], s=(hp, wp), axes=(0, 1))  # (Hp, Wp//2+1, C, D2)
    y_f = np.einsum("nhwc,hwco->nhwo", x_f, w_f)
    y = np.fft.irfft2(y_f, s=(hp, wp), axes=(1, 2))[:, kh - 1 :, kw - 1 :, :]
    return _finish(y[:, ::sh, ::sw, :], b, dtype)


def winograd_matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The F(2x2, 3x3) transforms ``(B^T, G, A^T)`` of Lavin & Gray (2016).

    ``Y = A^T [(G g G^T) * (B^T d B)] A`` for a 4x4 input tile ``d`` and a 3x3
    kernel ``g`` (``*`` elementwise) is the 2x2 cross-correlation output.

    Introduced in notebook 01 (convolution).
    """
    bt = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
    at = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)
    return bt, g, at


def conv2d_winograd(x, w, b=None, stride=1, padding="valid") -> np.ndarray:
    """2D convolution with Winograd's minimal filtering F(2x2, 3x3).

    The output is cut into 2x2 tiles; each needs a 4x4 input tile. Kernel and
    tiles are transformed (``U = G g G^T``, ``V = B^T d B``), multiplied
    elementwise (16 multiplications per tile and channel pair, where the
    direct method needs 2 x 2 x 3 x 3 = 36), summed over input channels and
    transformed back (``A^T M A``). Only 3x3 kernels with stride 1.

    Introduced in notebook 01 (convolution).
    """
    w_arr = _array(w, "kernel")
    _check_kernel(w_arr)
    if w_arr.shape[:2] != (3, 3):
        raise ValueError(
            f"conv2d_winograd implements F(2x2, 3x3): expected a 3x3 kernel. Received kernel shape {tuple(w_arr.shape)}"
        )
    if _strides(stride) != (1, 1):
        raise ValueError(f"conv2d_winograd supports stride 1 only. Received: strides={stride!r}")
    xp, w, b, _, dtype = _prepare(x, w_arr, b, 1, padding)
    bt, g, at = winograd_matrices()
    n, hp, wp, _ = xp.shape
    oh, ow = hp - 2, wp - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    # Pad so every 2x2 output tile has its full 4x4 input tile (extra outputs are cropped).
    xp = np.pad(xp, ((0, 0), (0, 2 * th + 2 - hp), (0, 2 * tw + 2 - wp), (0, 0)))
    tiles = np.lib.stride_tricks.sliding_window_view(xp, (4, 4), axis=(1, 2))[:, ::2, ::2]  # (N, th, tw, C, 4, 4)
    v = np.einsum("ij,nabcjk,lk->nabcil", bt, tiles, bt)  # B^T d B
    u = np.einsum("ij,jkco,lk->ilco", g, w, g)  # G g G^T, (4, 4, C, D2)
    m = np.einsum("nabcxy,xyco->nabxyo", v, u)  # 16 products per tile and (c, o)
    y = np.einsum("ix,nabxyo,jy->naibjo", at, m, at)  # A^T M A -> (N, th, 2, tw, 2, D2)
    y = y.reshape(n, 2 * th, 2 * tw, -1)[:, :oh, :ow, :]
    return _finish(y, b, dtype)


def winograd_multiplications(
    output_height: int = 2, output_width: int = 2, in_channels: int = 1, out_channels: int = 1
) -> dict:
    """Multiplications of the direct method and of F(2x2, 3x3) for a 3x3 convolution.

    Direct: ``9`` per output value and channel pair. Winograd: ``16`` per 2x2
    output tile (the elementwise product; the transforms use additions and
    multiplications by constants, and the kernel transform is done once). The
    defaults (one tile, one channel pair) give ``{"direct": 36, "winograd": 16}``.

    Introduced in notebook 01 (convolution).
    """
    for name, value in [
        ("output_height", output_height),
        ("output_width", output_width),
        ("in_channels", in_channels),
        ("out_channels", out_channels),
    ]:
        checks.positive_int(value, name)
    pairs = in_channels * out_channels
    tiles = -(-output_height // 2) * -(-output_width // 2)
    direct = output_height * output_width * 9 * pairs
    winograd = tiles * 16 * pairs
    return {"direct": direct, "winograd": winograd, "ratio": direct / winograd}


#: name -> function, for benchmarks and loops in the notebook.
CONV2D_METHODS = {
    "direct": conv2d_direct,
    "im2col": conv2d_im2col,
    "fft": conv2d_fft,
    "winograd": conv2d_winograd,
}


def conv2d(x, w, b=None, stride=1, padding="valid", method: str = "im2col") -> np.ndarray:
    """2D convolution with one of :data:`CONV2D_METHODS` (``"direct"``, ``"im2col"``, ``"fft"``, ``"winograd"``).

    Introduced in notebook 01 (convolution).
    """
    if method not in CONV2D_METHODS:
        raise ValueError(f"Expected method in {sorted(CONV2D_METHODS)}. Received: method={method!r}")
    return CONV2D_METHODS[method](x, w, b, stride=stride, padding=padding)


# ---------------------------------------------------------------------------
# 1x1, depthwise, separable
# ---------------------------------------------------------------------------


def pointwise_conv2d(x, w, b=None) -> np.ndarray:
    """1x1 ("pointwise") convolution: a linear map of the channels at every pixel.

    ``w`` is ``(1, 1, C, D2)`` or ``(C, D2)``. Mixes channels and changes their
    number; it costs ``D1 x D2 x H x W`` multiply-adds.

    Introduced in notebook 01 (convolution).
    """
    w = _array(w, "kernel")
    if w.ndim == 2:
        w = w[None, None]
    _check_kernel(w)
    if w.shape[:2] != (1, 1):
        raise ValueError(f"Expected a pointwise kernel of shape (1, 1, in, out). Received shape {tuple(w.shape)}")
    xp, w, b, _, dtype = _prepare(x, w, b, 1, "valid")
    return _finish(np.einsum("nhwc,co->nhwo", xp, w[0, 0]), b, dtype)


def depthwise_conv2d(x, w, b=None, stride=1, padding="valid") -> np.ndarray:
    """Depthwise convolution: each input channel filtered on its own, like ``keras.ops.depthwise_conv``.

    ``w`` is ``(kh, kw, C, M)`` (``M`` the depth multiplier); the output has
    ``C x M`` channels ordered ``c * M + m``.

    Introduced in notebook 01 (convolution).
    """
    x_arr = _array(x, "input")
    w = _array(w, "depthwise_kernel")
    _check_input(x_arr)
    _check_kernel(w, "depthwise_kernel")
    _check_channels(x_arr, w)
    c, m = w.shape[2], w.shape[3]
    b = _check_bias(b, c * m)
    kh, kw = w.shape[:2]
    strides = _strides(stride)
    xp = pad_input(x_arr, (kh, kw), strides, padding)
    dtype = _result_dtype(x_arr, w)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, :: strides[0], :: strides[1]]
    y = np.einsum("nijcpq,pqcm->nijcm", windows, w)
    y = y.reshape(y.shape[0], y.shape[1], y.shape[2], c * m)
    return _finish(y, b, dtype)


def separable_conv2d(x, depthwise_w, pointwise_w, b=None, stride=1, padding="valid") -> np.ndarray:
    """Depthwise then pointwise convolution, like ``keras.ops.separable_conv``.

    ``depthwise_w`` is ``(kh, kw, C, M)``, ``pointwise_w`` is ``(1, 1, C x M, D2)``;
    the bias (if any) is added after the pointwise step, as in Keras.
    Costs ``1/D2 + 1/F^2`` of a standard convolution (:func:`lib.flops.separable_cost_ratio`).

    Introduced in notebook 01 (convolution).
    """
    z = depthwise_conv2d(x, depthwise_w, None, stride, padding)
    pw = _array(pointwise_w, "pointwise_kernel")
    if pw.ndim == 4 and pw.shape[2] != z.shape[-1]:
        raise ValueError(
            f"Expected a pointwise kernel with {z.shape[-1]} input channels (C x depth_multiplier) to follow "
            f"the depthwise kernel of shape {tuple(np.shape(depthwise_w))}. "
            f"Received pointwise kernel shape {tuple(pw.shape)}"
        )
    return pointwise_conv2d(z, pw, b)


# ---------------------------------------------------------------------------
# the backward pass
# ---------------------------------------------------------------------------


def conv2d_backward(x, w, grad_output, stride=1, padding="valid") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw, db)`` of ``sum(conv2d(x, w, b) * grad_output)``: a convolution's backward pass.

    With ``y = conv2d(x, w, b)`` and the upstream gradient ``dy = grad_output``
    (the shape of ``y``), lowering ``x`` to the matrix ``X = im2col(x)`` makes
    ``Y = X W`` one matrix product, so

    * ``dW = X^T dY``: each weight collects input values times the output
      gradients of the positions that used them (a correlation of ``x`` with ``dy``);
    * ``db = sum of dY`` over batch and positions;
    * ``dX = dY W^T``, whose rows are scattered back onto the patches they came
      from ("col2im"): every input value collects the gradients of every output
      whose window covered it. For stride 1 this is the *full* convolution of
      ``dy`` with the kernel (flipped, channels transposed); padding is cut off again.

    Introduced in notebook 01 (convolution).
    """
    xp, w, _, (sh, sw), dtype = _prepare(x, w, None, stride, padding)
    x_arr = _array(x, "input")
    kh, kw, c_in, c_out = w.shape
    n = xp.shape[0]
    oh, ow = _out_hw(xp.shape, (kh, kw), (sh, sw))
    dy = _array(grad_output, "grad_output")
    if dy.shape != (n, oh, ow, c_out):
        raise ValueError(
            f"Expected grad_output of shape {(n, oh, ow, c_out)} (the convolution's output). "
            f"Received shape {tuple(dy.shape)}"
        )
    cols = im2col(xp, kh, kw, (sh, sw), "valid")  # (N*oh*ow, kh*kw*C)
    dy_rows = dy.reshape(-1, c_out)
    dw = (cols.T @ dy_rows).reshape(kh, kw, c_in, c_out)
    db = dy_rows.sum(axis=0)
    dcols = (dy_rows @ w.reshape(-1, c_out).T).reshape(n, oh, ow, kh, kw, c_in)
    dxp = np.zeros(xp.shape, dtype=np.result_type(dcols, np.float64))
    for p in range(kh):  # col2im: add every patch's gradient back where the patch came from
        for q in range(kw):
            dxp[:, p : p + sh * (oh - 1) + 1 : sh, q : q + sw * (ow - 1) + 1 : sw, :] += dcols[:, :, :, p, q, :]
    (pt, _), (pl, _) = resolve_padding(padding, x_arr.shape[1:3], (kh, kw), (sh, sw))
    dx = dxp[:, pt : pt + x_arr.shape[1], pl : pl + x_arr.shape[2], :]
    dtype = np.result_type(dtype, dy.dtype) if np.issubdtype(dy.dtype, np.floating) else dtype
    return dx.astype(dtype, copy=False), dw.astype(dtype, copy=False), db.astype(dtype, copy=False)
