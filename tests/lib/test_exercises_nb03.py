"""Notebook 03's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import math

import numpy as np

from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_all_zeros():
    assert status("03.1", kernel_gradient_norms_1=[0.0] * 5, learning_tensors_1=1)[0] == "correct"
    st, msg = status("03.1", kernel_gradient_norms_1=[0.0] * 5, learning_tensors_1=0)
    assert st == "wrong" and "output bias" in msg
    st, msg = status("03.1", kernel_gradient_norms_1=[0.0] * 5, learning_tensors_1=10)
    assert st == "wrong" and "not all" in msg
    st, msg = status("03.1", kernel_gradient_norms_1=[0.0] * 4, learning_tensors_1=1)
    assert st == "wrong" and "5 kernels" in msg
    st, msg = status("03.1", kernel_gradient_norms_1=[0.0] * 4 + [0.3], learning_tensors_1=1)
    assert st == "wrong" and "relu(0) = 0" in msg
    assert status("03.1", kernel_gradient_norms_1=None, learning_tensors_1=1)[0] == "unanswered"
    assert status("03.1", kernel_gradient_norms_1=3, learning_tensors_1=1)[0] == "wrong"


def test_02_kaiming_leaky():
    he = math.sqrt(1 + 0.5**2)
    assert status("03.2", scale_2=1.6, gain_he_2=1.12, gain_matched_2=1.004)[0] == "correct"
    st, msg = status("03.2", scale_2=2.0, gain_he_2=1.12, gain_matched_2=1.0)
    assert st == "wrong" and "He's scale for ReLU" in msg
    st, msg = status("03.2", scale_2=2 / 1.5, gain_he_2=1.12, gain_matched_2=1.0)
    assert st == "wrong" and "squared" in msg
    st, msg = status("03.2", scale_2=1.6, gain_he_2=1.0, gain_matched_2=1 / he)
    assert st == "wrong" and "swapped" in msg
    st, msg = status("03.2", scale_2=1.6, gain_he_2=1.12, gain_matched_2=1.3)
    assert st == "wrong" and "gain_matched_2" in msg
    assert status("03.2", scale_2=None, gain_he_2=1.12, gain_matched_2=1.0)[0] == "unanswered"
    assert status("03.2", scale_2="1.6", gain_he_2=1.12, gain_matched_2=1.0)[0] == "wrong"


def test_03_maxout_relu6():
    right = dict(chord_gap_3=3.0, unit_a_3=([1, 0], [0, 0]), unit_b_3=([1, 0], [-6, 0]))
    assert status("03.3", **right)[0] == "correct"
    assert status("03.3", **dict(right, unit_a_3=([1, 0], [1, 1]), unit_b_3=([1, 0], [-5, 1])))[0] == "correct"
    st, msg = status("03.3", **dict(right, unit_a_3=right["unit_b_3"], unit_b_3=right["unit_a_3"]))
    assert st == "wrong" and "swap" in msg
    st, msg = status("03.3", **dict(right, chord_gap_3=-3.0))
    assert st == "wrong" and "sign" in msg
    st, msg = status("03.3", **dict(right, unit_b_3=([1, 0, 0], [-6, 0, 0])))
    assert st == "wrong" and "two pieces" in msg
    st, msg = status("03.3", **dict(right, unit_b_3=([1, 0], [-5, 0])))
    assert st == "wrong" and "max(x - 6, 0)" in msg
    assert status("03.3", **dict(right, unit_a_3=None))[0] == "unanswered"
    assert status("03.3", **dict(right, unit_a_3="relu"))[0] == "wrong"


def test_04_stepped_sigmoid():
    tail = 10 + np.log(np.expm1(0.05))
    assert status("03.4", z_limit_4=7.068, z_tail_4=tail)[0] == "correct"
    st, msg = status("03.4", z_limit_4=7.068, z_tail_4=10 - np.log(np.expm1(0.05)))
    assert st == "wrong" and "sign" in msg
    st, msg = status("03.4", z_limit_4=10.0, z_tail_4=tail)
    assert st == "wrong" and "fine grid" in msg
    assert status("03.4", z_limit_4=None, z_tail_4=tail)[0] == "unanswered"
    assert status("03.4", z_limit_4=[7.0], z_tail_4=tail)[0] == "wrong"


def test_05_lsuv_cnn():
    import keras

    from lib import init

    def cnn():
        keras.backend.clear_session()
        return keras.Sequential(
            [
                keras.Input((16, 16, 3)),
                keras.layers.Conv2D(8, 3, activation="relu"),
                keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
                keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(10),
            ]
        )

    batch = np.random.default_rng(0).uniform(0, 255, (32, 16, 16, 3)).astype("float32")
    model = cnn()
    init.lsuv_init(model, batch, tol=0.1, seed=0)
    assert status("03.5", batch_5=batch, cnn_5=model)[0] == "correct"
    st, msg = status("03.5", batch_5=batch, cnn_5=cnn())
    assert st == "wrong" and "lsuv_init" in msg
    assert status("03.5", batch_5=batch, cnn_5=None)[0] == "unanswered"
    assert status("03.5", batch_5=batch, cnn_5="model")[0] == "wrong"


def test_06_rrelu():
    right = dict(mean_train_slope_6=np.log(8 / 3) / 5, test_slope_6=2 / 11, equal_6=False)
    assert status("03.6", **right)[0] == "correct"
    st, msg = status("03.6", **dict(right, mean_train_slope_6=2 / 11))
    assert st == "wrong" and "1 / E[a]" in msg
    st, msg = status("03.6", **dict(right, equal_6=True))
    assert st == "wrong" and "Jensen" in msg
    assert status("03.6", **dict(right, equal_6=None))[0] == "unanswered"
    assert status("03.6", **dict(right, equal_6="no"))[0] == "wrong"
