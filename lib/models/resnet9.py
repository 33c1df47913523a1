"""The speed-run network: Myrtle's ResNet-9 at any width and input size, with a patch-whitening first layer
and its augmentation built in.

* :func:`conv_bn` - 3x3 convolution -> (2x2 max-pooling) -> BatchNorm -> ReLU.
* :func:`residual_block` - two of them around an identity shortcut.
* :func:`speedrun_net` - an optional frozen patch-whitening convolution, prep,
  three stages and a scaled linear classifier (Myrtle's ResNet-9 at base width
  64), logits in float32 under any dtype policy.
* :class:`RandomShiftFlip` - random crops (reflect padding) and flips done on
  the device, as the model's first layer (active in training only).

:mod:`lib.speedrun` trains it. Backend-agnostic (``keras.ops`` only).

Introduced in notebook 12 (training fast).
"""

from __future__ import annotations

import keras
import numpy as np

from lib import checks

__all__ = ["RandomShiftFlip", "conv_bn", "residual_block", "speedrun_net"]


# --------------------------------------------------------------------------- #
# The network
# --------------------------------------------------------------------------- #
def conv_bn(x, filters: int, name: str, pool: bool = False, stride: int = 1):
    """3x3 convolution (no bias) -> 2x2 max-pooling if ``pool`` -> BatchNorm -> ReLU.

    The speed-run records' building block. Pooling comes before BatchNorm as in
    Myrtle's ResNet-9: it saves three quarters of the BatchNorm work, but it is
    *not* the same function as pooling after ReLU (BatchNorm's statistics are
    taken over the pooled map, and a negative gamma flips which value is the
    maximum); notebook 12 measures the difference. Introduced in notebook 12.
    """
    layers = keras.layers
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    if pool:
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def residual_block(x, filters: int, name: str):
    """``x + conv_bn(conv_bn(x))``: two conv-BN-ReLU blocks with an identity shortcut. Introduced in notebook 12."""
    y = conv_bn(x, filters, f"{name}_a")
    y = conv_bn(y, filters, f"{name}_b")
    return keras.layers.Add(name=f"{name}_add")([x, y])


def speedrun_net(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    width: int = 64,
    max_shift: int | None = 2,
    flip: bool = True,
    whitening=None,
    stem_stride: int = 1,
    logit_scale: float = 0.125,
    seed=None,
    name: str = "speedrun_net",
    multipliers=(1, 2, 4, 8),
):
    """Myrtle's ResNet-9 with base width ``width`` (64 in the original), augmentation built in.

    [whiten] -> prep conv_bn(w) -> conv_bn(2w)+pool + residual(2w) -> conv_bn(4w)+pool ->
    conv_bn(8w)+pool + residual(8w) -> global max-pool -> Dense(num_classes) x ``logit_scale`` (0.125),
    logits in float32 (also under a mixed-precision policy). ``multipliers`` scale ``width`` for the prep
    layer, stage 1, stage 2 and stage 3 (Myrtle's 1, 2, 4, 8; (1, 2, 4, 4) keeps the last stage at stage 2's
    width, a third of the multiply-adds at Fashion-MNIST's size). With ``max_shift``
    not None, a :class:`RandomShiftFlip` layer first augments in training only.
    ``whitening`` is a kernel ``(p, p, channels, filters)`` (for instance
    :func:`lib.speedrun.whitening_filters`): the first layer is then a frozen
    ``Conv2D`` named "whiten" holding it (the airbench / hlb-CIFAR10 idea).
    ``stem_stride`` 2 makes the first convolution strided (a quarter of the
    work everywhere after it). A stage pools only while its input is at least
    6 pixels wide (28x28 Fashion-MNIST: 28 -> 14 -> 7 -> 3, or with stride 2:
    14 -> 7 -> 3 -> 3). Introduced in notebook 12.
    """
    layers = keras.layers
    width = checks.positive_int(width, "width")
    stride = checks.integer(stem_stride, "stem_stride", 1, 2)
    num_classes = checks.num_classes(num_classes)
    shape = checks.image_shape(input_shape)
    if len(tuple(multipliers)) != 4 or any(int(m) != m or m < 1 for m in multipliers):
        raise ValueError(
            f"Expected multipliers: 4 positive integers (prep, stage 1, stage 2, stage 3). Received: {multipliers!r}"
        )
    w0, w1, w2, w3 = (width * int(m) for m in multipliers)
    if shape[0] < 8 or shape[1] < 8:
        raise ValueError(
            f"Expected input_shape (H, W, C) with H and W at least 8 (the net pools three times). "
            f"Received: input_shape={input_shape!r}"
        )
    inputs = keras.Input(shape, name="images")
    x = inputs
    if max_shift is not None:
        x = RandomShiftFlip(max_shift, flip=flip, seed=seed, name="augment")(x)
    if whitening is not None:
        kernel = np.asarray(whitening, dtype="float32")
        if kernel.ndim != 4 or kernel.shape[0] != kernel.shape[1] or kernel.shape[2] != shape[2]:
            raise ValueError(f"Expected a whitening kernel (p, p, {shape[2]}, filters). Received: shape {kernel.shape}")
        conv = layers.Conv2D(
            kernel.shape[-1],
            kernel.shape[0],
            padding="same",
            use_bias=False,
            kernel_initializer=keras.initializers.Constant(kernel),
            strides=stride,
            trainable=False,
            name="whiten",
        )
        x = conv(x)
        stride = 1
    x = conv_bn(x, w0, "prep", stride=stride)
    x = conv_bn(x, w1, "layer1", pool=x.shape[1] >= 6)
    x = residual_block(x, w1, "res1")
    x = conv_bn(x, w2, "layer2", pool=x.shape[1] >= 6)
    x = conv_bn(x, w3, "layer3", pool=x.shape[1] >= 6)
    x = residual_block(x, w3, "res3")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    x = layers.Dense(num_classes, use_bias=False, name="logits_dense")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    outputs = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- #
# Augmentation on the device
# --------------------------------------------------------------------------- #
@keras.saving.register_keras_serializable(package="lib")
class RandomShiftFlip(keras.layers.Layer):
    """Random crop with reflect padding (a shift of up to ``max_shift`` pixels) and horizontal flip.

    Each image gets its own shift ``(dy, dx)`` in ``[-max_shift, max_shift]`` and
    a coin flip; only while training (``training=True``), otherwise the images
    pass through unchanged. Written with ``keras.ops`` so it runs inside the
    compiled training step on any backend: the crop of the padded image is a
    product with one-hot row and column selection matrices. The non-trainable
    scalar ``active`` (1) switches it off when set to 0, without compiling the
    training step again (notebook 12's ablation). Introduced in notebook 12.
    """

    def __init__(self, max_shift: int = 2, flip: bool = True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift = checks.non_negative_int(max_shift, "max_shift")
        self.flip = bool(flip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Expected images of shape (N, H, W, C). Received: input_shape={input_shape}")
        h, w = input_shape[1], input_shape[2]
        if h is not None and self.max_shift >= h or w is not None and self.max_shift >= w:
            raise ValueError(
                f"Expected max_shift smaller than the image. Received: max_shift={self.max_shift}, "
                f"input_shape={input_shape}"
            )
        self.active = self.add_weight(shape=(), initializer="ones", trainable=False, name="active")

    def transform(self, images, shifts, flips):
        """Apply given shifts ((N, 2) ints in [-s, s]) and flips ((N,) bools): the deterministic part."""
        ops = keras.ops
        s = self.max_shift
        dtype = images.dtype
        if s:
            h, w = images.shape[1], images.shape[2]
            padded = ops.pad(images, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")
            oy = ops.cast(shifts[:, 0], "int32") + s  # top row of the crop in the padded image
            ox = ops.cast(shifts[:, 1], "int32") + s
            rows = ops.one_hot(oy[:, None] + ops.arange(h, dtype="int32")[None], h + 2 * s, dtype=dtype)
            cols = ops.one_hot(ox[:, None] + ops.arange(w, dtype="int32")[None], w + 2 * s, dtype=dtype)
            images = ops.einsum("nik,nkwc->niwc", rows, padded)
            images = ops.einsum("njl,nilc->nijc", cols, images)
        if self.flip:
            mask = ops.reshape(ops.cast(flips, dtype), (-1, 1, 1, 1))
            images = mask * ops.flip(images, axis=2) + (1 - mask) * images
        return images

    def call(self, inputs, training=None):
        if not training:
            return inputs
        ops = keras.ops
        n = ops.shape(inputs)[0]
        s = self.max_shift
        shifts = keras.random.randint((n, 2), -s, s + 1, seed=self.seed_generator) if s else ops.zeros((n, 2), "int32")
        flips = keras.random.uniform((n,), seed=self.seed_generator) < 0.5
        return ops.cond(
            ops.convert_to_tensor(self.active) > 0.5, lambda: self.transform(inputs, shifts, flips), lambda: inputs
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "flip": self.flip, "seed": self.seed}
