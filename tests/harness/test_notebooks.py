"""harness.notebooks: the percent-script round trip that authors edit notebooks with."""

import json

import pytest

from harness import notebooks
from lib import paths


def _sources(nb):
    return [(c["cell_type"], "".join(c["source"]), c["metadata"].get("tags", [])) for c in nb["cells"]]


@pytest.mark.parametrize("path", paths.notebook_paths(), ids=lambda p: p.stem)
def test_every_notebook_survives_script_and_build(path):
    nb = json.loads(path.read_text())
    script = notebooks.notebook_to_script(nb)
    assert "# %% setup" in script  # the canonical Setup cell stands for itself
    assert _sources(notebooks.script_to_notebook(script)) == _sources(nb)


def test_list_valued_sources_are_read_as_their_joined_text():
    nb = json.loads(paths.notebook_paths()[0].read_text())
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"]).splitlines(keepends=True)  # how nbformat may store them on disk
    assert notebooks.notebook_to_script(nb) == notebooks.notebook_to_script(
        json.loads(paths.notebook_paths()[0].read_text())
    )
