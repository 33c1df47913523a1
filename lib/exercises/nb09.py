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


def moving_average_problem(seed: int = 0, steps: int = 60):
    """``(bn, batches)``: a built BatchNormalization layer (momentum 0.99) whose moving mean stands for ImageNet's
    statistics, and ``steps`` batches of 40 feature vectors from another distribution (the target's).

    Introduced in notebook 09 (transfer learning), exercise 5.
    """
    import keras

    rng = np.random.default_rng(seed)
    bn = keras.layers.BatchNormalization(momentum=0.99, name="imagenet_bn")
    bn.build((None, 6))
    bn.moving_mean.assign(rng.normal(0.0, 0.5, 6).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 6).astype("float32"))
    batches = [rng.normal(3.0, 2.0, (40, 6)).astype("float32") for _ in range(steps)]
    return bn, batches


@exercise("09.5", "BatchNorm's moving mean while fine-tuning")
def _moving_mean(mean_5, share_5):
    import keras

    bn, batches = moving_average_problem(0)
    start = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    for batch in batches:
        bn(batch, training=True)  # a trainable BatchNorm layer in train mode updates its moving averages
    expected = keras.ops.convert_to_numpy(bn.moving_mean)
    expected_share = bn.momentum ** len(batches)
    try:
        got = np.asarray(mean_5, dtype="float64").reshape(-1)
    except (TypeError, ValueError):
        raise Wrong(f"mean_5: expected 6 numbers, received {type(mean_5).__name__}.") from None
    expect_true(got.shape == expected.shape, f"mean_5: expected 6 numbers, received shape {np.shape(mean_5)}.")
    target = np.mean([b.mean(axis=0) for b in batches], axis=0)
    if np.allclose(got, target, atol=1e-3):
        raise Wrong(
            "mean_5: that is the plain mean of the batches' means. The moving mean starts at the layer's own "
            "(ImageNet) value and forgets it slowly: each step keeps `momentum` of the old value."
        )
    swapped = start.copy()
    for batch in batches:
        swapped = (1 - bn.momentum) * swapped + bn.momentum * batch.mean(axis=0)
    if np.allclose(got, swapped, atol=1e-3):
        raise Wrong("mean_5: the weights are swapped; `momentum` (0.99) multiplies the old moving mean.")
    expect_close(
        "the moving mean after the batches",
        got,
        expected,
        rtol=1e-3,
        atol=1e-3,
        hint="start from bn_5.moving_mean; for each batch: mean = momentum * mean + (1 - momentum) * batch.mean(0).",
    )
    expect_true(is_number(share_5), f"share_5: expected a number, received {share_5!r}.")
    if np.isclose(float(share_5), 1 - expected_share, atol=1e-3):
        raise Wrong("share_5: that is the target batches' share; the starting statistics keep the rest.")
    expect_close(
        "the starting statistics' share",
        float(share_5),
        expected_share,
        atol=1e-3,
        hint="each step multiplies the old value's weight by momentum: momentum ** (number of steps).",
    )
