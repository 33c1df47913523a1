"""A model zoo: the landmark CNN architectures, from AlexNet to MobileNet, as Keras models.

Every builder makes a functional Keras model with explicit layer names, takes
``input_shape`` (channels last), ``num_classes`` and, where it means something,
a ``width`` multiplier on every layer's channels. Models come uncompiled and
with random weights (nothing is downloaded).

* :func:`alexnet` (Krizhevsky et al., 2012): 5 convolutions, 3 FC layers; the
  two-GPU channel split as ``groups=2`` (the paper's ~61M parameters).
* :func:`vgg` (Simonyan and Zisserman, 2014): VGG-11/13/16/19, stacks of 3x3.
* :func:`googlenet` (Szegedy et al., 2014): Inception v1, with 1x1 reductions
  or naive modules (:func:`inception_module`).
* :func:`resnet` (He et al., 2015): ResNet-18/34 (basic blocks) and 50/101/152
  (bottlenecks), shortcut options ``"A"`` (zero-padded identity), ``"B"``
  (projection where the shape changes) and ``"C"`` (all projections).
* :func:`cifar_resnet`: the paper's small CIFAR ResNet (6n+2 layers), or its
  plain twin (no shortcuts) for the degradation experiment; with
  ``shortcut_gate=True`` every shortcut is scaled by a :class:`ShortcutGate`, so
  :func:`set_shortcut_gate` turns one built (and compiled) network into either.
* :func:`densenet` (Huang et al., 2017): DenseNet-121 (and 169/201).
* :func:`mobilenet` (Howard et al., 2017): MobileNet v1, depthwise separable.

Where ``keras.applications`` ships the same network (VGG16/19, ResNet50/101/152,
DenseNet121, MobileNet) the builder follows its conventions (biases, BN epsilon)
so the parameter counts are equal; the tests check it.

For the notebooks' experiments: :func:`norm_convnet`, a small convnet with a
choice of normalization (none, batch, group, layer; notebook 07), and
:func:`reinitialize`, which redraws a built model's weights in place so one
compiled model trains several seeds.

``build(name, **kw)`` looks a builder up by name; ``zoo_benchmark`` times them
(``python -m lib.models.zoo bench``). Timings are shown, never asserted.

Introduced in notebook 08 (architectures: from LeNet to MobileNet); the
experiment helpers in notebook 07.
"""

from __future__ import annotations

import argparse
import sys

import keras
from keras import layers

from lib import checks

__all__ = [
    "ChannelPad",
    "ShortcutGate",
    "set_shortcut_gate",
    "norm_convnet",
    "NORMALIZATIONS",
    "reinitialize",
    "alexnet",
    "vgg",
    "VGG_CONFIGS",
    "inception_module",
    "googlenet",
    "GOOGLENET_MODULES",
    "resnet",
    "RESNET_DEPTHS",
    "cifar_resnet",
    "densenet",
    "DENSENET_BLOCKS",
    "mobilenet",
    "MOBILENET_BLOCKS",
    "MODELS",
    "build",
    "zoo_benchmark",
    "main",
]

_BN_EPS = 1.001e-5  # keras.applications' BatchNormalization epsilon (ResNet, DenseNet)


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _input_shape(input_shape, min_size: int, model: str) -> tuple[int, int, int]:
    shape = checks.image_shape(input_shape)
    if min(shape[0], shape[1]) < min_size:
        raise ValueError(
            f"Expected an input of at least {min_size}x{min_size} for {model} (its poolings and strides "
            f"downsample by that much). Received: input_shape={shape}"
        )
    return shape


def _ch(channels: int, width: float) -> int:
    """Channels scaled by the width multiplier, at least 1."""
    return max(1, int(round(channels * width)))


# ---------------------------------------------------------------------------
# AlexNet
# ---------------------------------------------------------------------------


def alexnet(
    input_shape=(227, 227, 3), num_classes: int = 1000, width: float = 1.0, groups: int = 2, dropout: float = 0.5
) -> keras.Model:
    """AlexNet: conv 96@11x11/4, pool, conv 256@5x5, pool, conv 384, 384, 256 @3x3, pool, FC 4096, 4096.

    ``groups=2`` reproduces the paper's two-GPU split (conv2, conv4, conv5 see
    only half the channels), which is what gives ~61M parameters; ``groups=1``
    is the single-tower variant (~62.4M). Local response normalization is left
    out (no Keras layer; later work found it does little). The paper's 224x224
    input only works out with 227x227 (``(227 - 11) / 4 + 1 = 55``).

    Introduced in notebook 08 (architectures).
    """
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    checks.one_of(groups, "groups", (1, 2))
    shape = _input_shape(input_shape, 67, "AlexNet")
    c = [_ch(n, w) for n in (96, 256, 384, 384, 256)]
    if groups == 2 and any(n % 2 for n in c):
        c = [n + n % 2 for n in c]
    inputs = keras.Input(shape, name="input")
    x = layers.Conv2D(c[0], 11, strides=4, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(c[1], 5, padding="same", groups=groups, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(c[2], 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(c[3], 3, padding="same", groups=groups, activation="relu", name="conv4")(x)
    x = layers.Conv2D(c[4], 3, padding="same", groups=groups, activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(_ch(4096, w), activation="relu", name="fc6")(x)
    x = layers.Dropout(dropout, name="drop6")(x)
    x = layers.Dense(_ch(4096, w), activation="relu", name="fc7")(x)
    x = layers.Dropout(dropout, name="drop7")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="fc8")(x)
    return keras.Model(inputs, outputs, name="alexnet")


# ---------------------------------------------------------------------------
# VGG
# ---------------------------------------------------------------------------

#: Convolutions per block (each block: n x conv3, then a 2x2 max pool) of VGG-11/13/16/19.
VGG_CONFIGS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def vgg(
    depth: int = 16,
    input_shape=(224, 224, 3),
    num_classes: int = 1000,
    width: float = 1.0,
    fc_units: int = 4096,
    batch_norm: bool = False,
) -> keras.Model:
    """VGG-11/13/16/19: blocks of 3x3 convolutions (stride 1, pad 1), 2x2 max pools, FC 4096, 4096.

    Layer names follow ``keras.applications.VGG16`` (``block1_conv1`` ...
    ``fc1``, ``fc2``, ``predictions``); with the defaults VGG-16 has its
    138,357,544 parameters.

    Introduced in notebook 08 (architectures).
    """
    checks.one_of(depth, "depth", sorted(VGG_CONFIGS))
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    shape = _input_shape(input_shape, 32, f"VGG-{depth}")
    inputs = keras.Input(shape, name="input")
    x = inputs
    for b, (n, filters) in enumerate(zip(VGG_CONFIGS[depth], (64, 128, 256, 512, 512), strict=True), start=1):
        for i in range(1, n + 1):
            name = f"block{b}_conv{i}"
            if batch_norm:
                x = layers.Conv2D(_ch(filters, w), 3, padding="same", use_bias=False, name=name)(x)
                x = layers.BatchNormalization(name=name + "_bn")(x)
                x = layers.ReLU(name=name + "_relu")(x)
            else:
                x = layers.Conv2D(_ch(filters, w), 3, padding="same", activation="relu", name=name)(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(_ch(fc_units, w), activation="relu", name="fc1")(x)
    x = layers.Dense(_ch(fc_units, w), activation="relu", name="fc2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"vgg{depth}")


# ---------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------

#: Inception v1 modules (Szegedy et al., Table 1): (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj).
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def inception_module(x, c1: int, c3r: int, c3: int, c5r: int, c5: int, cp: int, name: str, naive: bool = False):
    """One Inception v1 module on tensor ``x``: parallel 1x1, 3x3, 5x5 convolutions and a 3x3 max pool.

    With ``naive=False`` 1x1 "reductions" (``c3r``, ``c5r`` filters) come
    before the 3x3 and 5x5 convolutions and a 1x1 projection (``cp``) after
    the pool; ``naive=True`` drops all three, so the pool branch passes all its
    input channels through. The branches are concatenated along channels.

    Introduced in notebook 08 (architectures).
    """
    conv = lambda t, f, k, n: layers.Conv2D(f, k, padding="same", activation="relu", name=f"{name}_{n}")(t)  # noqa: E731
    b1 = conv(x, c1, 1, "1x1")
    if naive:
        b3 = conv(x, c3, 3, "3x3")
        b5 = conv(x, c5, 5, "5x5")
        bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    else:
        b3 = conv(conv(x, c3r, 1, "3x3_reduce"), c3, 3, "3x3")
        b5 = conv(conv(x, c5r, 1, "5x5_reduce"), c5, 5, "5x5")
        bp = conv(layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x), cp, 1, "pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def googlenet(
    input_shape=(224, 224, 3), num_classes: int = 1000, width: float = 1.0, naive: bool = False, dropout: float = 0.4
) -> keras.Model:
    """GoogLeNet (Inception v1) without its auxiliary classifiers and LRN: 22 layers with weights.

    Stem conv 64@7x7/2, pool, conv 64@1x1, conv 192@3x3, pool, inception
    3a-3b, pool, 4a-4e, pool, 5a-5b, global average pool, dropout, one FC.
    ``naive=True`` uses naive modules (no 1x1 reductions or pool projections).

    Introduced in notebook 08 (architectures).
    """
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    shape = _input_shape(input_shape, 32, "GoogLeNet")
    inputs = keras.Input(shape, name="input")
    x = layers.Conv2D(_ch(64, w), 7, strides=2, padding="same", activation="relu", name="conv1_7x7")(inputs)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = layers.Conv2D(_ch(64, w), 1, activation="relu", name="conv2_reduce")(x)
    x = layers.Conv2D(_ch(192, w), 3, padding="same", activation="relu", name="conv2_3x3")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    for key, spec in GOOGLENET_MODULES.items():
        if key in ("4a", "5a"):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{key[0]}")(x)
        x = inception_module(x, *(_ch(c, w) for c in spec), name=f"inception_{key}", naive=naive)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="googlenet_naive" if naive else "googlenet")


# ---------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------

#: (block kind, blocks per stage) for ResNet-18/34/50/101/152 (He et al., Table 1).
RESNET_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


@keras.saving.register_keras_serializable(package="lib")
class ChannelPad(layers.Layer):
    """Zero channels appended to a tensor: ResNet's shortcut option A (identity, zero-padded).

    ``ChannelPad(extra)`` maps ``(..., C)`` to ``(..., C + extra)``; no weights.

    Introduced in notebook 08 (architectures).
    """

    def __init__(self, extra: int, **kwargs):
        super().__init__(**kwargs)
        self.extra = checks.non_negative_int(extra, "extra")

    def call(self, inputs, training=None):
        pad = [[0, 0]] * (len(inputs.shape) - 1) + [[0, self.extra]]
        return keras.ops.pad(inputs, pad)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + self.extra
        return (*input_shape[:-1], last)

    def get_config(self):
        return {**super().get_config(), "extra": self.extra}


@keras.saving.register_keras_serializable(package="lib")
class ShortcutGate(layers.Layer):
    """Multiplies a residual block's shortcut by a fixed number ``g`` held in a non-trainable weight.

    ``g = 1`` (the default) is the residual block ``y = F(x) + x``; ``g = 0`` is the
    plain block ``y = F(x)``: nothing passes through the shortcut, forward or
    backward. Because ``g`` is a weight, not a Python number, changing it with
    :func:`set_shortcut_gate` needs no new model and no recompilation.

    Introduced in notebook 08 (architectures).
    """

    def __init__(self, gate: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_gate = checks.number(gate, "gate")

    def build(self, input_shape):
        self.gate = self.add_weight(
            name="gate", shape=(), initializer=keras.initializers.Constant(self.initial_gate), trainable=False
        )

    def call(self, inputs):
        return inputs * keras.ops.cast(self.gate, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "gate": self.initial_gate}


def set_shortcut_gate(model, value: float) -> int:
    """Set every :class:`ShortcutGate` of ``model`` to ``value`` (1: residual, 0: plain); returns how many.

    Introduced in notebook 08 (architectures).
    """
    value = checks.number(value, "value")
    gates = [layer for layer in model.layers if isinstance(layer, ShortcutGate)]
    if not gates:
        raise ValueError(
            "Expected a model with ShortcutGate layers (cifar_resnet(..., shortcut_gate=True)). "
            f"Received: {model.name!r}"
        )
    for layer in gates:
        layer.gate.assign(value)
    return len(gates)


def _shortcut(x, out_channels: int, stride: int, option: str, name: str, use_bias: bool):
    """The shortcut of a residual block for options A/B/C."""
    in_channels = x.shape[-1]
    changes = stride != 1 or in_channels != out_channels
    if option == "C" or (option == "B" and changes):
        s = layers.Conv2D(out_channels, 1, strides=stride, use_bias=use_bias, name=name + "_0_conv")(x)
        return layers.BatchNormalization(epsilon=_BN_EPS, name=name + "_0_bn")(s)
    if not changes:
        return x
    # option A: subsample by striding (a 1x1 "pool" with stride 2) and zero-pad the new channels
    s = layers.MaxPooling2D(1, strides=stride, name=name + "_0_subsample")(x) if stride != 1 else x
    return ChannelPad(out_channels - in_channels, name=name + "_0_pad")(s) if out_channels > in_channels else s


def _basic_block(
    x,
    filters: int,
    stride: int,
    option: str,
    name: str,
    use_bias: bool,
    residual: bool = True,
    bn_momentum: float = 0.99,
    gate: bool = False,
):
    shortcut = _shortcut(x, filters, stride, option, name, use_bias) if residual else None
    if residual and gate:
        shortcut = ShortcutGate(name=name + "_gate")(shortcut)
    bn = lambda n: layers.BatchNormalization(momentum=bn_momentum, epsilon=_BN_EPS, name=n)  # noqa: E731
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=use_bias, name=name + "_1_conv")(x)
    y = bn(name + "_1_bn")(y)
    y = layers.ReLU(name=name + "_1_relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=name + "_2_conv")(y)
    y = bn(name + "_2_bn")(y)
    if residual:
        y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.ReLU(name=name + "_out")(y)


def _bottleneck_block(x, filters: int, stride: int, option: str, name: str, use_bias: bool):
    # keras.applications.ResNet50 convention: the stride sits on the first 1x1 convolution
    shortcut = _shortcut(x, 4 * filters, stride, option, name, use_bias)
    y = layers.Conv2D(filters, 1, strides=stride, use_bias=use_bias, name=name + "_1_conv")(x)
    y = layers.BatchNormalization(epsilon=_BN_EPS, name=name + "_1_bn")(y)
    y = layers.ReLU(name=name + "_1_relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=name + "_2_conv")(y)
    y = layers.BatchNormalization(epsilon=_BN_EPS, name=name + "_2_bn")(y)
    y = layers.ReLU(name=name + "_2_relu")(y)
    y = layers.Conv2D(4 * filters, 1, use_bias=use_bias, name=name + "_3_conv")(y)
    y = layers.BatchNormalization(epsilon=_BN_EPS, name=name + "_3_bn")(y)
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.ReLU(name=name + "_out")(y)


def resnet(
    depth: int = 50,
    input_shape=(224, 224, 3),
    num_classes: int = 1000,
    width: float = 1.0,
    shortcut: str = "B",
    stem: str = "imagenet",
    use_bias: bool = True,
) -> keras.Model:
    """ResNet-18/34 (basic blocks) or 50/101/152 (bottleneck blocks), He et al. (2015).

    ``shortcut``: ``"A"`` identity, zero-padded where channels grow (no extra
    parameters); ``"B"`` a 1x1 projection (+ BN) only where the shape changes;
    ``"C"`` projections on every block. ``stem="imagenet"`` is conv 64@7x7/2 +
    3x3/2 max pool; ``stem="cifar"`` a 3x3 stride-1 conv and no pool (the usual
    ResNet-18 on 32x32 images). ``use_bias=True`` puts a bias in every
    convolution as ``keras.applications.ResNet50`` does (so the counts match:
    25,636,712 for ResNet-50); set it False for the paper's bias-free convs.
    Layer names follow keras.applications (``conv2_block1_1_conv`` ...).

    Introduced in notebook 08 (architectures).
    """
    checks.one_of(depth, "depth", sorted(RESNET_DEPTHS))
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    checks.one_of(shortcut, "shortcut", ("A", "B", "C"))
    checks.one_of(stem, "stem", ("imagenet", "cifar"))
    shape = _input_shape(input_shape, 32 if stem == "imagenet" else 8, f"ResNet-{depth}")
    kind, blocks = RESNET_DEPTHS[depth]
    inputs = keras.Input(shape, name="input")
    if stem == "imagenet":
        x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
        x = layers.Conv2D(_ch(64, w), 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    else:
        x = layers.Conv2D(_ch(64, w), 3, padding="same", use_bias=use_bias, name="conv1_conv")(inputs)
    x = layers.BatchNormalization(epsilon=_BN_EPS, name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    if stem == "imagenet":
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for s, (n, filters) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True)):
        for b in range(n):
            stride = 2 if (b == 0 and s > 0) else 1
            name = f"conv{s + 2}_block{b + 1}"
            if kind == "basic":
                x = _basic_block(x, _ch(filters, w), stride, shortcut, name, use_bias)
            else:
                x = _bottleneck_block(x, _ch(filters, w), stride, shortcut, name, use_bias)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


def cifar_resnet(
    depth: int = 20,
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    width: float = 1.0,
    residual: bool = True,
    shortcut: str = "A",
    stem_stride: int = 1,
    bn_momentum: float = 0.99,
    shortcut_gate: bool = False,
) -> keras.Model:
    """The ResNet paper's CIFAR network: 6n+2 layers (depth 20, 32, 44, 56, 110, ...), 16/32/64 channels.

    Conv 16@3x3, three stages of ``n`` basic blocks (the 2nd and 3rd start
    with stride 2), global average pool, one FC. ``residual=False`` gives the
    "plain" network of the same depth and width (no shortcuts): the paper's
    degradation experiment. ``shortcut`` as in :func:`resnet` (the paper used A).
    ``stem_stride=2`` makes the first convolution halve the image (a CPU budget:
    4x fewer multiply-adds everywhere after it); ``bn_momentum`` is every BN
    layer's (Keras's 0.99 keeps moving statistics that lag in runs of a few dozen
    steps); ``shortcut_gate=True`` puts a :class:`ShortcutGate` on every shortcut,
    so :func:`set_shortcut_gate` (0 or 1) switches the built model between its
    plain and residual versions (same weights, same compiled functions).

    Introduced in notebook 08 (architectures).
    """
    if checks.integer(depth, "depth", minimum=8) % 6 != 2:
        raise ValueError(f"Expected depth = 6n + 2 with n >= 1 (8, 14, 20, 32, ...). Received: depth={depth!r}")
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    checks.one_of(shortcut, "shortcut", ("A", "B", "C"))
    stem_stride = checks.one_of(stem_stride, "stem_stride", (1, 2))
    bn_momentum = checks.probability(bn_momentum, "bn_momentum")
    if shortcut_gate and not residual:
        raise ValueError("Expected residual=True with shortcut_gate=True (a gate of 0 gives the plain network).")
    shape = _input_shape(input_shape, 4 * stem_stride, f"CIFAR ResNet-{depth}")
    n = (depth - 2) // 6
    inputs = keras.Input(shape, name="input")
    x = layers.Conv2D(_ch(16, w), 3, strides=stem_stride, padding="same", use_bias=False, name="conv1_conv")(inputs)
    x = layers.BatchNormalization(momentum=bn_momentum, epsilon=_BN_EPS, name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    for s, filters in enumerate((16, 32, 64)):
        for b in range(n):
            stride = 2 if (b == 0 and s > 0) else 1
            x = _basic_block(
                x,
                _ch(filters, w),
                stride,
                shortcut,
                f"conv{s + 2}_block{b + 1}",
                False,
                residual,
                bn_momentum=bn_momentum,
                gate=shortcut_gate,
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"{'resnet' if residual else 'plain'}{depth}_cifar")


# ---------------------------------------------------------------------------
# DenseNet
# ---------------------------------------------------------------------------

#: Layers per dense block of DenseNet-121/169/201.
DENSENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


def densenet(
    depth: int = 121, input_shape=(224, 224, 3), num_classes: int = 1000, growth_rate: int = 32, reduction: float = 0.5
) -> keras.Model:
    """DenseNet-BC (Huang et al., 2017): dense blocks in which each layer's ``growth_rate`` new
    channels are concatenated to everything before it; transitions (1x1 conv, 2x2 average
    pool) halve the channels (``reduction``) and the size.

    Each layer is BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k), bias-free, as in
    ``keras.applications.DenseNet121`` (8,062,504 parameters with the defaults).
    The width knob is ``growth_rate`` (``k``).

    Introduced in notebook 08 (architectures).
    """
    checks.one_of(depth, "depth", sorted(DENSENET_BLOCKS))
    growth_rate = checks.positive_int(growth_rate, "growth_rate")
    reduction = checks.number(reduction, "reduction", 0.0, 1.0, low_open=True)
    num_classes = checks.num_classes(num_classes)
    shape = _input_shape(input_shape, 32, f"DenseNet-{depth}")
    bn = lambda t, n: layers.BatchNormalization(epsilon=_BN_EPS, name=n)(t)  # noqa: E731
    inputs = keras.Input(shape, name="input")
    x = layers.ZeroPadding2D(3, name="zero_padding2d")(inputs)
    x = layers.Conv2D(2 * growth_rate, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.ReLU(name="conv1_relu")(bn(x, "conv1_bn"))
    x = layers.ZeroPadding2D(1, name="zero_padding2d_1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    blocks = DENSENET_BLOCKS[depth]
    for i, n in enumerate(blocks, start=2):
        for j in range(1, n + 1):
            name = f"conv{i}_block{j}"
            y = layers.ReLU(name=name + "_0_relu")(bn(x, name + "_0_bn"))
            y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(y)
            y = layers.ReLU(name=name + "_1_relu")(bn(y, name + "_1_bn"))
            y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(y)
            x = layers.Concatenate(name=name + "_concat")([x, y])
        if i - 2 < len(blocks) - 1:
            name = f"pool{i}"
            y = layers.ReLU(name=name + "_relu")(bn(x, name + "_bn"))
            y = layers.Conv2D(int(x.shape[-1] * reduction), 1, use_bias=False, name=name + "_conv")(y)
            x = layers.AveragePooling2D(2, strides=2, name=name + "_pool")(y)
    x = layers.ReLU(name="relu")(bn(x, "bn"))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"densenet{depth}")


# ---------------------------------------------------------------------------
# MobileNet v1
# ---------------------------------------------------------------------------

#: (pointwise filters, stride) of MobileNet v1's 13 depthwise separable blocks.
MOBILENET_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def mobilenet(
    input_shape=(224, 224, 3),
    num_classes: int = 1000,
    width: float = 1.0,
    separable: bool = True,
    dropout: float = 1e-3,
) -> keras.Model:
    """MobileNet v1 (Howard et al., 2017): a 3x3 conv then 13 depthwise separable blocks.

    Each block is depthwise 3x3 - BN - ReLU6 - pointwise 1x1 - BN - ReLU6,
    bias-free; ``width`` is the paper's alpha (channels ``int(c x alpha)`` as
    ``keras.applications.MobileNet``, 4,253,864 parameters at alpha 1).
    ``separable=False`` replaces each block with a standard 3x3 convolution of
    the same output (the paper's "conv MobileNet" baseline, ~29M parameters).

    Introduced in notebook 08 (architectures).
    """
    w = checks.positive(width, "width")
    num_classes = checks.num_classes(num_classes)
    shape = _input_shape(input_shape, 32, "MobileNet")
    ch = lambda c: max(1, int(c * w))  # noqa: E731
    inputs = keras.Input(shape, name="input")
    x = layers.Conv2D(ch(32), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for i, (filters, stride) in enumerate(MOBILENET_BLOCKS, start=1):
        if separable:
            x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"conv_dw_{i}")(x)
            x = layers.BatchNormalization(name=f"conv_dw_{i}_bn")(x)
            x = layers.ReLU(6.0, name=f"conv_dw_{i}_relu")(x)
            x = layers.Conv2D(ch(filters), 1, use_bias=False, name=f"conv_pw_{i}")(x)
        else:
            x = layers.Conv2D(ch(filters), 3, strides=stride, padding="same", use_bias=False, name=f"conv_{i}")(x)
        x = layers.BatchNormalization(name=f"conv_pw_{i}_bn")(x)
        x = layers.ReLU(6.0, name=f"conv_pw_{i}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet" if separable else "conv_mobilenet")


# ---------------------------------------------------------------------------
# the experiments' small networks and seeds
# ---------------------------------------------------------------------------

#: ``norm_convnet(norm=...)`` choices -> what follows each convolution and the hidden Dense layer.
NORMALIZATIONS = {
    None: "nothing (the plain network; its layers keep their biases)",
    "batch": "BatchNormalization: statistics per channel over the batch (and H, W)",
    "group": "GroupNormalization(groups): per example, over H, W and the channels of a group",
    "layer": "GroupNormalization(groups=1), i.e. layer norm: per example, over H, W and all channels",
}


def norm_convnet(
    norm: str | None = None,
    widths=(8, 8, 16, 16, 32, 32),
    hidden: int = 64,
    groups: int = 4,
    bn_momentum: float = 0.9,
    shift_noise: float | None = None,
    virtual_batch_size: int | None = None,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    name: str | None = None,
) -> keras.Model:
    """A small convnet whose only knob is its normalization: the network of notebook 07's experiments.

    One 3x3 convolution per entry of ``widths`` (the first and every one that
    changes the width has stride 2; He-normal kernels), each followed by ``norm``
    and a ReLU; global average pooling; ``Dense(hidden)`` followed by ``norm`` and
    a ReLU; ``Dense(num_classes)`` logits (no softmax). ``norm`` is a key of
    :data:`NORMALIZATIONS`; layer norm is ``GroupNormalization(groups=1)`` (Wu and
    He's definition for images: over H, W and C, one scale and shift per channel),
    group norm uses ``groups`` groups. A layer followed by a normalization has
    no bias (the normalization's beta replaces it).
    ``shift_noise`` (BN only; a level >= 0) puts a :class:`lib.norm.CovariateShiftNoise`
    of that level after every BN layer: Santurkar et al.'s "noisy BatchNorm".
    ``virtual_batch_size=v`` (BN only) uses :class:`lib.norm.BatchNorm` with
    statistics from groups of ``v`` examples instead of the whole batch: BN as
    each device computes it with ``v`` examples per device.

    Layers are named ``conv{i}``, ``norm{i}``, ``noise{i}``, ``relu{i}``,
    ``gap``, ``hidden``, ``hidden_norm``, ``hidden_relu``, ``logits``.

    Introduced in notebook 07 (normalization).
    """
    from lib import norm as lib_norm

    if norm not in NORMALIZATIONS:
        raise ValueError(f"Expected norm to be one of {list(NORMALIZATIONS)}. Received: norm={norm!r}")
    if not isinstance(widths, (tuple, list)) or not widths:
        raise ValueError(f"Expected widths to be a non-empty list of positive integers. Received: widths={widths!r}")
    widths = [checks.positive_int(c, "widths") for c in widths]
    hidden = checks.positive_int(hidden, "hidden")
    bn_momentum = checks.probability(bn_momentum, "bn_momentum")
    if shift_noise is not None:
        shift_noise = checks.non_negative(shift_noise, "shift_noise")
    if virtual_batch_size is not None:
        virtual_batch_size = checks.positive_int(virtual_batch_size, "virtual_batch_size")
    if (shift_noise is not None or virtual_batch_size is not None) and norm != "batch":
        raise ValueError(
            f"Expected norm='batch' with shift_noise or virtual_batch_size. Received: norm={norm!r}, "
            f"shift_noise={shift_noise!r}, virtual_batch_size={virtual_batch_size!r}"
        )
    num_classes = checks.num_classes(num_classes)
    shape = checks.image_shape(input_shape)
    if norm == "group":
        groups = checks.positive_int(groups, "groups")
        if any(c % groups for c in (*widths, hidden)):
            raise ValueError(
                f"Expected groups to divide every width and hidden. Received: groups={groups}, "
                f"widths={tuple(widths)}, hidden={hidden}"
            )

    def normalization(layer_name):
        if norm == "batch" and virtual_batch_size is not None:
            return lib_norm.BatchNorm(momentum=bn_momentum, virtual_batch_size=virtual_batch_size, name=layer_name)
        if norm == "batch":
            return layers.BatchNormalization(momentum=bn_momentum, name=layer_name)
        return layers.GroupNormalization(groups=groups if norm == "group" else 1, name=layer_name)

    def block(x, layer, suffix):
        x = layer(x)
        relu = layers.ReLU(name=f"relu{suffix}" if suffix != "_hidden" else "hidden_relu")
        if norm is None:
            return relu(x)
        x = normalization(f"norm{suffix}" if suffix != "_hidden" else "hidden_norm")(x)
        if shift_noise is not None:
            noise_name = f"noise{suffix}" if suffix != "_hidden" else "hidden_noise"
            x = lib_norm.CovariateShiftNoise(shift_noise, name=noise_name)(x)
        return relu(x)

    use_bias = norm is None
    inputs = keras.Input(shape, name="image")
    x, previous = inputs, None
    for i, filters in enumerate(widths):
        stride = 2 if previous is None or filters != previous else 1
        previous = filters
        conv = layers.Conv2D(
            filters,
            3,
            strides=stride,
            padding="same",
            use_bias=use_bias,
            kernel_initializer="he_normal",
            name=f"conv{i}",
        )
        x = block(x, conv, str(i))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = block(x, layers.Dense(hidden, use_bias=use_bias, kernel_initializer="he_normal", name="hidden"), "_hidden")
    outputs = layers.Dense(num_classes, kernel_initializer="he_normal", name="logits")(x)
    label = {None: "plain", "batch": "bn", "group": "gn", "layer": "ln"}[norm]
    return keras.Model(inputs, outputs, name=name or f"{label}_convnet")


_KERNELS = ("kernel", "depthwise_kernel", "pointwise_kernel")


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def reinitialize(model, seed: int, kernel_std: float | None = None) -> None:
    """Draw new starting weights for a built model in place, and reset its optimizer: a fresh start, no rebuild.

    Every kernel (``Dense``, ``Conv*D``, depthwise and separable convolutions) is
    drawn again from its layer's own initializer seeded from ``seed`` (so a seed
    always gives the same weights on a backend) - or, with ``kernel_std``, from
    ``N(0, kernel_std^2)`` (the "small random numbers" of the lectures: 0.01).
    Biases become 0; normalization layers get gamma 1, beta 0, moving mean 0 and
    moving variance 1 (what they have). :class:`ShortcutGate`'s gate is left as
    it is. If the model is compiled and has trained, its
    optimizer's slots (momentum, ...) and step count go back to 0 (its learning
    rate is kept: set it with ``model.optimizer.learning_rate = ...``).

    Why: building and compiling a model costs seconds on a CPU (tracing the
    training step again), more than a short training run; with this, one
    compiled model trains every seed and every learning rate of an experiment.

    Introduced in notebook 07 (normalization); used in notebook 08.
    """
    import numpy as np

    seed = checks.non_negative_int(seed, "seed")
    if kernel_std is not None:
        kernel_std = checks.positive(kernel_std, "kernel_std")
    if not model.built:
        raise ValueError(f"Expected a built model. Received: model {model.name!r}, not built")
    rng = np.random.default_rng(seed)
    for i, layer in enumerate(_all_layers(model)):
        done = set()
        for attr in _KERNELS:
            variable = getattr(layer, attr, None)
            if variable is None or not isinstance(variable, keras.Variable):
                continue
            if kernel_std is not None:
                value = rng.normal(0.0, kernel_std, tuple(variable.shape))
            else:
                initializer = keras.initializers.get(getattr(layer, attr + "_initializer"))
                config = initializer.get_config()
                if "seed" in config:
                    config["seed"] = seed * 10_007 + i
                value = type(initializer).from_config(config)(tuple(variable.shape), "float32")
            variable.assign(keras.ops.cast(value, variable.dtype))
            done.add(id(variable))
        for attr, value in (("gamma", 1.0), ("beta", 0.0), ("moving_mean", 0.0), ("moving_variance", 1.0)):
            variable = getattr(layer, attr, None)  # BatchNormalization, Group/LayerNormalization, lib.norm.BatchNorm
            if isinstance(variable, keras.Variable):
                variable.assign(keras.ops.full(variable.shape, value, variable.dtype))
                done.add(id(variable))
        bias = getattr(layer, "bias", None)
        if isinstance(bias, keras.Variable):
            bias.assign(keras.ops.zeros(bias.shape, bias.dtype))
            done.add(id(bias))
        left = [w.path for w in layer.trainable_weights if id(w) not in done]
        if left:
            raise ValueError(
                f"reinitialize() does not know how to draw the weights {left} of layer {layer.name!r} "
                f"({type(layer).__name__})"
            )
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        rate = getattr(optimizer, "_learning_rate", None)
        for variable in optimizer.variables:
            if variable is not rate:
                variable.assign(keras.ops.zeros(variable.shape, variable.dtype))


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------


def _partial(fn, **fixed):
    def builder(**kw):
        return fn(**{**fixed, **kw})

    builder.__doc__ = fn.__doc__
    builder.__name__ = fn.__name__
    return builder


#: name -> builder; ``build(name, **kw)`` calls it.
MODELS = {
    "alexnet": alexnet,
    **{f"vgg{d}": _partial(vgg, depth=d) for d in VGG_CONFIGS},
    "googlenet": googlenet,
    **{f"resnet{d}": _partial(resnet, depth=d) for d in RESNET_DEPTHS},
    "cifar_resnet": cifar_resnet,
    **{f"densenet{d}": _partial(densenet, depth=d) for d in DENSENET_BLOCKS},
    "mobilenet": mobilenet,
}


def build(name: str, **kwargs) -> keras.Model:
    """Build a zoo model by name: ``build("resnet50", input_shape=(64, 64, 3), num_classes=10)``.

    Names: see ``sorted(lib.models.zoo.MODELS)``. Keyword arguments go to the builder.
    Calling ``keras.backend.clear_session()`` beforehand is left to the caller.

    Introduced in notebook 08 (architectures).
    """
    if name not in MODELS:
        raise ValueError(f"Unknown model name {name!r}. Expected one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)


def zoo_benchmark(
    names=("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "densenet121", "mobilenet"),
    input_size: int = 64,
    batch: int = 1,
    repeats: int = 3,
    num_classes: int = 1000,
    seed: int = 0,
) -> list[dict]:
    """Time inference of zoo models on random inputs; one row per model.

    Each row: ``model``, ``input`` (``batch x size x size x 3``), ``params``,
    ``seconds`` (best of ``repeats`` ``model(x, training=False)`` calls after a
    warm-up) and ``images_per_s``. AlexNet needs at least 67x67 and is built at
    ``max(input_size, 67)``. Timings depend on the machine: shown, never asserted.

    Introduced in notebook 08 (architectures).
    """
    import numpy as np

    from lib.timing import time_call

    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        size = max(input_size, 67) if name == "alexnet" else input_size
        keras.backend.clear_session()
        model = build(name, input_shape=(size, size, 3), num_classes=num_classes)
        x = rng.standard_normal((batch, size, size, 3)).astype("float32")
        seconds = time_call(lambda m=model, x=x: keras.ops.convert_to_numpy(m(x, training=False)), repeats)
        rows.append(
            {
                "model": name,
                "input": f"{batch}x{size}x{size}x3",
                "params": model.count_params(),
                "seconds": seconds,
                "images_per_s": batch / seconds,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lib.models.zoo bench [--size 64] [--batch 1] [--models ...]`` or ``list``.

    Introduced in notebook 08 (architectures).
    """
    parser = argparse.ArgumentParser(prog="python -m lib.models.zoo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("list", help="model names and parameter counts at 224x224")
    bench = sub.add_parser("bench", help="inference images/s of zoo models")
    bench.add_argument("--size", type=int, default=64)
    bench.add_argument("--batch", type=int, default=1)
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument(
        "--models",
        nargs="+",
        default=["alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "densenet121", "mobilenet"],
    )
    args = parser.parse_args(argv)
    from lib.viz import table as format_rows

    if args.what == "list":
        rows = []
        for name in sorted(MODELS):
            shape = (227, 227, 3) if name == "alexnet" else (32, 32, 3) if name == "cifar_resnet" else (224, 224, 3)
            keras.backend.clear_session()
            rows.append(
                {
                    "model": name,
                    "input": "x".join(map(str, shape)),
                    "params": build(name, input_shape=shape).count_params(),
                }
            )
        print(format_rows(rows))
        return 0
    print(format_rows(zoo_benchmark(args.models, args.size, args.batch, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
