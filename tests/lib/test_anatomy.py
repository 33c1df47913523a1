"""lib.anatomy: hand counts of shapes, parameters and activations against Keras's own and lib.flops.profile."""

import itertools
import math

import keras
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import anatomy as A
from lib import flops


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
@pytest.mark.parametrize(
    "size,window,stride,padding", list(itertools.product([5, 8, 13], [1, 3, 5], [1, 2, 3], ["valid", "same"]))
)
def test_conv_and_pool_specs_size_their_output_like_keras(size, window, stride, padding):
    if padding == "valid" and window > size:
        return
    conv = keras.layers.Conv2D(1, window, stride, padding).compute_output_shape((1, size, size, 1))
    pool = keras.layers.MaxPooling2D(window, stride, padding).compute_output_shape((1, size, size, 1))
    assert A.walk((size, size, 1), [A.Conv(1, window, stride, padding)])[1].output_shape == tuple(conv[1:])
    assert A.walk((size, size, 1), [A.Pool(window, stride, padding)])[1].output_shape == tuple(pool[1:])


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
EVERY_SPEC = [
    A.Conv(8, 3, padding="same", name="c1"),
    A.BatchNorm(name="bn"),
    A.Elementwise("relu", name="act"),
    A.Pool(2, name="p1"),
    A.Conv(12, (3, 2), strides=(2, 1), use_bias=False, name="c2"),
    A.Pool(3, 1, padding="same", mode="average", name="p2"),
    A.Conv(6, 1, name="c3"),
    A.GlobalPool("max", name="gmp"),
    A.Elementwise("dropout", name="drop"),
    A.Dense(5, activation="softmax", name="out"),
]


def test_every_kind_of_spec_matches_keras_and_the_profiler():
    keras.backend.clear_session()
    model = A.to_keras((20, 18, 3), EVERY_SPEC)
    rows = A.walk((20, 18, 3), EVERY_SPEC)
    assert_matches_keras(model, rows)
    assert [r.kind for r in rows[1:4]] == ["conv", "batch_norm", "elementwise"]
    # lib.flops.profile counts the built model layer by layer: the same parameters and activations
    profiled = flops.profile(model)
    assert [(r.params, r.activations) for r in profiled] == [(r.params, r.activations) for r in rows]


def test_flatten_then_dense_and_global_average():
    keras.backend.clear_session()
    for head in ([A.Flatten(name="f")], [A.GlobalPool(name="g")]):
        spec = [A.Conv(4, 3, name="c"), *head, A.Dense(3, name="d")]
        assert_matches_keras(A.to_keras((9, 9, 2), spec), A.walk((9, 9, 2), spec))


@pytest.mark.parametrize(
    "spec",
    [
        [A.Conv(4, 3), A.Pool(2), A.Flatten(), A.Dense(7)],
        [A.Conv(3, (5, 3), strides=2, padding="same"), A.Pool(3, 2, padding="same", mode="average"), A.GlobalPool()],
        [
            A.Conv(6, 1, use_bias=False),
            A.BatchNorm(),
            A.Elementwise("relu"),
            A.Pool((2, 3)),
            A.Flatten(),
            A.Elementwise("dropout"),
            A.Dense(4, activation="softmax"),
        ],
    ],
)
def test_to_keras_builds_what_walk_counts(spec):
    keras.backend.clear_session()
    model = A.to_keras((16, 15, 2), spec)
    assert_matches_keras(model, A.walk((16, 15, 2), spec))


@settings(max_examples=12, deadline=None)
@given(
    side=st.integers(8, 20),
    channels=st.integers(1, 3),
    convs=st.lists(
        st.tuples(
            st.integers(1, 6), st.integers(1, 3), st.integers(1, 2), st.sampled_from(["valid", "same"]), st.booleans()
        ),
        min_size=1,
        max_size=3,
    ),
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


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: A.Conv(0, 3), r"Expected filters to be a positive integer. Received: filters=0"),
        (lambda: A.Conv(True, 3), r"Expected filters to be a positive integer. Received: filters=True"),
        (
            lambda: A.Conv(3, 0),
            r"Expected kernel_size to be an integer >= 1 or a pair of them. Received: kernel_size=0",
        ),
        (lambda: A.Pool(0), r"Expected pool_size to be an integer >= 1 or a pair of them. Received: pool_size=0"),
        (lambda: A.Pool(2, 0), r"Expected strides to be an integer >= 1 or a pair of them. Received: strides=0"),
        (
            lambda: A.Pool(2, mode="l2"),
            r"Expected mode to be one of \['max', 'average', 'subsample'\]. Received: mode='l2'",
        ),
        (lambda: A.Conv(3, 3, padding="full"), r"Expected padding to be one of \['valid', 'same'\]"),
        (lambda: A.Dense(0), r"Expected units to be a positive integer"),
        (lambda: A.walk((28, 28), []), r"Expected input_shape \(height, width, channels\)"),
        (lambda: A.walk((28, 28, 1), ["conv"]), r"Expected lib.anatomy layer specs"),
    ],
)
def test_bad_specs_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_lenet_subsampling_pool_has_a_coefficient_and_a_bias_per_map():
    rows = A.walk((28, 28, 6), [A.Pool(2, mode="subsample", name="s2")])
    assert rows[1].output_shape == (14, 14, 6) and rows[1].params == 2 * 6
    assert A.walk((28, 28, 6), [A.Pool(2, mode="max")])[1].params == 0
