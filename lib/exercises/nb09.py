"""Checks for notebook 09 (transfer learning). Each computes the right answer with Keras, never a typed-in number."""

from __future__ import annotations

import functools

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


def _count(name: str, value) -> None:
    expect_true(
        is_number(value) and float(value) == int(value),
        f"{name}: expected a whole number of parameters, received {value!r}.",
    )


@functools.lru_cache(maxsize=1)
def _mobilenet_96():
    """(all parameters, moving statistics, pooled features, head parameters) of MobileNetV2 at 96x96 + Dense(5)."""
    import keras

    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))
    features = base.output_shape[-1]
    head = keras.layers.Dense(5)
    head.build((None, features))
    moving = sum(int(np.prod(w.shape)) for w in base.non_trainable_weights)
    return base.count_params(), moving, features, head.count_params()


@exercise("09.1", "Frozen base, new head")
def _frozen_base_new_head(trainable_1, frozen_1):
    _count("trainable_1", trainable_1)
    _count("frozen_1", frozen_1)
    frozen, moving, features, head_params = _mobilenet_96()
    if int(trainable_1) == frozen and int(frozen_1) == head_params:
        raise Wrong("trainable_1 and frozen_1 are swapped: the head trains, the base is frozen.")
    if int(trainable_1) == features * 5:
        raise Wrong(f"trainable_1: received {trainable_1}, the head's weights without its 5 biases.")
    expect_equal(
        "trainable parameters (the head)",
        int(trainable_1),
        head_params,
        hint=f"Dense(5) on the {features} pooled features: {features} x 5 weights + 5 biases.",
    )
    if int(frozen_1) == frozen - moving:
        raise Wrong(
            f"frozen_1: received {frozen_1}, the base's trainable weights only; the BatchNorm moving "
            f"means and variances ({moving}) are part of the frozen base too."
        )
    expect_equal(
        "frozen parameters (the whole base)",
        int(frozen_1),
        frozen,
        hint="every weight of the base counts, BatchNorm's gamma, beta, moving mean and variance "
        "included: base.count_params().",
    )


@exercise("09.2", "Which layers to unfreeze")
def _which_layers(n_layers_2, trainable_2):
    from lib import transfer
    from lib.models import small_cnn

    _count("n_layers_2", n_layers_2)
    _count("trainable_2", trainable_2)
    base = small_cnn()
    names = [layer.name for layer in base.layers]
    first = next(i for i, name in enumerate(names) if name.startswith("block3"))
    expected_n = len(names) - first
    expect_equal(
        "n_layers",
        int(n_layers_2),
        expected_n,
        hint=f"count the layers of base.layers from block3_conv to the end: {names[first:]}.",
    )
    model = transfer.build_transfer_model(base, 5, dropout=0.0)
    transfer.unfreeze_top(base, expected_n)
    expected = transfer.param_counts(model)["trainable"]
    with_bn = expected + sum(base.get_layer(f"block{i}_bn").count_params() // 2 for i in (3, 4))
    if int(trainable_2) == with_bn:
        raise Wrong(
            f"trainable_2: received {trainable_2}, which counts BatchNorm's gamma and beta; "
            "unfreeze_top keeps BatchNorm frozen."
        )
    head = model.get_layer("head").count_params()
    if int(trainable_2) == expected - head:
        raise Wrong(
            f"trainable_2: received {trainable_2}, the unfrozen convolutions without the head "
            f"({head} parameters), which trains too."
        )
    expect_equal(
        "trainable parameters",
        int(trainable_2),
        expected,
        hint="block3_conv and block4_conv (no biases) plus the Dense(5) head.",
    )


def _pixel(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype="float64").reshape(-1)
    except (TypeError, ValueError):
        raise Wrong(f"{name}: expected three numbers, received {type(value).__name__}.") from None
    expect_true(arr.shape == (3,), f"{name}: expected three numbers (one pixel), received shape {np.shape(value)}.")
    return arr


@exercise("09.3", "What the network sees")
def _what_the_network_sees(red_mobilenet_3, red_resnet_3):
    import keras

    red = np.array([[[[255.0, 0.0, 0.0]]]], dtype="float32")
    mobilenet = keras.applications.mobilenet_v2.preprocess_input(red.copy())[0, 0, 0]
    resnet = keras.applications.resnet50.preprocess_input(red.copy())[0, 0, 0]
    got_m, got_r = _pixel(red_mobilenet_3, "red_mobilenet_3"), _pixel(red_resnet_3, "red_resnet_3")
    expect_close(
        "MobileNetV2's pixel",
        got_m,
        mobilenet,
        atol=1e-3,
        hint="MobileNetV2 scales [0, 255] to [-1, 1]: x / 127.5 - 1.",
    )
    if np.allclose(got_r, resnet[::-1], atol=1e-2):
        raise Wrong("red_resnet_3: the channels are in RGB order; ResNet50 (caffe mode) receives BGR.")
    expect_close(
        "ResNet50's pixel",
        got_r,
        resnet,
        atol=1e-2,
        hint="ResNet50 flips RGB to BGR and subtracts the ImageNet mean (103.939, 116.779, 123.68), no scaling.",
    )


def frozen_batchnorm_problem(seed: int = 0):
    """``(x, bn)``: a batch of inputs and a built, non-trainable BatchNormalization layer with random statistics.

    Introduced in notebook 09 (transfer learning), exercise 4.
    """
    import keras

    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, (4, 3, 3, 6)).astype("float32")
    bn = keras.layers.BatchNormalization(name="frozen_bn")
    bn.build(x.shape)
    bn.set_weights(
        [
            rng.uniform(0.5, 2.0, 6).astype("float32"),
            rng.normal(0, 1, 6).astype("float32"),
            rng.normal(1, 1, 6).astype("float32"),
            rng.uniform(0.5, 4.0, 6).astype("float32"),
        ]
    )
    bn.trainable = False
    return x, bn


@exercise("09.4", "A frozen BatchNorm layer")
def _frozen_batchnorm(y_4):
    import keras

    x, bn = frozen_batchnorm_problem(0)
    expected = keras.ops.convert_to_numpy(bn(x, training=True))
    try:
        got = np.asarray(y_4, dtype="float64")
    except (TypeError, ValueError):
        raise Wrong(f"y_4: expected an array, received {type(y_4).__name__}.") from None
    expect_true(got.shape == expected.shape, f"y_4: expected shape {expected.shape}, received {got.shape}.")
    gamma, beta, _, _ = (keras.ops.convert_to_numpy(w) for w in bn.weights)
    axes = (0, 1, 2)
    batch_stats = gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + bn.epsilon) + beta
    if np.allclose(got, batch_stats, atol=1e-3):
        raise Wrong(
            "y_4: you normalized with the batch's mean and variance. A non-trainable BatchNorm layer runs "
            "in inference mode even with training=True: use its moving mean and variance."
        )
    expect_close(
        "the frozen layer's output",
        got,
        expected,
        rtol=1e-4,
        atol=1e-4,
        hint="gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta.",
    )
