"""The checks of notebook 12's exercises: right answers pass, typical mistakes get a helpful message."""

import numpy as np
import pytest

from lib import exercises

RIGHT = {
    "12.1": {"params_1": 2 * 9 * 128 * 128 + 2 * 4 * 128, "trainable_1": 2 * 9 * 128 * 128 + 2 * 2 * 128},
    "12.2": {"weight_2": 0.01 * 0.99**10},
    "12.3": {"lr_3": 0.2},
    "12.4": {"target_4": np.where(np.arange(10) == 3, 0.82, 0.02)},
}


@pytest.mark.parametrize("key", sorted(RIGHT))
def test_right_answers_pass(key):
    result = exercises.evaluate(key, **RIGHT[key])
    assert result.passed, result.message


@pytest.mark.parametrize("key", sorted(RIGHT))
def test_unanswered_and_wrong_types(key):
    assert exercises.evaluate(key, **{k: None for k in RIGHT[key]}).status == "unanswered"
    status = exercises.evaluate(key, **{k: "many" for k in RIGHT[key]}).status
    assert status in ("wrong", "error")


def test_typical_mistakes_get_hints():
    trainable = RIGHT["12.1"]["trainable_1"]
    r = exercises.evaluate("12.1", params_1=trainable, trainable_1=trainable)
    assert r.status == "wrong" and "moving mean" in r.message
    r = exercises.evaluate("12.2", weight_2=0.99**10)
    assert r.status == "wrong" and "(1 - d) d^k" in r.message
    r = exercises.evaluate("12.3", lr_3=0.3)
    assert r.status == "wrong" and "expected 0.2" in r.message
    wrong = np.where(np.arange(10) == 3, 0.8, 0.2 / 9)
    r = exercises.evaluate("12.4", target_4=wrong)
    assert r.status == "wrong" and "eps / K" in r.message
    r = exercises.evaluate("12.4", target_4=[1, 0])
    assert r.status == "wrong" and "shape" in r.message
