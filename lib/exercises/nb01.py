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
    expect_equal(
        "parameters",
        params_1,
        layer.count_params(),
        hint="each of the 96 filters has 11 x 11 x 3 weights and one bias.",
    )


@exercise("01.2", "Cost of a layer")
def _cost_of_a_layer(output_shape_2, macs_2, flops_2):
    _, shape = _keras_conv(64, 3, (32, 32, 3))
    expect_equal("output shape (H, W, D)", tuple(output_shape_2 or ()), tuple(shape[1:]))
    h, w, d = shape[1:]
    macs = h * w * d * 3 * 3 * 3  # one multiply-add per weight per output value
    expect_equal("multiply-adds", macs_2, macs, hint="output values x weights per output value (3 x 3 x 3).")
    expect_equal("FLOPs", flops_2, 2 * macs, hint="the lectures count a multiply and an add: 2 x multiply-adds.")


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


@exercise("01.5", "Separable savings")
def _separable_savings(saving_5):
    expect_true(
        is_number(saving_5),
        f"saving_5: expected a number (how many times fewer FLOPs), received {type(saving_5).__name__}.",
    )
    import keras

    standard = keras.layers.Conv2D(256, 3, padding="same", use_bias=False)
    separable = keras.layers.SeparableConv2D(256, 3, padding="same", use_bias=False)
    standard.build((None, 28, 28, 128))
    separable.build((None, 28, 28, 128))
    # same output size, so the FLOP ratio is the ratio of weights used per output position
    ratio = standard.count_params() / separable.count_params()
    if np.isclose(saving_5, 1 / ratio, rtol=1e-3):
        raise Wrong(f"saving_5: received {saving_5:.4g}, the inverse of the saving. Expected standard / separable.")
    expect_close(
        "standard FLOPs / separable FLOPs",
        saving_5,
        ratio,
        rtol=1e-6,
        hint="1 / (1/D2 + 1/F^2) with D2 = 256 and F = 3.",
    )
