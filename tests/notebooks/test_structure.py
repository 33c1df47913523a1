"""Structure of every notebook: the anatomy in CONTRIBUTING.md, checked without running anything."""

import ast
import json
import re

import pytest

import lib
from harness import notebooks as nbtools
from lib import paths

NOTEBOOKS = paths.notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]
PARAM_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
REQUIRED_PARAMETERS = {"SEED", "OUTPUT_DIR"}


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


def test_numbering_is_unique_and_starts_at_01():
    numbers = [p.stem.split("_")[0] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), f"duplicate notebook numbers: {numbers}"
    assert numbers[0] == "01"


def test_every_ipynb_follows_the_naming_scheme():
    stray = [p.name for p in paths.NOTEBOOKS.glob("*.ipynb") if p not in NOTEBOOKS]
    assert not stray, f"notebooks must be named NN_snake_case.ipynb: {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
class TestNotebook:
    def test_kernel_and_no_outputs(self, path):
        nb = load(path)
        assert nb["metadata"]["kernelspec"] == nbtools.KERNELSPEC, (
            "kernelspec: the course kernel (opening must not modify)"
        )
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"cell {i} has committed outputs (python -m harness.notebooks strip)"
                assert cell.get("execution_count") is None, f"cell {i} has an execution count"

    def test_title_and_colab_badge(self, path):
        first = source(load(path)["cells"][0])
        titles = [line for line in first.splitlines() if line.startswith("# ")]
        assert len(titles) == 1, "the first cell holds exactly one H1 title"
        url = f"{lib.COLAB_BASE}notebooks/{path.name}"
        assert url in first, f"the Colab badge must link to {url}"
        assert "colab-badge.svg" in first
        others = [c for c in load(path)["cells"][1:] if c["cell_type"] == "markdown"]
        assert not any(line.startswith("# ") for c in others for line in source(c).splitlines()), (
            "only one H1 per notebook"
        )

    def test_learning_goals_summary_exercises(self, path):
        text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
        for heading in ("Learning goals", "## Setup", "## Summary", "## Exercises"):
            assert heading in text, f"missing {heading!r}"
        assert re.search(r"[Rr]un time", text), "state the expected run time of default and full"

    def test_setup_cell_is_the_canonical_one(self, path):
        cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
        assert source(cells[0]) == nbtools.SETUP_CELL, "the first code cell must be harness.notebooks.SETUP_CELL"

    def test_exactly_one_parameters_cell_of_literals(self, path):
        cells = load(path)["cells"]
        tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
        code_cells = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
        assert tagged[0] == code_cells[1], "the parameters cell is the code cell right after Setup"
        tree = ast.parse(source(cells[tagged[0]]))
        names = set()
        for node in tree.body:
            assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
                f"parameters cell holds only NAME = literal lines, found: {ast.dump(node)[:80]}"
            )
            target = node.targets[0]
            assert isinstance(target, ast.Name) and PARAM_NAME.match(target.id), f"{target} is not UPPER_SNAKE_CASE"
            ast.literal_eval(node.value)  # raises if not a literal
            names.add(target.id)
        assert REQUIRED_PARAMETERS <= names, f"missing parameters {REQUIRED_PARAMETERS - names}"

    def test_full_profile_only_sets_known_parameters(self, path):
        import yaml

        profile = paths.PROFILES / "full" / f"{path.stem}.yaml"
        if not profile.exists():
            pytest.skip("no full-profile parameters for this notebook yet")
        params = yaml.safe_load(profile.read_text()) or {}
        cells = load(path)["cells"]
        cell = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
        known = {n.targets[0].id for n in ast.parse(source(cell)).body}
        assert set(params) <= known, f"full profile sets unknown parameters {set(params) - known}"

    def test_records_results_in_last_cell(self, path):
        cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
        assert "lib.report.save(NOTEBOOK, results, OUTPUT_DIR)" in source(cells[-1]), (
            "the last code cell records results: lib.report.save(NOTEBOOK, results, OUTPUT_DIR)"
        )
        defined = re.findall(r'^NOTEBOOK = "([^"]+)"', "\n".join(source(c) for c in cells), flags=re.M)
        assert defined == [path.stem], f'define NOTEBOOK = "{path.stem}" once, after the parameters cell'

    def test_figures_are_kept_in_executed_notebooks(self, path):
        text = "\n".join(source(c) for c in load(path)["cells"])
        assert "matplotlib.use(" not in text and "MPLBACKEND" not in text

    def test_no_legacy_apis(self, path):
        text = "\n".join(source(c) for c in load(path)["cells"])
        assert not re.search(r"\btf\.keras\b|optimizers\.legacy|ImageDataGenerator|tensorflow_hub", text)

    def test_has_floors(self, path):
        floors = paths.ROOT / "tests" / "notebooks" / "floors" / f"{path.stem}.json"
        assert floors.exists(), f"add {floors.relative_to(paths.ROOT)} with floors for the recorded results"
        assert json.loads(floors.read_text()), "floors file is empty"


def test_setup_cell_points_at_the_course_repo():
    assert f'"CNN_COURSE_REPO", "{lib.REPO_URL}"' in nbtools.SETUP_CELL
    assert f'"CNN_COURSE_REF", "{lib.COURSE_REF}"' in nbtools.SETUP_CELL
    assert lib.COLAB_BASE.startswith("https://colab.research.google.com/github/")
    assert lib.REPO_URL.replace("https://github.com/", "") in lib.COLAB_BASE


def test_readme_lists_every_notebook_with_its_badge():
    readme = (paths.ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README's table of contents lacks {path.name}"
        assert f"{lib.COLAB_BASE}notebooks/{path.name}" in readme, f"README lacks the Colab link of {path.name}"
