"""lib.anatomy: hand counts of shapes, parameters and activations against Keras's own."""

import itertools
import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import anatomy as A


def assert_matches_keras(model, rows):
    """Every hand-counted row equals the Keras layer's count_params() and output shape."""
    assert rows[0].name == "input" and rows[0].output_shape == tuple(model.inputs[0].shape[1:])
    for row in rows[1:]:
        layer = model.get_layer(row.name)
        assert row.params == layer.count_params(), row
        assert row.output_shape == tuple(layer.output.shape[1:]), row
        assert row.activations == math.prod(layer.output.shape[1:])
    assert A.totals(rows)["params"] == model.count_params()


# ---------------------------------------------------------------- one axis
@pytest.mark.parametrize("size,window,stride,padding", list(itertools.product([5, 8, 13], [1, 3, 5], [1, 2, 3],
                                                                             ["valid", "same"])))
def test_output_size_matches_keras_conv_and_pool(size, window, stride, padding):
    if padding == "valid" and window > size:
        return
    conv = keras.layers.Conv2D(1, window, stride, padding).compute_output_shape((1, size, size, 1))
    pool = keras.layers.MaxPooling2D(window, stride, padding).compute_output_shape((1, size, size, 1))
    assert A.output_size(size, window, stride, padding) == conv[1] == pool[1]


def test_deck_examples():
    # NTU deck: 32x32x3 input, ten 3x5x5 filters, stride 1, pad 0 -> 28x28, 76 params each, 760 in all
    rows = A.walk((32, 32, 3), [A.Conv(10, 5)])
    assert rows[1].output_shape == (28, 28, 10)
    assert rows[1].params == (5 * 5 * 3 + 1) * 10 == 760
    # CS182 deck: VGG16 conv3-64 on 224x224x3 has (3*3*3)*64 weights, the first FC 7*7*512*4096
    rows = A.walk((224, 224, 3), [A.Conv(64, 3, padding="same", use_bias=False)])
    assert rows[1].params == 1728 and rows[1].activations == 224 * 224 * 64
    rows = A.walk((7, 7, 512), [A.Flatten(), A.Dense(4096, use_bias=False)])
    assert rows[-1].params == 102_760_448


# ---------------------------------------------------------------- against Keras models
def test_counts_a_hand_written_keras_model_with_every_supported_layer():
    keras.backend.clear_session()
    model = keras.Sequential([
        keras.Input((20, 18, 3)),
        keras.layers.Conv2D(8, 3, padding="same", name="c1"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("relu", name="act"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(12, (3, 2), strides=(2, 1), use_bias=False, name="c2"),
        keras.layers.ReLU(name="relu"),
        keras.layers.AveragePooling2D(3, strides=1, padding="same", name="p2"),
        keras.layers.Conv2D(6, 1, name="c3"),
        keras.layers.GlobalMaxPooling2D(name="gmp"),
        keras.layers.Dropout(0.3, name="drop"),
        keras.layers.Dense(5, activation="softmax", name="out"),
    ])
    rows = A.count(model)
    assert_matches_keras(model, rows)
    assert [r.kind for r in rows[1:4]] == ["conv", "batch_norm", "elementwise"]


def test_flatten_then_dense_and_global_average():
    keras.backend.clear_session()
    for head in ([keras.layers.Flatten(name="f")], [keras.layers.GlobalAveragePooling2D(name="g")]):
        model = keras.Sequential([keras.Input((9, 9, 2)), keras.layers.Conv2D(4, 3, name="c"), *head,
                                  keras.layers.Dense(3, name="d")])
        assert_matches_keras(model, A.count(model))


@pytest.mark.parametrize("spec", [
    [A.Conv(4, 3), A.Pool(2), A.Flatten(), A.Dense(7)],
    [A.Conv(3, (5, 3), strides=2, padding="same"), A.Pool(3, 2, padding="same", mode="average"), A.GlobalPool()],
    [A.Conv(6, 1, use_bias=False), A.BatchNorm(), A.Elementwise("relu"), A.Pool((2, 3)), A.Flatten(),
     A.Elementwise("dropout"), A.Dense(4, activation="softmax")],
])
def test_to_keras_round_trip(spec):
    keras.backend.clear_session()
    model = A.to_keras((16, 15, 2), spec)
    rows = A.walk((16, 15, 2), spec)
    assert_matches_keras(model, rows)
    shape, back = A.from_keras(model)
    assert shape == (16, 15, 2)
    assert [r.params for r in A.walk(shape, back)] == [r.params for r in rows]


@settings(max_examples=12, deadline=None)
@given(
    side=st.integers(8, 20), channels=st.integers(1, 3),
    convs=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 2),
                             st.sampled_from(["valid", "same"]), st.booleans()), min_size=1, max_size=3),
    units=st.integers(1, 9),
)
def test_random_stacks_match_keras(shapes_only, side, channels, convs, units):
    spec = []
    for filters, kernel, stride, padding, pool in convs:
        spec.append(A.Conv(filters, kernel, stride, padding, activation="relu"))
        if pool:
            spec.append(A.Pool(2, padding="same"))
    spec += [A.Flatten(), A.Dense(units)]
    try:
        rows = A.walk((side, side, channels), spec)
    except ValueError:
        return  # too small; the error path is tested below
    keras.backend.clear_session()
    with shapes_only():  # counts and shapes only: no weight values needed
        model = A.to_keras((side, side, channels), spec)
    assert_matches_keras(model, rows)


# ---------------------------------------------------------------- helpers
def test_min_input_size_and_table():
    layers = [A.Conv(20, 5), A.Pool(2), A.Conv(50, 5), A.Pool(2)]
    assert A.min_input_size(layers) == 16
    A.walk((16, 16, 1), layers)
    with pytest.raises(ValueError):
        A.walk((15, 15, 1), layers)
    text = A.format_table(A.walk((28, 28, 1), layers + [A.Flatten(), A.Dense(500), A.Dense(10)]))
    assert "431,080" in text and "(800 + 1)*500" in text


def test_pooling_keeps_depth():
    rows = A.walk((11, 11, 7), [A.Pool(2), A.Pool(3, 1, "same", "average")])
    assert [r.output_shape[-1] for r in rows] == [7, 7, 7]
    assert [r.params for r in rows] == [0, 0, 0]


# ---------------------------------------------------------------- bad input
def test_window_too_large_names_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'conv2' cannot take an input of shape \(4, 4, 20\)"):
        A.walk((12, 12, 1), [A.Conv(20, 5), A.Pool(2), A.Conv(50, 5)])


def test_dense_on_maps_and_conv_on_vectors_raise():
    with pytest.raises(ValueError, match=r"Put a Flatten"):
        A.walk((4, 4, 1), [A.Dense(3)])
    with pytest.raises(ValueError, match=r"expects maps \(H, W, C\)"):
        A.walk((4, 4, 1), [A.Flatten(), A.Conv(3, 1)])


@pytest.mark.parametrize("make,match", [
    (lambda: A.Conv(0, 3), r"Expected filters to be a positive integer. Received: filters=0"),
    (lambda: A.Conv(3, 0), r"Expected kernel_size >= 1"),
    (lambda: A.Pool(0), r"Expected pool_size >= 1. Received: pool_size=0"),
    (lambda: A.Pool(2, 0), r"Expected strides >= 1. Received: strides=0"),
    (lambda: A.Pool(2, mode="l2"), r"Expected mode to be 'max' or 'average'"),
    (lambda: A.Conv(3, 3, padding="full"), r"Expected padding to be 'valid' or 'same'"),
    (lambda: A.Dense(0), r"Expected units to be a positive integer"),
    (lambda: A.walk((28, 28), []), r"Expected input_shape \(height, width, channels\)"),
    (lambda: A.walk((28, 28, 1), ["conv"]), r"Expected lib.anatomy layer specs"),
])
def test_bad_specs_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_keras_layer_raises():
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.DepthwiseConv2D(3, name="dw")])
    with pytest.raises(ValueError, match=r"does not know how to count layer 'dw' of class DepthwiseConv2D"):
        A.count(model)
    with pytest.raises(ValueError, match=r"Expected a keras.Model"):
        A.from_keras(np.zeros(3))
