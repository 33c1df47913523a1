"""Lint and format, as the pre-commit hooks run them: ruff on lib/, harness/, tests/, the notebooks and course.py.

ruff's pyflakes rules find a name a notebook uses but never binds in any branch -
also the ``full``-profile branches the default run never executes - so a typo fails
here in a second, not on a user's GPU hour. Configuration: ``[tool.ruff]`` in pyproject.toml.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lib import paths

TARGETS = ["lib", "harness", "tests", "notebooks", "course.py"]


def _ruff() -> list[str]:
    here = Path(sys.executable).parent / "ruff"
    exe = str(here) if here.exists() else shutil.which("ruff")
    if exe is None:
        pytest.fail("ruff is not installed: it is in requirements.txt (`python3 course.py test` installs it)")
    return [exe]


def test_ruff_check_passes():
    proc = subprocess.run([*_ruff(), "check", "--no-cache", *TARGETS], cwd=paths.ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"ruff check found problems (fix: ruff check --fix):\n{proc.stdout[-6000:]}"


def test_ruff_format_is_applied():
    proc = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", *TARGETS], cwd=paths.ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"files need `ruff format`:\n{proc.stdout[-4000:]}"


def test_ruff_catches_a_misspelt_name_in_a_branch_never_run(tmp_path):
    (tmp_path / "x.py").write_text("EPOCHS = 3\nif False:\n    print(EPOCH)\n")
    proc = subprocess.run(
        [*_ruff(), "check", "--no-cache", "--select", "F821", str(tmp_path / "x.py")], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "Undefined name `EPOCH`" in proc.stdout
