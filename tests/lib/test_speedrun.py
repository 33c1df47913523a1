"""Tests for lib.speedrun: schedule, label smoothing, optimizer, TTA, training, ablation, errors.

The net and its on-device augmentation (lib.models.resnet9) are tested in test_models.py."""

import dataclasses

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


def test_whitening_filters_decorrelate_patches_and_raw_patch_filters_are_the_identity():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((40, 14, 14, 1))
    x = (noise[:, :-1, :-1] + noise[:, 1:, 1:] + noise[:, 1:, :-1]).astype("float32")  # correlated neighbours
    kernel = sr.whitening_filters(x, 3, eps=1e-6)
    assert kernel.shape == (3, 3, 1, 9)
    out = keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, padding="valid")).reshape(-1, 9)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.eye(9), atol=0.1)
    raw = sr.raw_patch_filters(3, 1)
    out = keras.ops.convert_to_numpy(keras.ops.conv(x, raw, padding="valid"))
    np.testing.assert_allclose(out[..., 4], x[:, 1:-1, 1:-1, 0], rtol=1e-6)  # filter 4 copies the centre pixel
    with pytest.raises(ValueError, match="patch_size"):
        sr.whitening_filters(x, 20)


def _tiny_data(n=64, size=8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.3, (n, size, size, 1)).astype("float32")
    x[y == 1, :, : size // 2, 0] += 1.0  # class 1 is brighter on the left
    return x, y


def test_run_reuses_one_model_across_seeds_and_ablate_reports_every_row():
    x, y = _tiny_data()
    recipe = sr.Recipe(width=2, epochs=2, batch_size=16, learning_rate=0.05)
    results, model = sr.run(recipe, (x, y, x[:16], y[:16]), seeds=[0, 1], num_classes=2)
    assert [r["seed"] for r in results] == [0, 1]
    for r in results:
        assert r["epoch"] == [1, 2] and r["cpu_seconds"][1] >= r["cpu_seconds"][0] >= 0
        assert 0 <= r["accuracy_plain"] <= 1 and r["final"] == r["accuracy"][-1] == r["accuracy_tta"]
        assert np.all(np.isfinite(r["loss"])) and np.all(np.isfinite(r["eval_loss"]))
    assert sr.time_to(results[0], 0.0) == results[0]["cpu_seconds"][0] and sr.time_to(results[0], 1.01) == np.inf
    rows, runs = sr.ablate(recipe, (x, y, x[:16], y[:16]), ["whitening", "tta"], [0], 2, full=(results[:1], model))
    assert [r["variant"] for r in rows] == ["full recipe", "- tta", "- whitening"]
    assert set(runs) == {"full recipe", "- whitening"}
    assert float(keras.ops.convert_to_numpy(model.get_layer("augment").active)) == 1.0  # the full recipe last


def test_switch_sets_augmentation_and_first_layer_without_recompiling():
    x, y = _tiny_data()
    recipe = sr.Recipe(width=2, epochs=1, batch_size=16)
    model = sr.build(recipe, x.shape[1:], 4, num_classes=2)
    whitening = sr.whitening_filters(x, 3)
    sr.switch(model, recipe.without("augment", "whitening"), whitening)
    assert float(keras.ops.convert_to_numpy(model.get_layer("augment").active)) == 0.0
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.get_layer("whiten").kernel), sr.raw_patch_filters())
    sr.switch(model, recipe, whitening)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("whiten").kernel), whitening)


def test_baseline_is_keras_io_convnet_and_fit_curve_times_each_epoch():
    keras.utils.set_random_seed(0)
    model = sr.baseline_model((28, 28, 1), 10)
    assert model.count_params() == 34826  # keras-io's printed summary
    x = np.random.default_rng(0).uniform(size=(32, 28, 28, 1)).astype("float32")
    y = np.arange(32) % 10
    curve = sr.fit_curve(model, x, np.eye(10, dtype="float32")[y], x, y, epochs=2, batch_size=16)
    assert len(curve["accuracy"]) == 2 and curve["wall_seconds"][1] > curve["wall_seconds"][0]
    # stop_at: training ends after the first epoch that reaches it (0.0 is reached at once)
    short = sr.fit_curve(model, x, np.eye(10, dtype="float32")[y], x, y, epochs=3, batch_size=16, stop_at=0.0)
    assert short["epoch"] == [1]
    with pytest.raises(ValueError, match="every_epoch"):
        sr.fit_curve(model, x, np.eye(10, dtype="float32")[y], x, y, 2, 16, every_epoch=False, stop_at=0.5)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="epochs"):
        sr.Recipe(epochs=0)
    with pytest.raises(ValueError, match="width"):
        sr.Recipe(width=-4)
    with pytest.raises(ValueError, match=r"unknown: \['cutmix'\]"):
        sr.Recipe().without("cutmix")
    with pytest.raises(ValueError, match="jit"):
        sr.Recipe(jit="sometimes")
    x, y = _tiny_data()
    with pytest.raises(ValueError, match="unknown"):
        sr.ablate(sr.Recipe(width=2, epochs=1, batch_size=32), (x, y, x, y), tricks=("dropout",))
    with pytest.raises(ValueError, match="not in it"):
        sr.ablate(sr.Recipe(width=2, epochs=1, batch_size=32).without("tta"), (x, y, x, y), tricks=("tta",))
    with pytest.raises(ValueError, match="at least batch_size=128"):
        sr.run(sr.Recipe(width=2, epochs=1), (x, y, x, y))
    with pytest.raises(ValueError, match="seed"):
        sr.run(sr.Recipe(width=2, epochs=1, batch_size=16), (x, y, x, y), seeds=[])
    with pytest.raises(ValueError, match="warmup_steps"):
        sr.WarmupLinearDecay(0.1, total_steps=10, warmup_steps=10)
    with pytest.raises(ValueError, match="max_shift"):
        sr.Recipe(max_shift=-1)
    with pytest.raises(ValueError, match="smoothing"):
        sr.smooth_labels([0], 2, 1.5)


def test_bench_step_time_and_device_name_run_on_the_active_backend():
    assert sr.device_name()
    x, y = _tiny_data(32)
    settings = [("float32", True)] if keras.backend.backend() == "jax" else [("float32", False)]
    rows = sr.bench(x, y, sr.Recipe(width=2, batch_size=8), settings, steps=2, num_classes=2)
    assert rows[0]["cpu_ms_per_step"] > 0 and rows[0]["policy"] == "float32"
    with pytest.raises(ValueError, match="steps"):
        sr.bench(x, y, steps=0)
    with pytest.raises(SystemExit):
        sr.main(["bench", "--batch", "many"])


def test_sweep_learning_rates_trains_one_run_per_rate_and_keeps_its_compiled_model_and_its_constant_rate():
    x, y = _tiny_data()
    recipe = sr.Recipe(width=2, epochs=1, batch_size=16)
    rows, runs, models = sr.sweep_learning_rates(recipe, (x, y, x[:16], y[:16]), [0.01, 0.1], seed=0, num_classes=2)
    assert [r["learning_rate"] for r in rows] == [0.01, 0.1] and set(runs) == set(models) == {0.01, 0.1}
    assert all(0 <= r["accuracy"] <= 1 and r["accuracy"] == runs[r["learning_rate"]]["final"] for r in rows)
    more, model = sr.run(recipe, (x, y, x[:16], y[:16]), [1], 2, model=models[0.1])
    assert model is models[0.1] and more[0]["seed"] == 1
    constant = recipe.without("schedule")  # one compiled model, its learning-rate variable set for each rate
    rows, runs, models = sr.sweep_learning_rates(constant, (x, y, x[:16], y[:16]), [0.01, 0.1], 0, 2, None, False)
    assert models[0.01] is models[0.1] and runs[0.1]["epoch"] == [1]
    assert float(keras.ops.convert_to_numpy(models[0.1].optimizer.learning_rate)) == pytest.approx(0.1)
    # run() on that model: the constant rate is kept between seeds, the step count reset; the last epoch scored
    longer = dataclasses.replace(constant, epochs=2)
    kept, model = sr.run(longer, (x, y, x[:16], y[:16]), [0, 1], 2, model=models[0.1], every_epoch=False)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
    assert all(r["epoch"] == [2] and r["accuracy_tta"] == r["final"] for r in kept)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2 * (64 // 16)  # reset for seed 1
    ablation, _ = sr.ablate(constant, (x, y, x[:16], y[:16]), ["whitening"], [0], 2, done={"- whitening": [runs[0.1]]})
    assert ablation[1]["variant"] == "- whitening" and ablation[1]["accuracies"] == [runs[0.1]["final"]]
    with pytest.raises(ValueError, match="learning rate"):
        sr.sweep_learning_rates(recipe, (x, y, x, y), [])


def test_race_ratio_is_a_lower_bound_where_the_baseline_never_gets_there():
    recipe = {"epoch": [1, 2], "accuracy": [0.90, 0.93], "cpu_seconds": [10.0, 20.0], "wall_seconds": [5.0, 9.0]}
    base = {"epoch": [1, 2, 3], "accuracy": [0.88, 0.91, 0.915], "cpu_seconds": [30.0, 60.0, 90.0]}
    base["wall_seconds"] = base["cpu_seconds"]
    at_91 = sr.race_ratio(recipe, base, 0.91)
    assert at_91["recipe_cpu_seconds"] == 20.0 and at_91["baseline_cpu_seconds"] == 60.0
    assert at_91["ratio_cpu"] == at_91["ratio_cpu_at_least"] == 3.0
    at_92 = sr.race_ratio(recipe, base, 0.92, "wall")
    assert at_92["ratio_wall"] == np.inf and at_92["ratio_wall_at_least"] == 90.0 / 9.0
    assert at_92["baseline_budget_wall_seconds"] == 90.0
    assert sr.race_ratio(base, recipe, 0.95)["ratio_cpu"] == 0.0  # neither gets there: no ratio
    with pytest.raises(ValueError, match="clock"):
        sr.race_ratio(recipe, base, 0.9, "gpu")


def test_race_curves_lists_every_epoch_of_both_runs():
    curve = {"epoch": [1, 2], "accuracy": [0.5, 0.7], "cpu_seconds": [1.0, 2.0], "wall_seconds": [1.5, 3.0]}
    rows = sr.race_curves({"recipe": curve, "baseline": {k: v[:1] for k, v in curve.items()}})
    assert [(r["run"], r["epoch"]) for r in rows] == [("recipe", 1), ("recipe", 2), ("baseline", 1)]
    assert rows[1] == {"run": "recipe", "epoch": 2, "accuracy": 0.7, "cpu_seconds": 2.0, "wall_seconds": 3.0}


def test_recipe_multipliers_reach_the_net_and_lists_from_json_become_tuples():
    recipe = sr.Recipe(width=2, multipliers=[1, 2, 4, 4], batch_size=16)
    assert recipe.multipliers == (1, 2, 4, 4)
    model = sr.build(recipe, (28, 28, 1), steps_per_epoch=4)
    assert model.get_layer("layer3_conv").filters == model.get_layer("layer2_conv").filters == 8
    for bad in [(1, 2, 4), (1, 2, 0, 8), (1, 2, 4, 2.5), (True, 2, 4, 8)]:
        with pytest.raises(ValueError, match="Expected multipliers: 4 positive integers"):
            sr.Recipe(multipliers=bad)


@pytest.mark.backend_independent("the selection loop over lib.speedrun.run, which other tests run on every backend")
def test_select_scores_candidates_on_held_out_training_images_per_seed_and_picks_the_earliest():
    candidates = [
        {"width": 2, "epochs": 2, "batch_size": 64, "multipliers": (1, 2, 4, 4)},
        {"width": 2, "epochs": 1, "batch_size": 64, "tricks": ("whitening",)},
    ]
    done = []
    first = sr.select(candidates, target=0.0, val_size=100, seeds=[0], train_size=400, log=done.append)
    # resumed: the recorded rows are kept, only the missing seed trains (each new row stamped with its time)
    rows = sr.select(
        candidates, target=0.0, val_size=100, seeds=[0, 1], train_size=400, log=done.append, recorded=first
    )
    assert done == rows and rows[:2] == first and [r["seed"] for r in rows] == [0, 0, 1, 1]
    assert all("created" in r for r in rows)
    assert [r["epoch"] for r in rows[:2]] == [[1, 2], [1]] and rows[1]["config"]["tricks"] == ["whitening"]
    assert rows[0]["config"]["multipliers"] == [1, 2, 4, 4]  # JSON-ready
    assert all(r["cpu_to_target"] == r["cpu_seconds"][0] > 0 for r in rows)  # every accuracy reaches 0
    assert rows[0]["params"] < rows[1]["params"]  # the narrowed last stage
    assert rows[0]["accuracy"] != rows[2]["accuracy"]  # another split and initialization per seed

    summary = sr.selection_summary(rows)
    assert [s["seeds"] for s in summary] == [[0, 1], [0, 1]]
    assert summary[0]["mean"] == pytest.approx((rows[0]["final"] + rows[2]["final"]) / 2)
    assert summary[1]["cpu_to_target"] == pytest.approx((rows[1]["cpu_to_target"] + rows[3]["cpu_to_target"]) / 2)
    table = [sr.selection_row(s) for s in summary]
    assert table[0]["multipliers"] == "1-2-4-4" and table[1]["tricks"] == "whitening" and table[0]["seeds"] == 2
    assert (table[0]["batch"], table[0]["peak_lr"]) == (64, sr.Recipe.learning_rate)  # given; Recipe's default
    assert "+-" in table[0]["val_accuracy"] and table[0]["cpu_s_to_target"] >= 0

    # the pick: least mean time among candidates that reached the target with every seed
    slow, fast = ({**r, "cpu_to_target": s} for r, s in ((rows[0], 9.0), (rows[1], 5.0)))
    missed = {**rows[3], "cpu_to_target": float("inf")}
    assert sr.selection_pick([slow, {**rows[2], "cpu_to_target": 9.0}, fast, missed]) == rows[0]["config"]
    assert sr.selection_row(sr.selection_summary([fast, missed])[0])["cpu_s_to_target"] == "never"
    # none reached it: the highest mean accuracy
    nowhere = [{**r, "cpu_to_target": float("inf"), "final": f} for r, f in zip(rows, [0.5, 0.7, 0.5, 0.7])]
    assert sr.selection_pick(nowhere) == rows[1]["config"]
    # a bar above the target: times re-read from each row's per-epoch curve; a candidate must clear it every seed
    curves = [
        {**rows[0], "accuracy": [0.90, 0.93], "cpu_seconds": [5.0, 10.0]},  # clears 0.925 at 10 s
        {**rows[1], "accuracy": [0.93, 0.94], "cpu_seconds": [2.0, 4.0]},  # at 2 s with seed 0 ...
        {**rows[2], "accuracy": [0.92, 0.926], "cpu_seconds": [5.0, 10.0]},
        {**rows[3], "accuracy": [0.92, 0.924], "cpu_seconds": [2.0, 4.0]},  # ... never with seed 1
    ]
    assert sr.selection_pick([{**r, "cpu_to_target": 1.0} for r in curves], bar=0.925) == rows[0]["config"]
    assert sr.selection_pick([{**r, "cpu_to_target": 1.0} for r in curves], bar=0.92) == rows[1]["config"]
    with pytest.raises(ValueError, match="val_size"):
        sr.select(candidates, val_size=60000, train_size=400)
    with pytest.raises(ValueError, match="seed"):
        sr.select(candidates, seeds=[])


@pytest.mark.backend_independent("command-line argument checks")
def test_select_resume_keeps_only_rows_recorded_with_the_same_split_and_target(tmp_path):
    import json

    with pytest.raises(SystemExit, match="needs --json"):
        sr.main(["select", "--resume"])
    saved = tmp_path / "select.json"
    row = {"config": {"width": 2, "epochs": 1}, "seed": 0, "final": 0.5}
    saved.write_text(json.dumps({"created": "then", "target": 0.92, "val_size": 5000, "candidates": [row]}))
    with pytest.raises(SystemExit, match=r"recorded with val_size=5000; this run has val_size=100"):
        sr.main(["select", "--resume", "--json", str(saved), "--val-size", "100"])
    with pytest.raises(SystemExit, match=r"recorded with target=0.92; this run has target=0.9\b"):
        sr.main(["select", "--resume", "--json", str(saved), "--target", "0.9"])
    args = sr.argparse.Namespace(json=str(saved), target=0.92, val_size=5000)
    assert sr._recorded_selection(args) == [{"created": "then", **row}]  # each row keeps its file's time
    assert sr._recorded_selection(sr.argparse.Namespace(json=str(tmp_path / "none.json"))) == []


@pytest.mark.backend_independent("arithmetic")
def test_sampling_error_and_the_race_bar():
    assert sr.sampling_error(0.92, 10_000) == pytest.approx((0.92 * 0.08 / 10_000) ** 0.5)
    assert sr.sampling_error(1.0, 5) == 0.0
    assert sr.race_bar() == pytest.approx(0.92 + 0.00271, abs=1e-5) and sr.TEST_SIZE == 10_000
    assert sr.race_bar(0.9, 2500) == pytest.approx(0.906)  # sqrt(0.9 * 0.1 / 2500) = 0.006
    with pytest.raises(ValueError, match="accuracy between 0 and 1"):
        sr.sampling_error(92.0, 10_000)
    with pytest.raises(ValueError, match="n"):
        sr.sampling_error(0.92, 0)
