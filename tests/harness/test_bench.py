"""The benchmarks run and produce tables of the promised shape (timings are never asserted)."""

import json
import math

import keras
import pytest

from harness import bench


def test_ops_benchmark_has_conv_and_pool_rows():
    rows = bench.ops_benchmark(size=8, in_channels=2, out_channels=4, repeats=1)
    assert {r["operator"] for r in rows} == {"conv2d", "pool2d"}
    assert list(rows[0]) == ["operator", "method", "shape", "seconds", "ratio", "max_abs_error"]
    pools = [r for r in rows if r["operator"] == "pool2d"]
    assert len(pools) == 2 and all(r["max_abs_error"] < 1e-6 for r in pools)


def test_zoo_pipeline_and_precision_tables():
    zoo = bench.zoo_table(names=("mobilenet",), input_size=32, batch=1, repeats=1)
    assert [r["model"] for r in zoo] == ["mobilenet"] and zoo[0]["images_per_s"] > 0
    pipe = bench.pipeline_benchmark(n=32, size=8, batch_size=8)
    assert [r["pipeline"] for r in pipe] == ["no augmentation", "flip + translate", "flip + translate + CutMix"]
    assert all(r["images"] == 32 and r["images_per_s"] > 0 for r in pipe)
    prec = bench.precision_benchmark(size=8, batch_size=2, steps=1, width=2)
    assert [(r["policy"], r["jit_compile"]) for r in prec] == [
        ("float32", False),
        ("float32", True),
        ("mixed_bfloat16", False),
        ("mixed_bfloat16", True),
    ]
    assert prec[0]["speedup"] == 1.0 and all(r["speedup"] > 0 or math.isnan(r["speedup"]) for r in prec)
    import keras

    assert keras.mixed_precision.dtype_policy().name == "float32"  # restored


def test_notebook_times_from_a_summary(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(
        json.dumps(
            {
                "meta": {},
                "notebooks": [
                    {"notebook": "01_a", "status": "ok", "seconds": 10.0, "results": {}},
                    {"notebook": "02_b", "status": "failed", "seconds": 5.5, "results": {}},
                ],
            }
        )
    )
    rows = bench.notebook_times(str(path))
    assert [r["notebook"] for r in rows] == ["01_a", "02_b", "total"]
    assert rows[-1]["seconds"] == 15.5 and rows[-1]["status"] == "1/2 ok"
    assert bench.notebook_times(str(tmp_path / "missing.json")) == []


def test_run_parts_document_and_cli(tmp_path, capsys):
    text = bench.run_parts(("notebooks", "ops"), tiny=True, summary=str(tmp_path / "none.json"), log=lambda m: None)
    assert text.startswith(f"# Benchmarks: {bench.BACKEND_NAMES[keras.backend.backend()]} backend")
    assert "## Notebooks, default profile" in text
    assert "run `python3 course.py run` first (or `python3 course.py bench --run-notebooks`)." in text
    table = [line for line in text.splitlines() if line.startswith("| conv2d")]
    assert len(table) == 5 and all(line.count("|") == 7 for line in table)
    out = tmp_path / "B.md"
    assert bench.main(["--only", "ops", "--tiny", "--out", str(out)]) == 0
    assert "## From-scratch operators" in out.read_text()
    assert bench.main(["--only", "zoo", "--tiny", "--out", str(out), "--append"]) == 0
    appended = out.read_text()
    assert appended.count("# Benchmarks: ") == 2 and appended.index("## From-scratch") < appended.index("## Model zoo")
    assert bench.main(["--only", "zoo", "--tiny", "--out", str(out)]) == 0
    assert "## From-scratch" not in out.read_text()
    no_summary = bench.run_parts(("notebooks",), summary=None, log=lambda m: None)
    assert "None" not in no_summary and "No summary given" in no_summary
    with pytest.raises(ValueError, match="Expected parts"):
        bench.run_parts(("nope",))
    with pytest.raises(SystemExit):
        bench.main(["--only", "ops,nope"])
    assert (
        bench.main(
            [
                "conv",
                "--size",
                "6",
                "--in-channels",
                "2",
                "--out-channels",
                "2",
                "--repeats",
                "1",
                "--methods",
                "im2col",
            ]
        )
        == 0
    )
    assert "im2col" in capsys.readouterr().out


def test_bench_cli_prints_a_table(capsys):
    assert bench.main(["conv", "--size", "8", "--in-channels", "2", "--out-channels", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "keras.ops.conv" in out and "winograd" in out and "max_abs_error" in out


def test_race_is_opt_in_and_reports_both_clocks():
    assert "race" in bench.PARTS and "race" not in bench.DEFAULT_PARTS  # many minutes: only with --only race
    rows = bench.race_table(tiny=True)
    assert [(r["clock"], r["target"]) for r in rows] == [("cpu", 0.3), ("wall", 0.3)]
    for row in rows:
        assert row["recipe_seconds"] > 0 and row["baseline_seconds"] > 0
        assert row["ratio"] >= 0
        for key in ("baseline_best_accuracy", "recipe_best_accuracy"):
            assert 0 <= float(row[key].rstrip("%")) <= 100


def test_a_saved_race_is_tabulated_at_three_targets(tmp_path):
    curve = {"epoch": [1, 2], "accuracy": [0.905, 0.93], "cpu_seconds": [10.0, 20.0], "wall_seconds": [6.0, 12.0]}
    slow = {"epoch": [1, 2], "accuracy": [0.85, 0.915], "cpu_seconds": [3.0, 6.0], "wall_seconds": [2.0, 4.0]}
    saved = {"recipe": curve, "baseline": slow, "device": "CPU"}
    rows = bench.race_table(saved=saved)
    assert [(r["clock"], r["target"]) for r in rows] == [(c, t) for t in (0.90, 0.91, 0.92) for c in ("cpu", "wall")]
    cpu = {r["target"]: r for r in rows if r["clock"] == "cpu"}
    assert cpu[0.90]["recipe_seconds"] == 10.0 and cpu[0.90]["baseline_seconds"] == 6.0 and cpu[0.90]["ratio"] == 0.6
    assert cpu[0.92]["baseline_seconds"] == float("inf") and cpu[0.92]["baseline_best_accuracy"] == "91.50%"
    # the baseline never got to 92% in its 6 CPU-s: the recipe (20 s) is at least 0.3x as fast
    assert cpu[0.92]["ratio"] == float("inf") and cpu[0.92]["ratio_at_least"] == 6.0 / 20.0
    assert cpu[0.90]["ratio_at_least"] == cpu[0.90]["ratio"] and cpu[0.90]["baseline_epochs"] == 2
    path = tmp_path / "race.json"
    path.write_text(json.dumps(saved))
    text = bench.run_parts(["race"], race_json=str(path), log=lambda m: None)
    assert "Time to 92%" in text and "91.50%" in text
