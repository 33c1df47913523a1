"""lib.activations: functions against keras.activations / keras.layers and NumPy, derivatives
against autodiff, the stepped sigmoid against softplus, and the RReLU and Maxout layers."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from lib import activations, autodiff, gradcheck

# A grid that avoids the kink at 0 (derivatives there are a convention, tested apart).
GRID = np.concatenate([np.linspace(-6, -0.01, 40), np.linspace(0.01, 6, 40)]).astype(np.float32)


def np_(t):
    return ops.convert_to_numpy(t)


def autodiff_derivative(f, x):
    _, grad = autodiff.value_and_input_grad(lambda v: ops.sum(f(v)), x)
    return np_(grad)


def config_and_keras_file_round_trip(model, name, x, tmp_path):
    """The layer ``name`` rebuilt from its config (returned), and ``model`` saved as .keras and loaded back with
    that layer's class and equal predictions."""
    layer = model.get_layer(name)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer(name), type(layer))
    np.testing.assert_allclose(np_(loaded.predict(x, verbose=0)), np_(model.predict(x, verbose=0)), rtol=1e-6)
    return clone


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- #
# Functions against Keras and NumPy
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", sorted(activations.FUNCTIONS))
def test_function_matches_keras_activation(name):
    ours, _, theirs = activations.FUNCTIONS[name]
    x = np.concatenate([GRID, [0.0, -50.0, 50.0]]).astype(np.float32)
    np.testing.assert_allclose(np_(ours(x)), np_(theirs(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(activations.FUNCTIONS))
def test_derivative_matches_autodiff(name):
    ours, derivative, theirs = activations.FUNCTIONS[name]
    np.testing.assert_allclose(np_(derivative(GRID)), autodiff_derivative(ours, GRID), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(derivative(GRID)), autodiff_derivative(theirs, GRID), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(activations.FUNCTIONS))
def test_derivative_matches_central_differences(name):
    ours, derivative, _ = activations.FUNCTIONS[name]
    x = GRID.astype(np.float64)
    numeric = gradcheck.numerical_gradient(lambda a: np.sum(np_(ours(a))), x)  # elementwise: d sum / d x_i = f'(x_i)
    np.testing.assert_allclose(np_(derivative(x)), numeric, rtol=1e-5, atol=1e-6)


def test_numpy_references():
    x = GRID.astype(np.float64)
    np.testing.assert_allclose(np_(activations.relu(x)), np.maximum(x, 0))
    np.testing.assert_allclose(np_(activations.softplus(x)), np.logaddexp(0, x), rtol=1e-12)
    np.testing.assert_allclose(np_(activations.softplus_grad(x)), sigmoid(x), rtol=1e-12)
    np.testing.assert_allclose(np_(activations.elu(x, 0.7)), np.where(x > 0, x, 0.7 * np.expm1(x)), rtol=1e-12)
    np.testing.assert_allclose(
        np_(activations.selu(x)),
        activations.SELU_SCALE * np.where(x > 0, x, activations.SELU_ALPHA * np.expm1(x)),
        rtol=1e-12,
    )


def test_relu_family_at_zero_follows_the_lecture():
    zero = np.zeros(3, np.float32)
    assert np.all(np_(activations.relu_grad(zero)) == 0)  # f'(0) = 0, as in the UPV deck
    np.testing.assert_array_equal(np_(activations.relu_grad(zero)), autodiff_derivative(keras.activations.relu, zero))
    np.testing.assert_allclose(np_(activations.leaky_relu_grad(zero)), 0.2)  # the negative side's slope, as TF
    np.testing.assert_allclose(np_(activations.softplus_grad(zero)), 0.5)
    np.testing.assert_allclose(autodiff_derivative(activations.softplus, zero), 0.5)


@pytest.mark.tf_only("at 0 TensorFlow's autodiff gives leaky ReLU the negative slope, JAX's gives 1")
def test_leaky_relu_at_zero_follows_tensorflow():
    zero = np.zeros(3, np.float32)
    np.testing.assert_array_equal(
        np_(activations.leaky_relu_grad(zero)), autodiff_derivative(keras.activations.leaky_relu, zero)
    )


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 0.3, 0.5])
def test_leaky_relu_matches_keras_function_and_layer(slope):
    np.testing.assert_allclose(
        np_(activations.leaky_relu(GRID, slope)),
        np_(keras.activations.leaky_relu(GRID, negative_slope=slope)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        np_(activations.leaky_relu(GRID, slope)), np_(keras.layers.LeakyReLU(negative_slope=slope)(GRID)), rtol=1e-6
    )
    np.testing.assert_allclose(
        np_(activations.leaky_relu_grad(GRID, slope)),
        autodiff_derivative(lambda v: keras.activations.leaky_relu(v, slope), GRID),
    )


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_matches_keras_function_and_layer(alpha):
    np.testing.assert_allclose(
        np_(activations.elu(GRID, alpha)), np_(keras.activations.elu(GRID, alpha=alpha)), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        np_(activations.elu(GRID, alpha)), np_(keras.layers.ELU(alpha=alpha)(GRID)), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        np_(activations.elu_grad(GRID, alpha)),
        autodiff_derivative(lambda v: activations.elu(v, alpha), GRID),
        rtol=1e-5,
    )


def test_relu_matches_keras_layer():
    np.testing.assert_array_equal(np_(activations.relu(GRID)), np_(keras.layers.ReLU()(GRID)))


def test_softplus_is_stable_for_large_inputs():
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], np.float32)
    out = np_(activations.softplus(x))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.logaddexp(0, x.astype(np.float64)), rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("shape", [(5,), (4, 6), (2, 3, 3, 4)])
def test_prelu_matches_keras_layer(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8,) + shape).astype(np.float32)
    alpha = rng.uniform(0, 0.5, shape).astype(np.float32)
    layer = keras.layers.PReLU()
    layer.build((None,) + shape)
    layer.set_weights([alpha])
    np.testing.assert_allclose(np_(activations.prelu(x, alpha)), np_(layer(x)), rtol=1e-6)


def test_prelu_learns_its_slope():
    layer = keras.layers.PReLU()
    x = -np.abs(np.random.default_rng(0).standard_normal((64, 3))).astype(np.float32)
    y = 0.25 * x  # target: slope 0.25 on negative inputs
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    np.testing.assert_allclose(np_(layer.alpha), 0.25, atol=0.02)


@pytest.mark.parametrize(
    "fn,kwargs,bad",
    [
        (activations.leaky_relu, {"negative_slope": "0.2"}, "negative_slope"),
        (activations.elu, {"alpha": None}, "alpha"),
        (activations.stepped_sigmoid, {"n": 0}, "n"),
        (activations.stepped_sigmoid, {"n": 2.5}, "n"),
    ],
)
def test_bad_arguments_raise(fn, kwargs, bad):
    with pytest.raises(ValueError, match=f"Received: {bad}="):
        fn(GRID, **kwargs)


# --------------------------------------------------------------------------- #
# Stepped sigmoid units
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_stepped_sigmoid_matches_numpy_sum(n):
    x = GRID.astype(np.float64)
    reference = sum(sigmoid(x - i + 0.5) for i in range(1, n + 1))
    np.testing.assert_allclose(np_(activations.stepped_sigmoid(x, n)), reference, rtol=1e-12)


def test_stepped_sigmoid_approximates_softplus():
    x = np.linspace(-6, 6, 1201)
    error = np.abs(np_(activations.stepped_sigmoid(x, 30)) - np.logaddexp(0, x))
    assert error.max() < 0.02  # the midpoint rule's error; truncation at n = 30 is negligible here
    small_n = np.abs(np_(activations.stepped_sigmoid(x, 3)) - np.logaddexp(0, x)).max()
    assert small_n > 1.0  # three units saturate at 3 while softplus(6) is about 6


@settings(max_examples=40 if keras.backend.backend() == "tensorflow" else 8, deadline=None)  # JAX compiles each n
@given(x=st.floats(-30, 30), n=st.integers(2, 40))
def test_stepped_sigmoid_adds_one_shifted_sigmoid_per_unit_and_stays_in_bounds(x, n):
    xs = np.array([x])
    step = np_(activations.stepped_sigmoid(xs, n)) - np_(activations.stepped_sigmoid(xs, n - 1))
    np.testing.assert_allclose(step, sigmoid(xs - n + 0.5), atol=1e-9)
    value = np_(activations.stepped_sigmoid(xs, n))[0]
    assert 0.0 <= value <= n


# --------------------------------------------------------------------------- #
# RReLU
# --------------------------------------------------------------------------- #
def test_rrelu_at_test_time_is_leaky_relu_with_the_average_slope():
    layer = activations.RReLU(lower=0.1, upper=0.3, seed=1)
    x = GRID[None, :]
    np.testing.assert_allclose(np_(layer(x)), np_(activations.leaky_relu(x, 0.2)), rtol=1e-6)
    np.testing.assert_allclose(np_(layer(x, training=False)), np_(activations.leaky_relu(x, 0.2)), rtol=1e-6)
    assert layer.average_slope == pytest.approx(0.2)


@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.0, 0.5), (0.2, 0.2)])
def test_rrelu_in_training_samples_slopes_uniformly_per_element(lower, upper):
    layer = activations.RReLU(lower=lower, upper=upper, seed=3)
    x = -np.ones((200, 100), np.float32)
    slopes = -np_(layer(x, training=True))
    assert slopes.min() >= lower - 1e-7 and slopes.max() <= upper + 1e-7
    np.testing.assert_allclose(slopes.mean(), (lower + upper) / 2, atol=0.01)
    if upper > lower:
        # Uniform on [lower, upper]: variance (upper - lower)^2 / 12, and every element differs.
        np.testing.assert_allclose(slopes.var(), (upper - lower) ** 2 / 12, rtol=0.05)
        assert len(np.unique(slopes)) > 0.9 * slopes.size
    positive = np.abs(GRID)[None, :]
    np.testing.assert_array_equal(np_(layer(positive, training=True)), positive)


def test_rrelu_draws_new_slopes_each_call_and_is_reproducible_from_its_seed():
    x = -np.ones((4, 8), np.float32)
    a, b = activations.RReLU(seed=7), activations.RReLU(seed=7)
    first, second = np_(a(x, training=True)), np_(a(x, training=True))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(first, np_(b(x, training=True)))


def _rrelu_model():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, name="dense"),
            activations.RReLU(0.1, 0.3, seed=2, name="rrelu"),
            keras.layers.Dense(2, name="out"),
        ]
    )


def test_rrelu_layer_training_step_config_and_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    model = _rrelu_model()
    assert model.get_layer("rrelu").weights == []
    x = np.random.default_rng(0).standard_normal((32, 6)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((32, 2)).astype(np.float32)
    model.compile(optimizer="sgd", loss="mse")
    before = np_(model.get_layer("dense").kernel).copy()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert not np.allclose(before, np_(model.get_layer("dense").kernel))

    clone = config_and_keras_file_round_trip(model, "rrelu", x, tmp_path)
    assert (clone.lower, clone.upper, clone.seed) == (0.1, 0.3, 2)


def test_rrelu_output_shape():
    layer = activations.RReLU()
    assert layer.compute_output_shape((None, 5, 5, 3)) == (None, 5, 5, 3)
    assert tuple(layer(np.zeros((2, 5, 5, 3), np.float32), training=True).shape) == (2, 5, 5, 3)


# --------------------------------------------------------------------------- #
# Maxout
# --------------------------------------------------------------------------- #
def maxout_reference(x, kernel, bias):
    z = np.einsum("...i,iuk->...uk", x, kernel) + bias
    return z.max(axis=-1)


@pytest.mark.parametrize("input_dim,units,pieces", [(1, 1, 1), (3, 4, 2), (10, 5, 3), (7, 2, 5)])
def test_maxout_weights_and_numpy_reference(input_dim, units, pieces):
    layer = activations.Maxout(units, pieces, bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal((6, input_dim)).astype(np.float32)
    out = np_(layer(x))
    assert out.shape == (6, units)
    assert len(layer.weights) == 2
    assert layer.count_params() == input_dim * units * pieces + units * pieces
    assert tuple(layer.kernel.shape) == (input_dim, units, pieces)
    np.testing.assert_allclose(out, maxout_reference(x, np_(layer.kernel), np_(layer.bias)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (2, 4, 4, 3)])
def test_maxout_output_shape_for_any_rank(shape):
    layer = activations.Maxout(6, 3)
    out = layer(np.ones(shape, np.float32))
    assert tuple(out.shape) == shape[:-1] + (6,)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (6,)


def test_maxout_with_one_piece_is_a_dense_layer():
    layer = activations.Maxout(4, 1)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out = np_(layer(x))
    dense = keras.layers.Dense(4)
    dense.build((None, 3))
    dense.set_weights([np_(layer.kernel)[..., 0], np_(layer.bias)[..., 0]])
    np.testing.assert_allclose(out, np_(dense(x)), rtol=1e-6)


@pytest.mark.parametrize(
    "weights,target",
    [
        (([1.0, 0.0], [0.0, 0.0]), lambda x: np.maximum(x, 0)),  # ReLU = max(x, 0)
        (([1.0, -1.0], [0.0, 0.0]), np.abs),  # |x| = max(x, -x)
        (([1.0, 0.1], [0.0, 0.0]), lambda x: np.maximum(x, 0.1 * x)),  # leaky ReLU
    ],
)
def test_maxout_with_two_pieces_represents_relu_abs_and_leaky_relu(weights, target):
    layer = activations.Maxout(1, 2)
    layer.build((None, 1))
    w, b = weights
    layer.set_weights([np.array(w, np.float32).reshape(1, 1, 2), np.array(b, np.float32).reshape(1, 2)])
    x = np.linspace(-3, 3, 61, dtype=np.float32)[:, None]
    np.testing.assert_allclose(np_(layer(x)), target(x), rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5), seed=st.integers(0, 1000))
def test_maxout_unit_is_convex(a, b, seed):
    layer = activations.Maxout(
        3,
        4,
        kernel_initializer=keras.initializers.RandomNormal(seed=seed),
        bias_initializer=keras.initializers.RandomNormal(seed=seed + 1),
    )
    direction = np.random.default_rng(seed).standard_normal(5).astype(np.float32)
    xa, xb = a * direction, b * direction
    points = np.stack([xa, xb, (xa + xb) / 2])
    fa, fb, fm = np_(layer(points))
    assert np.all(fm <= (fa + fb) / 2 + 1e-4)


def _maxout_model():
    return keras.Sequential(
        [
            keras.Input((6,)),
            activations.Maxout(5, 3, name="maxout"),
            keras.layers.Dense(3, name="out"),
        ]
    )


def test_maxout_training_step_config_and_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    model = _maxout_model()
    x = np.random.default_rng(0).standard_normal((32, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 32)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    layer = model.get_layer("maxout")
    before = np_(layer.kernel).copy()
    loss_before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert not np.allclose(before, np_(layer.kernel))
    assert model.evaluate(x, y, verbose=0) < loss_before

    clone = config_and_keras_file_round_trip(model, "maxout", x, tmp_path)
    assert (clone.units, clone.pieces) == (5, 3)


@pytest.mark.parametrize(
    "initializer,variance",
    [
        ("lecun_normal", lambda i, u, k: 1 / i),
        ("he_normal", lambda i, u, k: 2 / i),
        ("glorot_normal", lambda i, u, k: 2 / (i + u * k)),
    ],
)
def test_maxout_kernel_is_initialised_like_a_dense_kernel(initializer, variance):
    input_dim, units, pieces = 400, 50, 3
    layer = activations.Maxout(units, pieces, kernel_initializer=initializer)
    layer.build((None, input_dim))
    np.testing.assert_allclose(np_(layer.kernel).var(), variance(input_dim, units, pieces), rtol=0.03)


# --------------------------------------------------------------------------- #
# Bad layer arguments
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "layer,kwargs,match",
    [
        (activations.RReLU, {"lower": 0.5, "upper": 0.1}, "Expected lower <= upper. Received: lower=0.5, upper=0.1"),
        (activations.RReLU, {"lower": -0.1, "upper": 0.1}, r"Expected lower >= 0. Received: lower=-0.1"),
        (activations.RReLU, {"lower": "a"}, r"Expected lower >= 0. Received: lower='a'"),
        (activations.RReLU, {"upper": float("nan")}, "Expected upper to be a finite number. Received: upper=nan"),
        (activations.Maxout, {"units": 3, "pieces": 0}, "Expected pieces to be a positive integer. Received: pieces=0"),
        (
            activations.Maxout,
            {"units": 3, "pieces": 1.5},
            "Expected pieces to be a positive integer. Received: pieces=1.5",
        ),
        (
            activations.Maxout,
            {"units": True, "pieces": 2},
            "Expected units to be a positive integer. Received: units=True",
        ),
        (activations.Maxout, {"units": 0, "pieces": 2}, "Expected units to be a positive integer. Received: units=0"),
    ],
)
def test_layers_reject_bad_arguments(layer, kwargs, match):
    with pytest.raises(ValueError, match=match):
        layer(**kwargs)
