"""lib.ops.pool: max/average/L2/global pooling and max pooling's gradient.

Checked against the Keras layers, explicit loops, autodiff (lib.autodiff) and finite differences.
"""

import itertools

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import autodiff, flops, gradcheck
from lib.ops import pool

LECTURE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float32)[None, :, :, None]

POOL_SIZES = [1, 2, 3, (2, 3)]
STRIDES = [None, 1, 2, (2, 1)]
PADDINGS = ["valid", "same"]
GRID = list(itertools.product(POOL_SIZES, STRIDES, PADDINGS))


def _pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def loop_pool(x, pool_size, strides, padding, mode):
    """Reference: explicit loops over output positions, Keras's 'same' rule written out."""
    kh, kw = _pair(pool_size)
    sh, sw = _pair(strides) if strides is not None else (kh, kw)
    n, h, w, c = x.shape
    if padding == "valid":
        oh, ow, top, left = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
    else:
        oh, ow = -(-h // sh), -(-w // sw)
        top = max((oh - 1) * sh + kh - h, 0) // 2
        left = max((ow - 1) * sw + kw - w, 0) // 2
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - top, j * sw - left
            win = x[:, max(r0, 0) : min(r0 + kh, h), max(c0, 0) : min(c0 + kw, w), :]
            if mode == "max":
                out[:, i, j] = win.max(axis=(1, 2))
            elif mode == "average":
                out[:, i, j] = win.mean(axis=(1, 2))
            else:
                out[:, i, j] = np.sqrt((win.astype(np.float64) ** 2).sum(axis=(1, 2)))
    return out


def keras_grad(x, weights, pool_size, strides, padding):
    """The gradient of sum(MaxPooling2D(x) * weights) w.r.t. x, by the backend's autodiff."""
    layer = keras.layers.MaxPooling2D(pool_size, strides, padding)
    _, grad = autodiff.value_and_input_grad(lambda v: keras.ops.sum(layer(v) * weights), x)
    return keras.ops.convert_to_numpy(grad)


# ---------------------------------------------------------------- the lecture example
def test_lecture_example_max_pool_2x2_stride_2():
    out = pool.max_pool2d(LECTURE, 2, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(out, keras.layers.MaxPooling2D(2, 2)(LECTURE))


def test_lecture_example_average_and_l2():
    np.testing.assert_allclose(pool.average_pool2d(LECTURE)[0, :, :, 0], [[13 / 4, 21 / 4], [2, 2]])
    np.testing.assert_allclose(pool.l2_pool2d(LECTURE)[0, 0, 0, 0], np.sqrt(1 + 1 + 25 + 36))


def test_lecture_example_gradient_goes_to_the_maxima():
    grad = pool.max_pool2d_backward(LECTURE, np.ones((1, 2, 2, 1)))
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[1, 3] = expected[2, 0] = expected[3, 3] = 1
    np.testing.assert_array_equal(grad[0, :, :, 0], expected)


# ---------------------------------------------------------------- against Keras and loops
@pytest.mark.parametrize("pool_size,strides,padding", GRID)
def test_max_and_average_match_keras(pool_size, strides, padding):
    x = np.random.default_rng(0).normal(size=(2, 7, 8, 3)).astype(np.float32)
    expected_max = keras.layers.MaxPooling2D(pool_size, strides, padding)(x)
    expected_avg = keras.layers.AveragePooling2D(pool_size, strides, padding)(x)
    np.testing.assert_allclose(pool.max_pool2d(x, pool_size, strides, padding), expected_max, atol=1e-6)
    np.testing.assert_allclose(pool.average_pool2d(x, pool_size, strides, padding), expected_avg, atol=1e-6)


@pytest.mark.parametrize("pool_size,strides,padding", GRID)
@pytest.mark.parametrize("mode", pool.POOL_MODES)
def test_all_modes_match_explicit_loops(pool_size, strides, padding, mode):
    x = np.random.default_rng(1).normal(size=(2, 6, 7, 2))
    np.testing.assert_allclose(
        pool.pool2d(x, pool_size, strides, padding, mode), loop_pool(x, pool_size, strides, padding, mode), atol=1e-12
    )


@pytest.mark.parametrize("pool_size,strides", [(2, None), (3, 1), ((2, 3), (1, 2)), (3, 2)])
def test_l2_pool_is_sqrt_of_keras_average_of_squares_times_window(pool_size, strides):
    x = np.random.default_rng(2).normal(size=(2, 8, 9, 3)).astype(np.float32)
    kh, kw = _pair(pool_size)
    via_keras = np.sqrt(keras.layers.AveragePooling2D(pool_size, strides)(x**2) * (kh * kw))
    np.testing.assert_allclose(pool.l2_pool2d(x, pool_size, strides), via_keras, rtol=1e-5)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(keepdims):
    x = np.random.default_rng(3).normal(size=(3, 5, 6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        pool.global_max_pool2d(x, keepdims), keras.layers.GlobalMaxPooling2D(keepdims=keepdims)(x), atol=1e-6
    )
    np.testing.assert_allclose(
        pool.global_average_pool2d(x, keepdims), keras.layers.GlobalAveragePooling2D(keepdims=keepdims)(x), atol=1e-6
    )


def test_global_pooling_is_pooling_with_the_whole_map_as_window():
    x = np.random.default_rng(4).normal(size=(2, 5, 6, 3))
    np.testing.assert_allclose(pool.global_max_pool2d(x), pool.max_pool2d(x, (5, 6))[:, 0, 0])
    np.testing.assert_allclose(pool.global_average_pool2d(x), pool.average_pool2d(x, (5, 6))[:, 0, 0])


@pytest.mark.parametrize(
    "size,pool_size,strides,padding",
    [
        (7, 2, None, "valid"),
        (7, 2, None, "same"),
        (8, 3, 1, "valid"),
        (8, 3, 2, "same"),
        (5, 5, 1, "valid"),
        (1, 3, 2, "same"),
        (9, 2, 3, "valid"),
    ],
)
def test_output_size_matches_keras(size, pool_size, strides, padding):
    """A pooling window slides like a kernel: lib.flops.conv_output_size gives the output size (strides=None: the
    window), and max_pool2d's output has that size."""
    shape = keras.layers.MaxPooling2D(pool_size, strides, padding).compute_output_shape((1, size, size, 1))
    assert flops.conv_output_size(size, pool_size, strides or pool_size, padding) == shape[1]
    assert pool.max_pool2d(np.ones((1, size, size, 1)), pool_size, strides, padding).shape == tuple(shape)


def test_pool_windows_layout_and_padding_fill():
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    windows = pool.pool_windows(x, 2)
    assert windows.shape == (1, 2, 2, 1, 4)
    np.testing.assert_array_equal(windows[0, 0, 1, 0], [2, 3, 6, 7])
    same = pool.pool_windows(np.ones((1, 3, 3, 1)), 2, padding="same")
    assert same.shape == (1, 2, 2, 1, 4)
    assert np.isnan(same[0, 1, 1, 0, 1:]).all() and same[0, 1, 1, 0, 0] == 1


# ---------------------------------------------------------------- the gradient of max pooling
@pytest.mark.parametrize("pool_size,strides,padding", GRID)
def test_max_pool_gradient_matches_gradient_tape(pool_size, strides, padding):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 6, 7, 2)).astype(np.float32)
    weights = rng.normal(size=pool.max_pool2d(x, pool_size, strides, padding).shape).astype(np.float32)
    np.testing.assert_allclose(
        pool.max_pool2d_backward(x, weights, pool_size, strides, padding),
        keras_grad(x, weights, pool_size, strides, padding),
        atol=1e-6,
    )


@pytest.mark.parametrize("pool_size,strides,padding", [(2, None, "valid"), (3, 1, "same"), (3, 2, "valid")])
def test_max_pool_gradient_with_ties_matches_autodiff(pool_size, strides, padding):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, size=(1, 6, 6, 2)).astype(np.float32)  # many ties
    weights = rng.normal(size=pool.max_pool2d(x, pool_size, strides, padding).shape).astype(np.float32)
    np.testing.assert_allclose(
        pool.max_pool2d_backward(x, weights, pool_size, strides, padding),
        keras_grad(x, weights, pool_size, strides, padding),
        atol=1e-6,
    )


@pytest.mark.parametrize("pool_size,strides,padding", [(2, None, "valid"), (3, 1, "same"), ((2, 3), 2, "same")])
def test_max_pool_gradient_matches_finite_differences(pool_size, strides, padding):
    rng = np.random.default_rng(7)
    x = rng.permutation(60).reshape(1, 5, 6, 2) * 0.1  # distinct values: max pooling is smooth near x
    weights = rng.normal(size=pool.max_pool2d(x, pool_size, strides, padding).shape)

    numeric = gradcheck.numerical_gradient_array(
        lambda v: pool.max_pool2d(v, pool_size, strides, padding), x, weights, h=1e-4
    )
    np.testing.assert_allclose(pool.max_pool2d_backward(x, weights, pool_size, strides, padding), numeric, atol=1e-8)


def test_argmax_points_at_the_maximum():
    x = np.random.default_rng(8).normal(size=(2, 6, 6, 3))
    rows, cols = pool.max_pool2d_argmax(x, 3, 2, "same")
    n, c = np.indices((2, 3))
    picked = x[n[:, None, None, :], rows, cols, c[:, None, None, :]]
    np.testing.assert_array_equal(picked, pool.max_pool2d(x, 3, 2, "same"))


# ---------------------------------------------------------------- laws
@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    c=st.integers(1, 5),
    k=st.integers(1, 4),
    s=st.integers(1, 4),
    padding=st.sampled_from(PADDINGS),
    seed=st.integers(0, 2**16),
)
def test_pooling_changes_height_and_width_never_depth(h, w, c, k, s, padding, seed):
    if padding == "valid" and (k > h or k > w):
        return
    x = np.random.default_rng(seed).normal(size=(2, h, w, c))
    outs = {mode: pool.pool2d(x, k, s, padding, mode) for mode in pool.POOL_MODES}
    expected = (2, flops.conv_output_size(h, k, s, padding), flops.conv_output_size(w, k, s, padding), c)
    for out in outs.values():
        assert out.shape == expected
    # average <= max <= L2 in every window
    assert np.all(outs["average"] <= outs["max"] + 1e-12)
    assert np.all(outs["max"] <= outs["l2"] + 1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 3), s=st.integers(1, 3))
def test_max_pool_gradient_conserves_the_upstream_gradient(seed, k, s):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, 7, 7, 2))
    g = rng.normal(size=pool.max_pool2d(x, k, s).shape)
    grad = pool.max_pool2d_backward(x, g, k, s)
    np.testing.assert_allclose(grad.sum(), g.sum(), atol=1e-9)  # nothing lost, nothing invented
    assert (grad != 0).sum() <= g.size


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"pool_size": 0}, r"Expected pool_size to be an integer >= 1 or a pair of them. Received: pool_size=0"),
        ({"pool_size": (2, 0)}, r"Expected pool_size to be an integer >= 1 or a pair of them"),
        ({"pool_size": 2.5}, r"Expected pool_size to be an integer >= 1 or a pair of them. Received: pool_size=2.5"),
        ({"pool_size": True}, r"Received: pool_size=True"),
        ({"strides": 0}, r"Expected strides to be an integer >= 1 or a pair of them. Received: strides=0"),
        ({"padding": "full"}, r"Expected padding to be one of \['valid', 'same'\]. Received: padding='full'"),
        ({"pool_size": 5}, r"Kernel of size 5 is larger than the padded input \(4\)"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    for fn in (pool.max_pool2d, pool.average_pool2d, pool.l2_pool2d):
        with pytest.raises(ValueError, match=match):
            fn(LECTURE, **kwargs)


@pytest.mark.parametrize("shape", [(4, 4), (4, 4, 1), (1, 1, 4, 4, 1)])
def test_wrong_rank_raises(shape):
    with pytest.raises(ValueError, match=r"Expected a 4D input \(batch, height, width, channels\)"):
        pool.max_pool2d(np.zeros(shape))
    with pytest.raises(ValueError, match=r"Expected a 4D input"):
        pool.global_average_pool2d(np.zeros(shape))


def test_bad_mode_and_bad_gradient_shape_raise():
    with pytest.raises(
        ValueError,
        match=r"Expected mode to be one of \['max', 'average', 'l2'\]. "
        r"Received: mode='min'",
    ):
        pool.pool2d(LECTURE, mode="min")
    with pytest.raises(ValueError, match=r"Expected grad_output of shape \(1, 2, 2, 1\)"):
        pool.max_pool2d_backward(LECTURE, np.ones((1, 3, 3, 1)))
