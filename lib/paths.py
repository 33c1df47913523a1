"""Where things are: the repository root, the notebooks, the results folder.

Introduced in notebook 01 (used by ``lib.report`` and the runner).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``lib/``).
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PROFILES = NOTEBOOKS / "profiles"
DATA = ROOT / "data"
RESULTS = ROOT / "results"


def resolve(path: str | os.PathLike) -> Path:
    """An absolute path: relative paths are taken from the repository root.

    Notebooks run from ``notebooks/``, from the repo root under papermill, or
    from a temporary folder in tests; resolving against the root makes
    ``OUTPUT_DIR = "results/interactive"`` mean the same folder in all three.
    """
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def notebook_paths() -> list[Path]:
    """The course notebooks, in order (``NN_name.ipynb`` under ``notebooks/``)."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
