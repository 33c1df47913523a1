"""Student versions of every notebook, and grading submissions of them.

CI time is tight (each notebook already runs once in test_execute.py), so:

- every notebook: its student version is checked statically - it differs from the
  course notebook only in the solution cells (plus the note), every stub cell
  compiles, every check cell's answers are stubbed, and the code around the stubs
  runs with the answers None (executed in-process, every other name a stand-in);
- notebook 01, the full student version: executed end to end (inside the grading
  run below, by nbclient as papermill does; with less training data and fewer
  timing repeats) - nothing raises, every check says "not answered yet";
- grading: good, wrong (with an edited check cell), crashing, endless and broken
  submissions made from notebook 01 - the executed ones trimmed to Setup, the
  parameters, the imports and the exercises, so that each takes seconds - two at a
  time (``jobs=2``), with points, the tables and a feedback file per student.
"""

import ast
import csv
import json

import pytest

from harness import classroom
from lib import paths

NOTEBOOKS = paths.notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]
FIRST = NOTEBOOKS[0]  # 01_convolution


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def student_of(path):
    return classroom.student_notebook(json.loads(path.read_text()), path.name)


class _StandIn:
    """Any name the exercise cells take from earlier cells: every operation works and gives a stand-in."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter(())

    def __format__(self, spec):
        return "0"

    def __bool__(self):
        return True

    def __len__(self):
        return 0

    def __index__(self):
        return 0

    def _op(self, *args):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _op
    __floordiv__ = __rfloordiv__ = __pow__ = __rpow__ = __mod__ = __neg__ = __abs__ = __matmul__ = _op
    __lt__ = __le__ = __gt__ = __ge__ = _op


class _Namespace(dict):
    def __missing__(self, name):
        return _StandIn()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_version_differs_only_in_solution_cells(path):
    original = json.loads(path.read_text())
    student = student_of(path)
    notes = [c for c in student["cells"] if classroom.STUDENT_NOTE_TAG in tags(c)]
    assert len(notes) == 1 and student["cells"][1] is notes[0], "one student note, right after the title"
    kept = [c for c in student["cells"] if c is not notes[0]]
    assert len(kept) == len(original["cells"])
    for i, (old, new) in enumerate(zip(original["cells"], kept)):
        if "solution" in tags(old):
            assert new["metadata"] == old["metadata"]
            assert classroom.BEGIN not in source(new) and classroom.YOUR_CODE in source(new)
            compile(source(new), f"{path.name} cell {i}", "exec")  # every stub cell compiles
        else:
            assert new == old, f"{path.name} cell {i} changed in the student version"


def bound_names(code):
    finder = classroom._Names()
    for node in ast.parse(code).body:
        finder.visit(node)
    return set(finder.names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_gets_its_answers_from_stubs(path):
    """A check reads answers the student version stubs (at least one), or data that ordinary cells give."""
    cells = json.loads(path.read_text())["cells"]
    given = set().union(
        *(
            bound_names(source(c))
            for c in cells
            if c["cell_type"] == "code"
            and not {"solution", "check"} & set(tags(c))
            and not source(c).lstrip().startswith("%")
        )
    )
    stubbed, problems = set(), []
    for i, cell in enumerate(cells):
        if "solution" in tags(cell):
            text = source(cell).splitlines()
            for begin, end in classroom.solution_regions(source(cell), f"cell {i}"):
                stubbed.update(classroom.stub_names("\n".join(text[begin + 1 : end])))
        if "check" in tags(cell):
            calls = [
                n
                for n in ast.walk(ast.parse(source(cell)))
                if isinstance(n, ast.Call) and ast.unparse(n.func) == "lib.exercises.check"
            ]
            assert len(calls) == 1, f"cell {i}: expected one lib.exercises.check(...) call"
            names = {n.id for kw in calls[0].keywords for n in ast.walk(kw.value) if isinstance(n, ast.Name)}
            problems += [f"cell {i}: {name} is defined nowhere" for name in sorted(names - stubbed - given)]
            if not names & stubbed:
                problems.append(f"cell {i}: none of its answers ({', '.join(sorted(names))}) is in a solution region")
            stubbed = set()
    assert not problems, "the student version's checks would fail or hand out answers: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_around_the_stubs_runs_with_the_answers_none(path):
    """Each student solution cell runs in-process: stubs are None, earlier cells' names are stand-ins.

    Only errors that come from a None answer count (their message names NoneType); the
    stand-ins cannot reproduce every real value, so other errors are not this test's business.
    """
    failures = []
    for i, cell in enumerate(student_of(path)["cells"]):
        if "solution" not in tags(cell):
            continue
        try:
            exec(
                compile(source(cell), f"{path.name} cell {i}", "exec"),
                {"__builtins__": __builtins__},
                _Namespace(print=lambda *a, **k: None),
            )
        except Exception as err:  # noqa: BLE001 - reported below when it is about None
            if "NoneType" in str(err):
                failures.append(f"cell {i}: {type(err).__name__}: {err}")
    assert not failures, (
        f"{path.name}: code after '# END SOLUTION' must run when the answers are None "
        f"(the student version): " + "; ".join(failures)
    )


# --- grading submissions of notebook 01 ----------------------------------------------------------


def trimmed(nb):
    """Setup, parameters and the imports cell, then the exercises: the same answers and checks in seconds."""
    cells = nb["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in source(c))
    context = {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": 'rng = np.random.default_rng(SEED)\nresults["trimmed_for_the_test"] = 1',
    }
    return {**nb, "cells": cells[: code[2] + 1] + [context] + cells[start:]}


#: The untouched student version runs end to end with less data and fewer repeats (its training still passes the
#: notebook's own asserts): every cell runs as a student's would, in about 30 s instead of 50 on 2 cores.
SMALLER = {"TRAIN_SIZE": 4000, "VAL_SIZE": 500, "TEST_SIZE": 1000, "EPOCHS": 2, "TIMING_REPEATS": 3}


def smaller(path):
    """The notebook at ``path`` with :data:`SMALLER` injected after its parameters cell, as ``papermill -p`` does."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    return parameterize_notebook(load_notebook_node(str(path)), SMALLER, kernel_name="python3", language="python")


def answer(nb, key, code):
    """Put ``code`` in place of the stubs of exercise ``key`` (the solution cell before its check cell)."""
    cells = nb["cells"]
    check = next(i for i, c in enumerate(cells) if f'check("{key}"' in source(c))
    cell = next(c for c in reversed(cells[:check]) if "solution" in tags(c))
    lines = source(cell).splitlines()
    kept = [line for line in lines if line != classroom.YOUR_CODE and "  # your answer" not in line]  # stubs go
    cell["source"] = code + "\n" + "\n".join(kept)


def solution_code(key):
    original = json.loads(FIRST.read_text())
    check = next(i for i, c in enumerate(original["cells"]) if f'check("{key}"' in source(c))
    cell = next(c for c in reversed(original["cells"][:check]) if "solution" in tags(c))
    text = source(cell).splitlines()
    ((begin, end),) = classroom.solution_regions(source(cell))
    return "\n".join(text[begin + 1 : end])


def write(folder, name, nb):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    student = student_of(FIRST)
    keys = [f"01.{k}" for k in range(1, 6)]
    write(subs, f"dave/{FIRST.name}", student)
    write(subs, f"dave/{FIRST.name}", smaller(subs / "dave" / FIRST.name))  # every cell, end to end
    good = trimmed(json.loads(json.dumps(student)))
    for key in keys:
        answer(good, key, solution_code(key))
    write(subs, "alice/homework.ipynb", good)  # named by its metadata only
    wrong = trimmed(json.loads(json.dumps(student)))
    answer(wrong, "01.1", "size_1 = (227 - 11) // 4 + 2\nparams_1 = 11 * 11 * 3 * 96 + 96")
    check_2 = next(c for c in wrong["cells"] if 'check("01.2"' in source(c))
    check_2["source"] = 'print("01.2 correct")'  # tampered: the grader still grades 01.2
    write(subs, f"bob/{FIRST.name}", wrong)
    crash = trimmed(json.loads(json.dumps(student)))
    for key in keys[:2]:
        answer(crash, key, solution_code(key))
    answer(crash, "01.3", 'raise RuntimeError("my code is not finished")')
    answer(crash, "01.5", solution_code("01.5"))
    write(subs, f"carol/{FIRST.name}", crash)
    (subs / "erin").mkdir()
    (subs / "erin" / FIRST.name).write_text('{"cells": [')  # broken JSON
    (subs / "frank").mkdir()
    (subs / "frank" / "01_notes.ipynb").write_text('{"not": "a notebook"}')
    out = tmp_path_factory.mktemp("graded")
    grades = classroom.grade_folder(subs, out, timeout=240, grader_timeout=120, verbose=False, jobs=2)
    return {g.student: g for g in grades}, out


@pytest.fixture(scope="module")
def endless(tmp_path_factory):
    subs = tmp_path_factory.mktemp("endless")
    nb = trimmed(student_of(FIRST))
    answer(nb, "01.1", solution_code("01.1"))
    answer(nb, "01.2", "while True:\n    pass")
    write(subs, f"gina/{FIRST.name}", nb)
    out = tmp_path_factory.mktemp("endless_graded")
    return classroom.grade_folder(subs, out, timeout=15, grader_timeout=120, verbose=False)[0], out


def statuses(grade):
    return [v["status"] for v in grade.exercises.values()]


@pytest.mark.notebook
@pytest.mark.xdist_group("classroom")
class TestGrading:
    def test_untouched_student_version_runs_and_nothing_is_answered(self, graded):
        grades, out = graded
        dave = grades["dave"]
        assert dave.status == "ok" and dave.notes == [], f"the student version of {FIRST.name}: {dave.notes}"
        assert statuses(dave) == ["unanswered"] * 5 and dave.score == "0/5"
        executed = json.loads((out / "dave" / FIRST.name).read_text())
        checks = [c for c in executed["cells"] if "check" in tags(c)]
        texts = [json.dumps(c["outputs"]) for c in checks]
        assert len(checks) == 5 and all("not answered yet" in t for t in texts), texts
        assert not any(o["output_type"] == "error" for c in executed["cells"] for o in c.get("outputs", []))

    def test_good_submission_scores_full_marks(self, graded):
        alice = graded[0]["alice"]
        assert alice.notebook == FIRST.stem  # from the metadata; the file is homework.ipynb
        assert alice.status == "ok" and alice.notes == [] and alice.score == "5/5", alice.exercises

    def test_wrong_answer_gets_the_helpful_message_and_tampering_is_reported(self, graded):
        grades, out = graded
        bob = grades["bob"]
        assert statuses(bob) == ["wrong", "unanswered", "unanswered", "unanswered", "unanswered"]
        assert "output size (one side): expected 55, received 56" in bob.exercises["01.1"]["message"]
        assert bob.notes[:2] == [
            "tampered: the check cell of exercise 01.2 was edited or removed",
            "tampered: 1 check cell(s) not in the original (edited or added)",
        ]
        executed = json.loads((out / "bob" / FIRST.name).read_text())
        shown = json.dumps(next(c for c in executed["cells"] if 'check("01.1"' in source(c))["outputs"])
        assert "[wrong]" in shown and "expected 55, received 56" in shown and "Hint:" in shown

    def test_crashing_cell_is_noted_and_the_other_answers_still_graded(self, graded):
        carol = graded[0]["carol"]
        assert carol.status == "crashed"
        assert statuses(carol) == ["correct", "correct", "unanswered", "unanswered", "correct"]
        assert any("raised RuntimeError: my code is not finished" in n for n in carol.notes), carol.notes

    def test_broken_files_get_a_line(self, graded):
        grades = graded[0]
        assert grades["erin"].status == "broken" and grades["erin"].notebook == FIRST.stem
        assert "not a readable notebook (JSONDecodeError" in grades["erin"].notes[0]
        assert grades["frank"].status == "broken" and "not a notebook" in grades["frank"].notes[0]

    def test_tables_list_every_submission(self, graded):
        out = graded[1]
        rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
        assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank"}
        assert rows["alice"]["score"] == "5/5" and rows["bob"]["exercises"].startswith("01.1:wrong 01.2:unanswered")
        md = (out / "grades.md").read_text()
        assert "| bob | bob/01_convolution.ipynb | 01_convolution | 0/5 |" in md
        assert "expected 55, received 56" in md

    def test_points_and_a_feedback_file_per_student(self, graded):
        grades, out = graded
        assert (grades["alice"].points, grades["alice"].possible) == (5, 5)
        assert (grades["bob"].points, grades["carol"].points, grades["erin"].points) == (0, 3, 0)
        rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
        assert (rows["carol"]["points"], rows["carol"]["possible"], rows["carol"]["01.3"]) == ("3", "5", "0")
        files = sorted(p.name for p in (out / "feedback").iterdir())
        assert files == ["alice.md", "bob.md", "carol.md", "dave.md", "erin.md", "frank.md"]
        alice = (out / "feedback" / "alice.md").read_text()
        assert "**5 of 5 points**" in alice and alice.count(": correct, 1 of 1 points") == 5
        bob = (out / "feedback" / "bob.md").read_text()
        assert "### 01.1 Output size and parameters: wrong, 0 of 1 points" in bob
        assert "expected 55, received 56" in bob and "**Hint:**" in bob
        assert "tampered: the check cell of exercise 01.2 was edited or removed" in bob

    def test_endless_loop_times_out_and_is_still_graded(self, endless):
        gina, out = endless
        assert gina.status == "timeout" and "timed out after 15 s" in gina.notes[0], gina.notes
        assert len(gina.exercises) == 5 and "correct" not in statuses(gina)[1:]
        assert gina.seconds < 15 + 120, "the time limit holds"
        assert (out / "gina" / FIRST.name).exists()
