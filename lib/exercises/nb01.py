"""Checks for notebook 01 (convolution). Each computes the right answer with Keras, never a typed-in number."""

from __future__ import annotations

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


def _keras_conv(filters, kernel, input_shape, **kwargs):
    import keras

    layer = keras.layers.Conv2D(filters, kernel, **kwargs)
    layer.build((None, *input_shape))
    return layer, layer.compute_output_shape((None, *input_shape))


@exercise("01.1", "Output size and parameters")
def _output_size_and_params(size_1, params_1):
    layer, shape = _keras_conv(96, 11, (227, 227, 3), strides=4)
    expect_equal(
        "output size (one side)", size_1, shape[1], hint="O = floor((I + 2P - K) / S) + 1 with I=227, K=11, P=0, S=4."
    )
    positions = shape[1] * shape[2]
    shared = layer.count_params()  # 96 filters of 11 x 11 x 3, and 96 biases
    unshared = positions * shared  # every position of every map its own filter and bias
    fully_connected = positions * 96 * (227 * 227 * 3 + 1)
    expect_true(is_number(params_1), f"params_1: expected a number of parameters, received {params_1!r}.")
    if params_1 == shared:
        raise Wrong(
            f"params_1: received {params_1:,}, the convolution's own count: its {shape[1]}x{shape[2]} positions "
            f"share one set of filters. Hint: without sharing, every output unit has its own 11x11x3 weights and bias."
        )
    if params_1 == fully_connected:
        raise Wrong(
            f"params_1: received {params_1:,}, a fully connected layer's count (every unit sees all 227x227x3 "
            "inputs). Hint: a locally connected unit sees only its 11x11x3 window."
        )
    if params_1 == positions * 96 * 11 * 11 * 3:
        raise Wrong("params_1: each output unit also has its own bias. Hint: (11 x 11 x 3 + 1) per unit.")
    expect_equal(
        "parameters without weight sharing (locally connected)",
        params_1,
        unshared,
        hint=f"output units ({shape[1]} x {shape[2]} x 96) times (11 x 11 x 3 + 1).",
    )
    return (
        f"correct: without sharing {unshared:,} parameters, {positions:,} times the convolution's {shared:,} "
        f"(and a fully connected layer would need {fully_connected:,})."
    )


def _conv_input_gradient(x, w, dy, stride):
    import keras

    from lib import autodiff

    up = keras.ops.convert_to_tensor(dy.astype("float32"))
    kernel = keras.ops.convert_to_tensor(w.astype("float32"))
    _, grad = autodiff.value_and_input_grad(lambda v: keras.ops.sum(keras.ops.conv(v, kernel, strides=stride) * up), x)
    return keras.ops.convert_to_numpy(grad).astype("float64")


def _windows_at_unit_steps(x_shape, w, dy):
    """The typical mistake: every output's gradient scattered to the window at (i, j), ignoring the stride."""
    kh, kw = w.shape[:2]
    dx = np.zeros(x_shape)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            dx[:, i : i + kh, j : j + kw] += np.tensordot(dy[:, i, j], w, axes=([1], [3]))
    return dx


@exercise("01.2", "The backward pass with a stride")
def _backward_with_stride(input_gradient_2):
    expect_true(
        callable(input_gradient_2),
        f"input_gradient_2: expected a function (x_shape, w, dy, stride) -> dL/dx, "
        f"received {type(input_gradient_2).__name__}.",
    )
    rng = np.random.default_rng(12)
    for stride, size in [(1, 7), (2, 9), (3, 10)]:
        x = rng.standard_normal((2, size, size + 1, 3)).astype("float32")
        w = rng.standard_normal((3, 3, 3, 4)).astype("float32")
        oh, ow = (size - 3) // stride + 1, (size + 1 - 3) // stride + 1
        dy = rng.standard_normal((2, oh, ow, 4)).astype("float32")
        want = _conv_input_gradient(x, w, dy, stride)
        got = np.asarray(input_gradient_2(x.shape, w.copy(), dy.copy(), stride), dtype="float64")
        expect_true(
            got.shape == want.shape,
            f"stride {stride}: expected a gradient of the input's shape {want.shape}, received shape {got.shape}.",
        )
        if stride > 1 and np.allclose(got, _windows_at_unit_steps(x.shape, w, dy), rtol=1e-4, atol=1e-4):
            raise Wrong(
                f"stride {stride}: your windows start at (i, j), as for stride 1. Hint: with stride S the output "
                "at (i, j) saw the window starting at (i * S, j * S)."
            )
        expect_close(
            f"dL/dx for stride {stride}",
            got,
            want,
            rtol=1e-4,
            atol=1e-4,
            hint="the output at (i, j) used the window starting at (i * stride, j * stride); add dy[:, i, j] "
            "times the kernel (summed over output channels) into that window, with +=.",
        )
    return "correct: with a stride the windows step by S, and inputs no window covers get no gradient."


@exercise("01.3", "Two 3x3 or one 5x5?")
def _two_small_or_one_large(stacked_3, single_3, receptive_field_3):
    channels = 16
    small, _ = _keras_conv(channels, 3, (8, 8, channels), use_bias=False)
    large, _ = _keras_conv(channels, 5, (8, 8, channels), use_bias=False)
    expect_equal("weights of two stacked 3x3 layers (C=16, no bias)", stacked_3, 2 * small.count_params())
    expect_equal("weights of one 5x5 layer (C=16, no bias)", single_3, large.count_params())
    # the receptive field of two stacked 3x3 convolutions: one output sees a window of 3 + (3 - 1)
    import keras

    probe = np.zeros((1, 9, 9, 1), "float32")
    probe[0, 4, 4, 0] = 1.0
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, kernel_initializer="ones")
    seen = keras.ops.convert_to_numpy(conv(conv(probe)))[0, :, :, 0]
    field = int(np.count_nonzero(seen[4]))
    expect_equal(
        "receptive field of the stack (pixels on a side)",
        receptive_field_3,
        field,
        hint="each 3x3 layer widens the window by 2.",
    )


@exercise("01.4", "Stride by subsampling")
def _stride_by_subsampling(stride_1_subsampled_4, stride_2_4):
    for name, value in (("stride_1_subsampled_4", stride_1_subsampled_4), ("stride_2_4", stride_2_4)):
        expect_true(
            hasattr(value, "shape"),
            f"{name}: expected an array of convolution outputs, received {type(value).__name__}.",
        )
    expect_true(
        np.shape(stride_2_4) == (1, 4, 4, 4),
        f"stride_2_4: expected the stride-2 'valid' output of a 9x9 input and 3x3 kernel, shape (1, 4, 4, 4); "
        f"received shape {np.shape(stride_2_4)}.",
    )
    expect_close(
        "stride-1 output with every second row and column kept vs the stride-2 output",
        stride_1_subsampled_4,
        stride_2_4,
        rtol=1e-4,
        atol=1e-5,
        hint="keep rows and columns 0, 2, 4, ... of the stride-1 output: y[:, ::2, ::2].",
    )


@exercise("01.5", "A cross-entropy that does not overflow")
def _stable_cross_entropy(cross_entropy_5):
    import keras

    expect_true(
        callable(cross_entropy_5),
        f"cross_entropy_5: expected a function (logits, labels) -> mean loss, "
        f"received {type(cross_entropy_5).__name__}.",
    )
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, size=6)
    for scale in (1.0, 1000.0):
        logits = rng.standard_normal((6, 4)) * scale
        want = float(
            keras.ops.convert_to_numpy(
                keras.losses.sparse_categorical_crossentropy(labels, logits.astype("float32"), from_logits=True)
            ).mean()
        )
        with np.errstate(all="ignore"):
            got = cross_entropy_5(logits.copy(), labels.copy())
        if np.ndim(got) > 0 and np.size(got) == len(labels):
            raise Wrong(
                f"cross_entropy_5 returned one loss per example (shape {np.shape(got)}). Hint: return their mean."
            )
        try:
            got = float(np.asarray(got, dtype="float64"))
        except (TypeError, ValueError):
            raise Wrong(f"cross_entropy_5: expected a number (the mean loss), received {got!r}.") from None
        if not np.isfinite(got):
            raise Wrong(
                f"logits of size {scale:g}: received {got}. exp(1000) overflows. Hint: subtract each row's "
                "largest logit before exponentiating (log-sum-exp)."
            )
        if np.isclose(got, want / np.log(2), rtol=1e-3):
            raise Wrong("cross_entropy_5: this is the loss in bits (log2). Keras uses natural logs: np.log.")
        expect_close(
            f"mean cross-entropy for logits of size {scale:g}",
            got,
            want,
            rtol=1e-3,
            atol=1e-4,
            hint="-log softmax(z)_y = -(z_y - m - log(sum_j exp(z_j - m))), averaged over the batch.",
        )
    return "correct: subtracting the largest logit changes nothing mathematically and keeps exp() finite."
