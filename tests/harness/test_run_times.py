"""README's run times come from a measured run (harness.run_times), never typed in."""

import json

import pytest

from harness import run_times
from lib import paths

NOTEBOOKS = [p.stem for p in paths.notebook_paths()]

README = """# Course

| # | notebook | what you build | Colab | default run time |
|---|---|---|---|---|
| 01 | [Convolution](notebooks/01_convolution.ipynb) | im2col \\| FFT | [![Open](x.svg)](y) | ~1 min |
| 02 | [Pooling](notebooks/02_pooling.ipynb) | pools | [![Open](x.svg)](y) | ~1 min |

Run times are measured.
"""


def summary(**overrides):
    entries = [{"notebook": nb, "status": "ok", "seconds": 19.14 + i, "results": {}} for i, nb in enumerate(NOTEBOOKS)]
    meta = {"profile": "default", "created": "2026-11-23 15:37:41 UTC", "cpu": "AMD EPYC (2 cores)", "python": "3.11"}
    return {"meta": {**meta, **overrides}, "notebooks": entries}


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "~5 s"), (19.1, "~20 s"), (43.9, "~45 s"), (57.4, "~55 s"), (58.6, "~1 min"), (82.9, "~1.5 min")]
    + [(104.9, "~1.5 min"), (105.1, "~2 min"), (577, "~9.5 min")],
)
def test_shown_rounds_to_five_seconds_or_half_minutes(seconds, text):
    assert run_times.shown(seconds) == text


def test_rewrite_changes_only_the_run_time_column():
    out = run_times.rewrite_table(README, {"01_convolution": 19.1, "02_pooling": 82.9})
    assert run_times.readme_times(out) == {"01": "~20 s", "02": "~1.5 min"}
    assert out.replace("~20 s", "~1 min").replace("~1.5 min", "~1 min") == README
    with pytest.raises(ValueError, match=r"no row for notebook\(s\) \['03'\]"):
        run_times.rewrite_table(README, {"01_convolution": 1, "02_pooling": 1, "03_x": 1})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["meta"].update(profile="full"), "Expected a run of the default profile"),
        (lambda s: s["notebooks"].pop(), "missing"),
        (lambda s: s["notebooks"][0].update(status="failed"), "not ok"),
    ],
)
def test_only_a_complete_default_run_is_a_measurement(change, message):
    bad = summary()
    change(bad)
    with pytest.raises(ValueError, match=message):
        run_times.record_from_summary(bad)


def test_write_records_the_run_and_rewrites_readme(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(summary(gpu="none")))
    readme = tmp_path / "README.md"
    readme.write_text(
        "| # | notebook | default run time |\n|---|---|---|\n" + "".join(f"| {nb[:2]} | x | ? |\n" for nb in NOTEBOOKS)
    )
    record = run_times.write(tmp_path / "summary.json", tmp_path / "run_times.json", readme)
    assert record == json.loads((tmp_path / "run_times.json").read_text())
    assert record["measured"]["created"] == "2026-11-23 15:37:41 UTC" and record["measured"]["gpu"] == "none"
    assert record["seconds"][NOTEBOOKS[0]] == 19.1
    assert run_times.disagreements(record, readme.read_text()) == []
    readme.write_text(readme.read_text().replace("~20 s", "~1 min", 1))
    assert run_times.disagreements(record, readme.read_text()) == [
        "01: README says '~1 min', the measured run gives '~20 s'"
    ]


def test_readme_shows_the_recorded_run_times():
    """The committed record and README agree: the numbers change only by `python -m harness.run_times`."""
    if not run_times.RECORD.exists():
        pytest.skip(
            f"no measured run recorded yet ({run_times.RECORD.relative_to(paths.ROOT)}): run `python3 course.py run`, "
            "then `python -m harness.run_times`"
        )
    record = run_times.load_record()
    assert sorted(record["seconds"]) == NOTEBOOKS, "the record lists every course notebook"
    assert record["measured"].get("profile") == "default" and record["measured"].get("created")
    problems = run_times.disagreements(record, (paths.ROOT / "README.md").read_text())
    assert not problems, "README.md's run times are not the measured ones (run `python -m harness.run_times`): " + (
        "; ".join(problems)
    )
