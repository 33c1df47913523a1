"""Notebook 01's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import numpy as np

from lib import ops
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_output_size_and_unshared_parameters():
    right = dict(size_1=55, params_1=55 * 55 * 96 * (11 * 11 * 3 + 1))
    st, msg = status("01.1", **right)
    assert st == "correct" and "3,025 times" in msg
    st, msg = status("01.1", **dict(right, size_1=56))
    assert st == "wrong" and "output size (one side): expected 55, received 56" in msg and "floor" in msg
    st, msg = status("01.1", **dict(right, params_1=11 * 11 * 3 * 96 + 96))  # the shared (convolution) count
    assert st == "wrong" and "share one set of filters" in msg
    st, msg = status("01.1", **dict(right, params_1=55 * 55 * 96 * (227 * 227 * 3 + 1)))
    assert st == "wrong" and "fully connected" in msg
    st, msg = status("01.1", **dict(right, params_1=55 * 55 * 96 * 11 * 11 * 3))
    assert st == "wrong" and "bias" in msg
    assert status("01.1", size_1=None, params_1=3)[0] == "unanswered"
    assert status("01.1", size_1=55, params_1="many")[0] == "wrong"


def _input_gradient(x_shape, w, dy, stride, ignore_stride=False):
    kh, kw = w.shape[:2]
    dx = np.zeros(x_shape)
    step = 1 if ignore_stride else stride
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            dx[:, i * step : i * step + kh, j * step : j * step + kw] += np.tensordot(dy[:, i, j], w, axes=([1], [3]))
    return dx


def test_02_backward_pass_with_a_stride():
    assert status("01.2", input_gradient_2=_input_gradient)[0] == "correct"
    # lib's backward pass is a right answer too
    lib_answer = lambda x_shape, w, dy, s: ops.conv2d_backward(np.zeros(x_shape), w, dy, stride=s)[0]
    assert status("01.2", input_gradient_2=lib_answer)[0] == "correct"
    st, msg = status("01.2", input_gradient_2=lambda *a: _input_gradient(*a, ignore_stride=True))
    assert st == "wrong" and "(i * S, j * S)" in msg
    st, msg = status("01.2", input_gradient_2=lambda xs, w, dy, s: np.zeros(xs[:3]))
    assert st == "wrong" and "shape" in msg
    st, msg = status("01.2", input_gradient_2=lambda xs, w, dy, s: 2 * _input_gradient(xs, w, dy, s))
    assert st == "wrong" and "stride 1" in msg
    assert status("01.2", input_gradient_2=None)[0] == "unanswered"
    assert status("01.2", input_gradient_2=3)[0] == "wrong"
    assert status("01.2", input_gradient_2=lambda *a: 1 / 0)[0] == "error"


def test_03_two_small_or_one_large():
    right = dict(stacked_3=2 * 9 * 256, single_3=25 * 256, receptive_field_3=5)
    assert status("01.3", **right)[0] == "correct"
    st, msg = status("01.3", **dict(right, receptive_field_3=6))
    assert st == "wrong" and "widens the window by 2" in msg


def test_04_stride_by_subsampling():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((1, 9, 9, 2)), rng.standard_normal((3, 3, 2, 4))
    right = dict(
        stride_1_subsampled_4=ops.conv2d_im2col(x, k)[:, ::2, ::2], stride_2_4=ops.conv2d_im2col(x, k, stride=2)
    )
    assert status("01.4", **right)[0] == "correct"
    st, msg = status("01.4", **dict(right, stride_1_subsampled_4=ops.conv2d_im2col(x, k)[:, 1::2, 1::2]))
    assert st == "wrong"


def _cross_entropy(logits, labels, stable=True, base=np.e, mean=True):
    z = np.asarray(logits, dtype="float64")
    m = z.max(axis=1, keepdims=True) if stable else 0.0
    log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    losses = -log_p[np.arange(len(z)), labels] / np.log(base)
    return float(losses.mean()) if mean else losses


def test_05_stable_cross_entropy():
    st, msg = status("01.5", cross_entropy_5=_cross_entropy)
    assert st == "correct" and "largest logit" in msg
    st, msg = status("01.5", cross_entropy_5=lambda z, y: _cross_entropy(z, y, stable=False))
    assert st == "wrong" and "overflows" in msg
    st, msg = status("01.5", cross_entropy_5=lambda z, y: _cross_entropy(z, y, base=2))
    assert st == "wrong" and "bits" in msg
    st, msg = status("01.5", cross_entropy_5=lambda z, y: _cross_entropy(z, y, mean=False))
    assert st == "wrong" and "mean" in msg
    st, msg = status("01.5", cross_entropy_5=lambda z, y: _cross_entropy(z, y) + 0.5)
    assert st == "wrong" and "Hint" in msg
    assert status("01.5", cross_entropy_5=None)[0] == "unanswered"
    assert status("01.5", cross_entropy_5=lambda z, y: "loss")[0] == "wrong"
