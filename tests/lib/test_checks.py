"""lib.checks: every check accepts what it should (returning the plain Python value), rejects booleans, NaN,
infinities and values out of range with the exact Keras-style message, and obeys its laws (hypothesis)."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import checks

MESSAGE = re.compile(r"^Expected .+\. Received: .+$")


def message_of(call) -> str:
    with pytest.raises(ValueError) as err:
        call()
    assert MESSAGE.match(str(err.value)), str(err.value)
    return str(err.value)


# --------------------------------------------------------------------------- #
# what each check accepts, and what it returns
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "call,expected",
    [
        (lambda: checks.integer(-3, "n"), -3),
        (lambda: checks.integer(np.int64(5), "n", 0, 5), 5),
        (lambda: checks.positive_int(np.int32(7), "filters"), 7),
        (lambda: checks.non_negative_int(0, "extra"), 0),
        (lambda: checks.number(np.float32(0.5), "rate", 0, 1), 0.5),
        (lambda: checks.number(-1e300, "x"), -1e300),
        (lambda: checks.positive(3, "epsilon"), 3.0),
        (lambda: checks.non_negative(0, "sigma"), 0.0),
        (lambda: checks.probability(0.0, "rate"), 0.0),
        (lambda: checks.probability(1, "momentum", allow_one=True), 1.0),
        (lambda: checks.one_of("same", "padding", ("valid", "same")), "same"),
        (lambda: checks.int_pair(3, "kernel_size"), (3, 3)),
        (lambda: checks.int_pair([2, np.int64(5)], "strides"), (2, 5)),
        (lambda: checks.int_pair((0, 4), "padding", minimum=0), (0, 4)),
        (lambda: checks.image_shape([32, 30, 3]), (32, 30, 3)),
        (lambda: checks.image_shape((8, 8, 3), channels=3), (8, 8, 3)),
        (lambda: checks.num_classes(np.int16(2)), 2),
    ],
)
def test_accepts_and_returns_plain_python_values(call, expected):
    value = call()
    assert value == expected
    assert type(value) is type(expected)  # int, float, tuple of ints: never a NumPy scalar


def test_image_batch_returns_an_array_and_checks_shape_only_when_asked():
    batch = checks.image_batch([[[[0.0, 1.0, 0.5]]]], channels=3)
    assert isinstance(batch, np.ndarray) and batch.shape == (1, 1, 1, 3)
    assert checks.image_batch(np.zeros((4, 4, 1)), allow_single=True).shape == (4, 4, 1)
    assert checks.image_batch(np.zeros((2, 4, 4, 4)), channels=(3, 4)).shape[-1] == 4

    class Tensor:  # a stand-in for a symbolic tensor inside tf.data: it has a shape, no values
        shape = (None, 8, 8, 3)

    tensor = Tensor()
    assert checks.image_batch(tensor, channels=3, convert=False) is tensor


# --------------------------------------------------------------------------- #
# what each check rejects, and the exact message
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: checks.positive_int(0, "filters"), "Expected filters to be a positive integer. Received: filters=0"),
        (
            lambda: checks.positive_int(True, "filters"),
            "Expected filters to be a positive integer. Received: filters=True",
        ),
        (lambda: checks.positive_int(np.bool_(True), "n"), "Expected n to be a positive integer. Received: n=np.True_"),
        (lambda: checks.positive_int(2.0, "units"), "Expected units to be a positive integer. Received: units=2.0"),
        (lambda: checks.positive_int("3", "units"), "Expected units to be a positive integer. Received: units='3'"),
        (
            lambda: checks.non_negative_int(-1, "extra"),
            "Expected extra to be a non-negative integer. Received: extra=-1",
        ),
        (
            lambda: checks.non_negative_int(False, "seed"),
            "Expected seed to be a non-negative integer. Received: seed=False",
        ),
        (lambda: checks.integer(1.5, "n"), "Expected n to be an integer. Received: n=1.5"),
        (lambda: checks.integer(9, "depth", minimum=10), "Expected depth to be an integer >= 10. Received: depth=9"),
        (lambda: checks.integer(6, "top", maximum=5), "Expected top to be an integer <= 5. Received: top=6"),
        (lambda: checks.integer(4, "axes", -4, 3), "Expected axes to be an integer in [-4, 3]. Received: axes=4"),
        (lambda: checks.number(float("nan"), "x"), "Expected x to be a finite number. Received: x=nan"),
        (lambda: checks.number(float("inf"), "x"), "Expected x to be a finite number. Received: x=inf"),
        (lambda: checks.number(True, "x"), "Expected x to be a finite number. Received: x=True"),
        (lambda: checks.number(None, "alpha"), "Expected alpha to be a finite number. Received: alpha=None"),
        (lambda: checks.positive(0, "epsilon"), "Expected epsilon > 0. Received: epsilon=0"),
        (lambda: checks.positive(float("nan"), "epsilon"), "Expected epsilon > 0. Received: epsilon=nan"),
        (lambda: checks.non_negative(-0.1, "sigma"), "Expected sigma >= 0. Received: sigma=-0.1"),
        (lambda: checks.number(3, "x", high=2, high_open=True), "Expected x < 2. Received: x=3"),
        (lambda: checks.number(3, "x", high=2), "Expected x <= 2. Received: x=3"),
        (lambda: checks.probability(1.0, "rate"), "Expected rate in [0, 1). Received: rate=1.0"),
        (lambda: checks.probability(-0.5, "rate", allow_one=True), "Expected rate in [0, 1]. Received: rate=-0.5"),
        (lambda: checks.number(0.0, "decay", 0, 1, low_open=True), "Expected decay in (0, 1]. Received: decay=0.0"),
        (lambda: checks.number(False, "rate", 0, 1), "Expected rate in [0, 1]. Received: rate=False"),
        (
            lambda: checks.one_of("full", "padding", ("valid", "same")),
            "Expected padding to be one of ['valid', 'same']. Received: padding='full'",
        ),
        (
            lambda: checks.int_pair(0, "kernel_size"),
            "Expected kernel_size to be an integer >= 1 or a pair of them. Received: kernel_size=0",
        ),
        (
            lambda: checks.int_pair((2, 2, 2), "strides"),
            "Expected strides to be an integer >= 1 or a pair of them. Received: strides=(2, 2, 2)",
        ),
        (
            lambda: checks.int_pair((2, True), "strides"),
            "Expected strides to be an integer >= 1 or a pair of them. Received: strides=(2, True)",
        ),
        (
            lambda: checks.int_pair(-1, "padding", minimum=0),
            "Expected padding to be an integer >= 0 or a pair of them. Received: padding=-1",
        ),
        (
            lambda: checks.image_batch(np.zeros((4, 4, 3))),
            "Expected images of shape (batch, height, width, channels). Received: images of shape (4, 4, 3)",
        ),
        (
            lambda: checks.image_batch(np.zeros((1, 4, 4, 1)), "x", channels=3),
            "Expected x of shape (batch, height, width, channels) with 3 channel(s). Received: x of shape (1, 4, 4, 1)",
        ),
        (
            lambda: checks.image_batch(np.zeros(3), allow_single=True),
            "Expected images of shape (batch, height, width, channels) or (height, width, channels). "
            "Received: images of shape (3,)",
        ),
        (
            lambda: checks.image_shape((28, 28)),
            "Expected input_shape (height, width, channels) of positive integers. Received: input_shape=(28, 28)",
        ),
        (
            lambda: checks.image_shape((28, 28, 0)),
            "Expected input_shape (height, width, channels) of positive integers. Received: input_shape=(28, 28, 0)",
        ),
        (
            lambda: checks.image_shape("28x28x1"),
            "Expected input_shape (height, width, channels) of positive integers. Received: input_shape='28x28x1'",
        ),
        (
            lambda: checks.image_shape((8, 8, 1), channels=3),
            "Expected input_shape (height, width, 3) of positive integers. Received: input_shape=(8, 8, 1)",
        ),
        (lambda: checks.num_classes(1), "Expected num_classes to be an integer >= 2. Received: num_classes=1"),
        (lambda: checks.num_classes(True), "Expected num_classes to be an integer >= 2. Received: num_classes=True"),
        (lambda: checks.num_classes(10.0, "classes"), "Expected classes to be an integer >= 2. Received: classes=10.0"),
    ],
)
def test_rejects_with_the_exact_keras_style_message(call, message):
    assert message_of(call) == message


# --------------------------------------------------------------------------- #
# laws
# --------------------------------------------------------------------------- #
@given(st.integers(-(10**6), 10**6))
def test_positive_int_accepts_exactly_the_integers_from_one(n):
    if n >= 1:
        assert checks.positive_int(n, "n") == n
        assert checks.positive_int(np.int64(n), "n") == n
    else:
        message = message_of(lambda: checks.positive_int(n, "n"))
        assert message == f"Expected n to be a positive integer. Received: n={n}"


@given(
    value=st.floats(allow_nan=True, allow_infinity=True),
    low=st.floats(-10, 10),
    width=st.floats(0, 10),
    low_open=st.booleans(),
    high_open=st.booleans(),
)
def test_number_accepts_exactly_the_finite_values_inside_the_interval(value, low, width, low_open, high_open):
    high = low + width
    inside = (
        math.isfinite(value)
        and (value > low if low_open else value >= low)
        and (value < high if high_open else value <= high)
    )
    call = lambda: checks.number(value, "x", low, high, low_open=low_open, high_open=high_open)  # noqa: E731
    if inside:
        assert call() == value
    else:
        assert message_of(call).endswith(f"Received: x={value!r}")


@given(st.one_of(st.integers(1, 99), st.tuples(st.integers(1, 99), st.integers(1, 99))))
def test_int_pair_of_an_int_is_that_int_twice_and_a_pair_is_kept(value):
    pair = checks.int_pair(value, "kernel_size")
    assert pair == ((value, value) if isinstance(value, int) else value)


@given(st.sampled_from([True, False, np.bool_(True), np.bool_(False)]))
def test_booleans_are_never_numbers(flag):
    for call in (
        lambda: checks.integer(flag, "n"),
        lambda: checks.positive_int(flag, "n"),
        lambda: checks.non_negative_int(flag, "n"),
        lambda: checks.number(flag, "n"),
        lambda: checks.int_pair(flag, "n"),
        lambda: checks.num_classes(flag),
    ):
        message_of(call)
