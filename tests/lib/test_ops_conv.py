"""lib.ops.conv against independent references: keras.ops.conv/depthwise_conv/separable_conv,
np.convolve and scipy.signal, over grids of shapes, kernels, strides and padding."""

import functools
import itertools
import re
import zlib

import keras
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import flops, ops
from lib.ops import conv as C

RTOL = ATOL = 1e-4

# --------------------------------------------------------------------------------------
# lecture worked examples
# --------------------------------------------------------------------------------------

LECTURE_IMAGE = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ]
)
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
A = np.array([[1, 3, 1], [0, -1, 1], [2, 2, -1]])
B = np.array([[1, 2], [0, -1]])


def test_package_reexports_conv():
    assert ops.conv2d_im2col is C.conv2d_im2col
    assert set(C.__all__) <= set(dir(ops))


def test_lecture_5x5_image_with_x_kernel():
    out = C.correlate2d(LECTURE_IMAGE, X_KERNEL)
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(out, scipy.signal.correlate2d(LECTURE_IMAGE, X_KERNEL, mode="valid"))
    # The X kernel is symmetric under a 180-degree flip, so convolution and correlation agree here.
    np.testing.assert_array_equal(C.convolve2d(LECTURE_IMAGE, X_KERNEL, "valid"), out)


def test_lecture_full_convolution_example():
    out = C.convolve2d(A, B, mode="full")
    np.testing.assert_array_equal(out, [[1, 5, 7, 2], [0, -2, -4, 1], [2, 6, 4, -3], [0, -2, -2, 1]])
    np.testing.assert_array_equal(out, scipy.signal.convolve2d(A, B, mode="full"))


def test_convolution_flips_the_kernel_and_correlation_does_not():
    conv = C.convolve2d(A, B, "valid")
    corr = C.correlate2d(A, B)
    np.testing.assert_array_equal(conv, C.correlate2d(A, B[::-1, ::-1]))
    assert not np.array_equal(conv, corr)


@pytest.mark.parametrize("shape", [(5, 5), (6, 7), (4, 9)])
@pytest.mark.parametrize("kshape", [(1, 1), (2, 2), (3, 2), (3, 3), (4, 4)])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve2d_matches_scipy(shape, kshape, mode):
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal(shape), rng.standard_normal(kshape)
    np.testing.assert_allclose(C.convolve2d(x, k, mode), scipy.signal.convolve2d(x, k, mode=mode), atol=1e-12)
    np.testing.assert_allclose(C.correlate2d(x, k), scipy.signal.correlate2d(x, k, mode="valid"), atol=1e-12)


@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=6),
    st.lists(st.integers(-5, 5), min_size=1, max_size=4),
)
@settings(max_examples=40, deadline=None)
def test_full_convolution_is_commutative(a, b):
    a2, b2 = np.array(a, float).reshape(1, -1), np.array(b, float).reshape(1, -1)
    np.testing.assert_allclose(C.convolve2d(a2, b2), C.convolve2d(b2, a2))


# --------------------------------------------------------------------------------------
# 1D
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 4, 7, 10])
@pytest.mark.parametrize("m", [1, 2, 3, 4, 12])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve1d_matches_numpy(n, m, mode):
    rng = np.random.default_rng(n * 10 + m)
    x, w = rng.standard_normal(n), rng.standard_normal(m)
    np.testing.assert_allclose(C.convolve1d(x, w, mode), np.convolve(x, w, mode=mode), atol=1e-12)


def test_conv1d_smooth_reduces_noise_of_a_sensor():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4 * np.pi, 400)
    clean = np.sin(t)
    noisy = clean + rng.normal(0, 0.3, t.shape)
    for kwargs in [dict(width=9), dict(width=9, decay=0.8), dict(width=9, causal=False)]:
        smooth = C.conv1d_smooth(noisy, **kwargs)
        assert smooth.shape == noisy.shape
        # Skip the warm-up samples that see zeros before the start.
        assert np.mean((smooth[20:-20] - clean[20:-20]) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)


def test_conv1d_smooth_is_a_weighted_average_of_recent_samples():
    x = np.arange(10.0)
    out = C.conv1d_smooth(x, width=3)
    np.testing.assert_allclose(out[2:], (x[2:] + x[1:-1] + x[:-2]) / 3)
    weights = 0.5 ** np.arange(3)
    out = C.conv1d_smooth(x, width=3, decay=0.5)
    weighted = weights[0] * x[2:] + weights[1] * x[1:-1] + weights[2] * x[:-2]
    np.testing.assert_allclose(out[2:], weighted / weights.sum())
    np.testing.assert_allclose(C.conv1d_smooth(np.full(20, 3.0), width=5)[4:], 3.0)


# --------------------------------------------------------------------------------------
# 4D methods against keras.ops.conv
# --------------------------------------------------------------------------------------

SHAPES = [(7, 7), (8, 6)]
KERNELS = [1, 2, 3, 5]
STRIDES = [1, 2, 3]
PADDINGS = ["valid", "same"]
CHANNELS = [(1, 1), (1, 4), (3, 4), (4, 3)]
GRID = list(itertools.product(SHAPES, KERNELS, STRIDES, PADDINGS, CHANNELS))


@functools.cache
def _case(shape, k, stride, padding, channels, bias=True):
    rng = np.random.default_rng(zlib.crc32(repr((shape, k, stride, padding, channels)).encode()))
    cin, cout = channels
    x = rng.standard_normal((2, *shape, cin)).astype("float32")
    w = rng.standard_normal((k, k, cin, cout)).astype("float32")
    b = rng.standard_normal(cout).astype("float32")
    ref = keras.ops.convert_to_numpy(keras.ops.conv(x, w, strides=stride, padding=padding)) + b
    return x, w, b, ref


@pytest.mark.parametrize("method", ["direct", "im2col", "fft"])
@pytest.mark.parametrize("shape,k,stride,padding,channels", GRID)
def test_conv2d_methods_match_keras(method, shape, k, stride, padding, channels):
    x, w, b, ref = _case(shape, k, stride, padding, channels)
    out = C.CONV2D_METHODS[method](x, w, b, stride=stride, padding=padding)
    assert out.shape == ref.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(3, 3), (4, 4), (5, 7), (8, 6), (9, 9)])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("channels", CHANNELS)
def test_winograd_matches_keras(shape, padding, channels):
    x, w, b, ref = _case(shape, 3, 1, padding, channels)
    np.testing.assert_allclose(C.conv2d_winograd(x, w, b, padding=padding), ref, rtol=RTOL, atol=ATOL)


def test_winograd_one_tile_by_hand():
    bt, g, at = C.winograd_matrices()
    rng = np.random.default_rng(1)
    d, k = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    y = at @ ((g @ k @ g.T) * (bt @ d @ bt.T)) @ at.T
    np.testing.assert_allclose(y, scipy.signal.correlate2d(d, k, mode="valid"), atol=1e-12)


def test_winograd_multiplication_count():
    assert C.winograd_multiplications() == {"direct": 36, "winograd": 16, "ratio": 2.25}
    counts = C.winograd_multiplications(32, 32, 3, 8)
    assert counts["direct"] == 32 * 32 * 9 * 3 * 8
    assert counts["winograd"] == 16 * 16 * 16 * 3 * 8
    # odd sizes round up to whole tiles
    assert C.winograd_multiplications(3, 3)["winograd"] == 4 * 16


@pytest.mark.parametrize("padding", [0, 1, 2, (1, 2), ((0, 2), (1, 0))])
@pytest.mark.parametrize("method", ["direct", "im2col", "fft", "winograd"])
def test_explicit_integer_padding_matches_padding_then_valid(padding, method):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 6, 5, 2)).astype("float32")
    w = rng.standard_normal((3, 3, 2, 3)).astype("float32")
    (pt, pb), (pl, pr) = C.resolve_padding(padding, (6, 5), (3, 3))
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    ref = keras.ops.convert_to_numpy(keras.ops.conv(xp, w, padding="valid"))
    np.testing.assert_allclose(C.conv2d(x, w, padding=padding, method=method), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "size,k,stride,expected",
    [
        (8, 2, 1, (0, 1)),
        (8, 3, 1, (1, 1)),
        (8, 4, 1, (1, 2)),
        (8, 3, 2, (0, 1)),
        (7, 3, 2, (1, 1)),
        (5, 7, 1, (3, 3)),
        (6, 1, 3, (0, 0)),
    ],
)
def test_same_padding_is_tensorflows(size, k, stride, expected):
    assert flops.same_padding(size, k, stride) == expected
    assert C.resolve_padding("same", (size, size), (k, k), stride) == (expected, expected)


def test_im2col_layout_and_lowering():
    x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    cols = C.im2col(x, 3, 3)
    assert cols.shape == (2 * 2 * 2, 3 * 3 * 3)
    np.testing.assert_array_equal(cols[0], x[0, :3, :3, :].ravel())
    np.testing.assert_array_equal(cols[-1], x[1, 1:, 1:, :].ravel())
    assert C.im2col(x, 2, 2, stride=2, padding="same").shape == (2 * 2 * 2, 2 * 2 * 3)


def test_integer_inputs_are_accepted_and_result_is_float():
    x = np.ones((1, 4, 4, 1), dtype=int)
    w = np.ones((2, 2, 1, 1), dtype=int)
    for method in ["direct", "im2col", "fft"]:
        out = C.conv2d(x, w, method=method)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, 4.0)


# --------------------------------------------------------------------------------------
# pointwise, depthwise, separable
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", CHANNELS)
def test_pointwise_matches_keras(channels):
    cin, cout = channels
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 6, cin)).astype("float32")
    w = rng.standard_normal((1, 1, cin, cout)).astype("float32")
    b = rng.standard_normal(cout).astype("float32")
    ref = keras.ops.convert_to_numpy(keras.ops.conv(x, w)) + b
    np.testing.assert_allclose(C.pointwise_conv2d(x, w, b), ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(C.pointwise_conv2d(x, w[0, 0], b), ref, rtol=RTOL, atol=ATOL)


DW_GRID = list(itertools.product([(7, 7), (8, 6)], KERNELS, STRIDES, PADDINGS, [1, 3, 4], [1, 2]))


@pytest.mark.parametrize("shape,k,stride,padding,cin,multiplier", DW_GRID)
def test_depthwise_and_separable_match_keras(shape, k, stride, padding, cin, multiplier):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, *shape, cin)).astype("float32")
    dw = rng.standard_normal((k, k, cin, multiplier)).astype("float32")
    ref = keras.ops.convert_to_numpy(keras.ops.depthwise_conv(x, dw, strides=stride, padding=padding))
    out = C.depthwise_conv2d(x, dw, stride=stride, padding=padding)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)

    pw = rng.standard_normal((1, 1, cin * multiplier, 3)).astype("float32")
    b = rng.standard_normal(3).astype("float32")
    ref = keras.ops.convert_to_numpy(keras.ops.separable_conv(x, dw, pw, strides=stride, padding=padding)) + b
    np.testing.assert_allclose(
        C.separable_conv2d(x, dw, pw, b, stride=stride, padding=padding), ref, rtol=RTOL, atol=ATOL
    )


def test_depthwise_with_multiplier_one_is_a_grouped_conv_with_zeros():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 6, 6, 3)).astype("float32")
    dw = rng.standard_normal((3, 3, 3, 1)).astype("float32")
    full = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        full[:, :, c, c] = dw[:, :, c, 0]
    np.testing.assert_allclose(C.depthwise_conv2d(x, dw), C.conv2d_im2col(x, full), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------------------
# output-size law (property test)
# --------------------------------------------------------------------------------------


@given(
    size=st.integers(1, 12),
    k=st.integers(1, 6),
    stride=st.integers(1, 4),
    padding=st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 3)),
)
@settings(max_examples=60, deadline=None)
def test_output_size_rule_matches_keras_and_im2col(size, k, stride, padding):
    pad = 0 if padding == "valid" else padding
    if padding != "same" and k > size + 2 * pad:
        with pytest.raises(ValueError, match="larger than the padded input"):
            flops.conv_output_size(size, k, stride, padding)
        with pytest.raises(ValueError, match="larger than the padded input"):
            C.conv2d_im2col(
                np.zeros((1, size, size, 1), np.float32),
                np.zeros((k, k, 1, 1), np.float32),
                stride=stride,
                padding=padding,
            )
        return
    expected = flops.conv_output_size(size, k, stride, padding)
    if padding == "same":
        assert expected == -(-size // stride)
    else:
        assert expected == (size + 2 * pad - k) // stride + 1
        assert expected == len(range(0, size + 2 * pad - k + 1, stride))
    x = np.zeros((1, size, size, 1), np.float32)
    w = np.zeros((k, k, 1, 1), np.float32)
    assert C.conv2d_im2col(x, w, stride=stride, padding=padding).shape == (1, expected, expected, 1)
    if isinstance(padding, str):
        assert keras.ops.conv(x, w, strides=stride, padding=padding).shape == (1, expected, expected, 1)


# --------------------------------------------------------------------------------------
# errors, worded like Keras
# --------------------------------------------------------------------------------------

X8 = np.zeros((1, 8, 8, 3), np.float32)
W3 = np.zeros((3, 3, 3, 4), np.float32)
ALL_4D = [C.conv2d_direct, C.conv2d_im2col, C.conv2d_fft, C.conv2d_winograd]


@pytest.mark.parametrize("fn", ALL_4D + [C.depthwise_conv2d])
def test_stride_zero_raises(fn):
    with pytest.raises(
        ValueError,
        match=r"Expected strides to be an integer >= 1 or a pair of them\. "
        r"Received: strides=0",
    ):
        fn(X8, W3 if fn is not C.depthwise_conv2d else W3[..., :1], stride=0)


@pytest.mark.parametrize("fn", [C.conv2d_direct, C.conv2d_im2col, C.conv2d_fft])
def test_kernel_larger_than_padded_input_raises(fn):
    with pytest.raises(ValueError, match=r"Kernel of size \(7, 7\) is larger than the padded input \(5, 5\)"):
        fn(np.zeros((1, 5, 5, 1)), np.zeros((7, 7, 1, 1)))
    # With "same" padding Keras pads enough, so it works.
    assert fn(np.zeros((1, 5, 5, 1)), np.zeros((7, 7, 1, 1)), padding="same").shape == (1, 5, 5, 1)


@pytest.mark.parametrize("fn", ALL_4D)
def test_channel_mismatch_raises(fn):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Expected input with 4 channels to match kernel of shape (3, 3, 4, 8). Received input shape (1, 8, 8, 3)"
        ),
    ):
        fn(X8, np.zeros((3, 3, 4, 8)))


@pytest.mark.parametrize("fn", ALL_4D + [C.depthwise_conv2d, C.pointwise_conv2d])
def test_wrong_input_rank_raises(fn):
    w = np.zeros((1, 1, 3, 1)) if fn is C.pointwise_conv2d else W3
    with pytest.raises(
        ValueError, match=re.escape("Expected a 4D input (batch, height, width, channels). Received shape (8, 8)")
    ):
        fn(np.zeros((8, 8)), w)


@pytest.mark.parametrize("fn", ALL_4D)
def test_wrong_kernel_rank_and_bias_raise(fn):
    with pytest.raises(ValueError, match=r"Expected a 4D kernel .* Received shape \(3, 3\)"):
        fn(X8, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=re.escape("Expected a bias of shape (4,). Received shape (3,)")):
        fn(X8, W3, np.zeros(3))


@pytest.mark.parametrize(
    "padding,match",
    [
        ("full", "Expected padding to be 'valid', 'same'"),
        (-1, "Expected padding to be a non-negative integer. Received: padding=-1"),
        (1.5, "Expected padding to be a non-negative integer. Received: padding=1.5"),
        ((1, True), "Expected padding to be a non-negative integer. Received: padding=True"),
    ],
)
def test_bad_padding_raises(padding, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        C.conv2d_im2col(X8, W3, padding=padding)


def test_winograd_rejects_other_kernels_and_strides():
    with pytest.raises(ValueError, match="expected a 3x3 kernel"):
        C.conv2d_winograd(X8, np.zeros((5, 5, 3, 4)))
    with pytest.raises(ValueError, match="stride 1 only"):
        C.conv2d_winograd(X8, W3, stride=2)
    with pytest.raises(ValueError, match="positive integer"):
        C.winograd_multiplications(0)


def test_single_channel_and_1d_errors():
    with pytest.raises(ValueError, match="Expected a 2D image and a 2D kernel"):
        C.correlate2d(np.zeros((3, 3, 1)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"Kernel of size \(4, 4\) is larger"):
        C.correlate2d(np.zeros((3, 3)), np.zeros((4, 4)))
    with pytest.raises(
        ValueError,
        match=r"Expected mode to be one of \['full', 'same', 'valid'\]. "
        r"Received: mode='circular'",
    ):
        C.convolve2d(A, B, mode="circular")
    with pytest.raises(ValueError, match="Expected a 1D signal and a 1D kernel"):
        C.convolve1d(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="Expected mode"):
        C.convolve1d(np.zeros(4), np.zeros(2), mode="circular")
    with pytest.raises(ValueError, match="Expected width to be a positive integer. Received: width=0"):
        C.conv1d_smooth(np.zeros(4), width=0)
    with pytest.raises(ValueError, match=r"Expected decay in \(0, 1\]"):
        C.conv1d_smooth(np.zeros(4), decay=1.5)
    with pytest.raises(ValueError, match="Expected a non-empty"):
        C.convolve1d(np.zeros(0), np.ones(2))
    with pytest.raises(ValueError, match="Expected a numeric array"):
        C.convolve1d(np.array(["a"]), np.ones(2))


def test_depthwise_separable_pointwise_errors():
    with pytest.raises(
        ValueError, match=re.escape("Expected input with 2 channels to match kernel of shape (3, 3, 2, 1)")
    ):
        C.depthwise_conv2d(X8, np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="Expected a pointwise kernel with 6 input channels"):
        C.separable_conv2d(X8, np.zeros((3, 3, 3, 2)), np.zeros((1, 1, 3, 4)))
    with pytest.raises(ValueError, match=r"Expected a pointwise kernel of shape \(1, 1, in, out\)"):
        C.pointwise_conv2d(X8, W3)
    with pytest.raises(ValueError, match="Expected method in"):
        C.conv2d(X8, W3, method="magic")


# --------------------------------------------------------------------------------------
# the backward pass
# --------------------------------------------------------------------------------------

BACKWARD_GRID = [
    ((6, 5), 3, 1, "valid", (3, 4)),
    ((7, 8), 3, 2, "same", (2, 3)),
    ((8, 8), 2, 1, "same", (1, 2)),
    ((9, 7), 3, 3, "valid", (2, 2)),
    ((5, 6), 3, 2, 1, (3, 1)),
    ((6, 6), (2, 3), (1, 2), ((0, 1), (2, 0)), (2, 2)),
]


@pytest.mark.parametrize("shape,k,stride,padding,channels", BACKWARD_GRID)
def test_conv2d_backward_matches_central_differences(shape, k, stride, padding, channels):
    from lib import gradcheck

    rng = np.random.default_rng(zlib.crc32(repr((shape, k, stride, padding)).encode()))
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((2, *shape, channels[0]))
    w = rng.standard_normal((kh, kw, *channels))
    b = rng.standard_normal(channels[1])

    def conv(x_, w_, b_):
        return C.conv2d_direct(x_, w_, b_, stride=stride, padding=padding)

    dy = rng.standard_normal(conv(x, w, b).shape)
    dx, dw, db = C.conv2d_backward(x, w, dy, stride=stride, padding=padding)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert gradcheck.relative_error(dx, gradcheck.numerical_gradient_array(lambda v: conv(v, w, b), x, dy)) < 1e-8
    assert gradcheck.relative_error(dw, gradcheck.numerical_gradient_array(lambda v: conv(x, v, b), w, dy)) < 1e-8
    assert gradcheck.relative_error(db, gradcheck.numerical_gradient_array(lambda v: conv(x, w, v), b, dy)) < 1e-8


@pytest.mark.parametrize("shape,k,stride,padding,channels", GRID[::7])
def test_conv2d_backward_matches_autodiff_of_keras(shape, k, stride, padding, channels):
    from lib import autodiff

    x, w, _, ref = _case(shape, k, stride, padding, channels)
    dy = np.random.default_rng(3).standard_normal(ref.shape).astype("float32")
    up, kernel = keras.ops.convert_to_tensor(dy), keras.ops.convert_to_tensor(w)
    _, dx_ref = autodiff.value_and_input_grad(
        lambda v: keras.ops.sum(keras.ops.conv(v, kernel, strides=stride, padding=padding) * up), x
    )
    _, dw_ref = autodiff.value_and_input_grad(
        lambda v: keras.ops.sum(keras.ops.conv(x, v, strides=stride, padding=padding) * up), w
    )
    dx, dw, db = C.conv2d_backward(x, w, dy, stride=stride, padding=padding)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, keras.ops.convert_to_numpy(dx_ref), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dw, keras.ops.convert_to_numpy(dw_ref), rtol=RTOL, atol=1e-3)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 1, 2)), rtol=RTOL, atol=ATOL)


def test_conv2d_backward_input_gradient_is_a_full_convolution_with_the_flipped_kernel():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 2, 3, 4))
    dy = rng.standard_normal((2, 5, 5, 4))
    dx, _, _ = C.conv2d_backward(x, w, dy)
    full = C.conv2d_direct(dy, w[::-1, ::-1].transpose(0, 1, 3, 2), padding=((2, 2), (1, 1)))
    np.testing.assert_allclose(dx, full, atol=1e-12)


def test_conv2d_backward_errors():
    with pytest.raises(ValueError, match=re.escape("Expected grad_output of shape (1, 6, 6, 4)")):
        C.conv2d_backward(X8, W3, np.zeros((1, 8, 8, 4)))
    with pytest.raises(ValueError, match="Expected input with 3 channels"):
        C.conv2d_backward(X8[..., :2], W3, np.zeros((1, 6, 6, 4)))
