"""Checks for notebook 02 (pooling and the anatomy of a CNN). Each computes the right answer with Keras."""

from __future__ import annotations

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


def _as_shape(value):
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return value


@exercise("02.1", "Sizes after convolution and pooling")
def _sizes_after_conv_and_pool(shapes_1, params_1):
    import keras

    layers = [
        keras.layers.Conv2D(32, 3, padding="same", name="conv 32@3x3 'same'"),
        keras.layers.MaxPooling2D(2, name="2x2 max pool"),
        keras.layers.Conv2D(64, 3, name="conv 64@3x3 'valid'"),
        keras.layers.MaxPooling2D(3, strides=2, name="3x3 max pool, stride 2"),
        keras.layers.Conv2D(128, 3, name="conv 128@3x3 'valid'"),
        keras.layers.GlobalAveragePooling2D(name="global average pooling"),
    ]
    shape = (None, 128, 128, 3)
    expected = []
    for layer in layers:
        shape = layer.compute_output_shape(shape)
        expected.append(tuple(shape[1:]))
    expect_true(
        isinstance(shapes_1, (list, tuple)) and len(shapes_1) == len(layers),
        f"shapes_1: expected a list of {len(layers)} output shapes, one per layer; received {shapes_1!r}.",
    )
    hints = {
        0: "'same' padding at stride 1 keeps 128x128; the depth becomes the number of filters.",
        1: "a 2x2 pool with its default stride 2 halves each side.",
        2: "'valid': O = I - K + 1.",
        3: "O = floor((I - K) / S) + 1 with K = 3, S = 2.",
        4: "'valid': O = I - K + 1.",
        5: "global pooling keeps one number per channel: shape (C,).",
    }
    for k, (layer, got, want) in enumerate(zip(layers, shapes_1, expected)):
        expect_equal(f"output shape after layer {k + 1} ({layer.name})", _as_shape(got), want, hint=hints[k])
    model = keras.Sequential([keras.Input((128, 128, 3)), *layers])
    expect_equal(
        "parameters",
        params_1,
        model.count_params(),
        hint="only the convolutions have parameters: K x K x C_in x C_out weights plus C_out biases each.",
    )


def _lenet(head):
    import keras

    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.layers.Conv2D(6, 5, name="c1"),
            keras.layers.AveragePooling2D(2, name="s2"),
            keras.layers.Conv2D(16, 5, name="c3"),
            keras.layers.AveragePooling2D(2, name="s4"),
            head,
            keras.layers.Dense(120, name="c5"),
            keras.layers.Dense(84, name="f6"),
            keras.layers.Dense(10, name="output"),
        ]
    )


@exercise("02.2", "Where is the big amount?")
def _where_is_the_big_amount(biggest_layer_2, params_gap_2, classifier_inputs_2):
    import keras

    lenet = _lenet(keras.layers.Flatten(name="flatten"))
    counts = {layer.name: layer.count_params() for layer in lenet.layers}
    biggest = max(counts, key=counts.get)
    expect_true(
        isinstance(biggest_layer_2, str),
        f"biggest_layer_2: expected a layer name such as 'c3', received {type(biggest_layer_2).__name__}.",
    )
    name = biggest_layer_2.strip().lower()
    if name != biggest:
        got = counts.get(name)
        detail = f"{name!r} has {got:,} parameters" if got is not None else f"there is no layer {name!r}"
        raise Wrong(
            f"biggest_layer_2: expected {biggest!r} ({counts[biggest]:,} parameters), received "
            f"{biggest_layer_2!r}: {detail}. Hint: the first dense layer after the flatten sees "
            f"5 x 5 x 16 = 400 inputs."
        )
    gap = _lenet(keras.layers.GlobalAveragePooling2D(name="gap"))
    flat_inputs = lenet.get_layer("c5").input.shape[-1]
    gap_inputs = gap.get_layer("c5").input.shape[-1]
    if params_gap_2 == lenet.count_params():
        raise Wrong(
            f"params_gap_2: received {params_gap_2:,}, LeNet-5's count with the flatten. Replace the flatten "
            f"by a global average pooling and count again."
        )
    expect_equal(
        "parameters with global average pooling",
        params_gap_2,
        gap.count_params(),
        hint=f"c5 now has {gap_inputs} x 120 weights plus 120 biases instead of {flat_inputs} x 120 + 120.",
    )
    expect_equal(
        "values reaching the first dense layer",
        classifier_inputs_2,
        gap_inputs,
        hint="global pooling keeps one number per channel of s4.",
    )
    return (
        f"correct: c5 held {counts['c5']:,} of {lenet.count_params():,}; with global pooling "
        f"{gap.count_params():,} are left, and the classifier no longer knows where in the 5x5 map a feature was."
    )


@exercise("02.3", "Overlapping pooling")
def _overlapping_pooling(size_3, max_windows_3, grad_total_3):
    import keras

    from lib import autodiff

    pool = keras.layers.MaxPooling2D(3, strides=2)
    size = pool.compute_output_shape((None, 55, 55, 1))[1]
    expect_equal("output size", size_3, size, hint="O = floor((55 - 3) / 2) + 1.")
    # how many windows cover each input: the gradient of the sum of average pools, times the window size
    ones = np.ones((1, 55, 55, 1), "float32")
    _, cover = autodiff.value_and_input_grad(
        lambda v: keras.ops.sum(keras.layers.AveragePooling2D(3, strides=2)(v)) * 9.0, ones
    )
    most = int(round(float(np.max(keras.ops.convert_to_numpy(cover)))))
    if max_windows_3 == 2:
        raise Wrong(
            "max_windows_3: received 2, the count along one axis. Windows overlap along rows and columns: "
            f"expected {most}."
        )
    expect_equal(
        "most windows one input position lies in",
        max_windows_3,
        most,
        hint="windows start every 2 pixels and are 3 wide, so a pixel lies in at most 2 per axis.",
    )
    x = np.random.default_rng(3).standard_normal((1, 55, 55, 1)).astype("float32")
    _, grad = autodiff.value_and_input_grad(lambda v: keras.ops.sum(pool(v)), x)
    total = float(np.sum(keras.ops.convert_to_numpy(grad)))
    expect_true(is_number(grad_total_3), f"grad_total_3: expected a number, received {grad_total_3!r}.")
    expect_close(
        "sum of the gradient",
        grad_total_3,
        total,
        rtol=1e-6,
        hint="each of the size x size windows sends its upstream 1 to its argmax, even if one position "
        "wins several windows.",
    )


_WHY_4 = {
    "a": "",
    "b": "zeros add nothing to a sum of squares; padding with zeros would be harmless for a sum.",
    "c": "overlap is no problem: each window is pooled on its own, and 'valid' pooling at stride 2 overlaps too.",
    "d": "Keras does not replicate edge values: it leaves the padded positions out of the average.",
}


@exercise("02.4", "L2 pooling with 'same' padding")
def _l2_pooling_same(x_4, l2_same_4, why_4):
    import keras

    expect_true(
        isinstance(why_4, str) and why_4.strip().lower().strip("()") in _WHY_4,
        f"why_4: expected one of the letters 'a', 'b', 'c', 'd', received {why_4!r}.",
    )
    letter = why_4.strip().lower().strip("()")
    if letter != "a":
        raise Wrong(f"why_4: not ({letter}): {_WHY_4[letter]}")
    x = np.asarray(x_4, "float32")
    channels = x.shape[-1]
    # reference: a window sum of squares by convolving each channel with ones (zeros padded add nothing)
    squares = x.astype("float64") ** 2
    padded = np.pad(squares, ((0, 0), (1, 1), (1, 1), (0, 0)))  # 'same' for 3x3 at stride 2 on 7: 1 each side
    out = keras.layers.MaxPooling2D(3, 2, "same").compute_output_shape(x.shape)[1:3]
    expected = np.zeros((x.shape[0], *out, channels))
    for i in range(out[0]):
        for j in range(out[1]):
            expected[:, i, j] = np.sqrt(padded[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].sum(axis=(1, 2)))
    try:
        got = np.asarray(keras.ops.convert_to_numpy(l2_same_4), dtype="float64")
    except Exception:
        raise Wrong(f"l2_same_4: expected an array, received {type(l2_same_4).__name__}.") from None
    expect_true(
        got.shape == expected.shape,
        f"l2_same_4: expected the pooled x_4 of shape {expected.shape}, received shape {got.shape}. "
        f"Hint: 3x3 windows at stride 2 with 'same' padding on 7x7 give 4x4.",
    )
    naive = np.sqrt(9 * keras.ops.convert_to_numpy(keras.layers.AveragePooling2D(3, 2, "same")(x**2)))
    if np.allclose(got, naive, rtol=1e-4, atol=1e-5):
        raise Wrong(
            "l2_same_4: this is the naive sqrt(9 * AveragePooling2D(x**2)), too large at the borders. Hint: "
            "sum each window instead, e.g. a depthwise convolution of x**2 with a kernel of ones."
        )
    expect_close(
        "L2 pooling of x_4 ('same', 3x3, stride 2)",
        got,
        expected,
        rtol=1e-4,
        atol=1e-5,
        hint="the square root of the sum of x**2 over each window; the padded zeros add nothing.",
    )


@exercise("02.5", "Average pooling's gradient")
def _average_pooling_gradient(pool_backward_5):
    import keras

    from lib import autodiff

    expect_true(
        callable(pool_backward_5),
        f"pool_backward_5: expected a function (x, grad_output, size, stride) -> gradient, "
        f"received {type(pool_backward_5).__name__}.",
    )
    rng = np.random.default_rng(5)
    cases = [
        (3, 1, "overlapping 3x3 windows at stride 1"),
        (2, 2, "non-overlapping 2x2 windows"),
        (3, 2, "overlapping 3x3 windows at stride 2"),
    ]
    for size, stride, what in cases:
        x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
        out = (7 - size) // stride + 1
        upstream = rng.standard_normal((2, out, out, 3)).astype("float32")
        up = keras.ops.convert_to_tensor(upstream)

        def loss(v, size=size, stride=stride, up=up):
            return keras.ops.sum(keras.layers.AveragePooling2D(size, stride)(v) * up)

        _, grad = autodiff.value_and_input_grad(loss, x)
        want = keras.ops.convert_to_numpy(grad)
        got = np.asarray(pool_backward_5(x.copy(), upstream.copy(), size, stride), dtype="float64")
        expect_true(
            got.shape == want.shape,
            f"{what}: expected a gradient of the input's shape {want.shape}, received shape {got.shape}.",
        )
        if np.allclose(got, want * size * size, rtol=1e-4, atol=1e-5):
            raise Wrong(
                f"{what}: your gradient is {size * size} times too large. Hint: each output is the mean of "
                f"its window, so each input gets grad_output / size**2."
            )
        expect_close(
            f"gradient for {what}",
            got,
            want,
            rtol=1e-4,
            atol=1e-5,
            hint="add (+=) each window's share; where windows overlap the input collects from all of them.",
        )
