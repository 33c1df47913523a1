"""Recording results."""

import numpy as np
import pytest

from lib import report


def test_save_and_load_round_trip_converts_numpy(tmp_path):
    path = report.save(
        "01_x",
        {"acc": np.float32(0.5), "n": np.int64(3), "ok": True, "curve": np.arange(3, dtype=np.float32)},
        tmp_path,
    )
    assert path.name == "01_x.results.json"
    record = report.load(path)
    assert record["results"] == {"acc": 0.5, "n": 3, "ok": True, "curve": [0.0, 1.0, 2.0]}
    assert record["notebook"] == "01_x" and "keras" in record


def test_bad_results_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        report.save("01_x", {}, tmp_path)
    with pytest.raises(ValueError, match="finite"):
        report.save("01_x", {"loss": float("nan")}, tmp_path)
    with pytest.raises(TypeError, match="object"):
        report.save("01_x", {"thing": object()}, tmp_path)
    with pytest.raises(FileNotFoundError, match="did the notebook run"):
        report.load(tmp_path / "missing.results.json")
