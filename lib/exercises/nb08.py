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


def _reference_bottleneck(input_shape, filters: int, stride: int, use_bias: bool):
    """keras.applications.ResNet50's bottleneck block (stride on the first 1x1; projection when the shape changes)."""
    import keras

    layers = keras.layers
    x = keras.Input(input_shape)
    shortcut = x
    if stride != 1 or input_shape[-1] != 4 * filters:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, use_bias=use_bias)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Conv2D(filters, 1, strides=stride, use_bias=use_bias)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(y)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(4 * filters, 1, use_bias=use_bias)(y))
    return keras.Model(x, layers.ReLU()(layers.Add()([shortcut, y])))


#: (input shape, filters, stride) the checks of 08.1 and 08.2 try: inside a stage, and a stage's first block.
BOTTLENECK_CASES = (((14, 14, 256), 64, 1), ((14, 14, 256), 128, 2), ((28, 28, 64), 64, 1))


@exercise("08.1", "Build a bottleneck block")
def _bottleneck(bottleneck_1):
    import keras

    expect_true(
        callable(bottleneck_1),
        "bottleneck_1: expected a function bottleneck_1(x, filters, stride) returning the block's output tensor, "
        f"received {type(bottleneck_1).__name__}.",
    )
    for shape, filters, stride in BOTTLENECK_CASES:
        x = keras.Input(shape)
        try:
            y = bottleneck_1(x, filters, stride)
        except ValueError as error:
            raise Wrong(
                f"bottleneck_1(x of shape {shape}, filters={filters}, stride={stride}) raised {error!s:.200}. If the "
                "Add fails, the shortcut must match the block's output: where the stride or the channels change, "
                "project it with a 1x1 convolution (4 * filters channels, the same stride) and a BN."
            ) from None
        want_shape = (shape[0] // stride, shape[1] // stride, 4 * filters)
        got_shape = tuple(y.shape[1:])
        if got_shape == (shape[0] // stride, shape[1] // stride, filters):
            raise Wrong(
                f"bottleneck_1 returns {filters} channels; the last 1x1 convolution expands to 4 * filters = "
                f"{4 * filters}."
            )
        expect_equal(f"output shape for input {shape}, filters={filters}, stride={stride}", got_shape, want_shape)
        got = keras.Model(x, y).count_params()
        options = {ub: _reference_bottleneck(shape, filters, stride, ub).count_params() for ub in (True, False)}
        if got not in options.values():
            raise Wrong(
                f"bottleneck_1 for input {shape}, filters={filters}, stride={stride} has {got:,} parameters; "
                f"expected {options[True]:,} (convolutions with biases) or {options[False]:,} (without), BN "
                "included: 1x1 to filters, 3x3 at filters, 1x1 to 4 * filters, a BN after each, and a projection "
                "shortcut (1x1 + BN) only where the shape changes."
            )
    return "correct: the bottleneck block has keras.applications.ResNet50's shapes and parameter counts."


@exercise("08.2", "Count a bottleneck block's multiply-adds")
def _bottleneck_macs(bottleneck_macs_2):
    expect_true(
        callable(bottleneck_macs_2),
        "bottleneck_macs_2: expected a function bottleneck_macs_2(h, w, c_in, filters, stride) returning a number, "
        f"received {type(bottleneck_macs_2).__name__}.",
    )
    for shape, filters, stride in BOTTLENECK_CASES:
        h, w, c_in = shape
        want = _macs(_reference_bottleneck(shape, filters, stride, False))
        got = bottleneck_macs_2(h, w, c_in, filters, stride)
        expect_true(is_number(got), f"bottleneck_macs_2(...) returned {got!r}, expected a number.")
        ho, wo = h // stride, w // stride
        projection = ho * wo * c_in * 4 * filters if (stride != 1 or c_in != 4 * filters) else 0
        if projection and got == want - projection:
            raise Wrong(
                f"bottleneck_macs_2({h}, {w}, {c_in}, {filters}, {stride}) leaves out the projection shortcut: a 1x1 "
                f"convolution from {c_in} to {4 * filters} channels at {ho}x{wo}."
            )
        at_input = h * w * (c_in * filters + 9 * filters * filters + filters * 4 * filters) + projection * stride**2
        if stride != 1 and got == at_input:
            raise Wrong(
                f"bottleneck_macs_2 with stride {stride} counts every convolution at the input's {h}x{w}; with the "
                f"stride on the first 1x1, all three run at {ho}x{wo}."
            )
        expect_equal(
            f"bottleneck_macs_2({h}, {w}, {c_in}, {filters}, {stride})",
            got,
            want,
            hint="per output position: c_in * filters + 9 * filters^2 + filters * 4 filters, plus c_in * 4 filters "
            "for a projection shortcut; times (h / stride) * (w / stride).",
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
