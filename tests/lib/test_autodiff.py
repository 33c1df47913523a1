"""lib.autodiff on whichever Keras backend runs the tests (TensorFlow, JAX, PyTorch): gradients
against analytic ones, with respect to inputs and to layer weights, and the promised errors."""

import keras
import numpy as np
import pytest
from keras import ops

from lib import autodiff


def np_(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)


@pytest.mark.parametrize(
    "name, loss_fn, analytic",
    [
        ("sum of squares", lambda x: ops.sum(x**2), lambda x: 2 * x),
        ("sum of sines", lambda x: ops.sum(ops.sin(x)), np.cos),
        ("log-sum-exp", lambda x: ops.logsumexp(ops.reshape(x, (-1,))), lambda x: np.exp(x) / np.exp(x).sum()),
        (
            "weighted cubes",
            lambda x: ops.sum(ops.reshape(ops.arange(12, dtype="float32"), (3, 4)) * x**3),
            lambda x: np.arange(12).reshape(3, 4) * 3 * x**2,
        ),
    ],
)
def test_input_gradient_matches_the_analytic_gradient(name, loss_fn, analytic):
    value, grad = autodiff.value_and_input_grad(loss_fn, X)
    assert tuple(grad.shape) == X.shape
    np.testing.assert_allclose(np_(grad), analytic(X.astype(np.float64)), rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(float(np_(value)), float(np_(loss_fn(X))), rtol=1e-6)


def test_input_gradient_through_a_model_matches_the_linear_map():
    """For logits = x W + b, d(sum(logits * c))/dx = c W^T, whatever the backend."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    c = np.array([[1.0, -2.0]] * 3, np.float32)
    _, grad = autodiff.value_and_input_grad(lambda x: ops.sum(model(x, training=False) * c), X)
    kernel = np_(model.get_layer("dense").kernel)
    np.testing.assert_allclose(np_(grad), c @ kernel.T, rtol=1e-5, atol=1e-6)


def test_input_gradient_accepts_backend_tensors_and_zero_gradients():
    _, grad = autodiff.value_and_input_grad(lambda x: ops.sum(ops.relu(x - 100.0)), ops.convert_to_tensor(X))
    np.testing.assert_array_equal(np_(grad), 0.0)  # depends on x, but every unit is off: zeros, no error


def test_input_gradient_of_a_constant_is_an_error_on_every_backend():
    with pytest.raises(ValueError, match="does not depend on the input"):
        autodiff.value_and_input_grad(lambda x: ops.sum(ops.ones((2,))), X)


def test_input_gradient_needs_a_scalar_loss():
    with pytest.raises(ValueError, match=r"Expected loss_fn to return a scalar. Received: a loss of shape \(3, 4\)"):
        autodiff.value_and_input_grad(lambda x: x * 2.0, X)


def test_variable_gradients_of_a_dense_layer_match_the_analytic_ones():
    """loss = sum((x W + b)^2): dL/dW = x^T 2(xW + b), dL/db = sum over the batch of 2(xW + b)."""
    keras.utils.set_random_seed(2)
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    before = [np_(w).copy() for w in layer.weights]
    value, (dw, db) = autodiff.value_and_grads(lambda: ops.sum(layer(X) ** 2), [layer.kernel, layer.bias])
    w, b = (v.astype(np.float64) for v in before)
    out = X @ w + b
    np.testing.assert_allclose(float(np_(value)), (out**2).sum(), rtol=1e-5)
    np.testing.assert_allclose(np_(dw), X.T @ (2 * out), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_(db), (2 * out).sum(0), rtol=1e-4, atol=1e-5)
    for old, new in zip(before, layer.weights):
        np.testing.assert_array_equal(np_(new), old)  # the variables are read, not changed


def test_variable_gradients_of_keras_variables():
    a = keras.Variable(np.array([1.0, 2.0, 3.0], np.float32), name="a")
    b = keras.Variable(np.array(0.5, np.float32), name="b")
    _, (da, db) = autodiff.value_and_grads(lambda: ops.sum(ops.exp(b * a)), [a, b])
    av = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np_(da), 0.5 * np.exp(0.5 * av), rtol=1e-5)
    np.testing.assert_allclose(float(np_(db)), (av * np.exp(0.5 * av)).sum(), rtol=1e-5)


def test_unused_variable_is_an_error_unless_allowed():
    used = keras.Variable(np.ones(2, np.float32), name="used")
    unused = keras.Variable(np.ones(3, np.float32), name="unused")
    with pytest.raises(ValueError, match="does not depend on variable 'unused'"):
        autodiff.value_and_grads(lambda: ops.sum(used * 3.0), [used, unused])
    _, (du, dn) = autodiff.value_and_grads(lambda: ops.sum(used * 3.0), [used, unused], allow_unused=True)
    np.testing.assert_array_equal(np_(du), [3.0, 3.0])
    np.testing.assert_array_equal(np_(dn), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "variables, message",
    [
        ([], r"Expected at least one variable .* Received: variables=\[\]"),
        ([np.ones(2)], r"Expected Keras variables \(e.g. layer.kernel\). Received: a ndarray"),
    ],
)
def test_bad_variables(variables, message):
    with pytest.raises(ValueError, match=message):
        autodiff.value_and_grads(lambda: ops.ones(()), variables)


def test_non_trainable_variables_get_gradients_too():
    v = keras.Variable(np.array([1.0, -2.0], np.float32), trainable=False, name="frozen")
    _, (dv,) = autodiff.value_and_grads(lambda: ops.sum(v**2), [v])
    np.testing.assert_allclose(np_(dv), [2.0, -4.0])
