"""Checks for notebook 03 (activations and initialization). Each computes the right answer itself (NumPy/Keras)."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_bool, expect_close, expect_equal, expect_true, is_number


def _number(name, value, what="a number"):
    expect_true(is_number(value), f"{name}: expected {what}, received {type(value).__name__} {value!r}.")
    return float(value)


def _zero_relu_net_gradients(depth=5, width=32, inputs=64, classes=10, batch=256, seed=1):
    """Backprop by hand (NumPy) through a zero-initialized ReLU MLP; gradient norms of kernels and biases."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, inputs))
    y = rng.integers(0, classes, batch)
    sizes = [inputs] + [width] * (depth - 1) + [classes]
    kernels = [np.zeros((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b) for b in sizes[1:]]
    acts, pre = [x], []
    for k, (w, b) in enumerate(zip(kernels, biases)):
        z = acts[-1] @ w + b
        pre.append(z)
        acts.append(z if k == depth - 1 else np.maximum(z, 0))
    p = np.exp(acts[-1] - acts[-1].max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (p - np.eye(classes)[y]) / batch  # d mean cross-entropy / d logits
    kernel_grads, bias_grads = [None] * depth, [None] * depth
    for k in reversed(range(depth)):
        kernel_grads[k] = acts[k].T @ delta
        bias_grads[k] = delta.sum(axis=0)
        if k:
            delta = (delta @ kernels[k].T) * (pre[k - 1] > 0)
    return [float(np.linalg.norm(g)) for g in kernel_grads], [float(np.linalg.norm(g)) for g in bias_grads]


@exercise("03.1", "All zeros with ReLU")
def _all_zeros(kernel_gradient_norms_1, learning_tensors_1):
    kernel_norms, bias_norms = _zero_relu_net_gradients()
    try:
        norms = [float(v) for v in kernel_gradient_norms_1]
    except (TypeError, ValueError):
        raise Wrong(
            f"kernel_gradient_norms_1: expected a list of {len(kernel_norms)} numbers, one per kernel, "
            f"received {type(kernel_gradient_norms_1).__name__}."
        ) from None
    expect_equal(
        "number of kernel gradient norms",
        len(norms),
        len(kernel_norms),
        hint="deep_mlp(..., 5, ...) has 4 hidden Dense layers and the logits: 5 kernels.",
    )
    expect_close(
        "kernel gradient norms",
        norms,
        kernel_norms,
        atol=1e-7,
        hint="with W = 0 every hidden output is relu(0) = 0, and the backward pass multiplies by W = 0.",
    )
    moving = sum(n > 0 for n in kernel_norms + bias_norms)
    if learning_tensors_1 == 0:
        raise Wrong(
            "learning_tensors_1: received 0, but one tensor does get a gradient: the output bias. The logits "
            "are 0, softmax(0) = 1/10 for every class, and that differs from the one-hot labels."
        )
    if learning_tensors_1 == 2 * len(kernel_norms):
        raise Wrong(
            "learning_tensors_1: not all of them. The kernel gradients are (layer input) x delta with layer "
            "inputs relu(0) = 0, and the deltas sent back through W = 0 are 0."
        )
    expect_equal(
        "weight tensors with a nonzero gradient",
        learning_tensors_1,
        moving,
        hint="only the output bias: its gradient is the mean of softmax(0) - one-hot; every hidden delta "
        "is multiplied by W = 0 on its way back.",
    )
    return "correct: only the output bias moves, so the hidden layers never learn (and stay symmetric)."


def _mean_square_leaky(slope):
    """E[f(z)^2] for z ~ N(0, 1) and f the leaky ReLU, by numerical integration."""
    z = np.linspace(-12, 12, 240001)
    f = np.where(z > 0, z, slope * z)
    density = np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    return float(np.sum(f**2 * density) * (z[1] - z[0]))


@exercise("03.2", "Kaiming for leaky ReLU")
def _kaiming_leaky(scale_2, gain_he_2, gain_matched_2):
    slope = 0.5
    second_moment = _mean_square_leaky(slope)  # E[x^2] / Var[z]
    scale = 1 / second_moment
    s = _number("scale_2", scale_2)
    if math.isclose(s, 2.0):
        raise Wrong(
            "scale_2: received 2, He's scale for ReLU. With slope a the negative half passes a^2 of its "
            f"energy too: E[x^2] = (1 + a^2) Var[z] / 2, so expected {scale:.4g}."
        )
    if math.isclose(s, 2 / (1 + slope), rel_tol=1e-3):
        raise Wrong(f"scale_2: received {s:.4g} = 2 / (1 + a); the slope enters squared. Expected {scale:.4g}.")
    expect_close("VarianceScaling scale for a = 0.5", s, scale, rtol=1e-3, hint="2 / (1 + a^2).")
    he = _number("gain_he_2", gain_he_2)
    matched = _number("gain_matched_2", gain_matched_2)
    expected_he = math.sqrt(2 * second_moment)  # std gain per layer = sqrt(scale * E[x^2] / Var[z])
    if abs(he - 1) < 0.06 and abs(matched - 1 / expected_he) < 0.08:
        raise Wrong(
            "gain_he_2 and gain_matched_2 look swapped (or the matched net got scale 2 / (1 + a^2) twice): "
            f"He's scale should grow the std by about {expected_he:.3f} per layer."
        )
    expect_true(
        abs(matched - 1) < 0.06,
        f"gain_matched_2: expected a per-layer std gain within 0.06 of 1, received {matched:.4g}. Hint: "
        f"build the net with VarianceScaling(scale_2, 'fan_in', 'truncated_normal') and LeakyReLU(0.5).",
    )
    expect_true(
        abs(he - expected_he) < 0.08,
        f"gain_he_2: expected about sqrt(1 + a^2) = {expected_he:.4g} (within 0.08), received {he:.4g}. "
        f"Hint: He's scale is 2 for every layer; measure with per_layer_gain(layer_statistics(...)).",
    )
    return (
        f"correct: He's init grows the std by {he:.3f} per layer (predicted {expected_he:.3f}); scale {s:.2f} keeps it."
    )


def _pair(name, value):
    try:
        slopes, intercepts = value
        slopes = np.asarray(slopes, dtype="float64").ravel()
        intercepts = np.asarray(intercepts, dtype="float64").ravel()
    except (TypeError, ValueError):
        raise Wrong(
            f"{name}: expected a pair (slopes, intercepts) such as ([1, 0], [0, 0]), received {value!r}."
        ) from None
    expect_true(
        len(slopes) == len(intercepts) == 2,
        f"{name}: expected two pieces (two slopes, two intercepts), received {len(slopes)} slopes and "
        f"{len(intercepts)} intercepts.",
    )
    return slopes, intercepts


@exercise("03.3", "What one maxout unit cannot do")
def _maxout_relu6(chord_gap_3, unit_a_3, unit_b_3):
    relu6 = lambda v: np.clip(v, 0.0, 6.0)
    gap = float(relu6(6.0) - (relu6(0.0) + relu6(12.0)) / 2)
    g = _number("chord_gap_3", chord_gap_3)
    if math.isclose(g, -gap):
        raise Wrong(f"chord_gap_3: received {g:g}; the sign is reversed. f(6) - (f(0) + f(12)) / 2 = {gap:g}.")
    expect_close("f(6) - (f(0) + f(12)) / 2", g, gap, hint="f(6) = 6, f(0) = 0, f(12) = 6 (ReLU6 caps at 6).")
    x = np.linspace(-20, 20, 4001)
    units = {}
    for name, value in (("unit_a_3", unit_a_3), ("unit_b_3", unit_b_3)):
        slopes, intercepts = _pair(name, value)
        units[name] = np.max(x[:, None] * slopes + intercepts, axis=1)
    difference = units["unit_a_3"] - units["unit_b_3"]
    if np.allclose(-difference, relu6(x), atol=1e-6):
        raise Wrong("unit_a_3 - unit_b_3 gives -ReLU6: swap the two units.")
    worst = float(np.max(np.abs(difference - relu6(x))))
    expect_true(
        worst < 1e-6,
        f"maxout(unit_a_3) - maxout(unit_b_3) differs from ReLU6 by up to {worst:.3g} on [-20, 20]. Hint: "
        f"ReLU6(x) = max(x, 0) - max(x - 6, 0).",
    )
    return "correct: a difference of two convex maxout units can make any piecewise-linear function."


def _stepped_vs_softplus(z, n=10):
    steps = sum(1 / (1 + np.exp(-(z - i + 0.5))) for i in range(1, n + 1))
    return np.abs(steps - np.logaddexp(0, z))


@exercise("03.4", "Where does the stepped sigmoid give up?")
def _stepped_sigmoid_limit(z_limit_4, z_tail_4):
    z = np.linspace(0, 20, 200001)
    outside = _stepped_vs_softplus(z) > 0.05
    limit = float(z[np.argmax(outside) - 1])
    got = _number("z_limit_4", z_limit_4)
    expect_close(
        "largest z within 0.05 of softplus (N = 10)",
        got,
        limit,
        atol=0.01,
        hint="scan z on a fine grid and take the last point before |sum of sigmoids - softplus| > 0.05.",
    )
    lo, hi = 0.0, 20.0  # bisection for softplus(z - 10) = 0.05
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.logaddexp(0, mid - 10) < 0.05 else (lo, mid)
    tail = _number("z_tail_4", z_tail_4)
    if math.isclose(tail, 10 - math.log(math.expm1(0.05)), rel_tol=1e-6):
        raise Wrong("z_tail_4: the sign of the logarithm is flipped. softplus(u) = 0.05 means u = log(exp(0.05) - 1).")
    expect_close(
        "z where softplus(z - 10) = 0.05",
        tail,
        lo,
        atol=1e-3,
        hint="solve log(1 + exp(z - N)) = 0.05: z = N + log(exp(0.05) - 1).",
    )
    return f"correct: the sum tracks softplus up to z = {limit:.2f}; the tail estimate says {lo:.2f}."


def _pre_activation_variance(model, layer, batch):
    import keras

    inputs = keras.Model(model.inputs, layer.input)([batch], training=False)
    config = {**layer.get_config(), "activation": "linear"}
    linear = type(layer).from_config(config)
    linear.build(tuple(inputs.shape))
    linear.set_weights(layer.get_weights())
    return float(np.var(keras.ops.convert_to_numpy(linear(inputs))))


@exercise("03.5", "LSUV on a CNN")
def _lsuv_cnn(batch_5, cnn_5):
    import keras

    expect_true(
        isinstance(cnn_5, keras.Model),
        f"cnn_5: expected the Keras model after lsuv_init, received {type(cnn_5).__name__}.",
    )
    layers = [layer for layer in cnn_5.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    expect_true(len(convs) >= 3, f"cnn_5: expected three Conv2D layers, received {len(convs)}.")
    batch = np.asarray(batch_5, "float32")
    for layer in layers:
        var = _pre_activation_variance(cnn_5, layer, batch)
        expect_true(
            abs(var - 1) < 0.1 + 1e-3,
            f"layer {layer.name!r}: expected an output variance (before the activation) within 0.1 of 1 on "
            f"batch_5, received {var:.4g}. Hint: run initialization.lsuv_init(cnn_5, batch_5, tol=0.1) "
            f"on the model you return, and don't re-create it afterwards.",
        )
    return f"correct: all {len(layers)} conv and dense layers start with unit variance on the batch."


@exercise("03.6", "RReLU as the paper writes it")
def _rrelu_mean_slope(mean_train_slope_6, test_slope_6, equal_6):
    edges = np.linspace(3, 8, 1_000_001)
    a = (edges[1:] + edges[:-1]) / 2  # midpoints: a uniform grid over U(3, 8)
    mean_slope = float(np.mean(1 / a))
    test = float(1 / np.mean(a))
    m = _number("mean_train_slope_6", mean_train_slope_6)
    if math.isclose(m, test, rel_tol=1e-3):
        raise Wrong(
            f"mean_train_slope_6: received {m:.4f} = 1 / E[a], the test slope. E[1/a] is not 1 / E[a]: "
            f"average 1/a over a ~ U(3, 8), (1/5) * integral of da / a."
        )
    expect_close("E[1/a] for a ~ U(3, 8)", m, mean_slope, rtol=2e-3, hint="(1/5) * ln(8/3).")
    expect_close(
        "the paper's test slope",
        _number("test_slope_6", test_slope_6),
        test,
        rtol=1e-6,
        hint="2 / (3 + 8), one over the mean of a.",
    )
    expect_bool("equal_6", equal_6)
    if equal_6:
        raise Wrong(
            f"equal_6: they differ: E[1/a] = {mean_slope:.4f} > 2/11 = {test:.4f}. By Jensen's inequality "
            f"(1/a is convex) the mean of 1/a exceeds 1 over the mean of a."
        )
    return f"correct: E[1/a] = {mean_slope:.4f} > {test:.4f}, so the paper's test slope is slightly too small."
