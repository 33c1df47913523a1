"""Notebook 06's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import keras
import numpy as np

from lib import augment
from lib.exercises import evaluate
from lib.exercises.nb06 import MIXUP_ALPHAS


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_01_test_time_augmentation():
    def right(model, images):
        return (_np(model(images)) + _np(model(images[:, :, ::-1]))) / 2

    assert status("06.1", tta_predict_1=right)[0] == "correct"
    st, msg = status("06.1", tta_predict_1=lambda m, x: _np(m(x)) + _np(m(x[:, :, ::-1])))
    assert st == "wrong" and "sum" in msg
    st, msg = status("06.1", tta_predict_1=lambda m, x: (_np(m(x)) + _np(m(x[:, ::-1]))) / 2)
    assert st == "wrong" and "vertical" in msg
    st, msg = status("06.1", tta_predict_1=lambda m, x: _np(m(x))[:, :2])
    assert st == "wrong" and "shape" in msg
    assert status("06.1", tta_predict_1=None)[0] == "unanswered"
    assert status("06.1", tta_predict_1=3)[0] == "wrong"


def test_02_mixing_by_alpha():
    estimate = {}
    for alpha in MIXUP_ALPHAS:
        lam = augment.mixup(np.zeros((20000, 1, 1, 1)), np.ones((20000, 1)), alpha=alpha, rng=1).lam
        estimate[alpha] = float(np.minimum(lam, 1 - lam).mean())
    assert status("06.2", minor_weight_2=estimate, almost_none_alpha_2=0.1)[0] == "correct"
    st, msg = status("06.2", minor_weight_2={a: 0.5 for a in MIXUP_ALPHAS}, almost_none_alpha_2=0.1)
    assert st == "wrong" and "symmetry" in msg
    st, msg = status("06.2", minor_weight_2={a: 1 - v for a, v in estimate.items()}, almost_none_alpha_2=0.1)
    assert st == "wrong" and "major" in msg
    st, msg = status("06.2", minor_weight_2=estimate, almost_none_alpha_2=4.0)
    assert st == "wrong" and "expected 0.1" in msg
    st, msg = status("06.2", minor_weight_2={0.1: 0.06}, almost_none_alpha_2=0.1)
    assert st == "wrong" and "missing" in msg
    assert status("06.2", minor_weight_2=None, almost_none_alpha_2=0.1)[0] == "unanswered"
    assert status("06.2", minor_weight_2=[0.1], almost_none_alpha_2=0.1)[0] == "wrong"


def _labels_with(weight_of):
    def fn(labels, transformation):
        w = weight_of(transformation)
        perm = _np(transformation["permutation_order"])
        return w * labels + (1 - w) * labels[perm]

    return fn


def test_03_exact_cutmix_labels():
    right = _labels_with(lambda t: 1 - _np(t["batch_masks"]).mean(axis=(1, 2, 3))[:, None])
    assert status("06.3", exact_cutmix_labels_3=right)[0] == "correct"
    st, msg = status("06.3", exact_cutmix_labels_3=_labels_with(lambda t: _np(t["mix_weight"]).reshape(-1, 1)))
    assert st == "wrong" and "mix_weight" in msg
    st, msg = status(
        "06.3", exact_cutmix_labels_3=_labels_with(lambda t: _np(t["batch_masks"]).mean(axis=(1, 2, 3))[:, None])
    )
    assert st == "wrong" and "1 - mask.mean" in msg
    assert status("06.3", exact_cutmix_labels_3=None)[0] == "unanswered"
    assert status("06.3", exact_cutmix_labels_3="labels")[0] == "wrong"
    assert status("06.3", exact_cutmix_labels_3=lambda labels, t: 1)[0] in ("wrong", "error")


def test_04_per_image_crops():
    assert status("06.4", distinct_batch_first_4=1, distinct_per_image_4=7, possible_offsets_4=9)[0] == "correct"
    st, msg = status("06.4", distinct_batch_first_4=1, distinct_per_image_4=7, possible_offsets_4=8)
    assert st == "wrong" and "both ends" in msg
    st, msg = status("06.4", distinct_batch_first_4=6, distinct_per_image_4=7, possible_offsets_4=9)
    assert st == "wrong" and "same location" in msg
    st, msg = status("06.4", distinct_batch_first_4=1, distinct_per_image_4=1, possible_offsets_4=9)
    assert st == "wrong" and "between 2 and 9" in msg
    assert status("06.4", distinct_batch_first_4=None, distinct_per_image_4=1, possible_offsets_4=9)[0] == "unanswered"
    assert status("06.4", distinct_batch_first_4=1.5, distinct_per_image_4=7, possible_offsets_4=9)[0] == "wrong"


def test_05_mixup_loss():
    ce = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)

    def right(logits, a, b, lam):
        lam = np.reshape(lam, -1)
        return lam * keras.ops.convert_to_numpy(ce(a, logits)) + (1 - lam) * keras.ops.convert_to_numpy(ce(b, logits))

    def swapped(logits, a, b, lam):
        return right(logits, b, a, lam)

    def mixed_logits(logits, a, b, lam):
        return keras.ops.convert_to_numpy(ce(a, lam * logits)) * 0 + 1.0

    assert status("06.5", mixup_loss_5=right)[0] == "correct"
    st, msg = status("06.5", mixup_loss_5=swapped)
    assert st == "wrong" and "swapped" in msg
    assert status("06.5", mixup_loss_5=mixed_logits)[0] == "wrong"
    assert status("06.5", mixup_loss_5=None)[0] == "unanswered"
    assert status("06.5", mixup_loss_5=5)[0] == "wrong"
