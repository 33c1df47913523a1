"""Floors: the rules recorded results are checked against."""

import json

from harness import floors


def test_check_floors():
    results = {"acc": 0.8, "err": 1e-6, "ok": True}
    assert (
        floors.check_floors(
            results, {"acc": {"min": 0.5}, "err": {"max": 1e-4}, "ok": {"equals": True}, "_comment": "ignored"}
        )
        == []
    )
    failures = floors.check_floors(
        results,
        {"acc": {"min": 0.9}, "err": {"max": 1e-9}, "gone": {"min": 0}, "ok": {"equals": False}, "acc2": {"mni": 1}},
    )
    text = "\n".join(failures)
    assert "below the floor" in text and "above the ceiling" in text and "missing" in text
    assert "expected False" in text and len(failures) == 5


def test_floors_files_are_valid():
    for path in sorted(floors.FLOORS.glob("*.json")):
        for key, rule in json.loads(path.read_text()).items():
            if key.startswith("_"):
                continue
            assert set(rule) <= {"min", "max", "equals", "why"} and set(rule) - {"why"}, f"{path.name}: {key}"
