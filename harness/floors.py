"""Floors: what a notebook's recorded results must satisfy for the tests to pass.

``tests/notebooks/floors/<notebook>.json`` maps result names to rules:
``{"test_accuracy": {"min": 0.5}, "max_abs_error": {"max": 1e-4},
"converged": {"equals": true}}``, each with an optional ``"why"``. Trained
metrics get ``min``/``max`` (above chance by a margin, loss fell), never
``equals``; keys starting with ``_`` are comments.
"""

from __future__ import annotations

import json

from lib import paths

FLOORS = paths.ROOT / "tests" / "notebooks" / "floors"


def load(stem: str) -> dict:
    """The floors of notebook ``stem`` (e.g. ``"01_convolution"``)."""
    return json.loads((FLOORS / f"{stem}.json").read_text())


def check_floors(results: dict, floors: dict) -> list[str]:
    """Compare results with floors; return a list of readable failures (empty = all met).

    Each floor is ``{"min": a}``, ``{"max": b}``, both, or ``{"equals": v}`` for
    exact facts (booleans, counts). A missing result is a failure.
    """
    failures = []
    for key, rule in floors.items():
        if key.startswith("_"):
            continue  # comments
        if key not in results:
            failures.append(f"{key}: missing from the recorded results")
            continue
        value = results[key]
        unknown = set(rule) - {"min", "max", "equals", "why"}
        if unknown:
            failures.append(f"{key}: unknown floor rule(s) {sorted(unknown)}")
        if "equals" in rule and value != rule["equals"]:
            failures.append(f"{key}: expected {rule['equals']!r}, got {value!r}")
        if "min" in rule and not (isinstance(value, (int, float)) and value >= rule["min"]):
            failures.append(f"{key}: {value!r} is below the floor {rule['min']!r}")
        if "max" in rule and not (isinstance(value, (int, float)) and value <= rule["max"]):
            failures.append(f"{key}: {value!r} is above the ceiling {rule['max']!r}")
    return failures
