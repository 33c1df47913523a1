"""lib.init: scheme names and variances against the formulas and Keras's own fan counting,
per-layer statistics against a NumPy forward/backward pass, and LSUV."""

import keras
import numpy as np
import pytest
from keras import ops

from lib import init, models

np_ = ops.convert_to_numpy


# --------------------------------------------------------------------------- #
# Schemes, fans and variances
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "shape", [(7,), (300, 200), (64, 10), (3, 3, 16, 32), (5, 5, 3, 8), (3, 4, 2), (2, 3, 3, 4, 6)]
)
def test_fans_match_keras(shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert init.fans(shape) == tuple(int(f) for f in compute_fans(shape))


def test_fans_of_a_conv_kernel_count_the_receptive_field():
    assert init.fans((3, 3, 64, 128)) == (9 * 64, 9 * 128)


@pytest.mark.parametrize("name", ["small_normal", "xavier", "xavier_uniform", "kaiming", "kaiming_uniform", "lecun"])
@pytest.mark.parametrize("shape", [(400, 300), (3, 3, 64, 96), (1000, 50)])
def test_empirical_variance_matches_formula(name, shape):
    weights = np_(init.initializer(name, seed=0)(shape))
    assert weights.shape == shape
    standard_error = np.sqrt(init.expected_variance(name, shape) / weights.size)
    np.testing.assert_allclose(weights.mean(), 0.0, atol=3 * standard_error)
    np.testing.assert_allclose(weights.var(), init.expected_variance(name, shape), rtol=0.03)


@pytest.mark.parametrize("shape", [(64, 64), (100, 30), (30, 100), (3, 3, 8, 16)])
def test_orthogonal_variance_is_exact(shape):
    weights = np_(init.initializer("orthogonal", seed=1)(shape))
    np.testing.assert_allclose(
        weights.var() + weights.mean() ** 2, init.expected_variance("orthogonal", shape), rtol=1e-4
    )


def test_zeros_and_formulas():
    assert not np.any(np_(init.initializer("zeros")((5, 4))))
    assert init.expected_variance("xavier", (300, 100)) == pytest.approx(2 / 400)
    assert init.expected_variance("kaiming", (3, 3, 64, 10)) == pytest.approx(2 / 576)
    assert init.expected_variance("lecun", (50, 10)) == pytest.approx(1 / 50)
    assert init.expected_variance("small_normal", (5, 5)) == pytest.approx(1e-4)


def test_keras_names_for_each_scheme():
    assert isinstance(init.initializer("xavier"), keras.initializers.GlorotNormal)
    assert isinstance(init.initializer("kaiming"), keras.initializers.HeNormal)
    assert isinstance(init.initializer("kaiming_uniform"), keras.initializers.HeUniform)
    assert set(init.SCHEMES) >= {"zeros", "small_normal", "xavier", "kaiming", "orthogonal", "lecun"}


@pytest.mark.parametrize(
    "call",
    [
        lambda: init.initializer("he"),
        lambda: init.expected_variance("glorot", (3, 3)),
        lambda: models.deep_mlp(4, 3, 8, init="bogus"),
    ],
)
def test_unknown_initializer_name_raises(call):
    with pytest.raises(ValueError, match=r"Expected an initializer name in \[.*'kaiming'.*\]. Received: name="):
        call()


# --------------------------------------------------------------------------- #
# layer_statistics against NumPy backprop
# --------------------------------------------------------------------------- #
def numpy_statistics(weights, x, y):
    """Forward and backward pass of a ReLU MLP with softmax cross-entropy, by hand."""
    activations, pre = [x], []
    for i, (w, b) in enumerate(weights):
        z = activations[-1] @ w + b
        pre.append(z)
        activations.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
    logits = activations[-1]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = p.copy()
    delta[np.arange(len(y)), y] -= 1
    delta /= len(y)
    grads = [None] * len(weights)
    for i in reversed(range(len(weights))):
        grads[i] = activations[i].T @ delta
        if i:
            delta = (delta @ weights[i][0].T) * (pre[i - 1] > 0)
    return [
        {
            "activation_mean": a.mean(),
            "activation_std": a.std(),
            "gradient_norm": np.linalg.norm(g),
            "weight_std": w.std(),
        }
        for a, g, (w, _) in zip(activations[1:], grads, weights)
    ]


@pytest.mark.parametrize("depth,width", [(2, 8), (4, 16), (6, 5)])
def test_layer_statistics_match_numpy_backprop(depth, width):
    keras.utils.set_random_seed(depth)
    model = models.deep_mlp(12, depth=depth, width=width, init="kaiming", num_classes=4, seed=depth)
    for layer in init.kernel_layers(model):  # non-zero biases exercise the whole forward pass
        layer.bias.assign(np.random.default_rng(0).normal(0, 0.1, layer.bias.shape).astype(np.float32))
    rng = np.random.default_rng(depth)
    x = rng.standard_normal((32, 12)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    stats = init.layer_statistics(model, x, y)
    weights = [(np_(k.kernel).astype(np.float64), np_(k.bias).astype(np.float64)) for k in init.kernel_layers(model)]
    reference = numpy_statistics(weights, x.astype(np.float64), y)
    assert [s["name"] for s in stats] == [layer.name for layer in init.kernel_layers(model)]
    for ours, theirs in zip(stats, reference):
        for key, value in theirs.items():
            np.testing.assert_allclose(ours[key], value, rtol=2e-4, atol=1e-6, err_msg=key)


def test_layer_statistics_uses_the_compiled_loss():
    model = models.deep_mlp(3, depth=2, width=4, init="kaiming", num_classes=2, seed=0)
    model.compile(loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.zeros((16, 2), np.float32)
    stats = init.layer_statistics(model, x, y)
    # d mse / d W_out = 2/(N K) * h^T (y_hat - y), with h the hidden layer's output and K = 2 outputs.
    hidden = np.maximum(x @ np_(model.layers[0].kernel) + np_(model.layers[0].bias), 0)
    y_hat = np_(model(x))
    expected = np.linalg.norm(2 / (16 * 2) * hidden.T @ (y_hat - y))
    np.testing.assert_allclose(stats[-1]["gradient_norm"], expected, rtol=1e-4)


def test_layer_statistics_needs_kernel_layers():
    model = keras.Sequential([keras.Input((3,)), keras.layers.ReLU()])
    with pytest.raises(ValueError, match="Dense or Conv"):
        init.layer_statistics(model, np.zeros((2, 3)), np.zeros(2))


def test_plot_layer_statistics():
    model = models.deep_mlp(5, depth=3, width=4, seed=0)
    x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    stats = init.layer_statistics(model, x, np.zeros(8, int))
    fig = init.plot_layer_statistics({"a": stats, "b": stats}, title="t")
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="at least one run"):
        init.plot_layer_statistics({})


# --------------------------------------------------------------------------- #
# LSUV
# --------------------------------------------------------------------------- #
def numpy_pre_activation_variances(model, x):
    """Each Dense/Conv layer's pre-activation variance, by running the model layer by layer."""
    variances = []
    h = x
    for layer in model.layers:
        if layer in init.kernel_layers(model):
            activation = layer.activation
            layer.activation = None
            z = np_(layer(h))
            layer.activation = activation
            variances.append(z.var())
            h = np_(activation(z))
        else:
            h = np_(layer(h))
    return variances


@pytest.mark.parametrize("activation", ["relu", "tanh", "selu"])
@pytest.mark.parametrize("scheme", ["small_normal", "kaiming"])
def test_lsuv_brings_every_dense_layer_to_unit_variance(activation, scheme):
    model = models.deep_mlp(20, depth=8, width=32, activation=activation, init=scheme, seed=0)
    x = np.random.default_rng(0).uniform(0, 5, (128, 20)).astype(np.float32)  # not standardised on purpose
    report = init.lsuv_init(model, x, tol=0.05, max_iter=10, seed=0)
    assert [r["name"] for r in report] == [layer.name for layer in init.kernel_layers(model)]
    assert all(r["converged"] for r in report)
    variances = numpy_pre_activation_variances(model, x)
    np.testing.assert_allclose(variances, 1.0, atol=0.05)
    np.testing.assert_allclose([r["variance"] for r in report], variances, rtol=1e-4)


def test_lsuv_on_a_cnn():
    model = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    x = np.random.default_rng(1).random((64, 12, 12, 3)).astype(np.float32)
    report = init.lsuv_init(model, x, tol=0.1)
    assert [r["name"] for r in report] == ["conv1", "conv2", "logits"]
    np.testing.assert_allclose(numpy_pre_activation_variances(model, x), 1.0, atol=0.1)
    # Orthogonal start: conv1's flattened kernel has orthogonal columns of equal norm.
    kernel = np_(model.get_layer("conv1").kernel).reshape(-1, 8)
    gram = kernel.T @ kernel
    np.testing.assert_allclose(gram, np.eye(8) * gram[0, 0], atol=1e-4 * gram[0, 0])
    assert not np.any(np_(model.get_layer("conv1").bias))


def test_lsuv_reports_when_it_cannot_converge():
    model = models.deep_mlp(4, depth=2, width=4, seed=0)
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    report = init.lsuv_init(model, x, tol=1e-9, max_iter=1)
    assert all(r["iterations"] <= 1 for r in report)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"tol": 0}, r"Expected tol > 0. Received: tol=0"),
        ({"max_iter": 0}, "Expected max_iter to be a positive integer. Received: max_iter=0"),
    ],
)
def test_lsuv_bad_arguments_raise(kwargs, match):
    model = models.deep_mlp(4, depth=2, width=4, seed=0)
    with pytest.raises(ValueError, match=match):
        init.lsuv_init(model, np.ones((4, 4), np.float32), **kwargs)


def test_lsuv_rejects_constant_batches_and_models_without_kernels():
    model = models.deep_mlp(4, depth=2, width=4, seed=0)
    with pytest.raises(ValueError, match="variance 0.0"):
        init.lsuv_init(model, np.zeros((8, 4), np.float32))
    with pytest.raises(ValueError, match="Dense or Conv"):
        init.lsuv_init(keras.Sequential([keras.Input((3,)), keras.layers.ReLU()]), np.ones((2, 3)))
