"""Checks for notebook 12 (training fast).

Each computes the right answer with Keras or NumPy, never a typed-in number.
"""

from __future__ import annotations

import numpy as np

from lib.exercises import (
    Wrong,
    exercise,
    expect_close,
    expect_equal,
    expect_shape,
    expect_true,
    is_number,
)


@exercise("12.1", "Parameters of a residual block")
def _residual_params(params_1, trainable_1):
    import keras

    from lib.models.resnet9 import residual_block

    x = keras.Input((16, 16, 128))
    model = keras.Model(x, residual_block(x, 128, "ex"))
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    for name, value in (("params_1", params_1), ("trainable_1", trainable_1)):
        expect_true(is_number(value), f"{name}: expected a whole number, received {type(value).__name__}.")
    if params_1 == trainable:
        raise Wrong(
            f"params_1: received {params_1}, the trainable count only. Expected all {model.count_params()} "
            "numbers: each BatchNorm also keeps a moving mean and variance (2 x 128, not trained)."
        )
    expect_equal(
        "all numbers in the block (params_1)",
        params_1,
        model.count_params(),
        hint="two 3x3 convolutions of 128 -> 128 channels without bias, plus 4 x 128 per BatchNorm.",
    )
    expect_equal(
        "trainable numbers (trainable_1)", trainable_1, trainable, hint="BatchNorm trains gamma and beta: 2 x 128 each."
    )


@exercise("12.2", "How much an old step counts in the EMA")
def _ema_weight(weight_2):
    expect_true(is_number(weight_2), f"weight_2: expected a number, received {type(weight_2).__name__}.")
    decay, k, steps = 0.99, 10, 100
    # the EMA's response to a unit impulse in the weights k steps before the end
    values = np.zeros(steps + 1)
    values[steps - k] = 1.0
    average = 0.0
    for v in values[1:]:
        average = decay * average + (1 - decay) * v
    if np.isclose(weight_2, decay**k, rtol=1e-4):
        raise Wrong(
            f"weight_2: received {weight_2:.6g} = d^k. Expected (1 - d) d^k: a new value enters with weight 1 - d."
        )
    expect_close(
        "weight of the weights 10 steps back in the EMA (d = 0.99)",
        weight_2,
        average,
        rtol=1e-4,
        hint="unroll a <- d a + (1 - d) w: the weights k steps back enter with (1 - d) and then shrink by d each step.",
    )


@exercise("12.3", "The learning rate at a step")
def _lr_at_step(lr_3):
    expect_true(is_number(lr_3), f"lr_3: expected a number, received {type(lr_3).__name__}.")
    want = float(np.interp(600, [0, 200, 1000], [0.0, 0.4, 0.0]))
    expect_close(
        "learning rate at step 600 (peak 0.4, 200 warm-up steps, 1,000 steps in all)",
        lr_3,
        want,
        rtol=1e-5,
        hint="after the warm-up it falls linearly from 0.4 at step 200 to 0 at step 1,000.",
    )


@exercise("12.4", "A label-smoothed target")
def _smoothed_target(target_4):
    try:
        got = np.asarray(target_4, dtype="float64")
    except (TypeError, ValueError):
        raise Wrong(f"target_4: expected 10 numbers, received {type(target_4).__name__}.") from None
    expect_shape("target_4", got, (10,))
    eps, k = 0.2, 10
    want = np.full(k, eps / k)
    want[3] += 1 - eps
    wrong = np.full(k, eps / (k - 1))
    wrong[3] = 1 - eps
    if np.allclose(got, wrong, atol=1e-6):
        raise Wrong(
            "target_4: received eps/(K-1) off the true class and 1 - eps on it. Keras mixes the one-hot vector "
            "with the uniform one: (1 - eps) * one_hot + eps / K, so the true class gets 1 - eps + eps/K."
        )
    expect_close(
        "label-smoothed target for class 3 of 10, eps = 0.2",
        got,
        want,
        atol=1e-6,
        hint="(1 - eps) * one_hot + eps / K; it still sums to 1.",
    )
