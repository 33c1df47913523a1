"""Tests for lib/exercises/nb09.py: right answers pass, typical wrong ones get a helpful message."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import lib.exercises as ex
from lib import models, transfer
from lib.exercises import nb09


def status(key, **answers):
    return ex.evaluate(key, **answers)


@pytest.fixture(scope="module")
def mobilenet_counts():
    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))
    return base.count_params(), base.output_shape[-1]


def test_09_1(mobilenet_counts):
    frozen, features = mobilenet_counts
    head = features * 5 + 5
    assert status("09.1", trainable_1=head, frozen_1=frozen).passed
    assert "swapped" in status("09.1", trainable_1=frozen, frozen_1=head).message
    assert "without its 5 biases" in status("09.1", trainable_1=features * 5, frozen_1=frozen).message
    assert "frozen parameters" in status("09.1", trainable_1=head, frozen_1=frozen + 1).message
    assert status("09.1", trainable_1=None, frozen_1=None).status == "unanswered"
    assert status("09.1", trainable_1="many", frozen_1=1).status in ("wrong", "error")


def test_09_1_moving_statistics_hint(mobilenet_counts):
    frozen, features = mobilenet_counts
    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))
    moving = sum(int(np.prod(w.shape)) for w in base.non_trainable_weights)
    result = status("09.1", trainable_1=features * 5 + 5, frozen_1=frozen - moving)
    assert result.status == "wrong" and "moving" in result.message


def test_09_2():
    base = models.small_cnn()
    model = transfer.build_transfer_model(base, 5, dropout=0.0)
    transfer.unfreeze_top(base, 8)
    right = transfer.param_counts(model)["trainable"]
    assert status("09.2", n_layers_2=8, trainable_2=right).passed
    assert "n_layers" in status("09.2", n_layers_2=4, trainable_2=right).message
    assert "BatchNorm" in status("09.2", n_layers_2=8, trainable_2=right + 2 * (64 + 128)).message
    assert "head" in status("09.2", n_layers_2=8, trainable_2=right - (128 * 5 + 5)).message
    assert status("09.2", n_layers_2=None, trainable_2=None).status == "unanswered"
    assert status("09.2", n_layers_2="eight", trainable_2=right).status in ("wrong", "error")


def test_09_3():
    mobilenet = np.array([1.0, -1.0, -1.0])
    resnet = np.array([-103.939, -116.779, 255 - 123.68])
    assert status("09.3", red_mobilenet_3=mobilenet, red_resnet_3=resnet).passed
    assert "BGR" in status("09.3", red_mobilenet_3=mobilenet, red_resnet_3=resnet[::-1]).message
    assert "-1, 1" in status("09.3", red_mobilenet_3=[255, 0, 0], red_resnet_3=resnet).message
    assert status("09.3", red_mobilenet_3=None, red_resnet_3=None).status == "unanswered"
    assert status("09.3", red_mobilenet_3="red", red_resnet_3=resnet).status in ("wrong", "error")
    assert "three numbers" in status("09.3", red_mobilenet_3=[1, 2], red_resnet_3=resnet).message


def test_09_4():
    x, bn = nb09.frozen_batchnorm_problem(0)
    gamma, beta, mean, var = (keras.ops.convert_to_numpy(w) for w in bn.weights)
    right = gamma * (x - mean) / np.sqrt(var + bn.epsilon) + beta
    assert status("09.4", y_4=right).passed
    batch = gamma * (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + bn.epsilon) + beta
    assert "moving mean and variance" in status("09.4", y_4=batch).message
    assert "shape" in status("09.4", y_4=right[0]).message
    assert status("09.4", y_4=None).status == "unanswered"
    assert status("09.4", y_4="output").status in ("wrong", "error")


def test_09_5():
    bn, batches = nb09.moving_average_problem(0)
    start = keras.ops.convert_to_numpy(bn.moving_mean).copy()
    mean, swapped = start.copy(), start.copy()
    for b in batches:
        mean = 0.99 * mean + 0.01 * b.mean(axis=0)
        swapped = 0.01 * swapped + 0.99 * b.mean(axis=0)
    share = 0.99 ** len(batches)
    assert status("09.5", mean_5=mean, share_5=share).passed
    plain = np.mean([b.mean(axis=0) for b in batches], axis=0)
    assert "plain mean" in status("09.5", mean_5=plain, share_5=share).message
    assert "swapped" in status("09.5", mean_5=swapped, share_5=share).message
    assert "moving mean" in status("09.5", mean_5=start, share_5=share).message
    assert "target batches' share" in status("09.5", mean_5=mean, share_5=1 - share).message
    assert "share" in status("09.5", mean_5=mean, share_5=0.01).message
    assert "6 numbers" in status("09.5", mean_5=mean[:3], share_5=share).message
    assert status("09.5", mean_5=None, share_5=None).status == "unanswered"
    assert status("09.5", mean_5="mean", share_5=share).status in ("wrong", "error")
