"""RESULTS.md generation: measured numbers next to anchors, "not yet run" otherwise, never invented."""

import json

import pytest

from harness import results as R
from lib import paths

FULL = {
    "meta": {
        "profile": "full",
        "created": "2025-01-02 03:04:05 UTC",
        "python": "3.11.9",
        "machine": "x86_64",
        "tensorflow": "2.21.0",
        "keras": "3.15.1",
        "backend": "tensorflow",
        "gpu": "NVIDIA H100 80GB HBM3",
    },
    "notebooks": [
        {
            "notebook": "02_pooling_and_cnn_anatomy",
            "status": "ok",
            "seconds": 123.4,
            "results": {"mnist_net_test_accuracy": 0.9921, "vgg16_params": 138357544, "exercises_total": 4},
        },
        {
            "notebook": "10_adversarial_examples",
            "status": "failed",
            "seconds": 50.0,
            "results": {},
            "error": "ValueError: boom",
        },
    ],
}
DEFAULT = {
    "meta": {"profile": "default", "created": "2025-01-01", "python": "3.11.9", "machine": "x86_64"},
    "notebooks": [{"notebook": "01_convolution", "status": "ok", "seconds": 41.0, "results": {"test_accuracy": 0.9}}],
}


README = paths.ROOT / "README.md"


def rows(text):
    return {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith(("| 0", "| 1"))}


def test_measured_numbers_sit_next_to_their_anchor():
    text = R.render(FULL)
    row = rows(text)["02_pooling_and_cnn_anatomy"]
    assert "mnist_net_test_accuracy = 99.2%" in row and "Zalando" in row and "Basic classification" in row
    assert "| ok | 123 |" in row
    assert "exercises_total" not in row
    assert "NVIDIA H100 80GB HBM3" in text and "TensorFlow 2.21.0" in text and "2025-01-02" in text


def test_a_notebook_not_run_says_so_and_a_failed_run_is_marked():
    text = R.render(FULL)
    table = rows(text)
    assert R.NOT_RUN in table["01_convolution"]
    assert "run failed" in table["10_adversarial_examples"]
    assert "Goodfellow" in table["10_adversarial_examples"]  # anchors shown even when the run failed


def test_no_summary_means_every_notebook_not_yet_run():
    text = R.render(None)
    table = rows(text)
    assert set(table) == {p.stem for p in paths.notebook_paths()}
    assert all(R.NOT_RUN in row for row in table.values())
    assert "%" not in "".join(row.split("|")[4] for row in table.values())  # no measured column filled in
    assert "Default profile" not in text


def test_default_section_only_when_given():
    text = R.render(None, DEFAULT)
    assert (
        "## Default profile" in text
        and "| 01_convolution | ok | 41 | test_accuracy = 90.0% | ~88% test accuracy on Fashion-MNIST" in text
    )
    assert "Total: 41 s." in text


def test_cli_writes_the_file_and_reads_the_summaries(tmp_path, capsys):
    full, default = tmp_path / "full.json", tmp_path / "default.json"
    full.write_text(json.dumps(FULL))
    default.write_text(json.dumps(DEFAULT))
    out = tmp_path / "RESULTS.md"
    assert R.main(["--summary", str(full), "--default-summary", str(default), "--out", str(out), "--no-photos"]) == 0
    text = out.read_text()
    assert "99.2%" in text and "## Default profile" in text
    assert R.main(["--summary", str(tmp_path / "missing.json"), "--out", "-", "--no-photos"]) == 0
    assert R.NOT_RUN in capsys.readouterr().out


def test_missing_default_summary_and_bad_summary_are_clear_errors(tmp_path):
    with pytest.raises(SystemExit):
        R.main(["--default-summary", str(tmp_path / "nope.json"), "--out", "-"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(ValueError, match="Expected a runner summary"):
        R.load_summary(bad)


def test_committed_results_md_lists_every_notebook():
    """RESULTS.md has a row per notebook (regenerate it with `python -m harness.results` after adding one)."""
    table = rows((paths.ROOT / "RESULTS.md").read_text())
    missing = [p.stem for p in paths.notebook_paths() if p.stem not in table]
    assert not missing, f"RESULTS.md has no row for {missing}: run `python -m harness.results`"


def test_photo_section_shows_each_photo_with_the_documented_accuracy():
    rows = [{"photo": "coffee", "what": "a cup of coffee", "top5": "espresso 0.94, cup 0.02", "top1_index": 967}]
    text = R.render(None, None, rows)
    assert "## Pretrained networks on the package photos" in text
    assert "| coffee | a cup of coffee | espresso 0.94, cup 0.02 |" in text
    assert "75.1%" in text and "4,694,024 parameters" in text


def test_committed_results_md_has_the_measured_photo_table():
    text = (paths.ROOT / "RESULTS.md").read_text()
    assert "## Pretrained networks on the package photos" in text
    for photo in R.PHOTOS:
        assert f"| {photo} |" in text


def test_a_recorded_race_gets_its_section():
    curve = {"epoch": [1, 2], "accuracy": [0.9, 0.921], "cpu_seconds": [10.0, 20.0], "wall_seconds": [6.0, 12.0]}
    slow = {"epoch": [1], "accuracy": [0.905], "cpu_seconds": [4.0], "wall_seconds": [3.0]}
    race = {"created": "today", "cpu": "a CPU", "device": "CPU (tensorflow)", "recipe": curve, "baseline": slow}
    text = R.render(None, race=race)
    section = text[text.index("## The race") :]
    assert "recipe 92.10%, baseline 90.50%" in section and "today, a CPU" in section
    assert "| cpu | 0.9 | 10 | 4 | 0.4 | 0.4 |" in section and "| cpu | 0.92 | 20 | inf | inf | 0.2 |" in section
    assert "widths 16-32-64-128" in section and "for 1 epochs" in section  # recorded without its recipe's config
    assert "## The race" not in R.render(None)
    assert "How the race's recipe was picked" not in section  # no selection recorded
    assert "sampling error" not in section  # the test set's size not recorded
    sized = R.render(None, race={**race, "target": 0.92, "test_size": 10000})
    # sqrt(0.921 * 0.079 / 10000) = 0.0027
    assert "Scored on 10,000 test images, one run's accuracy has a sampling error alone of 0.27 points" in sized
    assert "the recipe's best is +0.10 points from the 92% target" in sized


def test_a_recorded_selection_follows_the_race():
    curve = {"epoch": [1, 2], "accuracy": [0.9, 0.921], "cpu_seconds": [10.0, 20.0], "wall_seconds": [6.0, 12.0]}
    config = {"width": 16, "multipliers": [1, 2, 4, 4], "epochs": 2, "tricks": ["label_smoothing", "whitening"]}
    other = {**config, "width": 12}
    race = {"recipe": curve, "baseline": curve, "recipe_config": config, "device": "CPU (tensorflow)"}
    row = {"config": config, "params": 1000, "epoch": [1, 2], "accuracy": [0.9, 0.921], "cpu_seconds": [10.0, 20.0]}
    rows = [
        {**row, "seed": 0, "final": 0.921, "cpu_to_target": 20.0},
        {**row, "config": other, "seed": 0, "final": 0.93, "cpu_to_target": 10.0},
        {**row, "seed": 1, "final": 0.923, "cpu_to_target": 20.0},
        {**row, "config": other, "seed": 1, "final": 0.91, "cpu_to_target": float("inf")},  # missed with seed 1
    ]
    select = {"target": 0.92, "val_size": 5000, "seeds": [0, 1], "candidates": rows}
    text = R.render(None, race=race, select=select)
    assert "widths 16-32-64-64" in text and "augmentation and flip TTA off" in text
    assert "widths 16-32-64-64, the first layer at stride 2, patch whitening" in text  # Recipe's default stride
    full = R.render(None, race={**race, "recipe_config": {**config, "stem_stride": 1}}, select=select)
    assert "widths 16-32-64-64, the first layer at stride 1 (full resolution), patch whitening" in full
    section = text[text.index("### How the race's recipe was picked") :]
    assert "for each seed (0, 1), 5,000 images" in section and "reached it with every seed" in section
    assert "mean validation accuracy is 92.20%; in the race above it ended at 92.10% on the test set" in section
    assert "sampling error alone of 0.27 points" in section  # sqrt(0.922 * 0.078 / 5000 / 2)
    # the bar: 92% plus one standard error of a test accuracy at 92% on 10,000 images, sqrt(0.92 * 0.08 / 10,000)
    assert "least mean CPU time to 92.27% validation accuracy among those that reached it with every seed" in section
    assert "cpu_s_to_target | cpu_s_to_92.27% |" in section
    assert "None did, so it runs the candidate with the highest mean validation accuracy." in section
    assert "speed drifts" not in section  # every row took 10 CPU-s per epoch
    # the same net with the same batch and tricks, timed at another hour, is drift; at another batch size it is not
    slow = {**rows[0], "seed": 0, "cpu_seconds": [20.0, 40.0], "cpu_to_target": 40.0}
    other_batch = [{**slow, "config": {**config, "batch_size": 64}}]
    assert "speed drifts" not in R.render(None, race=race, select={**select, "candidates": rows + other_batch})
    longer = [
        {
            **slow,
            "config": {**config, "epochs": 3},
            "epoch": [1, 2, 3],
            "cpu_seconds": [20.0, 40.0, 60.0],
            "accuracy": [0.9, 0.91, 0.921],
        }
    ]
    drifted = R.render(None, race=race, select={**select, "candidates": rows + longer})
    assert (
        "the same net, batch and tricks (width 16, 1-2-4-4, stride 2, batch 128) took 10 to 20 CPU-s per epoch"
        in drifted
    )
    assert (
        "| 16 | 1-2-4-4 | 2 | 2 | 128 | 0.1 | whitening+label_smoothing | 1000 | 92.20 +- 0.10% | 2 | 10 | 20 | never |"
        in section
    )
    missed = "| 12 | 1-2-4-4 | 2 | 2 | 128 | 0.1 | whitening+label_smoothing | 1000 | 92.00 +- 1.00% | 2 | 10 | never |"
    assert missed in section
    assert "How the race's recipe" not in R.render(None, select=select)  # only beside a race
    assert "`--resume`" not in section
    resumed = [{**r, "created": t} for r, t in zip(rows, ["2026-01-01", "2026-01-01", "2026-01-02", "2026-01-03"])]
    section = R.render(None, race=race, select={**select, "candidates": resumed})
    assert "the same with `--resume` (rows recorded from 2026-01-01 to 2026-01-03, each with its time" in section


def test_the_recorded_selection_picked_race_recipe_and_the_recorded_race_ran_it():
    from lib import speedrun

    select = json.loads(paths.resolve(R.SELECT).read_text())
    recorded = [speedrun.Recipe(**s["config"]) for s in speedrun.selection_summary(select["candidates"])]
    assert recorded == [speedrun.Recipe(**c) for c in speedrun.SELECT_CANDIDATES]  # recorded from today's list
    assert sorted({row["seed"] for row in select["candidates"]}) == sorted(speedrun.SELECT_SEEDS)
    pick = speedrun.selection_pick(select["candidates"], speedrun.race_bar(select["target"]))
    assert f"race runs the candidate quickest to {speedrun.race_bar():.2%}" in " ".join(README.read_text().split())
    assert speedrun.Recipe(**pick) == speedrun.RACE_RECIPE
    race = json.loads(paths.resolve(R.RACE).read_text())
    assert speedrun.Recipe(**race["recipe_config"]) == speedrun.RACE_RECIPE


def test_notebook_12_says_what_the_recorded_selection_measured():
    """12's multiply-add follow-up, its summary and RACE_RECIPE's note describe harness/race_select.json."""
    from lib import speedrun

    select = json.loads(paths.resolve(R.SELECT).read_text())
    candidates = speedrun.selection_summary(select["candidates"])
    summary = {  # the candidates at batch 256 (one at batch 128 is in `more` below)
        (
            s["config"]["width"],
            tuple(s["config"]["multipliers"]),
            s["config"]["epochs"],
            "tta" in s["config"]["tricks"],
        ): s
        for s in candidates
        if s["config"]["batch_size"] == 256
    }
    base16, base12 = summary[16, (1, 2, 4, 8), 4, False], summary[12, (1, 2, 4, 8), 4, False]
    narrow, augmented = summary[16, (1, 2, 4, 4), 4, False], summary[16, (1, 2, 4, 4), 4, True]
    base12_6, narrow_6 = summary[12, (1, 2, 4, 8), 6, False], summary[16, (1, 2, 4, 4), 6, False]
    narrow_8 = summary[16, (1, 2, 4, 4), 8, False]
    strided = [s for s in candidates if s["config"].get("stem_stride", 2) == 2]
    full_6, full_4 = (  # base width 8 with its first layer at stride 1, six and four epochs
        next(s for s in candidates if s["config"].get("stem_stride") == 1 and s["config"]["epochs"] == e)
        for e in (6, 4)
    )
    more = [  # "twice the steps (batch 128), a wider net (base width 24) and Myrtle's widths, each for six epochs"
        s for s in strided if s["config"]["epochs"] == 6 and s is not narrow_6 and s is not base12_6
    ]
    rows = select["candidates"]

    def reached(s, every=True):
        times = [r["cpu_to_target"] for r in rows if r["config"] == s["config"]]
        return all(t != float("inf") for t in times) if every else any(t != float("inf") for t in times)

    # "their CPU time per epoch followed these counts" (under two thirds of base 16's multiply-adds)
    assert base12["cpu_per_epoch"] < 2 / 3 * base16["cpu_per_epoch"] > narrow["cpu_per_epoch"]
    # "in four epochs ... a few tenths of a point below base width 16's, and neither reached 92% with either seed"
    assert all(0 < base16["mean"] - s["mean"] < 0.01 and not reached(s, every=False) for s in (base12, narrow))
    # "six epochs, which cost about what base width 16's four do"
    for s in (base12_6, narrow_6):
        assert 0.8 < 6 * s["cpu_per_epoch"] / (4 * base16["cpu_per_epoch"]) < 1.1
    # "the narrowed last stage reached 92% with both seeds, in about base width 16's CPU time; base 12 did not"
    # (not "sooner": the rows were timed hours apart, and the machine's CPU time per epoch drifts more than that)
    assert reached(narrow_6) and reached(base16)
    assert 0.8 < narrow_6["cpu_to_target"] / base16["cpu_to_target"] < 1.2
    assert not reached(base12_6, every=False)
    # "the candidate with augmentation and flip TTA on ended lowest on average"
    assert augmented["mean"] == min(s["mean"] for s in candidates)
    # "one run's test score on 10,000 images wanders by about 0.27 points ... None of these nets did - eight epochs
    # ended no higher on average than six"
    assert round(100 * speedrun.sampling_error(0.92, speedrun.TEST_SIZE), 2) == 0.27
    bar = speedrun.race_bar(select["target"])

    def cleared(s):
        return all(speedrun.time_to(r, bar) != float("inf") for r in rows if r["config"] == s["config"])

    assert narrow_8["mean"] <= narrow_6["mean"] == max(s["mean"] for s in strided)
    assert not any(cleared(s) for s in strided) and cleared(full_6) and cleared(full_4)
    # "base width 8 with its first layer at stride 1 ... took about as much CPU time per epoch" as base width 16
    # (its fewer multiply-adds are asserted in the notebook's own count)
    base16_6 = summary[16, (1, 2, 4, 8), 6, False]
    assert 0.8 < full_6["cpu_per_epoch"] / base16_6["cpu_per_epoch"] < 1.25
    # "The race runs the four-epoch one, the quicker to the bar."
    pick = speedrun.selection_pick(rows, bar)
    assert pick == full_4["config"] and speedrun.Recipe(**pick) == speedrun.RACE_RECIPE
    nb12 = json.loads((paths.NOTEBOOKS / "12_training_fast.ipynb").read_text())
    cell = next(c for c in nb12["cells"] if c.get("id") == "c011b")
    text = " ".join("".join(cell["source"]).split())
    points = 100 * speedrun.sampling_error(0.92, speedrun.TEST_SIZE)
    error = f"{speedrun.TEST_SIZE:,} images wanders by about {points:.2f}"  # both computed, not typed
    assert "None of these nets did - eight epochs ended no higher on average than six" in text and error in text
    ended = f"ended at {100 * full_6['mean']:.1f}% on average in six epochs and {100 * full_4['mean']:.1f}% in four"
    assert ended in text and "The race runs the four-epoch one, the quicker to the bar." in text
    # "... each for six epochs, ended between 92.1 and 92.2% on average"
    spent = sorted((s["config"]["batch_size"], s["config"]["width"], tuple(s["config"]["multipliers"])) for s in more)
    assert spent == [(128, 16, (1, 2, 4, 4)), (256, 16, (1, 2, 4, 8)), (256, 24, (1, 2, 4, 4))]
    assert {round(100 * s["mean"], 1) for s in more} <= {92.1, 92.2} and all(s["mean"] < narrow_6["mean"] for s in more)
    assert "each for six epochs, ended between 92.1 and 92.2% on average" in text
    summary12 = " ".join("".join(next(c for c in nb12["cells"] if c.get("id") == "c043")["source"]).split())
    assert "twice the steps, a wider net or Myrtle's widths for six epochs ended no higher" in summary12
    assert (
        "Keeping the full 28x28 resolution did: base width 8 with its first layer at stride 1, four epochs" in summary12
    )
