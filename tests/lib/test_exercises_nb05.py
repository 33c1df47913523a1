"""Notebook 05's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import numpy as np

from lib import regularizers as reg
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_weight_decay():
    rng = np.random.default_rng(0)
    w, g = rng.normal(size=5), rng.normal(size=5)
    right = dict(w_1=w, g_1=g, w_next_1=w - 0.1 * (g + reg.l2_gradient(w, 0.15)), decay_factor_1=0.97)
    assert status("05.1", **right)[0] == "correct"
    st, msg = status("05.1", **dict(right, w_next_1=w - 0.1 * (g + reg.l2_gradient(w, 0.3))))
    assert st == "wrong" and "lambda ||w||^2" in msg
    st, msg = status("05.1", **dict(right, w_next_1=w - 0.1 * (g + 0.15 * w)))
    assert st == "wrong" and "not lambda w / 2" in msg
    st, msg = status("05.1", **dict(right, decay_factor_1=0.985))
    assert st == "wrong" and "1 - eta lambda" in msg
    assert status("05.1", **dict(right, w_next_1=None))[0] == "unanswered"
    assert status("05.1", **dict(right, w_next_1="w"))[0] == "wrong"


def test_02_test_time_scaling():
    rng = np.random.default_rng(1)
    h, w = rng.uniform(0, 1, size=(3, 128)), rng.normal(size=(128, 10))
    average = np.mean([reg.dropout(h, 0.2, rng=i, inverted=False)[0] @ w for i in range(2000)], axis=0)
    right = dict(h_2=h, w_2=w, test_logits_2=h @ (0.8 * w), inverted_weights_2=0.8 * w, mask_average_2=average)
    assert status("05.2", **right)[0] == "correct"
    st, msg = status("05.2", **dict(right, test_logits_2=h @ w))
    assert st == "wrong" and "multiply the weights by p" in msg
    st, msg = status("05.2", **dict(right, test_logits_2=h @ (0.2 * w)))
    assert st == "wrong" and "keep probability" in msg
    st, msg = status("05.2", **dict(right, inverted_weights_2=w / 0.8))
    assert st == "wrong" and "p * w_2" in msg
    inverted_average = np.mean([reg.dropout(h, 0.2, rng=i)[0] @ w for i in range(2000)], axis=0)
    st, msg = status("05.2", **dict(right, mask_average_2=inverted_average))
    assert st == "wrong" and "inverted=False" in msg
    assert status("05.2", **dict(right, mask_average_2=average[:2]))[0] == "wrong"
    assert status("05.2", **dict(right, mask_average_2=None))[0] == "unanswered"


def test_03_wrong_axis():
    import keras

    kernel = np.random.default_rng(2).normal(scale=0.036, size=(784, 128))
    over = lambda k: int(np.sum(np.linalg.norm(k, axis=0) > 1 + 1e-5))
    axis0 = over(keras.ops.convert_to_numpy(keras.constraints.MaxNorm(1.0, axis=0)(kernel)))
    axis1 = over(keras.ops.convert_to_numpy(keras.constraints.MaxNorm(1.0, axis=1)(kernel)))
    assert axis0 == 0 < axis1 and over(kernel) > 0
    right = dict(kernel_3=kernel, over_before_3=over(kernel), over_axis0_3=axis0, over_axis1_3=axis1)
    assert status("05.3", **right)[0] == "correct"
    st, msg = status("05.3", **dict(right, over_axis0_3=axis1, over_axis1_3=axis0))
    assert st == "wrong" and "swapped" in msg
    st, msg = status("05.3", **dict(right, over_axis1_3=0))
    assert st == "wrong" and "rows" in msg
    assert status("05.3", **dict(right, over_before_3=None))[0] == "unanswered"
    assert status("05.3", **dict(right, over_before_3="many"))[0] == "wrong"


def test_04_early_stopping_as_l2():
    hessian, w_star, eta = np.diag([10.0, 0.5]), np.ones(2), 0.05
    path = [np.zeros(2)]
    for _ in range(80):
        path.append(path[-1] - eta * hessian @ (path[-1] - w_star))
    alphas = np.logspace(-4, 4, 2001)
    ridge = np.array([np.linalg.solve(hessian + a * np.eye(2), hessian @ w_star) for a in alphas])
    closest = [float(alphas[np.argmin(np.linalg.norm(ridge - path[t], axis=1))]) for t in (5, 20, 80)]
    ratio = [a * eta * t for a, t in zip(closest, (5, 20, 80))]
    assert status("05.4", closest_alpha_4=closest, ratio_4=ratio)[0] == "correct"
    st, msg = status("05.4", closest_alpha_4=[1 / (eta * t) for t in (5, 20, 80)], ratio_4=[1, 1, 1])
    assert st == "wrong" and "exactly 1 / (eta t)" in msg
    st, msg = status("05.4", closest_alpha_4=closest, ratio_4=[1 / r for r in ratio])
    assert st == "wrong" and "inverted" in msg
    assert status("05.4", closest_alpha_4=closest, ratio_4=None)[0] == "unanswered"
    assert status("05.4", closest_alpha_4=closest[:2], ratio_4=ratio)[0] == "wrong"


def test_05_spatial_dropout_backward():
    def right(upstream, mask, rate):
        return upstream * mask / (1 - rate)

    assert status("05.5", spatial_dropout_backward_5=right)[0] == "correct"
    st, msg = status("05.5", spatial_dropout_backward_5=lambda u, m, r: u * m)
    assert st == "wrong" and "1 - rate" in msg
    st, msg = status("05.5", spatial_dropout_backward_5=lambda u, m, r: u / (1 - r))
    assert st == "wrong" and "mask" in msg
    assert status("05.5", spatial_dropout_backward_5=None)[0] == "unanswered"
    assert status("05.5", spatial_dropout_backward_5=3)[0] == "wrong"


def test_06_sparsity_gradient():
    def right(h, p):
        q = np.mean(h, axis=0)
        return np.broadcast_to((-p / q + (1 - p) / (1 - q)) / len(h), np.shape(h))

    assert status("05.6", sparsity_gradient_6=right)[0] == "correct"
    st, msg = status("05.6", sparsity_gradient_6=lambda h, p: right(h, p) * len(h))
    assert st == "wrong" and "1/B" in msg
    st, msg = status("05.6", sparsity_gradient_6=lambda h, p: -right(h, p))
    assert st == "wrong" and "sign" in msg
    st, msg = status("05.6", sparsity_gradient_6=lambda h, p: right(h, p)[0] * len(h))
    assert st == "wrong" and "gradient with respect to q_j" in msg
    st, msg = status("05.6", sparsity_gradient_6=lambda h, p: np.broadcast_to(-p / h.mean(0) / len(h), h.shape))
    assert st == "wrong" and "only the first term" in msg
    assert status("05.6", sparsity_gradient_6=lambda h, p: right(h, p) + 0.01)[0] == "wrong"
    assert status("05.6", sparsity_gradient_6=None)[0] == "unanswered"
