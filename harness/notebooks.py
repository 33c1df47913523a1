"""Notebook files: the canonical Setup cell, notebooks <-> percent scripts (jupytext), stripping (nbstripout).

    python -m harness.notebooks build SCRIPT.py notebooks/NN_name.ipynb   # a notebook from a percent script
    python -m harness.notebooks script notebooks/NN_name.ipynb SCRIPT.py  # and back, for editing
    python -m harness.notebooks strip notebooks/*.ipynb                   # outputs off before committing
    python -m harness.notebooks setup notebooks/*.ipynb                   # Setup cell, kernelspec, badge: current

Scripts use jupytext's "percent" format: ``# %%`` starts a code cell, ``# %%
[markdown]`` a Markdown cell, ``# %% tags=["parameters"]`` a tagged code cell;
an empty cell titled ``setup`` (``# %% setup``) stands for the canonical Setup
cell below, so scripts need not repeat it. Conversion is jupytext's, stripping
is nbstripout's (the pre-commit hooks run both); this module adds only the
course's conventions: the Setup cell, the kernelspec, cell ids.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lib

#: The Setup cell, the same in every notebook (a test checks), made from lib's REPO_URL and COURSE_REF.
SETUP_CELL = f'''\
# Setup - the same in every notebook: find the course's `lib` (the checkout this notebook is in, or a copy
# fetched once on Colab, Kaggle or any other host), then prepare the session and print one line about it.
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # or "jax"; Keras reads it once, when first imported
COURSE_REPO = os.environ.get("CNN_COURSE_REPO", "{lib.REPO_URL}")
COURSE_REF = os.environ.get("CNN_COURSE_REF", "{lib.COURSE_REF}")

here = Path.cwd().resolve()
root = next((p for p in (here, *here.parents) if (p / "lib" / "__init__.py").is_file()), None)
if root is None:  # not inside a checkout: use the copy in CNN_COURSE_ROOT, fetching it the first time
    default = "/content/cnn-course" if "google.colab" in sys.modules else Path.home() / "cnn-course"
    root = Path(os.environ.get("CNN_COURSE_ROOT", default))
    if not (root / "lib" / "__init__.py").is_file():
        clone = ["git", "clone", "--quiet", "--depth", "1", "--branch", COURSE_REF, COURSE_REPO, str(root)]
        try:
            subprocess.run(clone, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            raise RuntimeError(
                f"This notebook needs the course's `lib` package: run `{{' '.join(clone)}}` (or "
                "open the notebook from inside a checkout, or set CNN_COURSE_ROOT to one)."
            ) from None
if str(root) not in sys.path:
    sys.path.insert(0, str(root))

import lib

ENV = lib.setup()
import keras'''

#: The kernelspec every notebook is committed with: the course kernel that `python3 course.py` installs (so
#: opening a notebook in JupyterLab does not modify it).
KERNELSPEC = {"display_name": "Python 3 (cnn-course)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def script_to_notebook(text: str) -> dict:
    """Parse a percent-format script into an nbformat-4 notebook dict (no outputs), with the Setup cell filled in."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.metadata.get("title") == "setup" and not cell.source.strip():
            cell.source = SETUP_CELL
        cell.metadata.pop("title", None)
        if not cell.source.strip():
            continue
        cell["id"] = f"c{i:03d}"
        cells.append(cell)
    nb.cells = cells
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    return json.loads(json.dumps(nb))


def notebook_to_script(nb: dict) -> str:
    """The inverse of :func:`script_to_notebook` (outputs are dropped; the Setup cell becomes ``# %% setup``)."""
    import jupytext
    import nbformat

    node = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in node.cells:
        if isinstance(cell.source, list):  # a notebook on disk may store a cell's source as a list of lines
            cell.source = "".join(cell.source)
        if cell.cell_type == "code" and cell.source == SETUP_CELL:
            cell.source, cell.metadata["title"] = "", "setup"
    text = jupytext.writes(node, fmt="py:percent")
    # jupytext's own header (its metadata filters) is not needed to read the script back
    if text.startswith("# ---"):
        text = text[text.index("# ---", 5) + len("# ---") :].lstrip("\n")
    return text


def strip(nb: dict) -> dict:
    """Outputs, execution counts and run metadata off (nbstripout), tags kept; the course's kernelspec."""
    import nbformat
    from nbstripout import strip_output

    node = nbformat.from_dict(nb)
    node = strip_output(
        node,
        keep_output=False,
        keep_count=False,
        keep_id=True,
        extra_keys=["metadata.papermill", "cell.metadata.papermill", "cell.metadata.execution", "metadata.widgets"],
    )
    out = json.loads(json.dumps(node))
    out["metadata"]["kernelspec"] = dict(KERNELSPEC)
    return out


def refresh_setup(nb: dict, path: str | Path) -> dict:
    """The notebook with the current Setup cell (its first code cell), kernelspec and Colab badge
    (``lib.COLAB_BASE`` + its path): what a release (a new ``lib.COURSE_REF``) regenerates."""
    import re

    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    code[0]["source"] = SETUP_CELL
    first = nb["cells"][0]
    text = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
    badge = f"{lib.COLAB_BASE}notebooks/{Path(path).name}"
    first["source"] = re.sub(r"https://colab\.research\.google\.com/github/\S+?\.ipynb", badge, text)
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    return nb


def write(nb: dict, path: str | Path) -> None:
    """Write a notebook as the repository stores it (1-space JSON, UTF-8, final newline)."""
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "build":
        write(script_to_notebook(Path(argv[1]).read_text()), argv[2])
    elif len(argv) >= 3 and argv[0] == "script":
        Path(argv[2]).write_text(notebook_to_script(json.loads(Path(argv[1]).read_text())))
    elif len(argv) >= 2 and argv[0] == "strip":
        for p in argv[1:]:
            write(strip(json.loads(Path(p).read_text())), p)
    elif len(argv) >= 2 and argv[0] == "setup":
        for p in argv[1:]:
            write(refresh_setup(json.loads(Path(p).read_text()), p), p)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
