"""Tests for lib.speedrun: schedule, label smoothing, optimizer, TTA, training, ablation, errors.

The net and its on-device augmentation (lib.models.resnet9) are tested in test_models.py."""

import keras
import numpy as np
import pytest

from lib import speedrun as sr


@pytest.mark.parametrize("step,expected", [(0, 0.0), (5, 0.5), (10, 1.0), (55, 0.5), (100, 0.0), (150, 0.0)])
def test_schedule_values(step, expected):
    schedule = sr.WarmupLinearDecay(1.0, total_steps=100, warmup_steps=10)
    assert float(schedule(step)) == pytest.approx(expected, abs=1e-6)


def test_schedule_decay_matches_keras_polynomial_decay_and_numpy_interp():
    ours = sr.WarmupLinearDecay(0.4, total_steps=50, warmup_steps=10, final_fraction=0.1)
    keras_decay = keras.optimizers.schedules.PolynomialDecay(0.4, 40, end_learning_rate=0.04, power=1.0)
    for step in range(0, 60, 3):
        want = np.interp(step, [0, 10, 50], [0, 0.4, 0.04])
        assert float(ours(step)) == pytest.approx(want, abs=1e-6)
        if step >= 10:
            assert float(ours(step)) == pytest.approx(float(keras_decay(step - 10)), abs=1e-6)
    assert sr.WarmupLinearDecay.from_config(ours.get_config()).get_config() == ours.get_config()


def test_smooth_labels_matches_keras_loss():
    targets = sr.smooth_labels([2, 0], 4, 0.2)
    np.testing.assert_allclose(targets[0], [0.05, 0.05, 0.85, 0.05])
    logits = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    smoothed = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(np.eye(4)[[2, 0]], logits)
    plain = keras.losses.CategoricalCrossentropy(from_logits=True)(targets, logits)
    assert float(smoothed) == pytest.approx(float(plain), rel=1e-5)


class EdgeModel(keras.Model):
    """Logits that depend on the horizontal position of the brightest pixel: flips change them."""

    def call(self, x):
        left, right = keras.ops.sum(x[:, :, :1], axis=(1, 2, 3)), keras.ops.sum(x[:, :, -1:], axis=(1, 2, 3))
        return keras.ops.stack([left, right], axis=-1)


def test_tta_averages_the_probabilities_of_image_and_mirror_image():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 8, 8, 3)).astype("float32")
    model = EdgeModel(name="edge_model")
    p = sr.tta_predict(model, x, batch_size=2)
    plain = sr.tta_predict(model, x, batch_size=2, flip=False)
    mirrored = sr.tta_predict(model, x[:, :, ::-1], batch_size=2, flip=False)
    assert p.shape == (4, 2)
    np.testing.assert_allclose(p, (plain + mirrored) / 2, rtol=1e-5)
    np.testing.assert_allclose(p.sum(-1), 1, rtol=1e-5)


def test_optimizer_nesterov_decoupled_weight_decay_and_ema():
    opt = sr.make_optimizer(sr.Recipe(weight_decay=0.01), total_steps=100)
    assert opt.nesterov and opt.use_ema and opt.weight_decay == pytest.approx(0.01)
    assert isinstance(
        opt.learning_rate if not callable(opt._learning_rate) else opt._learning_rate, sr.WarmupLinearDecay
    )
    plain = sr.make_optimizer(sr.Recipe().without("nesterov", "weight_decay", "ema", "schedule"), total_steps=10)
    assert not plain.nesterov and not plain.use_ema and plain.weight_decay is None
    assert float(plain.learning_rate) == pytest.approx(0.2)


def _tiny_data(n=64, size=8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.3, (n, size, size, 3)).astype("float32")
    x[y == 1, :, :, 0] += 1.0  # class 1 is redder
    return x, y


def test_train_lowers_the_loss_and_reports_every_number():
    x, y = _tiny_data()
    recipe = sr.Recipe(width=2, epochs=3, batch_size=16, learning_rate=0.1, ema_momentum=0.5).without(
        "mixed_precision", "jit"
    )
    out = sr.train(recipe, x, y, x[:16], y[:16], num_classes=2, seed=0)
    assert out["loss_last"] < out["loss_first"]
    assert out["steps"] == 12
    for key in ("accuracy", "accuracy_plain", "accuracy_plain_tta", "accuracy_ema", "accuracy_ema_tta"):
        assert 0 <= out[key] <= 1
    assert out["ema_weight_change"] > 0  # EMA weights differ from the raw ones
    assert out["train_seconds"] > 0


def test_ablate_rows_and_eval_only_tricks():
    x, y = _tiny_data()
    recipe = sr.Recipe(width=2, epochs=1, batch_size=32, learning_rate=0.1).without("mixed_precision", "jit")
    rows = sr.ablate(recipe, (x, y, x[:16], y[:16]), tricks=("tta", "ema"), num_classes=2)
    assert [r["variant"] for r in rows] == ["all tricks", "- ema", "- tta"] == sr.variant_names(["tta", "ema"])
    assert [r["trained"] for r in rows] == [True, False, False]  # EMA and TTA are scored on the same model
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="epochs"):
        sr.Recipe(epochs=0)
    with pytest.raises(ValueError, match="width"):
        sr.Recipe(width=-4)
    with pytest.raises(ValueError, match=r"unknown: \['cutmix'\]"):
        sr.Recipe().without("cutmix")
    x, y = _tiny_data()
    with pytest.raises(ValueError, match="unknown"):
        sr.ablate(sr.Recipe(width=2, epochs=1, batch_size=32), (x, y, x, y), tricks=("dropout",))
    with pytest.raises(ValueError, match="not in the recipe"):
        sr.ablate(sr.Recipe(width=2, epochs=1, batch_size=32).without("ema"), (x, y, x, y), tricks=("ema",))
    with pytest.raises(ValueError, match=r"Received: x_train of shape \(64, 8, 8\)"):
        sr.train(sr.Recipe(width=2, epochs=1, batch_size=32), x[..., 0], y, x, y)
    with pytest.raises(ValueError, match="warmup_steps"):
        sr.WarmupLinearDecay(0.1, total_steps=10, warmup_steps=10)
    with pytest.raises(ValueError, match="max_shift"):
        sr.Recipe(max_shift=-1)
    with pytest.raises(ValueError, match=r"Expected num_classes to be an integer >= 2. Received: num_classes=1"):
        sr.train(sr.Recipe(width=2, epochs=1, batch_size=32), x, y, x, y, num_classes=1)
    with pytest.raises(ValueError, match="smoothing"):
        sr.smooth_labels([0], 2, 1.5)


def test_bench_and_device_name_run_on_the_active_backend(capsys):
    assert sr.device_name()
    rows = sr.bench(batch=8, steps=2, width=2, policies=("float32",), jit=(False,))
    assert rows[0]["images_per_second"] > 0 and rows[0]["policy"] == "float32"
    with pytest.raises(ValueError, match="batch"):
        sr.bench(batch=0)
    with pytest.raises(SystemExit):
        sr.main(["bench", "--batch", "many"])
