"""Record the numbers a notebook produced, and read them back.

A notebook collects what matters in a dict and its last cell calls
``lib.report.save(NOTEBOOK, results, OUTPUT_DIR)``, which writes
``<OUTPUT_DIR>/<notebook>.results.json`` next to the executed notebook. The
runner's summary and the tests read those files back.

Floors (``tests/notebooks/floors/<notebook>.json``) say what a result must
satisfy: ``{"test_accuracy": {"min": 0.5}, "max_abs_error": {"max": 1e-4},
"converged": {"equals": true}}``. Trained metrics get ``min``/``max``, never
``equals``.

Introduced in notebook 01 (every notebook's last cell).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import sys
from pathlib import Path

from lib import paths

SUFFIX = ".results.json"


def _plain(value, key="value"):
    """Convert NumPy scalars/arrays and tuples into JSON-friendly Python values."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"Expected a finite number for result {key!r}. Received: {value}")
        return value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return _plain(value.item(), key)
    if hasattr(value, "tolist"):
        return _plain(value.tolist(), key)
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    raise TypeError(
        f"Expected numbers, strings, booleans, lists or dicts in results. Received {type(value).__name__} for {key!r}"
    )


def save(notebook: str, results: dict, output_dir: str | Path = "results/interactive") -> Path:
    """Write ``results`` as ``<output_dir>/<notebook>.results.json`` and return the path.

    ``notebook`` is the notebook's file stem, e.g. ``"01_convolution"``.
    Relative ``output_dir`` is taken from the repository root.
    """
    if not isinstance(results, dict) or not results:
        raise ValueError(f"Expected a non-empty dict of results. Received: {results!r}")
    import keras

    results = dict(results)
    exercises = sys.modules.get("lib.exercises")  # checked exercises, when the notebook ran any
    if exercises is not None and exercises.session_results():
        statuses = exercises.session_results()
        results.setdefault("exercises_total", len(statuses))
        results.setdefault("exercises_correct", sum(s == "correct" for s in statuses.values()))
    out = paths.resolve(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "notebook": notebook,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "results": {str(k): _plain(v, str(k)) for k, v in results.items()},
    }
    path = out / f"{notebook}{SUFFIX}"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    print(f"Recorded {len(results)} results -> {path}")
    return path


def load(path: str | Path) -> dict:
    """Read one results file (the whole record; the numbers are under ``"results"``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No results file at {path}. The notebook's last cell writes it; did the notebook run to the end?"
        )
    return json.loads(path.read_text())
