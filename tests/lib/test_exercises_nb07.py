"""Notebook 07's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import keras
import numpy as np

from lib import norm
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_fold_bn_into_dense():
    def right(kernel, bias, gamma, beta, mean, variance, epsilon):
        dense, bn = keras.layers.Dense(kernel.shape[1]), keras.layers.BatchNormalization(epsilon=epsilon)
        bn(dense(np.zeros((1, kernel.shape[0]), "float32")))
        dense.set_weights([kernel, bias])
        bn.set_weights([gamma, beta, mean, variance])
        return norm.fold_batchnorm(dense, bn)

    def without_eps(kernel, bias, gamma, beta, mean, variance, epsilon):
        s = gamma / np.sqrt(variance)
        return kernel * s, (bias - mean) * s + beta

    def no_mean(kernel, bias, gamma, beta, mean, variance, epsilon):
        s = gamma / np.sqrt(variance + epsilon)
        return kernel * s, bias * s + beta

    assert status("07.1", fold_1=right)[0] == "correct"
    st, msg = status("07.1", fold_1=without_eps)
    assert st == "wrong" and "without epsilon" in msg
    st, msg = status("07.1", fold_1=no_mean)
    assert st == "wrong" and "moving mean" in msg
    st, msg = status("07.1", fold_1=lambda *args: args[0])
    assert st == "wrong"
    assert status("07.1", fold_1=None)[0] == "unanswered"
    assert status("07.1", fold_1=1.0)[0] == "wrong"


def test_02_momentum():
    t = 64
    half = int(np.ceil(np.log(0.5) / np.log(0.99)))
    assert status("07.2", remaining_2=0.99**t, half_life_2=half, steps=t)[0] == "correct"
    assert status("07.2", remaining_2=0.99**25, half_life_2=half, steps=25)[0] == "correct"
    st, msg = status("07.2", remaining_2=1 - 0.99**t, half_life_2=half, steps=t)
    assert st == "wrong" and "moved" in msg
    st, msg = status("07.2", remaining_2=0.9**t, half_life_2=half, steps=t)
    assert st == "wrong" and "0.99" in msg
    st, msg = status("07.2", remaining_2=0.99**t, half_life_2=half - 1, steps=t)
    assert st == "wrong" and f"expected {half}" in msg
    assert status("07.2", remaining_2=None, half_life_2=half, steps=t)[0] == "unanswered"
    assert status("07.2", remaining_2="0.78", half_life_2=half, steps=t)[0] == "wrong"


def _closed_form(dy, x, gamma, epsilon, axis):
    sigma = np.sqrt(x.var(axis=axis, keepdims=True) + epsilon)
    x_hat = (x - x.mean(axis=axis, keepdims=True)) / sigma
    g = dy * gamma
    return (g - g.mean(axis=axis, keepdims=True) - x_hat * (g * x_hat).mean(axis=axis, keepdims=True)) / sigma


def test_03_layer_norm_backward():
    def right(dy, x, gamma, epsilon):
        return _closed_form(dy, x, gamma, epsilon, 1)

    def bn_axis(dy, x, gamma, epsilon):
        return _closed_form(dy, x, gamma, epsilon, 0)

    def constants(dy, x, gamma, epsilon):
        return dy * gamma / np.sqrt(x.var(axis=1, keepdims=True) + epsilon)

    def no_gamma(dy, x, gamma, epsilon):
        return _closed_form(dy, x, 1.0, epsilon, 1)

    assert status("07.3", ln_backward_3=right)[0] == "correct"
    st, msg = status("07.3", ln_backward_3=bn_axis)
    assert st == "wrong" and "batch axis" in msg
    st, msg = status("07.3", ln_backward_3=constants)
    assert st == "wrong" and "constants" in msg
    st, msg = status("07.3", ln_backward_3=no_gamma)
    assert st == "wrong" and "gamma" in msg
    st, msg = status("07.3", ln_backward_3=lambda dy, x, g, e: dy)
    assert st == "wrong" and "automatic differentiation" in msg
    assert status("07.3", ln_backward_3=None)[0] == "unanswered"
    assert status("07.3", ln_backward_3=[1, 2])[0] == "wrong"
    assert status("07.3", ln_backward_3=lambda dy, x, g, e: dy[:2])[0] == "wrong"


def test_04_weight_norm_init():
    def right(layer, x):
        t = keras.ops.convert_to_numpy(layer(x))
        layer.g.assign(keras.ops.convert_to_numpy(layer.g) / t.std(axis=0))
        layer.layer.bias.assign((keras.ops.convert_to_numpy(layer.layer.bias) - t.mean(axis=0)) / t.std(axis=0))

    def only_g(layer, x):
        t = keras.ops.convert_to_numpy(layer(x))
        layer.g.assign(keras.ops.convert_to_numpy(layer.g) / t.std(axis=0))

    def kernel_too(layer, x):
        right(layer, x)
        layer.layer.kernel.assign(-layer.layer.kernel)

    assert status("07.4", data_init_4=right)[0] == "correct"
    st, msg = status("07.4", data_init_4=only_g)
    assert st == "wrong" and "bias" in msg
    st, msg = status("07.4", data_init_4=kernel_too)
    assert st == "wrong" and "direction" in msg
    assert status("07.4", data_init_4=None)[0] == "unanswered"
    assert status("07.4", data_init_4=0)[0] == "wrong"
