"""Checks for notebook 05 (regularization). Each computes the right answer itself (NumPy/Keras)."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


def _number(name, value):
    expect_true(is_number(value), f"{name}: expected a number, received {type(value).__name__} {value!r}.")
    return float(value)


def _array(name, value, shape):
    try:
        got = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise Wrong(f"{name}: expected an array of shape {shape}, received {type(value).__name__}.") from None
    expect_true(got.shape == tuple(shape), f"{name}: expected shape {tuple(shape)}, received shape {got.shape}.")
    return got


@exercise("05.1", "Why 'weight decay'")
def _weight_decay(w_1, g_1, w_next_1, decay_factor_1):
    import keras

    from lib import autodiff

    eta, lam = 0.1, 0.3
    w = np.asarray(w_1, "float64")
    g = np.asarray(g_1, "float64")
    # the penalty's gradient by autodiff through Keras's L2 regularizer: L2(l2)(w) = l2 * sum(w^2)
    _, penalty_grad = autodiff.value_and_input_grad(lambda v: keras.regularizers.L2(lam / 2)(v), w.astype("float32"))
    expected = w - eta * (g + keras.ops.convert_to_numpy(penalty_grad).astype("float64"))
    got = _array("w_next_1", w_next_1, w.shape)
    for factor, why in (
        (
            1 - eta * lam / 2,
            "the gradient of lambda/2 ||w||^2 is lambda w, not lambda w / 2 "
            "(reg.l2_gradient(w, l2) is 2 l2 w, so pass l2 = lambda / 2)",
        ),
        (1 - 2 * eta * lam, "that is the step for lambda ||w||^2; the penalty here is lambda/2 ||w||^2"),
        (1 + eta * lam, "the step goes against the gradient: w - eta (g + lambda w)"),
    ):
        if np.allclose(got, factor * w - eta * g, rtol=1e-5) and not math.isclose(factor, 1 - eta * lam):
            raise Wrong(f"w_next_1: received the step with the weights multiplied by {factor:g}: {why}.")
    expect_close(
        "weights after one SGD step",
        got,
        expected,
        rtol=1e-5,
        atol=1e-7,
        hint="w - eta * (g + lambda * w) with eta = 0.1 and lambda = 0.3.",
    )
    factor = _number("decay_factor_1", decay_factor_1)
    measured = float(np.median((expected + eta * g) / w))
    expect_close(
        "the factor multiplying w",
        factor,
        measured,
        rtol=1e-5,
        hint="w - eta (g + lambda w) = (1 - eta lambda) w - eta g.",
    )
    return f"correct: each step first shrinks w by the factor {measured:g} - it decays."


@exercise("05.2", "Test-time scaling")
def _test_time_scaling(h_2, w_2, test_logits_2, inverted_weights_2, mask_average_2):
    keep = 0.8
    h = np.asarray(h_2, "float64")
    w = np.asarray(w_2, "float64")
    expected_logits = keep * h @ w  # E[mask] = keep, so E[(mask * h) @ w] = keep * h @ w
    logits = _array("test_logits_2", test_logits_2, expected_logits.shape)
    if np.allclose(logits, h @ w, rtol=1e-6):
        raise Wrong(
            "test_logits_2: these are the logits with the training weights as they are. The original dropout "
            "kept each unit with probability p = 0.8 in training, so at test time multiply the weights by p."
        )
    if np.allclose(logits, (1 - keep) * h @ w, rtol=1e-6):
        raise Wrong("test_logits_2: you multiplied by the drop rate 0.2; p = 0.8 is the keep probability.")
    expect_close("test-time logits", logits, expected_logits, rtol=1e-6, atol=1e-9, hint="h_2 @ (p * w_2).")
    inverted = _array("inverted_weights_2", inverted_weights_2, w.shape)
    if np.allclose(inverted, w / keep, rtol=1e-6):
        raise Wrong(
            "inverted_weights_2: inverted dropout already divides the kept activations by p in training, so "
            "its weights must be p * w_2 for (mask * h / p) @ w_inv to equal (mask * h) @ w_2."
        )
    mask = np.random.default_rng(7).random(h.shape) < keep
    expect_close(
        "inverted dropout's training logits with your weights vs the original's",
        (mask * h / keep) @ inverted,
        (mask * h) @ w,
        rtol=1e-6,
        atol=1e-9,
        hint="(mask * h / p) @ w_inv = (mask * h) @ w_2 for every mask: w_inv = p * w_2.",
    )
    average = _array("mask_average_2", mask_average_2, expected_logits.shape)
    n = 2000
    standard_error = np.sqrt(keep * (1 - keep) * (h**2) @ (w**2) / n)
    if np.all(np.abs(average - h @ w) < 6 * standard_error / keep):
        raise Wrong(
            "mask_average_2: this averages inverted dropout (no test-time scaling needed). Use "
            "reg.dropout(h_2, 0.2, rng=i, inverted=False)."
        )
    worst = float(np.max(np.abs(average - expected_logits) / standard_error))
    expect_true(
        worst < 6,
        f"mask_average_2: expected the average over 2000 masks to lie within a few standard errors of "
        f"p * h_2 @ w_2; the largest deviation is {worst:.1f} standard errors. Hint: average "
        f"reg.dropout(h_2, 0.2, rng=i, inverted=False)[0] @ w_2 over i in range(2000).",
    )
    return (
        f"correct: the test-time network gives the expected logits over masks "
        f"(the 2000-mask average is within {worst:.1f} standard errors)."
    )


@exercise("05.3", "The wrong axis")
def _wrong_axis(kernel_3, over_before_3, over_axis0_3, over_axis1_3):
    kernel = np.asarray(kernel_3, "float64")
    expect_true(kernel.ndim == 2, f"kernel_3: expected a Dense kernel (inputs x units), received shape {kernel.shape}.")

    def over(k):
        return int(np.sum(np.linalg.norm(k, axis=0) > 1.0 + 1e-5))

    def project(k, axis):  # rescale each slice along `axis` to a norm of at most 1
        norms = np.linalg.norm(k, axis=axis, keepdims=True)
        return k * np.minimum(1.0, 1.0 / np.maximum(norms, 1e-12))

    before, axis0, axis1 = over(kernel), over(project(kernel, 0)), over(project(kernel, 1))
    expect_equal(
        "units with a column norm > 1 before the constraint",
        over_before_3,
        before,
        hint="np.linalg.norm(kernel_3, axis=0) gives each unit's incoming weight-vector length.",
    )
    if over_axis0_3 == axis1 and over_axis1_3 == axis0 and axis0 != axis1:
        raise Wrong(
            "over_axis0_3 and over_axis1_3 are swapped. MaxNorm(axis=0) bounds each column (a unit's "
            "incoming weights, the right choice for a Dense kernel); axis=1 bounds each row (one input's "
            "outgoing weights)."
        )
    expect_equal(
        "units over 1 after MaxNorm(1, axis=0)",
        over_axis0_3,
        axis0,
        hint="axis=0 rescales every column to a norm of at most 1.",
    )
    expect_equal(
        "units over 1 after MaxNorm(1, axis=1)",
        over_axis1_3,
        axis1,
        hint="axis=1 rescales the rows (one input's weights to all units), which leaves columns unbounded.",
    )
    return (
        f"correct: axis=0 leaves {axis0} of {kernel.shape[1]} units too long, axis=1 leaves {axis1}: the wrong "
        f"axis constrains each input's outgoing weights instead."
    )


def _early_stopping_alphas(steps, hessian=(10.0, 0.5), eta=0.05):
    lam = np.array(hessian)
    alphas = np.logspace(-4, 4, 40001)
    ridge = lam / (lam + alphas[:, None])  # ridge keeps lam / (lam + alpha) of w* in each eigendirection
    out = []
    for t in steps:
        gd = 1 - (1 - eta * lam) ** t  # gradient descent from 0 keeps 1 - (1 - eta lam)^t
        out.append(float(alphas[np.argmin(np.linalg.norm(ridge - gd, axis=1))]))
    return out


@exercise("05.4", "Early stopping as L2")
def _early_stopping_as_l2(closest_alpha_4, ratio_4):
    steps, eta = (5, 20, 80), 0.05
    expected = _early_stopping_alphas(steps)
    for name, value in (("closest_alpha_4", closest_alpha_4), ("ratio_4", ratio_4)):
        expect_true(
            isinstance(value, (list, tuple, np.ndarray)) and len(value) == 3 and all(is_number(v) for v in value),
            f"{name}: expected three numbers (t = 5, 20, 80), received {value!r}.",
        )
    alphas = np.array(closest_alpha_4, "float64")
    if np.allclose(alphas, [1 / (eta * t) for t in steps], rtol=1e-6):
        raise Wrong(
            "closest_alpha_4: these are exactly 1 / (eta t), the prediction. Find the alpha of the ridge "
            "path point closest to each GD iterate: alphas[argmin ||ridge_path - gd_path[t]||]."
        )
    expect_close(
        "closest ridge alpha for t = 5, 20, 80",
        alphas,
        expected,
        rtol=0.02,
        hint="alphas[np.argmin(np.linalg.norm(ridge_path - gd_path[t], axis=1))].",
    )
    ratios = np.array(ratio_4, "float64")
    if np.allclose(ratios, 1 / (alphas * eta * np.array(steps)), rtol=1e-6):
        raise Wrong("ratio_4: inverted: expected alpha * eta * t (1 if alpha = 1/(eta t) held exactly).")
    expect_close(
        "alpha * eta * t",
        ratios,
        alphas * eta * np.array(steps),
        rtol=1e-6,
        hint="multiply each closest alpha by eta = 0.05 and its t.",
    )
    worst = float(np.max(np.maximum(ratios, 1 / ratios)))
    return (
        "correct: alpha * eta * t = "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f": the same 1/t trend, within a factor of {worst:.1f} of 1/(eta t)."
    )


@exercise("05.5", "The backward pass of SpatialDropout2D")
def _spatial_dropout_backward(spatial_dropout_backward_5):
    import keras

    from lib import autodiff

    expect_true(
        callable(spatial_dropout_backward_5),
        "spatial_dropout_backward_5: expected a function (upstream, mask, rate) -> gradient.",
    )
    rng = np.random.default_rng(5)
    for rate in (0.5, 0.2):
        x = rng.normal(size=(3, 5, 4, 6)).astype("float32")
        mask = rng.random((3, 1, 1, 6)) >= rate
        upstream = rng.normal(size=x.shape).astype("float32")
        weights = upstream * (mask / (1 - rate)).astype("float32")  # d/dv sum(upstream * v * mask / (1 - rate))
        _, grad = autodiff.value_and_input_grad(lambda v, w=weights: keras.ops.sum(w * v), x)
        expected = keras.ops.convert_to_numpy(grad).astype("float64")
        got = _array("spatial_dropout_backward_5(...)", spatial_dropout_backward_5(upstream, mask, rate), x.shape)
        if np.allclose(got, upstream * mask, rtol=1e-5):
            raise Wrong(
                "the gradient is missing the inverted-dropout scale: the forward pass divides the kept maps by "
                "1 - rate, so the backward pass must too."
            )
        if np.allclose(got, upstream / (1 - rate), rtol=1e-5):
            raise Wrong("the dropped feature maps must get no gradient: multiply by the mask.")
        expect_close(
            f"gradient with rate {rate}",
            got,
            expected,
            rtol=1e-5,
            atol=1e-6,
            hint="upstream * mask / (1 - rate); the (N, 1, 1, C) mask broadcasts over height and width.",
        )
    return "correct: a dropped feature map passes no gradient back; a kept one passes it scaled by 1 / (1 - rate)."


@exercise("05.6", "The sparsity penalty's gradient")
def _sparsity_gradient(sparsity_gradient_6):
    import keras

    from lib import autodiff, regularizers

    expect_true(
        callable(sparsity_gradient_6),
        "sparsity_gradient_6: expected a function (h, p) -> the gradient with respect to h, shape (batch, units).",
    )
    rng = np.random.default_rng(6)
    for p, shape in ((0.05, (32, 8)), (0.3, (10, 5))):
        h = (1 / (1 + np.exp(-rng.normal(-1.0, 1.5, size=shape)))).astype("float32")
        _, grad = autodiff.value_and_input_grad(regularizers.KLSparsity(p, 1.0), h)
        expected = keras.ops.convert_to_numpy(grad).astype("float64")
        batch = shape[0]
        answer = sparsity_gradient_6(h.astype("float64"), p)
        if np.shape(answer) == shape[1:]:
            raise Wrong(
                "received one number per unit: that is the gradient with respect to q_j. The gradient with respect "
                "to h_bj is that times dq_j/dh_bj = 1/B, the same for every image b: shape (batch, units)."
            )
        got = _array("sparsity_gradient_6(h, p)", answer, shape)
        if np.allclose(got, expected * batch, rtol=1e-3):
            raise Wrong("the gradient is B times too large: q_j is a mean over the batch, so dq_j/dh_bj = 1/B.")
        if np.allclose(got, -expected, rtol=1e-3):
            raise Wrong("the sign is flipped: d/dq [-p log q - (1 - p) log(1 - q)] = -p/q + (1 - p)/(1 - q).")
        q = h.astype("float64").mean(0)
        if np.allclose(got, np.broadcast_to(-p / q / batch, shape), rtol=1e-3):
            raise Wrong("only the first term: -(1 - p) log(1 - q_j) contributes +(1 - p)/(1 - q_j) to d/dq_j.")
        expect_close(
            f"gradient for p = {p}, {shape[0]} images x {shape[1]} units",
            got,
            expected,
            rtol=1e-3,
            atol=1e-8,
            hint="(-p / q + (1 - p) / (1 - q)) / B, broadcast over the batch, with q = h.mean(axis=0).",
        )
    return "correct: every image gets the same push, (-p/q_j + (1 - p)/(1 - q_j)) / B, which is zero where q_j = p."
