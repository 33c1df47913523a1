"""Recording results and checking floors."""

import json

import numpy as np
import pytest

from lib import report


def test_save_and_load_round_trip_converts_numpy(tmp_path):
    path = report.save("01_x", {"acc": np.float32(0.5), "n": np.int64(3), "ok": True,
                                "curve": np.arange(3, dtype=np.float32)}, tmp_path)
    assert path.name == "01_x.results.json"
    record = report.load(path)
    assert record["results"] == {"acc": 0.5, "n": 3, "ok": True, "curve": [0.0, 1.0, 2.0]}
    assert record["notebook"] == "01_x" and "keras" in record
    assert report.load_all(tmp_path)["01_x"]["results"]["n"] == 3


def test_bad_results_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        report.save("01_x", {}, tmp_path)
    with pytest.raises(ValueError, match="finite"):
        report.save("01_x", {"loss": float("nan")}, tmp_path)
    with pytest.raises(TypeError, match="object"):
        report.save("01_x", {"thing": object()}, tmp_path)
    with pytest.raises(FileNotFoundError, match="did the notebook run"):
        report.load(tmp_path / "missing.results.json")


def test_check_floors():
    results = {"acc": 0.8, "err": 1e-6, "ok": True}
    assert report.check_floors(results, {"acc": {"min": 0.5}, "err": {"max": 1e-4}, "ok": {"equals": True},
                                         "_comment": "ignored"}) == []
    failures = report.check_floors(results, {"acc": {"min": 0.9}, "err": {"max": 1e-9}, "gone": {"min": 0},
                                             "ok": {"equals": False}, "acc2": {"mni": 1}})
    text = "\n".join(failures)
    assert "below the floor" in text and "above the ceiling" in text and "missing" in text
    assert "expected False" in text and len(failures) == 5


def test_floors_files_are_valid():
    from lib import paths

    for path in sorted((paths.ROOT / "tests" / "notebooks" / "floors").glob("*.json")):
        floors = json.loads(path.read_text())
        for key, rule in floors.items():
            if key.startswith("_"):
                continue
            assert set(rule) <= {"min", "max", "equals", "why"} and set(rule) - {"why"}, f"{path.name}: {key}"
