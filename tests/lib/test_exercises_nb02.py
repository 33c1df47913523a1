"""Notebook 02's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import numpy as np

from lib import anatomy, models, ops
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


RIGHT_1 = dict(
    shapes_1=[(128, 128, 32), (64, 64, 32), (62, 62, 64), (30, 30, 64), (28, 28, 128), (128,)],
    params_1=anatomy.totals(
        anatomy.walk(
            (128, 128, 3),
            [
                anatomy.Conv(32, 3, padding="same"),
                anatomy.Pool(2),
                anatomy.Conv(64, 3),
                anatomy.Pool(3, 2),
                anatomy.Conv(128, 3),
                anatomy.GlobalPool(),
            ],
        )
    )["params"],
)


def test_01_right_wrong_and_unanswered():
    assert status("02.1", **RIGHT_1)[0] == "correct"
    wrong_pool = dict(RIGHT_1, shapes_1=RIGHT_1["shapes_1"][:3] + [(31, 31, 64)] + RIGHT_1["shapes_1"][4:])
    st, msg = status("02.1", **wrong_pool)
    assert st == "wrong" and "layer 4" in msg and "(30, 30, 64)" in msg and "floor" in msg
    st, msg = status("02.1", **dict(RIGHT_1, params_1=RIGHT_1["params_1"] + 1))
    assert st == "wrong" and "parameters" in msg
    assert status("02.1", shapes_1=None, params_1=3)[0] == "unanswered"
    assert status("02.1", shapes_1="shapes", params_1=3)[0] in ("wrong", "error")


def test_02_biggest_layer_and_gap():
    rows = anatomy.walk(
        (32, 32, 1), [anatomy.GlobalPool() if s.kind == "flatten" else s for s in models.lenet5_layers()]
    )
    right = dict(biggest_layer_2="c5", params_gap_2=anatomy.totals(rows)["params"], classifier_inputs_2=16)
    assert status("02.2", **right)[0] == "correct"
    assert status("02.2", **dict(right, biggest_layer_2="C5"))[0] == "correct"
    st, msg = status("02.2", **dict(right, biggest_layer_2="c3"))
    assert st == "wrong" and "'c5'" in msg and "400" in msg
    st, msg = status("02.2", **dict(right, params_gap_2=61706))
    assert st == "wrong" and "with the flatten" in msg
    st, msg = status("02.2", **dict(right, classifier_inputs_2=400))
    assert st == "wrong" and "one number per channel" in msg
    assert status("02.2", **dict(right, biggest_layer_2=None))[0] == "unanswered"
    assert status("02.2", **dict(right, biggest_layer_2=5))[0] == "wrong"


def test_03_overlapping_pooling():
    right = dict(size_3=27, max_windows_3=4, grad_total_3=729.0)
    assert status("02.3", **right)[0] == "correct"
    st, msg = status("02.3", **dict(right, max_windows_3=2))
    assert st == "wrong" and "one axis" in msg
    st, msg = status("02.3", **dict(right, size_3=28))
    assert st == "wrong" and "floor" in msg
    st, msg = status("02.3", **dict(right, grad_total_3=55 * 55))
    assert st == "wrong" and "argmax" in msg
    assert status("02.3", **dict(right, grad_total_3="729"))[0] in ("wrong", "error")


def test_04_l2_pooling_same():
    import keras

    x = np.random.default_rng(1).standard_normal((2, 7, 7, 3)).astype("float32")
    right = np.sqrt(
        keras.ops.convert_to_numpy(
            keras.ops.depthwise_conv(x**2, np.ones((3, 3, 3, 1), "float32"), strides=2, padding="same")
        )
    )
    np.testing.assert_allclose(right, ops.l2_pool2d(x, 3, 2, "same"), rtol=1e-5)
    assert status("02.4", x_4=x, l2_same_4=right, why_4="a")[0] == "correct"
    naive = np.sqrt(9 * keras.ops.convert_to_numpy(keras.layers.AveragePooling2D(3, 2, "same")(x**2)))
    st, msg = status("02.4", x_4=x, l2_same_4=naive, why_4="a")
    assert st == "wrong" and "naive" in msg
    for letter, text in (("b", "zeros add nothing"), ("c", "overlap"), ("d", "does not replicate")):
        st, msg = status("02.4", x_4=x, l2_same_4=right, why_4=letter)
        assert st == "wrong" and text in msg
    st, msg = status("02.4", x_4=x, l2_same_4=right[:, :3], why_4="a")
    assert st == "wrong" and "shape" in msg
    assert status("02.4", x_4=x, l2_same_4=None, why_4="a")[0] == "unanswered"
    assert status("02.4", x_4=x, l2_same_4=right, why_4=1)[0] == "wrong"


def _avg_backward(x, grad_output, size, stride, scale=1.0, overwrite=False):
    grad = np.zeros_like(x)
    for i in range(grad_output.shape[1]):
        for j in range(grad_output.shape[2]):
            window = (slice(None), slice(i * stride, i * stride + size), slice(j * stride, j * stride + size))
            share = grad_output[:, i : i + 1, j : j + 1] * scale / size**2
            grad[window] = share if overwrite else grad[window] + share
    return grad


def test_05_average_pool_backward():
    assert status("02.5", pool_backward_5=_avg_backward)[0] == "correct"
    st, msg = status("02.5", pool_backward_5=lambda *a: _avg_backward(*a, scale=9.0))
    assert st == "wrong" and "too large" in msg
    st, msg = status("02.5", pool_backward_5=lambda *a: _avg_backward(*a, overwrite=True))
    assert st == "wrong" and "overlap" in msg
    assert status("02.5", pool_backward_5=None)[0] == "unanswered"
    assert status("02.5", pool_backward_5=np.zeros(3))[0] == "wrong"
    assert status("02.5", pool_backward_5=lambda *a: 1 / 0)[0] == "error"
