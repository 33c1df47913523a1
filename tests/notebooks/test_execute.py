"""Execute every notebook with its default parameters and check its results against floors.

Each notebook runs once, by papermill, in a fresh kernel, from an empty working
directory, with a time limit; a failing cell, a dead kernel or a timeout fails
the test. Then the numbers it recorded must meet ``floors/<notebook>.json``.
"""

import json

import pytest

from lib import paths, report, runner

NOTEBOOKS = paths.notebook_paths()
FLOORS = paths.ROOT / "tests" / "notebooks" / "floors"
TIMEOUT = 420  # seconds; defaults are meant to take about one minute


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_defaults_and_meets_floors(path, tmp_path):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    run = runner.run_notebook(path, tmp_path / "out", timeout=TIMEOUT, cwd=workdir)
    assert run.status == "ok", f"{path.name} {run.status} after {run.seconds:.0f} s:\n{run.error}"
    floors = json.loads((FLOORS / f"{path.stem}.json").read_text())
    failures = report.check_floors(run.results, floors)
    assert not failures, f"{path.name} results miss their floors:\n" + "\n".join(failures)
    # the notebook's own solutions pass every check it runs
    nb = json.loads(path.read_text())
    checks = sum("check" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
    assert checks >= 3, f"{path.name} has {checks} exercise check cells; expected 3-6"
    assert run.results.get("exercises_total") == checks, (
        f"{path.name} ran {run.results.get('exercises_total')} checks of its {checks} check cells")
    assert run.results.get("exercises_correct") == checks, (
        f"{path.name}: only {run.results.get('exercises_correct')} of {checks} solutions pass their checks")
