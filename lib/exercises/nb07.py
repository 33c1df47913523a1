"""Checks for notebook 07 (normalization). Each computes the right answer with Keras layers or autodiff."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


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
def _momentum(remaining_2, half_life_2, steps=64):
    import keras

    expect_true(is_number(remaining_2), f"remaining_2: expected a number between 0 and 1, received {remaining_2!r}.")
    expect_true(is_number(half_life_2), f"half_life_2: expected a whole number of steps, received {half_life_2!r}.")
    bn = keras.layers.BatchNormalization(momentum=0.99)  # Keras's default, measured on the layer itself
    bn.build((None, 1))
    batch = np.ones((4, 1), "float32")  # batch mean 1; the moving mean starts at 0, so 1 - moving mean remains
    bn(batch, training=True)
    factor = 1.0 - float(_numpy(bn.moving_mean)[0])  # the part of the initial value one step keeps (measured)
    after_run = factor**steps  # the same factor every step
    half_life = math.ceil(math.log(0.5) / math.log(factor))
    if abs(remaining_2 - (1 - after_run)) < 1e-3:
        raise Wrong(
            f"remaining_2 = {remaining_2:.4f} is how far the moving mean has moved (1 - 0.99^t). Expected what "
            f"is left of its initial value, 0.99^t with t = {steps}."
        )
    if abs(remaining_2 - 0.9**steps) < 1e-3:
        raise Wrong(
            f"remaining_2 = {remaining_2:.4f} uses momentum 0.9 (the notebook's BN_MOMENTUM); the question "
            f"is about Keras's default 0.99."
        )
    expect_close(
        f"remaining_2 (initial value left after {steps} steps at momentum 0.99)",
        remaining_2,
        after_run,
        rtol=1e-3,
        hint=f"momentum^t with t = run_steps = {steps} (EPOCHS * ceil(TRAIN_SIZE / BATCH_SIZE)).",
    )
    expect_equal(
        "half_life_2 (first step count with less than half of the initial value left)",
        half_life_2,
        half_life,
        hint="the smallest t with 0.99^t < 1/2: log(1/2) / log(0.99), rounded up.",
    )


def _ln_reference(x, dy, gamma, epsilon):
    """dl/dx of l = sum(dy * LN(x)) by autodiff (layer norm over the last axis, written with keras.ops)."""
    import keras

    from lib import autodiff

    def loss(xv):
        mu = keras.ops.mean(xv, axis=1, keepdims=True)
        var = keras.ops.mean(keras.ops.square(xv - mu), axis=1, keepdims=True)
        return keras.ops.sum(dy * (gamma * (xv - mu) / keras.ops.sqrt(var + epsilon)))

    _, grad = autodiff.value_and_input_grad(loss, x)
    return _numpy(grad)


def _projection(g, x, axis, epsilon):
    """The closed-form backward pass of a normalization over ``axis`` for upstream g = dy * gamma."""
    sigma = np.sqrt(x.var(axis=axis, keepdims=True) + epsilon)
    x_hat = (x - x.mean(axis=axis, keepdims=True)) / sigma
    return (g - g.mean(axis=axis, keepdims=True) - x_hat * (g * x_hat).mean(axis=axis, keepdims=True)) / sigma


@exercise("07.3", "Layer norm's backward pass")
def _ln_backward(ln_backward_3):
    expect_true(
        callable(ln_backward_3),
        f"ln_backward_3: expected a function ln_backward_3(dy, x, gamma, epsilon) "
        f"returning dl/dx, received {type(ln_backward_3).__name__}.",
    )
    rng = np.random.default_rng(3)
    x = rng.normal(3, 2, size=(6, 8)) * rng.uniform(0.5, 3, size=(6, 1))
    dy, gamma, eps = rng.normal(size=x.shape), rng.uniform(0.5, 2, 8), 1e-3
    want = _ln_reference(x, dy, gamma, eps)
    got = _numpy(ln_backward_3(dy.copy(), x.copy(), gamma.copy(), eps))
    expect_true(got.shape == x.shape, f"ln_backward_3: expected dl/dx of shape {x.shape}, received {got.shape}.")
    if not np.allclose(got, want, atol=1e-6):
        g = dy * gamma
        sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
        x_hat = (x - x.mean(axis=1, keepdims=True)) / sigma
        guesses = {
            "normalizes over the batch axis (BN's formula, axis 0) instead of over each example's features": (
                _projection(g, x, 0, eps)
            ),
            "treats the row statistics as constants (g / sigma only)": g / sigma,
            "leaves out the mean term (the -mean(g) of each row)": (g - x_hat * (g * x_hat).mean(1, keepdims=True))
            / sigma,
            "leaves out the x_hat term (the -x_hat * mean(g * x_hat) of each row)": (g - g.mean(1, keepdims=True))
            / sigma,
            "forgets gamma (uses dy instead of g = dy * gamma)": _projection(dy, x, 1, eps),
        }
        for what, value in guesses.items():
            if np.allclose(got, value, atol=1e-6):
                raise Wrong(
                    f"ln_backward_3 {what}. With g = dy * gamma and statistics per row: "
                    "dl/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)."
                )
    expect_close(
        "dl/dx compared with automatic differentiation",
        got,
        want,
        rtol=1e-5,
        atol=1e-7,
        hint="BN's closed form from the notebook, with the means over each row (axis 1) instead of each column.",
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
