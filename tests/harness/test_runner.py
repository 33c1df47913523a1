"""The runner behind "run the course": papermill per notebook, failures contained, summary written."""

import json

import pytest

from harness import notebooks as nbtools
from harness import runner


def make_notebook(path, body):
    script = (
        "# %% [markdown]\n# # A test notebook\n"
        '# %% tags=["parameters"]\nSEED = 0\nOUTPUT_DIR = "results/interactive"\nVALUE = 1\n'
        f"# %%\n{body}\n"
    )
    nbtools.write(nbtools.script_to_notebook(script), path)
    return path


SAVE = "import lib.report\nlib.report.save('{stem}', {{'value': VALUE, 'seed': SEED}}, OUTPUT_DIR)"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "cwd").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "stem, code, expected",
    [
        ("02_fail", "raise ValueError('boom from the notebook')", "boom from the notebook"),
        ("03_die", "import os\nos._exit(1)", "kernel"),
        ("05_silent", "x = 1", "results"),
    ],
    ids=["failing-cell", "dead-kernel", "records-nothing"],
)
def test_a_broken_notebook_is_reported_not_raised(folder, stem, code, expected):
    nb = make_notebook(folder / f"{stem}.ipynb", code)
    run = runner.run_notebook(nb, folder / "out", cwd=folder / "cwd", timeout=120)
    assert run.status == "failed"
    assert expected in run.error.lower() or (expected == "kernel" and "died" in run.error.lower()), run.error


def test_endless_cell_times_out(folder):
    nb = make_notebook(folder / "04_slow.ipynb", "import time\ntime.sleep(600)")
    run = runner.run_notebook(nb, folder / "out", cwd=folder / "cwd", timeout=5)
    assert run.status in ("failed", "timeout")
    assert run.seconds < 120


def test_summary_lists_status_time_and_results(tmp_path):
    runs = [
        runner.RunResult("01_a", "ok", 12.3, tmp_path / "01_a.ipynb", {"test_accuracy": 0.91}),
        runner.RunResult("02_b", "failed", 4.0, tmp_path / "02_b.ipynb", {}, "ValueError: boom"),
    ]
    md = runner.write_summary(runs, tmp_path, "default").read_text()
    assert "| 01_a | ok | 12 | test_accuracy=0.91 |" in md
    assert "02_b: failed" in md and "ValueError: boom" in md
    data = json.loads((tmp_path / "summary.json").read_text())
    assert [n["status"] for n in data["notebooks"]] == ["ok", "failed"]


def test_unknown_profile_and_notebook_are_clear_errors():
    with pytest.raises(ValueError, match="Expected a profile"):
        runner.profile_parameters("01_convolution", "nonexistent")
    with pytest.raises(ValueError, match="No notebook matches"):
        runner.select(["99"])


def test_full_profile_files_are_mappings():
    from lib import paths

    for path in sorted((paths.PROFILES / "full").glob("*.yaml")):
        params = runner.profile_parameters(path.stem, "full")
        assert isinstance(params, dict) and params, f"{path} should set some parameters"


def test_summary_records_versions_and_hardware(tmp_path):
    runner.write_summary([runner.RunResult("01_a", "ok", 1.0, tmp_path / "01_a.ipynb", {"x": 1})], tmp_path, "full")
    meta = json.loads((tmp_path / "summary.json").read_text())["meta"]
    assert meta["profile"] == "full" and meta["keras"] and meta["tensorflow"] and meta["backend"]
    assert "created" in meta and "python" in meta


def test_ok_notebook_records_results_and_gets_its_profile_with_extra_parameters(tmp_path, monkeypatch):
    """The notebook runs, its results are recorded, its executed copy is written; its parameters are the profile
    file's merged with extra overrides (what the full-profile smoke tests use)."""
    from lib import paths

    profiles = tmp_path / "profiles"
    (profiles / "smoke").mkdir(parents=True)
    (profiles / "smoke" / "01_ok.yaml").write_text("VALUE: 5\nSEED: 3\n")
    monkeypatch.setattr(paths, "PROFILES", profiles)
    (tmp_path / "cwd").mkdir()
    nb = make_notebook(tmp_path / "01_ok.ipynb", SAVE.format(stem="01_ok"))
    run = runner.run_notebook(
        nb, tmp_path / "out", profile="smoke", cwd=tmp_path / "cwd", timeout=120, extra_parameters={"VALUE": 9}
    )
    assert run.status == "ok", run.error
    assert run.results == {"value": 9, "seed": 3}
    assert (tmp_path / "out" / "01_ok.ipynb").exists()
