"""Notebook 10's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import numpy as np

from lib import attacks
from lib.exercises import evaluate
from lib.exercises.nb10 import LABEL_1, LOGITS_1, PANDA_EPS, PHOTO_INPUTS


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_forget_from_logits():
    z = np.array(LOGITS_1)
    p = np.clip(z, 1e-7, 1 - 1e-7)
    right = dict(
        wrong_loss_1=-np.log(p[LABEL_1] / p.sum()), right_loss_1=np.log(np.exp(z).sum()) - z[LABEL_1], choice_1="b"
    )
    assert status("10.1", **right)[0] == "correct"
    assert status("10.1", **dict(right, choice_1="(B)"))[0] == "correct"
    st, msg = status("10.1", **dict(right, choice_1="a"))
    assert st == "wrong" and "does not detect" in msg
    st, msg = status("10.1", **dict(right, wrong_loss_1=right["right_loss_1"]))
    assert st == "wrong" and "read as probabilities" in msg
    st, msg = status("10.1", **dict(right, choice_1="e"))
    assert st == "wrong" and "one of the letters" in msg
    assert status("10.1", **dict(right, choice_1=None))[0] == "unanswered"
    assert status("10.1", **dict(right, wrong_loss_1="big"))[0] == "wrong"


def test_10_1_answer_is_what_keras_returns_on_tensorflow_and_differs_on_jax():
    import keras

    from lib.exercises import nb10

    logits, label = np.array([nb10.LOGITS_1]), np.array([nb10.LABEL_1])
    keras_loss = float(keras.losses.SparseCategoricalCrossentropy(from_logits=False)(label, logits))
    if keras.backend.backend() == "tensorflow":
        np.testing.assert_allclose(keras_loss, nb10.wrong_loss_tensorflow_order(), rtol=1e-5)
    # dividing first, then clipping (Keras's JAX backend) is another number
    z = np.asarray(nb10.LOGITS_1)
    divided_first = -np.log(np.clip(z / z.sum(), 1e-7, 1 - 1e-7)[nb10.LABEL_1])
    assert abs(divided_first - nb10.wrong_loss_tensorflow_order()) > 0.1
    if keras.backend.backend() == "jax":
        np.testing.assert_allclose(keras_loss, divided_first, rtol=1e-5)


def _flip(model, x, y, grid):
    out = np.full(len(x), np.nan)
    for eps in grid:
        flipped = attacks.predict_classes(model, attacks.fgsm(model, x, y, eps, from_logits=True)) != y
        out[np.isnan(out) & flipped] = eps
    return out


def test_02_smallest_flip_eps():
    assert status("10.2", smallest_flip_eps_2=_flip)[0] == "correct"
    st, msg = status("10.2", smallest_flip_eps_2=lambda *a: np.nan_to_num(_flip(*a)))
    assert st == "wrong" and "np.nan" in msg

    def largest_not_flipping(model, x, y, grid):
        found = _flip(model, x, y, grid)
        index = np.searchsorted(grid, found) - 1
        return np.where(np.isnan(found), np.nan, grid[np.clip(index, 0, None)])

    st, msg = status("10.2", smallest_flip_eps_2=largest_not_flipping)
    assert st == "wrong" and "largest eps that does not" in msg
    assert status("10.2", smallest_flip_eps_2=None)[0] == "unanswered"
    assert status("10.2", smallest_flip_eps_2=0.1)[0] == "wrong"


def test_03_linear_explanation():
    right = dict(
        sign_gain_3=PANDA_EPS * PHOTO_INPUTS * np.sqrt(2 / np.pi), random_gain_3=PANDA_EPS * np.sqrt(PHOTO_INPUTS)
    )
    result = evaluate("10.3", **right)
    assert result.status == "correct" and "times more" in result.message
    st, msg = status("10.3", **dict(right, sign_gain_3=right["random_gain_3"]))
    assert st == "wrong" and "random signs" in msg
    st, msg = status("10.3", **dict(right, sign_gain_3=PANDA_EPS * PHOTO_INPUTS))
    assert st == "wrong" and "sqrt(2 / pi)" in msg
    st, msg = status("10.3", **dict(right, random_gain_3=PANDA_EPS * PHOTO_INPUTS))
    assert st == "wrong" and "random_gain_3" in msg
    assert status("10.3", sign_gain_3=None, random_gain_3=1.0)[0] == "unanswered"
    assert status("10.3", sign_gain_3=[1.0], random_gain_3=1.0)[0] == "wrong"


def test_04_restarts():
    def run(model, x, y, eps, alpha, steps, seeds):
        return np.stack(
            [
                attacks.predict_classes(model, attacks.pgd(model, x, y, eps, alpha, steps, seed=s, from_logits=True))
                == y
                for s in seeds
            ]
        )

    assert status("10.4", robust_over_restarts_4=lambda *a: float(run(*a).all(axis=0).mean()))[0] == "correct"
    st, msg = status("10.4", robust_over_restarts_4=lambda *a: float(run(*a).mean()))
    assert st == "wrong" and "every restart" in msg
    st, msg = status("10.4", robust_over_restarts_4=lambda *a: float(run(*a).any(axis=0).mean()))
    assert st == "wrong" and "any restart" in msg
    assert status("10.4", robust_over_restarts_4=None)[0] == "unanswered"
    assert status("10.4", robust_over_restarts_4=lambda *a: "all")[0] == "wrong"
