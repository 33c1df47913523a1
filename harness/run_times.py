"""README's run times, from a measured run: the "default run time" column of its notebook table.

    python3 course.py run                      # measure: results/default/summary.json
    python -m harness.run_times                # record it in harness/run_times.json, rewrite README's column
    python -m harness.run_times --check        # README agrees with the record? (what the tests check)

The record, ``harness/run_times.json``, is written only from a results summary of a complete run: the
``default`` profile, every course notebook there and ``ok``. It keeps the run's date, machine and versions
with each notebook's seconds; README's column is made from it by one rounding rule (:func:`shown`), and
tests/harness/test_run_times.py fails when README says anything else - so the numbers change by measuring.

Introduced in notebook 01 (the README's table of notebooks).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lib import paths

RECORD = paths.ROOT / "harness" / "run_times.json"
README = paths.ROOT / "README.md"
SUMMARY = "results/default/summary.json"
COLUMN = "default run time"
#: What of the summary's meta the record keeps: when, where and with what the run was measured.
META_KEYS = ("profile", "created", "python", "machine", "cpu", "gpu", "backend", "tensorflow", "keras", "numpy")


def shown(seconds: float) -> str:
    """How README shows a run time: ``~20 s`` (to 5 s) under a minute, else ``~1.5 min`` (to half a minute)."""
    if seconds < 0:
        raise ValueError(f"Expected seconds >= 0. Received: seconds={seconds!r}")
    rounded = max(5, 5 * round(seconds / 5))
    if rounded < 60:
        return f"~{rounded} s"
    return f"~{max(1.0, round(seconds / 30) / 2):g} min"


def record_from_summary(summary: dict, notebooks: list[str] | None = None) -> dict:
    """The record of a complete default-profile run; a ValueError says why a summary is not one."""
    notebooks = notebooks if notebooks is not None else [p.stem for p in paths.notebook_paths()]
    meta = summary.get("meta", {})
    if meta.get("profile") != "default":
        raise ValueError(f"Expected a run of the default profile. Received: profile={meta.get('profile')!r}")
    runs = {e["notebook"]: e for e in summary.get("notebooks", [])}
    missing = [nb for nb in notebooks if nb not in runs]
    failed = [f"{nb} ({runs[nb]['status']})" for nb in notebooks if nb in runs and runs[nb].get("status") != "ok"]
    if missing or failed:
        raise ValueError(
            "Expected every notebook measured and ok (run `python3 course.py run` without --only). "
            f"Received: missing {missing}, not ok {failed}"
        )
    return {
        "written_by": "python -m harness.run_times (from a results summary of `python3 course.py run`)",
        "measured": {key: meta[key] for key in META_KEYS if key in meta},
        "seconds": {nb: round(float(runs[nb]["seconds"]), 1) for nb in notebooks},
    }


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def rewrite_table(text: str, seconds: dict[str, float]) -> str:
    """README's text with the run-time column of its notebook table (rows ``| NN | ...``) set from ``seconds``."""
    lines = text.split("\n")
    header = next((i for i, line in enumerate(lines) if line.startswith("|") and COLUMN in _cells(line)), None)
    if header is None:
        raise ValueError(f"Expected a Markdown table with a {COLUMN!r} column in README.md. Found none.")
    column = _cells(lines[header]).index(COLUMN)
    by_number = {stem.split("_")[0]: value for stem, value in seconds.items()}
    seen = set()
    for i in range(header + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        cells = _cells(lines[i])
        if cells and cells[0] in by_number:
            cells[column] = shown(by_number[cells[0]])
            lines[i] = "| " + " | ".join(cells) + " |"
            seen.add(cells[0])
    missing = sorted(set(by_number) - seen)
    if missing:
        raise ValueError(f"README.md's notebook table has no row for notebook(s) {missing}")
    return "\n".join(lines)


def readme_times(text: str) -> dict[str, str]:
    """The run-time column of README's notebook table: {"01": "~20 s", ...}."""
    lines = text.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("|") and COLUMN in _cells(line))
    column = _cells(lines[header]).index(COLUMN)
    times = {}
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        times[cells[0]] = cells[column]
    return times


def load_record(path: Path = RECORD) -> dict:
    return json.loads(Path(path).read_text())


def write(summary_path: str | Path = SUMMARY, record_path: Path = RECORD, readme_path: Path = README) -> dict:
    """Record a measured run and rewrite README's run-time column from it; returns the record."""
    summary = json.loads(paths.resolve(summary_path).read_text())
    record = record_from_summary(summary)
    readme = Path(readme_path)
    readme.write_text(rewrite_table(readme.read_text(), record["seconds"]))
    Path(record_path).write_text(json.dumps(record, indent=2) + "\n")
    return record


def disagreements(record: dict, readme_text: str) -> list[str]:
    """Where README's column differs from what the record gives (empty: they agree)."""
    wanted = {stem.split("_")[0]: shown(s) for stem, s in record["seconds"].items()}
    found = readme_times(readme_text)
    return [
        f"{number}: README says {found.get(number)!r}, the measured run gives {want!r}"
        for number, want in sorted(wanted.items())
        if found.get(number) != want
    ] + [f"{number}: in README's table, not in the measured run" for number in sorted(set(found) - set(wanted))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.run_times", description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", default=SUMMARY, help=f"a complete default-profile run (default {SUMMARY})")
    parser.add_argument("--check", action="store_true", help="only check that README agrees with the record")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = disagreements(load_record(), README.read_text())
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        record = write(args.summary)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    when = record["measured"].get("created", "?")
    print(f"README.md's run times <- {args.summary} ({when}); recorded in {RECORD.relative_to(paths.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
