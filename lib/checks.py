"""Argument checks with Keras-style messages: the one home of argument validation in `lib`.

Every check takes ``(value, name)`` - the value first, as Keras's own
``standardize_tuple(value, n, name)`` does - and returns the value in the
type the caller needs, or raises ``ValueError`` saying what was expected and
what was received, in Keras's words::

    Expected stride to be a positive integer. Received: stride=0
    Expected rate in [0, 1). Received: rate=1.5
    Expected epsilon > 0. Received: epsilon=0

Booleans are never accepted as numbers (``True`` is an ``int`` in Python).
Introduced in notebook 01; every `lib` module checks its arguments with it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "integer",
    "positive_int",
    "non_negative_int",
    "number",
    "positive",
    "non_negative",
    "probability",
    "one_of",
    "int_pair",
    "image_batch",
    "image_shape",
    "num_classes",
]


def _fail(expected: str, value, name: str):
    raise ValueError(f"Expected {name} to be {expected}. Received: {name}={value!r}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def integer(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer in [minimum, maximum] (either bound optional), as a Python ``int``. Introduced in notebook 01."""
    if not _is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            _fail(f"an integer in [{minimum}, {maximum}]", value, name)
        if minimum is not None:
            _fail(f"an integer >= {minimum}", value, name)
        if maximum is not None:
            _fail(f"an integer <= {maximum}", value, name)
        _fail("an integer", value, name)
    return int(value)


def positive_int(value, name: str) -> int:
    """An integer >= 1. Introduced in notebook 01."""
    if not _is_int(value) or value < 1:
        _fail("a positive integer", value, name)
    return int(value)


def non_negative_int(value, name: str) -> int:
    """An integer >= 0. Introduced in notebook 01."""
    if not _is_int(value) or value < 0:
        _fail("a non-negative integer", value, name)
    return int(value)


def number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval given by ``low``/``high`` (closed unless ``*_open``), as a float.

    Introduced in notebook 01.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is None and high is None:
            _fail("a finite number", value, name)
        if high is None:  # one bound reads best as an inequality: "Expected epsilon > 0"
            expected = f"{name} {'>' if low_open else '>='} {low:g}"
        elif low is None:
            expected = f"{name} {'<' if high_open else '<='} {high:g}"
        else:
            expected = f"{name} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"Expected {expected}. Received: {name}={value!r}")
    return float(value)


def positive(value, name: str) -> float:
    """A finite number > 0. Introduced in notebook 01."""
    return number(value, name, 0.0, low_open=True)


def non_negative(value, name: str) -> float:
    """A finite number >= 0. Introduced in notebook 01."""
    return number(value, name, 0.0)


def probability(value, name: str, *, allow_one: bool = False) -> float:
    """A number in [0, 1) (dropout rates), or [0, 1] with ``allow_one``. Introduced in notebook 01."""
    return number(value, name, 0.0, 1.0, high_open=not allow_one)


def one_of(value, name: str, choices) -> object:
    """``value`` if it is one of ``choices``. Introduced in notebook 01."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"Expected {name} to be one of {list(choices)}. Received: {name}={value!r}")
    return value


def int_pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum`` (kernel sizes, strides, pool sizes), as a pair.

    Introduced in notebook 01.
    """
    values = (value, value) if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(_is_int(v) and v >= minimum for v in values):
        raise ValueError(f"Expected {name} to be an integer >= {minimum} or a pair of them. Received: {name}={value!r}")
    return int(values[0]), int(values[1])


def image_batch(
    images,
    name: str = "images",
    *,
    channels: int | tuple[int, ...] | None = None,
    allow_single: bool = False,
    convert: bool = True,
):
    """A batch of images ``(batch, height, width, channels)`` as a NumPy array (one ``(h, w, c)`` image with
    ``allow_single``), with ``channels`` channels when given. ``convert=False`` checks the shape only and
    returns ``images`` as it is (a tensor inside ``tf.data`` cannot become a NumPy array).

    Introduced in notebook 01.
    """
    x = np.asarray(images) if convert else images
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    ndims = (3, 4) if allow_single else (4,)
    wanted = channels if channels is None or isinstance(channels, tuple) else (channels,)
    if len(shape) not in ndims or (wanted is not None and shape[-1] not in wanted):
        expected = "(batch, height, width, channels)" + (" or (height, width, channels)" if allow_single else "")
        chans = "" if wanted is None else f" with {' or '.join(map(str, wanted))} channel(s)"
        raise ValueError(f"Expected {name} of shape {expected}{chans}. Received: {name} of shape {shape}")
    return x


def image_shape(value, name: str = "input_shape", *, channels: int | None = None) -> tuple[int, int, int]:
    """The shape of one image, ``(height, width, channels)`` of positive integers (with ``channels`` channels
    when given), as a tuple of Python ints. Introduced in notebook 01."""
    shape = tuple(value) if isinstance(value, (tuple, list)) else ()
    if (
        len(shape) != 3
        or not all(_is_int(v) and v >= 1 for v in shape)
        or (channels is not None and shape[-1] != channels)
    ):
        chans = "channels" if channels is None else str(channels)
        raise ValueError(f"Expected {name} (height, width, {chans}) of positive integers. Received: {name}={value!r}")
    return tuple(int(v) for v in shape)


def num_classes(value, name: str = "num_classes") -> int:
    """A number of classes for a softmax classifier: an integer >= 2 (one class is not a classification).

    Introduced in notebook 01.
    """
    if not _is_int(value) or value < 2:
        _fail("an integer >= 2", value, name)
    return int(value)
