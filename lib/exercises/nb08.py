"""Checks for notebook 08 (architectures). Each computes the right answer from Keras's own models and layers."""

from __future__ import annotations

import functools

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number

VGG_FC = (4096, 4096, 1000)  # VGG-16's fully connected layers (units), on top of keras.applications' conv base


@functools.lru_cache(maxsize=1)
def _vgg16_base():
    """keras.applications.VGG16 without its top (15M parameters: cheap to build), as {layer name: (shape, params)}."""
    import keras

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    rows = {layer.name: (tuple(layer.output.shape[1:]), layer.count_params()) for layer in base.layers}
    return rows, base.count_params()


def _row(value, name):
    expect_true(
        isinstance(value, (tuple, list)) and len(value) == 2 and all(is_number(v) for v in value),
        f"{name}: expected a pair of numbers (memory, params), received {value!r}.",
    )
    return tuple(value)


@exercise("08.1", "Two rows of the VGG-16 table")
def _vgg_rows(conv_row_1, fc_row_1):
    rows, _ = _vgg16_base()
    shape, params = rows["block3_conv1"]
    conv_weights = params - shape[-1]  # the deck counts weights, not biases
    memory, weights = _row(conv_row_1, "conv_row_1")
    if memory == 4 * np.prod(shape):
        raise Wrong("conv_row_1: the memory column counts values (H x W x D), not bytes.")
    expect_equal(
        "conv_row_1 memory (values in block3_conv1's output)",
        memory,
        int(np.prod(shape)),
        hint="the output is 56 x 56 x 256: 'same' padding keeps the 56 x 56 of block2_pool.",
    )
    if weights == params:
        raise Wrong(
            f"conv_row_1 params: {weights:,} includes the {shape[-1]} biases; the deck's table counts "
            f"weights only (not counting biases)."
        )
    expect_equal(
        "conv_row_1 params (weights of block3_conv1, no biases)",
        weights,
        conv_weights,
        hint="(3 x 3 x input depth) x filters; the input depth is block2's 128.",
    )
    flat = int(np.prod(rows["block5_pool"][0]))
    memory, weights = _row(fc_row_1, "fc_row_1")
    expect_equal("fc_row_1 memory (values in fc1's output)", memory, VGG_FC[0])
    expect_equal(
        "fc_row_1 params (weights of fc1, no biases)",
        weights,
        flat * VGG_FC[0],
        hint="the flattened 7 x 7 x 512 block5_pool times 4096 units.",
    )


def _vgg_values():
    rows, _ = _vgg16_base()
    return sum(int(np.prod(shape)) for shape, _ in rows.values()) + sum(VGG_FC)  # the input layer included


@exercise("08.2", "VGG-16's memory for a batch")
def _vgg_memory(mb_per_image_2, mb_batch_64_2):
    for name, value in (("mb_per_image_2", mb_per_image_2), ("mb_batch_64_2", mb_batch_64_2)):
        expect_true(is_number(value), f"{name}: expected a number of megabytes, received {value!r}.")
    values = _vgg_values()
    per_image = values * 4 / 1e6
    if abs(mb_per_image_2 - values / 1e6) < 0.5:
        raise Wrong(
            f"mb_per_image_2 = {mb_per_image_2:.1f} is the number of values in millions; a float32 value takes 4 bytes."
        )
    if abs(mb_per_image_2 - 96) < 0.5 and abs(per_image - 96) > 1:
        raise Wrong(
            "mb_per_image_2 = 96 is the deck's total (24M values x 4 bytes); its own rows add up to less. "
            "Sum the activation sizes of every layer (with the input) and multiply by 4 bytes."
        )
    expect_close(
        "mb_per_image_2 (MB of forward activations per image, float32, input included)",
        mb_per_image_2,
        per_image,
        rtol=0.01,
        hint="sum the deck's memory column (input, every conv, pool and FC output) x 4 bytes / 1e6.",
    )
    expect_close(
        "mb_batch_64_2 (MB for a batch of 64)",
        mb_batch_64_2,
        64 * per_image,
        rtol=0.01,
        hint="64 x the per-image memory.",
    )


def _macs(model):
    """Multiply-adds of the Conv2D, DepthwiseConv2D and Dense layers of a Keras model, from their shapes."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            h, w, c = layer.output.shape[1:]
            total += h * w * c * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, c = layer.output.shape[1:]
            total += h * w * c * int(np.prod(layer.kernel_size)) * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


@functools.lru_cache(maxsize=1)
def _mobilenet_ratios():
    """(params, MACs) of keras.applications.MobileNet at alpha 0.5 over alpha 1."""
    import keras

    full = keras.applications.MobileNet(weights=None, alpha=1.0)
    half = keras.applications.MobileNet(weights=None, alpha=0.5)
    return half.count_params() / full.count_params(), _macs(half) / _macs(full)


@exercise("08.3", "MobileNet's width multiplier")
def _width_multiplier(params_ratio_3, macs_ratio_3):
    for name, value in (("params_ratio_3", params_ratio_3), ("macs_ratio_3", macs_ratio_3)):
        expect_true(is_number(value), f"{name}: expected a number (alpha 0.5 / alpha 1), received {value!r}.")
    params, macs = _mobilenet_ratios()
    for name, value, want in (("params_ratio_3", params_ratio_3, params), ("macs_ratio_3", macs_ratio_3, macs)):
        if abs(value - 0.25) < 1e-6 and abs(want - 0.25) > 0.01:
            raise Wrong(
                f"{name} = 0.25 is the paper's 'roughly alpha squared'. Measure it: the 1000-way classifier "
                f"and the first convolution's 3 input channels do not shrink with alpha."
            )
        if value > 1 and abs(1 / value - want) < 0.01:
            raise Wrong(
                f"{name} = {value:.3f} is alpha 1 / alpha 0.5; expected alpha 0.5 / alpha 1 (a number below 1)."
            )
    expect_close(
        "params_ratio_3 (parameters at alpha 0.5 / at alpha 1)",
        params_ratio_3,
        params,
        rtol=0.01,
        hint="count_params() of the two models.",
    )
    expect_close(
        "macs_ratio_3 (multiply-adds at alpha 0.5 / at alpha 1)",
        macs_ratio_3,
        macs,
        rtol=0.01,
        hint="lib.flops.summarize(lib.flops.profile(model))['macs'] of the two models.",
    )


@exercise("08.4", "Global average pooling instead of the FC layers")
def _gap_params(gap_params_4):
    import keras

    expect_true(is_number(gap_params_4), f"gap_params_4: expected a number of parameters, received {gap_params_4!r}.")
    rows, base_params = _vgg16_base()
    classifier = keras.layers.Dense(VGG_FC[-1])
    classifier.build((None, rows["block5_pool"][0][-1]))
    want = base_params + classifier.count_params()
    if gap_params_4 == base_params:
        raise Wrong(
            f"gap_params_4 = {gap_params_4:,} counts the convolutions only; the 1000-way classifier on the "
            f"512 pooled features is still needed."
        )
    expect_equal(
        "gap_params_4 (VGG-16 with GAP + one Dense(1000))",
        gap_params_4,
        want,
        hint="the 13 convolutions plus 512 x 1000 weights and 1000 biases.",
    )


@exercise("08.5", "ResNet-34: shortcut B over A")
def _shortcut_params(extra_params_5):
    import keras

    expect_true(
        is_number(extra_params_5), f"extra_params_5: expected a number of parameters, received {extra_params_5!r}."
    )
    want, conv_only, bn_trainable = 0, 0, 0
    for c in (64, 128, 256):  # the three stages that double the channels
        conv = keras.layers.Conv2D(2 * c, 1, strides=2)
        conv.build((None, 8, 8, c))
        bn = keras.layers.BatchNormalization()
        bn.build((None, 4, 4, 2 * c))
        want += conv.count_params() + bn.count_params()
        conv_only += conv.count_params()
        bn_trainable += conv.count_params() + sum(int(np.prod(w.shape)) for w in bn.trainable_weights)
    if extra_params_5 == conv_only:
        raise Wrong(f"extra_params_5 = {extra_params_5:,} counts the 1x1 convolutions but not their BN layers.")
    if extra_params_5 == bn_trainable:
        raise Wrong(
            f"extra_params_5 = {extra_params_5:,} counts BN's gamma and beta only; count_params() also counts "
            f"its moving mean and variance (4 per channel)."
        )
    expect_equal(
        "extra_params_5 (parameters of the three projection shortcuts)",
        extra_params_5,
        want,
        hint="each: c x 2c weights + 2c biases (1x1 convolution) and 4 x 2c for its BN.",
    )
