"""Notebook authoring tools: the canonical Setup cell, percent-script <-> notebook, stripping.

    python -m lib.notebook build SCRIPT.py notebooks/NN_name.ipynb   # write a notebook from a script
    python -m lib.notebook script notebooks/NN_name.ipynb SCRIPT.py  # and back, for editing
    python -m lib.notebook strip notebooks/*.ipynb                   # remove outputs before committing

Scripts use the "percent" format: ``# %%`` starts a code cell, ``# %% [markdown]``
a Markdown cell (its lines start with ``# ``), ``# %% tags=["parameters"]`` a
tagged code cell, and a cell holding only ``# %% setup`` becomes the canonical
Setup cell below. Notebooks are committed without outputs, kernel ``python3``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SETUP_CELL = '''\
# Setup - identical in every notebook: make `lib` importable (from notebooks/, from the
# repo root under papermill, or in Colab), choose the backend before Keras is imported,
# and prepare the session (versions, quiet logs, GPU memory growth).
import os, pathlib, subprocess, sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # "jax" works too; must precede `import keras`
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")    # quiet TensorFlow's C++ logging
COURSE_REPO, COURSE_REF = "https://github.com/cnn-course/cnn-course", "main"

if "google.colab" in sys.modules:  # Colab: fetch the course at COURSE_REF; Colab's TensorFlow stays
    if not pathlib.Path("/content/cnn-course/lib").is_dir():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", COURSE_REF,
                        COURSE_REPO, "/content/cnn-course"], check=True)
    sys.path.insert(0, "/content/cnn-course")
else:  # a checkout: the first folder at or above the working directory that holds lib/
    here = pathlib.Path.cwd().resolve()
    root = next((p for p in (here, *here.parents) if (p / "lib" / "__init__.py").is_file()), None)
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))

import keras
import lib

ENV = lib.setup()'''

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

_HEADER = re.compile(r"^# %%(?P<rest>.*)$")


def _cell(cell_type: str, source: str, tags: list[str] | None = None) -> dict:
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if tags:
        cell["metadata"]["tags"] = tags
    if cell_type == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def script_to_notebook(text: str) -> dict:
    """Parse a percent-format script into an nbformat-4 notebook dict (no outputs)."""
    cells, kind, tags, lines = [], None, None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
        if kind == "setup":
            cells.append(_cell("code", SETUP_CELL))
        elif body.strip():
            cells.append(_cell(kind, body, tags))

    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            flush()
            rest = match.group("rest").strip()
            lines, tags = [], None
            if rest.startswith("[markdown]"):
                kind = "markdown"
            elif rest == "setup":
                kind = "setup"
            else:
                kind = "code"
                tag_match = re.search(r"tags=(\[.*\])", rest)
                tags = json.loads(tag_match.group(1)) if tag_match else None
            continue
        if kind is None:
            continue  # text before the first cell marker is ignored
        lines.append(line)
    flush()
    return {
        "cells": [{**c, "id": f"c{i:03d}"} for i, c in enumerate(cells)],
        "metadata": {"kernelspec": dict(KERNELSPEC),
                     "language_info": {"name": "python", "pygments_lexer": "ipython3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_to_script(nb: dict) -> str:
    """The inverse of :func:`script_to_notebook` (outputs are dropped)."""
    out = []
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            out.append("# %% [markdown]")
            out.extend(("# " + line).rstrip() for line in src.splitlines())
        elif src == SETUP_CELL:
            out.append("# %% setup")
        else:
            tags = cell.get("metadata", {}).get("tags")
            out.append("# %%" + (f" tags={json.dumps(tags)}" if tags else ""))
            out.append(src)
        out.append("")
    return "\n".join(out)


def strip(nb: dict) -> dict:
    """Remove outputs, execution counts and papermill metadata; keep tags."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        meta = cell.get("metadata", {})
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            meta.pop(key, None)
    for key in ("papermill", "widgets"):
        nb["metadata"].pop(key, None)
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    return nb


def write(nb: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "build":
        write(script_to_notebook(Path(argv[1]).read_text()), argv[2])
    elif len(argv) >= 3 and argv[0] == "script":
        Path(argv[2]).write_text(notebook_to_script(json.loads(Path(argv[1]).read_text())))
    elif len(argv) >= 2 and argv[0] == "strip":
        for p in argv[1:]:
            write(strip(json.loads(Path(p).read_text())), p)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
