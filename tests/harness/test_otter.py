"""The otter-grader export (harness.otter): otter's notebook format made from the same exercises and checks.

Offline, with the pinned otter-grader: the format of every notebook checked here; `otter assign` (no tests run)
builds the student notebook and the autograder zip of notebook 01 and of a notebook whose exercise gives
partial credit; the exported tests, run by otter's own test runner, give the check's points and messages.
With ``-m notebook``: `otter assign` also runs the tests against notebook 01's solutions (it executes the
notebook), and they all pass.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from harness import classroom, otter
from harness import notebooks as nbtools
from lib import exercises, paths

NOTEBOOKS = paths.notebook_paths()
OTTER = Path(sys.executable).parent / "otter"
pytestmark = pytest.mark.xdist_group("otter")  # one worker runs the module's `otter assign` fixtures, once


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def raw(cells, start):
    return [c for c in cells if c["cell_type"] == "raw" and source(c).startswith(start)]


def otter_assign(master: Path, dist: Path, run_tests: bool = False, timeout: int = 300):
    cmd = [str(OTTER), "assign", *([] if run_tests else ["--no-run-tests"]), master.name, str(dist)]
    return subprocess.run(cmd, cwd=master.parent, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_exports_in_otters_format(path):
    original = json.loads(path.read_text())
    cells = otter.otter_notebook(original, path.name)["cells"]
    config = yaml.safe_load(source(cells[0]))
    assert source(cells[0]).startswith("# ASSIGNMENT CONFIG") and cells[0]["cell_type"] == "raw"
    assert config["name"] == path.stem and config["files"] == ["lib", "data"] and config["generate"] is True
    registered = exercises.exercises_of(path.stem[:2])
    questions = [yaml.safe_load(source(c)) for c in raw(cells, "# BEGIN QUESTION")]
    assert [q["name"] for q in questions] == [otter.question_name(ex.key) for ex in registered]
    assert [q["points"] for q in questions] == [ex.points for ex in registered]
    for start, end in (("QUESTION", "QUESTION"), ("SOLUTION", "SOLUTION"), ("TESTS", "TESTS")):
        assert len(raw(cells, f"# BEGIN {start}")) == len(raw(cells, f"# END {end}")), start
    solutions = [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])]
    for cell in solutions:
        text = source(cell)
        assert text.count("# BEGIN SOLUTION NO PROMPT") == text.count("# BEGIN SOLUTION") > 0
        assert text.count("# BEGIN PROMPT") == text.count("# END PROMPT") == text.count("# END SOLUTION")
        compile(text, path.name, "exec")  # the autograder notebook runs it: the prompt is a string literal
    tests = [c for c in cells if c["cell_type"] == "code" and "lib.exercises.verify(" in source(c)]
    assert len(tests) == sum(max(1, len(ex.parts)) for ex in registered)
    assert all(c["outputs"][0]["data"]["text/plain"] == "True" for c in tests)
    kept = [c for c in cells if c["cell_type"] != "raw" and c not in solutions and c not in tests]
    stripped = [c for c in nbtools.strip(original)["cells"] if "solution" not in c.get("metadata", {}).get("tags", [])]
    words = [" ".join(source(c) for c in cells).split() for cells in (kept, stripped)]
    assert words[0] == words[1], "the other cells are unchanged (the Exercises heading split before the first prompt)"


def test_solution_cell_prompts_the_course_stub():
    cell = "x = 1\n# BEGIN SOLUTION\ny = x * 2\n# END SOLUTION\nprint(y)"
    assert otter.otter_solution_source(cell) == (
        'x = 1\n# BEGIN SOLUTION NO PROMPT\ny = x * 2\n# END SOLUTION\n""" # BEGIN PROMPT\n'
        '# YOUR CODE HERE\ny = None  # your answer\n"""; # END PROMPT\nprint(y)'
    )


def test_runtime_requirements_are_the_notebooks_pins():
    text = otter.runtime_requirements()
    names = {line.split("==")[0] for line in text.splitlines()}
    assert {"tensorflow", "keras", "numpy", "matplotlib"} <= names
    assert not names & {"pytest", "ruff", "jupyterlab", "otter-grader", "jax"}
    assert all("==" in line and "#" not in line for line in text.splitlines())


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """Notebook 01 exported and run through `otter assign --no-run-tests`."""
    out = tmp_path_factory.mktemp("otter")
    (master,) = otter.export(["01"], out)
    proc = otter_assign(master, master.parent / "dist")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return master, master.parent / "dist"


def test_export_folder_holds_what_otter_assign_needs(assigned):
    master, _ = assigned
    folder = master.parent
    assert (folder / "lib" / "exercises" / "__init__.py").exists() and (folder / "data" / "manifest.json").exists()
    assert not list(folder.joinpath("lib").rglob("__pycache__"))
    assert "tensorflow==" in (folder / "requirements.txt").read_text()
    assert "otter assign 01_convolution.ipynb dist" in (folder / "README.md").read_text()


def test_otter_student_notebook_has_no_solutions_and_the_course_stubs(assigned):
    master, dist = assigned
    student = json.loads((dist / "student" / master.name).read_text())
    text = "\n".join(source(c) for c in student["cells"])
    # the answers' assignments are gone from the exercise cells (the lesson above may share a line with them)
    exercise_lines = {
        line for c in student["cells"] if "solution" in c["metadata"].get("tags", []) for line in source(c).splitlines()
    }
    original = json.loads((paths.NOTEBOOKS / master.name).read_text())
    for cell in original["cells"]:
        if "solution" in cell["metadata"].get("tags", []):
            lines = source(cell).splitlines()
            for begin, end in classroom.solution_regions(source(cell)):
                answer = [line for line in lines[begin + 1 : end] if line.strip() and not line.startswith("#")]
                assert not any(line in exercise_lines for line in answer if "=" in line), answer
    ours = classroom.student_notebook(original, master.name)
    stubs = [source(c) for c in ours["cells"] if "solution" in c["metadata"].get("tags", [])]
    otters = [source(c) for c in student["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert otters == stubs, "otter's student version is the course's student version"
    assert "BEGIN" not in text and "grader.check(" in text and "otter.Notebook(" in text


def test_autograder_zip_has_a_test_per_exercise_and_lib(assigned):
    master, dist = assigned
    (zip_path,) = (dist / "autograder").glob("01_convolution-autograder_*.zip")
    names = zipfile.ZipFile(zip_path).namelist()
    keys = [ex.key for ex in exercises.exercises_of("01")]
    assert {f"tests/{otter.question_name(k)}.py" for k in keys} <= set(names)
    assert "files/lib/exercises/__init__.py" in names and "files/data/manifest.json" in names
    assert {"run_autograder", "setup.sh", "environment.yml"} <= set(names)
    environment = zipfile.ZipFile(zip_path).read("environment.yml").decode()
    assert "tensorflow==" in environment and "otter-grader" in environment  # ours and otter's requirements


# --- partial credit through otter ----------------------------------------------------------------------


@exercises.exercise("97.1", "Two parts", parts={"the size": 1, "the count": 2})
def _two_parts(size_1, count_1):
    with exercises.part("the size"):
        exercises.expect_equal("size_1", size_1, 4, hint="two times two.")
    with exercises.part("the count"):
        exercises.expect_equal("count_1", count_1, 7)


SYNTHETIC = """# %% [markdown]
# # A notebook with one exercise
# %% tags=["parameters"]
SEED = 0
# %% [markdown]
# ## Exercises
#
# **1. Two parts.** Set `size_1` and `count_1`.
# %% tags=["solution"]
# BEGIN SOLUTION
size_1 = 2 * 2
count_1 = 7
# END SOLUTION
# %% tags=["check"]
lib.exercises.check("97.1", size_1=size_1, count_1=count_1)
"""


@pytest.fixture(scope="module")
def partial_tests(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic") / "97_two_parts"
    folder.mkdir()
    master = folder / "97_two_parts.ipynb"
    nbtools.write(otter.otter_notebook(nbtools.script_to_notebook(SYNTHETIC), master.name), master)
    (folder / "lib").mkdir()
    (folder / "data").mkdir()
    (folder / "requirements.txt").write_text("")
    proc = otter_assign(master, folder / "dist")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (zip_path,) = (folder / "dist" / "autograder").glob("*.zip")
    test_file = folder / "q97_1.py"
    test_file.write_bytes(zipfile.ZipFile(zip_path).read("tests/q97_1.py"))
    return test_file


def run_otter_test(test_file, **answers):
    from otter.test_files import OKTestFile

    import lib

    test = OKTestFile.from_file(str(test_file))
    test.run({"lib": lib, **answers})
    return test


def test_parts_become_test_cases_with_their_points(partial_tests):
    test = run_otter_test(partial_tests, size_1=4, count_1=7)
    assert [tc.points for tc in test.test_cases] == [1, 2]
    assert test.possible == 3 and test.score == 3


@pytest.mark.parametrize("size, count, score", [(4, 0, 1), (5, 7, 2), (None, 7, 0)])
def test_otter_gives_the_partial_credit_of_the_check(partial_tests, size, count, score):
    test = run_otter_test(partial_tests, size_1=size, count_1=count)
    assert test.score == score
    failed = "\n".join(r.message for r in test.test_case_results if not r.passed)
    if size == 5:
        assert "size_1: expected 4, received 5. Hint: two times two." in failed
    if size is None:
        assert "not answered yet" in failed


# --- the export against the real solutions, as otter runs them -----------------------------------------


@pytest.mark.notebook
@pytest.mark.otter  # a minute of the test command's 20: opt in with `-m otter`
def test_otter_assign_runs_the_tests_on_the_solutions_and_they_pass(tmp_path):
    (master,) = otter.export(["01"], tmp_path)
    proc = otter_assign(master, master.parent / "dist", run_tests=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Some autograder tests failed" not in out, out[-4000:]
    shutil.rmtree(master.parent / "dist")


def test_cli(tmp_path, capsys):
    assert otter.main(["--only", "05", "--output", str(tmp_path)]) == 0
    assert "otter assignment ->" in capsys.readouterr().out
    assert (tmp_path / "05_regularization" / "05_regularization.ipynb").exists()
    assert otter.main(["--only", "99", "--output", str(tmp_path)]) == 2
    assert "No notebook matches" in capsys.readouterr().err
