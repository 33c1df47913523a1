"""Checks for notebook 07 (normalization). Each computes the right answer with Keras layers or autodiff."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number

STEPS_PER_EPOCH = math.ceil(800 / 32)  # exercise 07.2: one epoch of the notebook's run (TRAIN_SIZE / BATCH_SIZE)


def _numpy(value):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def _pair(value, name):
    expect_true(
        isinstance(value, (tuple, list)) and len(value) == 2,
        f"{name}: expected a pair (kernel, bias), received {type(value).__name__}"
        f"{' of length ' + str(len(value)) if hasattr(value, '__len__') else ''}.",
    )
    return _numpy(value[0]), _numpy(value[1])


@exercise("07.1", "Fold BN into a fully connected layer")
def _fold_bn(fold_1):
    import keras

    expect_true(
        callable(fold_1),
        f"fold_1: expected a function fold_1(kernel, bias, gamma, beta, mean, variance, "
        f"epsilon) returning (kernel, bias), received {type(fold_1).__name__}.",
    )
    rng = np.random.default_rng(7)
    dense = keras.layers.Dense(6, name="fc")
    bn = keras.layers.BatchNormalization(epsilon=1e-3, name="bn_fc")
    x = rng.normal(size=(16, 10)).astype("float32")
    bn(dense(x))
    dense.set_weights([rng.normal(size=(10, 6)), rng.normal(size=6)])
    variance = np.array([0.002, 0.5, 1.0, 2.0, 0.01, 3.0])  # small variances make a missing epsilon visible
    gamma, beta, mean = rng.uniform(0.5, 2, 6), rng.normal(size=6), rng.normal(size=6)
    bn.set_weights([gamma, beta, mean, variance])
    want = _numpy(bn(dense(x), training=False))
    kernel, bias = (_numpy(w) for w in dense.get_weights())
    k, b = _pair(fold_1(kernel, bias, gamma, beta, mean, variance, bn.epsilon), "fold_1(...)")
    expect_true(
        k.shape == kernel.shape and b.shape == bias.shape,
        f"fold_1: expected a kernel of shape {kernel.shape} and a bias of shape {bias.shape} (the Dense "
        f"layer's), received {k.shape} and {b.shape}.",
    )
    got = x @ k + b
    if np.allclose(got, want, atol=1e-4):
        return "correct: x @ kernel' + bias' equals Dense followed by BN in inference mode."
    s = gamma / np.sqrt(variance + bn.epsilon)
    guesses = {
        "divides by sqrt(variance) without epsilon": (
            kernel * gamma / np.sqrt(variance),
            (bias - mean) * gamma / np.sqrt(variance) + beta,
        ),
        "divides by the variance instead of its square root": (
            kernel * gamma / (variance + bn.epsilon),
            (bias - mean) * gamma / (variance + bn.epsilon) + beta,
        ),
        "forgets to subtract the moving mean from the bias": (kernel * s, bias * s + beta),
        "forgets beta in the bias": (kernel * s, (bias - mean) * s),
        "does not scale the old bias": (kernel * s, bias - mean * s + beta),
    }
    for what, (gk, gb) in guesses.items():
        if np.allclose(k, gk, atol=1e-4) and np.allclose(b, gb, atol=1e-4):
            raise Wrong(
                f"fold_1 {what}. Expected w' = w * gamma / sqrt(var + eps) (each output column) and "
                f"b' = gamma * (b - mean) / sqrt(var + eps) + beta."
            )
    expect_close(
        "kernel'", k, kernel * s, atol=1e-4, hint="scale each output column (the last axis) by gamma / sqrt(var + eps)."
    )
    expect_close(
        "bias'", b, (bias - mean) * s + beta, atol=1e-4, hint="b' = gamma * (b - mean) / sqrt(var + eps) + beta."
    )


@exercise("07.2", "Momentum and short training")
def _momentum(remaining_2, half_life_2):
    import keras

    expect_true(is_number(remaining_2), f"remaining_2: expected a number between 0 and 1, received {remaining_2!r}.")
    expect_true(is_number(half_life_2), f"half_life_2: expected a whole number of steps, received {half_life_2!r}.")
    bn = keras.layers.BatchNormalization(momentum=0.99)  # Keras's default, measured on the layer itself
    bn.build((None, 1))
    batch = np.ones((4, 1), "float32")  # batch mean 1; the moving mean starts at 0, so 1 - moving mean remains
    remaining = []  # the part of the initial value left after each step
    for _ in range(STEPS_PER_EPOCH):
        bn(batch, training=True)
        remaining.append(1.0 - float(_numpy(bn.moving_mean)[0]))
    after_epoch = remaining[-1]
    half_life = math.ceil(math.log(0.5) / math.log(remaining[0]))  # each step keeps the same measured factor
    if abs(remaining_2 - (1 - after_epoch)) < 1e-3:
        raise Wrong(
            f"remaining_2 = {remaining_2:.4f} is how far the moving mean has moved (1 - 0.99^t). Expected what "
            f"is left of its initial value, 0.99^t with t = {STEPS_PER_EPOCH}."
        )
    if abs(remaining_2 - 0.9**STEPS_PER_EPOCH) < 1e-3:
        raise Wrong(
            f"remaining_2 = {remaining_2:.4f} uses momentum 0.9 (the notebook's BN_MOMENTUM); the question "
            f"is about Keras's default 0.99."
        )
    expect_close(
        f"remaining_2 (initial value left after {STEPS_PER_EPOCH} steps at momentum 0.99)",
        remaining_2,
        after_epoch,
        rtol=1e-3,
        hint=f"momentum^t, t = ceil(800 / 32) = {STEPS_PER_EPOCH} steps.",
    )
    expect_equal(
        "half_life_2 (first step count with less than half of the initial value left)",
        half_life_2,
        half_life,
        hint="the smallest t with 0.99^t < 1/2: log(1/2) / log(0.99), rounded up.",
    )


def _bn_reference(x, dy, gamma, epsilon):
    """dl/dx of l = sum(dy * BN(x)) by autodiff (BN in training mode, written with keras.ops)."""
    import keras

    from lib import autodiff

    def loss(xv):
        mu = keras.ops.mean(xv, axis=0)
        var = keras.ops.mean(keras.ops.square(xv - mu), axis=0)
        return keras.ops.sum(dy * (gamma * (xv - mu) / keras.ops.sqrt(var + epsilon)))

    _, grad = autodiff.value_and_input_grad(loss, x)
    return _numpy(grad)


@exercise("07.3", "Batch norm backward, the full chain")
def _bn_backward(bn_backward_3):
    expect_true(
        callable(bn_backward_3),
        f"bn_backward_3: expected a function bn_backward_3(dy, x, gamma, epsilon) "
        f"returning dl/dx, received {type(bn_backward_3).__name__}.",
    )
    rng = np.random.default_rng(3)
    x = rng.normal(3, 2, size=(10, 5))
    dy, gamma, eps = rng.normal(size=x.shape), rng.uniform(0.5, 2, 5), 1e-3
    want = _bn_reference(x, dy, gamma, eps)
    got = _numpy(bn_backward_3(dy.copy(), x.copy(), gamma.copy(), eps))
    expect_true(got.shape == x.shape, f"bn_backward_3: expected dl/dx of shape {x.shape}, received {got.shape}.")
    m, mu, var = len(x), x.mean(0), x.var(0)
    dx_hat = dy * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    guesses = {
        "leaves out the dl/dsigma^2 path (dl/dvar * 2 (x - mu) / m)": dx_hat / np.sqrt(var + eps) + dmu / m,
        "leaves out the dl/dmu path (dl/dmu / m)": dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m,
        "treats the batch statistics as constants (dl/dx_hat / sqrt(var + eps) only)": dx_hat / np.sqrt(var + eps),
    }
    if not np.allclose(got, want, atol=1e-6):
        for what, value in guesses.items():
            if np.allclose(got, value, atol=1e-6):
                raise Wrong(
                    f"bn_backward_3 {what}. mu and sigma^2 depend on every x_i: "
                    "dl/dx = dl/dx_hat / sqrt(var + eps) + dl/dvar * 2 (x - mu) / m + dl/dmu / m."
                )
    expect_close(
        "dl/dx compared with automatic differentiation",
        got,
        want,
        rtol=1e-5,
        atol=1e-7,
        hint="the UPV deck's formulas, per column of x (N, D), with biased variances (1/m).",
    )


@exercise("07.4", "Data-dependent initialization of weight norm")
def _weight_norm_init(data_init_4):
    import keras

    from lib import norm

    expect_true(
        callable(data_init_4),
        "data_init_4: expected a function data_init_4(layer, x) that sets the weights "
        f"of a WeightNormalization layer, received {type(data_init_4).__name__}.",
    )
    rng = np.random.default_rng(4)
    x = (rng.normal(0.5, 2.0, size=(128, 12)) + rng.normal(0, 3, size=12)).astype("float32")
    init = keras.initializers.RandomNormal(seed=4)
    layer = norm.WeightNormalization(keras.layers.Dense(8, kernel_initializer=init, bias_initializer=init), name="wn")
    layer(x)
    direction = _numpy(layer.normalized_kernel()) / _numpy(layer.g)
    data_init_4(layer, x)
    out = _numpy(layer(x))
    after = _numpy(layer.normalized_kernel()) / _numpy(layer.g)
    expect_close(
        "the direction v / ||v|| (unchanged by the initialization)",
        after,
        direction,
        atol=1e-4,
        hint="only g and the bias change; leave layer.layer.kernel alone.",
    )
    means, stds = out.mean(axis=0), out.std(axis=0)
    if not np.allclose(stds, 1, atol=1e-3) and np.allclose(means, 0, atol=1e-3):
        raise Wrong(
            f"the means are 0 but the standard deviations are {np.round(stds, 3)}. Hint: divide g by the "
            f"standard deviation of the pre-activations t = layer(x) before the change."
        )
    if np.allclose(stds, 1, atol=1e-3) and not np.allclose(means, 0, atol=1e-3):
        raise Wrong(
            f"the standard deviations are 1 but the means are {np.round(means, 3)}. Hint: the new bias is "
            f"(b - mean(t)) / std(t)."
        )
    expect_close(
        "per-unit mean of layer(x) after the initialization",
        means,
        np.zeros(8),
        atol=1e-3,
        hint="g <- g / std(t), b <- (b - mean(t)) / std(t), with t = layer(x) before the change.",
    )
    expect_close(
        "per-unit standard deviation of layer(x) after the initialization",
        stds,
        np.ones(8),
        atol=1e-3,
        hint="g <- g / std(t), b <- (b - mean(t)) / std(t).",
    )
