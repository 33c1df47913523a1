"""harness.classroom without kernels: stubs, student notebooks, telling submissions apart, tamper notes, tables.

Executing and grading real submissions is in tests/notebooks/test_student.py.
"""

import csv
import json

import pytest

from harness import classroom
from harness import notebooks as nbtools
from lib import exercises, paths


def cells_of(script):
    return nbtools.script_to_notebook(script)["cells"]


SCRIPT = """# %% [markdown]
# # Title
# %% tags=["parameters"]
SEED = 0
OUTPUT_DIR = "results/interactive"
# %% [markdown]
# ## Exercises
# %% tags=["solution"]
before = 1
# BEGIN SOLUTION
answer_1 = before + 1
# END SOLUTION
print(answer_1)
# %% tags=["check"]
lib.exercises.check("01.1", size_1=answer_1, params_1=answer_1)
"""


# --- stubs --------------------------------------------------------------------------------------


def test_stub_names_every_kind_of_top_level_binding():
    code = (
        "import numpy as np\n"
        "def f(x, *rest, k=2, **kw):\n    '''Pool it backward.\n\n    More.'''\n    inner = 1\n    return x\n"
        "a, (b, *c) = 1, (2, 3)\n"
        "d += 1\n"
        "e: int = 3\n"
        "for i in range(3):\n    t = [j for j in range(i)]\n    if (w := i):\n        pass\n"
        "class K:\n    inside = 1\n"
        "with open('x') as fh:\n    pass\n"
        "lookup['key'] = 1\n"
        "g = lambda q: q\n"
    )
    stub = classroom.stub_region(code)
    assert stub.splitlines()[0] == classroom.YOUR_CODE
    assert "import numpy as np" in stub  # imports are kept
    assert classroom.stub_names(code) == ["f", "a", "b", "c", "d", "e", "i", "t", "w", "K", "fh", "g"]
    assert "# write: def f(x, *rest, k=2, **kw): ...  - Pool it backward." in stub
    for hidden in ("inner", "inside", "j", "q", "lookup", "return x", "before"):
        assert hidden not in stub.replace("# write", "")  # nothing of the solution leaks
    namespace = {}
    exec(compile(stub, "<stub>", "exec"), namespace)  # the stub runs
    assert all(namespace[name] is None for name in classroom.stub_names(code))


def test_stub_cell_keeps_code_outside_the_markers_byte_for_byte():
    source = (
        "x = 1  # given\n# BEGIN SOLUTION\ny = x * 2\n# END SOLUTION\nprint(y)\n\n"
        "# BEGIN SOLUTION\nz = 3\n# END SOLUTION"
    )
    assert classroom.stub_cell_source(source) == (
        "x = 1  # given\n# YOUR CODE HERE\ny = None  # your answer\nprint(y)\n\n"
        "# YOUR CODE HERE\nz = None  # your answer"
    )


@pytest.mark.parametrize(
    "source, message",
    [
        ("y = 1\n", "has no '# BEGIN SOLUTION' ... '# END SOLUTION' region"),
        ("# BEGIN SOLUTION\ny = 1\n", "expected '# END SOLUTION' after"),
        ("y = 1\n# END SOLUTION\n", "expected '# BEGIN SOLUTION' before"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\ny = 1\n# END SOLUTION\n", "before the next"),
        ("if True:\n    # BEGIN SOLUTION\n    y = 1\n    # END SOLUTION\n", "at the start of a line"),
        ("# BEGIN SOLUTION\ny = = 1\n# END SOLUTION\n", "syntax error"),
    ],
)
def test_bad_solution_cells_name_the_cell(source, message):
    with pytest.raises(ValueError, match="Exercise cell 7") as info:
        classroom.stub_cell_source(source, where="Exercise cell 7")
    assert message in str(info.value)


def test_student_notebook_names_the_cell_without_markers():
    nb = nbtools.script_to_notebook(SCRIPT.replace("# BEGIN SOLUTION\n", "").replace("# END SOLUTION\n", ""))
    with pytest.raises(ValueError, match=r"01_x.ipynb cell 3 \(exercise 01.1\).*no '# BEGIN SOLUTION'"):
        classroom.student_notebook(nb, "01_x.ipynb")


def test_student_notebook_changes_only_solution_cells_and_adds_a_note():
    nb = nbtools.script_to_notebook(SCRIPT)
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    original = json.loads(json.dumps(nb))
    student = classroom.student_notebook(nb, "01_x.ipynb")
    assert nb == original  # the input is not modified
    assert student["cells"][1]["metadata"]["tags"] == [classroom.STUDENT_NOTE_TAG]
    assert "Student version" in student["cells"][1]["source"]
    kept = [c for c in student["cells"] if classroom.STUDENT_NOTE_TAG not in c["metadata"].get("tags", [])]
    assert len(kept) == len(original["cells"])
    for old, new in zip(original["cells"], kept):
        if "solution" in old["metadata"].get("tags", []):
            assert new["source"] == "before = 1\n# YOUR CODE HERE\nanswer_1 = None  # your answer\nprint(answer_1)"
        elif old["cell_type"] == "code":
            assert new == {**old, "outputs": []}
        else:
            assert new == old
    assert student["metadata"]["cnn_course"]["notebook"] == "01_x"
    assert student["metadata"]["cnn_course"]["version"] == "student"


def test_build_students_writes_the_chosen_notebooks(tmp_path):
    written = classroom.build_students(["01"], tmp_path / "student")
    assert [p.name for p in written] == [paths.notebook_paths()[0].name]
    nb = json.loads(written[0].read_text())
    assert not any(classroom.BEGIN in nbtools_source(c) for c in nb["cells"])
    with pytest.raises(ValueError, match="No notebook matches"):
        classroom.build_students(["99"], tmp_path / "other")


def nbtools_source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_cli_student_and_bad_folder(tmp_path, capsys):
    assert classroom.main(["student", "--only", "01", "--output", str(tmp_path / "s")]) == 0
    assert "student version ->" in capsys.readouterr().out
    assert classroom.main(["grade", str(tmp_path / "missing")]) == 2
    assert "Expected a folder of submitted notebooks" in capsys.readouterr().err


# --- telling submissions apart ------------------------------------------------------------------


def test_identify_by_metadata_file_name_or_check_cells():
    first = paths.notebook_paths()[0].stem  # 01_convolution
    assert classroom.identify({"metadata": {"cnn_course": {"notebook": first}}, "cells": []}, "x.ipynb") == first
    assert classroom.identify(None, f"alice_{first} (1).ipynb") == first
    assert classroom.identify(None, "01-mine.ipynb") == first
    nb = {"metadata": {}, "cells": [{"cell_type": "code", "source": 'lib.exercises.check("1.2", a=a)'}]}
    assert classroom.identify(nb, "homework.ipynb") == first
    assert classroom.identify({"metadata": {}, "cells": []}, "homework.ipynb") is None


def test_student_name_from_folder_or_file_name():
    from pathlib import Path

    assert classroom._student_of(Path("alice/01_convolution.ipynb"), "01_convolution") == "alice"
    assert classroom._student_of(Path("bob_01_convolution.ipynb"), "01_convolution") == "bob"
    assert classroom._student_of(Path("01_convolution.ipynb"), "01_convolution") == "01_convolution"


def test_tamper_notes_name_edited_removed_and_added_check_cells():
    original = {"cells": cells_of(SCRIPT)}
    assert classroom.tamper_notes(original, original) == []
    edited = json.loads(json.dumps(original))
    edited["cells"][-1]["source"] = "print('all correct')"  # tag kept, call gone
    notes = classroom.tamper_notes(edited, original)
    assert notes == [
        "tampered: the check cell of exercise 01.1 was edited or removed",
        "tampered: 1 check cell(s) not in the original (edited or added)",
    ]
    removed = {"cells": original["cells"][:-1]}
    assert classroom.tamper_notes(removed, original) == [notes[0]]


def test_tables_have_one_line_per_submission(tmp_path):
    good = classroom.Grade(
        "alice",
        "alice/01.ipynb",
        "01_convolution",
        exercises={
            "01.1": {"status": "correct", "title": "T", "message": "correct."},
            "01.2": {"status": "wrong", "title": "U", "message": "size: expected 55 | 56"},
        },
    )
    broken = classroom.Grade("bob", "bob.ipynb", "", status="broken", notes=["not a readable notebook"])
    files = classroom.write_tables([good, broken], tmp_path)
    rows = list(csv.DictReader(open(files["csv"])))
    assert [(r["student"], r["score"], r["status"]) for r in rows] == [("alice", "1/2", "ok"), ("bob", "0/0", "broken")]
    assert rows[0]["exercises"] == "01.1:correct 01.2:wrong"
    text = files["md"].read_text()
    assert "| alice | alice/01.ipynb | 01_convolution | 1/2 | ok |" in text
    assert "01.2 U: wrong - size: expected 55 \\| 56" in text
    assert json.loads(files["json"].read_text())[1]["notes"] == ["not a readable notebook"]


# --- the exercise framework's side of it --------------------------------------------------------


def test_a_function_left_as_not_implemented_counts_as_unanswered():
    @exercises.exercise("98.1", "Write a function")
    def _check(func_1):
        exercises.expect_equal("func_1(2)", func_1(2), 4)

    def func_1(x):
        raise NotImplementedError("write func_1")

    result = exercises.evaluate("98.1", func_1=func_1)
    assert result.status == "unanswered" and "write func_1" in result.message
    assert exercises.evaluate("98.1", func_1=None).status == "unanswered"
    assert exercises.evaluate("98.1", func_1=lambda x: 2 * x).status == "correct"
    assert "expected 4, received 3" in exercises.evaluate("98.1", func_1=lambda x: x + 1).message


# --- points and partial credit ------------------------------------------------------------------


@exercises.exercise("98.2", "Worth three", points=3)
def _worth_three(x_2):
    exercises.expect_equal("x_2", x_2, 1, hint="one.")


@exercises.exercise("98.3", "In parts", parts={"the shape": 1, "the values": 2})
def _in_parts(y_3):
    exercises.expect_true(y_3 != "stop", "y_3: the check stops here. Hint: not 'stop'.")
    with exercises.part("the shape"):
        exercises.expect_equal("len(y_3)", len(y_3), 2, hint="two numbers.")
    with exercises.part("the values"):
        exercises.expect_equal("y_3[:2]", list(y_3)[:2], [1, 2])
    return "correct: both."


def test_an_exercise_is_worth_its_points_all_or_nothing():
    right, wrong = exercises.evaluate("98.2", x_2=1), exercises.evaluate("98.2", x_2=2)
    assert (right.status, right.points, right.possible) == ("correct", 3, 3)
    assert (wrong.status, wrong.points, wrong.possible, wrong.hint) == ("wrong", 0, 3, "one.")
    assert exercises.evaluate("98.2", x_2=None).points == 0
    assert exercises.evaluate("98.1", func_1=lambda x: 2 * x).points == 1  # the default: 1 point


@pytest.mark.parametrize(
    "answer, status, points, parts",
    [
        ([1, 2], "correct", 3, ["correct", "correct"]),
        ([2, 1], "partial", 1, ["correct", "wrong"]),
        ([1, 2, 3], "partial", 2, ["wrong", "correct"]),  # a Wrong costs its part only: the next part still runs
        ([5], "wrong", 0, ["wrong", "wrong"]),
        (7, "wrong", 0, ["error", "error"]),  # len(7) raises inside the parts: each part's error
        ("stop", "wrong", 0, ["not checked", "not checked"]),  # raised outside the parts: nothing reached
    ],
)
def test_parts_give_partial_credit(answer, status, points, parts):
    result = exercises.evaluate("98.3", y_3=answer)
    assert (result.status, result.points, result.possible) == (status, points, 3)
    assert [p.status for p in result.parts] == parts
    assert [p.possible for p in result.parts] == [1, 2]
    if status == "partial":
        assert result.message.startswith(f"{points} of 3 points - the shape: ")
        assert str(result).startswith("[partly correct] Exercise 98.3 (In parts):")


def test_part_hints_and_a_stopped_check_say_why():
    assert exercises.evaluate("98.3", y_3=[1, 2, 3]).hint == "two numbers."
    stopped = exercises.evaluate("98.3", y_3="stop")
    assert "The check stopped: y_3: the check stops here." in stopped.message and stopped.hint == "not 'stop'."


def test_verify_is_true_or_raises_with_the_message():
    assert exercises.verify("98.3", y_3=[1, 2]) is True
    assert exercises.verify("98.3", part="the values", y_3=[1, 2, 3]) is True  # that part is right
    with pytest.raises(exercises.Wrong, match=r"part 'the shape': len\(y_3\): expected 2, received 3"):
        exercises.verify("98.3", part="the shape", y_3=[1, 2, 3])
    with pytest.raises(exercises.Wrong, match="not answered yet"):
        exercises.verify("98.3", part="the shape", y_3=None)
    with pytest.raises(exercises.Wrong, match=r"\[wrong\] Exercise 98.2"):
        exercises.verify("98.2", x_2=5)
    with pytest.raises(KeyError, match="declares the parts"):
        exercises.verify("98.3", part="the colour", y_3=[1, 2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"points": 0}, "points to be a positive number"),
        ({"points": 2, "parts": {"a": 1}}, "equal the sum of the parts"),
        ({"parts": {"a": 1, "": 1}}, "distinct, non-empty part names"),
        ({"parts": ["a", "a"]}, "distinct, non-empty part names"),
        ({"parts": {"a": -1}}, r"parts\['a'\] to be a positive number"),
    ],
)
def test_bad_points_and_parts_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        exercises.exercise("98.9", "Bad", **kwargs)


def test_a_part_outside_a_running_check_lets_errors_through():
    with pytest.raises(exercises.Wrong):
        _in_parts([1, 2, 3])


def test_grader_cell_records_points_and_parts():
    text = classroom._grader_source("01_convolution", "/tmp/verdicts.json")
    compile(text, "grader", "exec")
    assert "'points': r.points" in text and "'parts':" in text and "'hint': r.hint" in text


def graded_with_points():
    parts = [
        {"name": "the shape", "status": "correct", "points": 1.0, "possible": 1.0, "message": "correct."},
        {"name": "the values", "status": "wrong", "points": 0.0, "possible": 2.0, "message": "y: no. Hint: 1, 2."},
    ]
    return classroom.Grade(
        "alice/section 1",
        "alice/section 1/98.ipynb",
        "98_x",
        exercises={
            "98.2": {
                "status": "correct",
                "title": "Worth three",
                "message": "correct.",
                "points": 3.0,
                "possible": 3.0,
            },
            "98.3": {
                "status": "partial",
                "title": "In parts",
                "message": "1 of 3 points - ...",
                "hint": "1, 2.",
                "points": 1.0,
                "possible": 3.0,
                "parts": parts,
            },
        },
    )


def test_tables_show_points_and_a_column_per_exercise(tmp_path):
    grade = graded_with_points()
    assert (grade.points, grade.possible, grade.score) == (4, 6, "1/2")
    files = classroom.write_tables([grade], tmp_path)
    (row,) = list(csv.DictReader(open(files["csv"])))
    assert (row["points"], row["possible"], row["98.2"], row["98.3"]) == ("4", "6", "3", "1")
    assert "| 1/2 | ok | 4/6 |" in files["md"].read_text()
    assert "98.3 In parts: partial - 1 of 3 points - ... (1/3 points)" in files["md"].read_text()
    assert json.loads(files["json"].read_text())[0]["points"] == 4


def test_feedback_file_per_student_lists_every_exercise(tmp_path):
    other = classroom.Grade("alice_section_1", "x.ipynb", "98_x", status="broken", notes=["not a readable notebook"])
    written = classroom.write_feedback([graded_with_points(), other], tmp_path)
    assert [p.name for p in written.values()] == ["alice_section_1.md", "alice_section_1_2.md"]  # no clash
    text = written["alice/section 1"].read_text()
    assert text.startswith("# Feedback for alice/section 1\n")
    assert "**4 of 6 points**; 1/2 exercises fully correct; status: ok." in text
    assert "| 98.2 Worth three | 3/3 | correct |" in text and "| 98.3 In parts | 1/3 | partial |" in text
    assert "- the values (0 of 2): wrong - y: no." in text and "**Hint:** 1, 2." in text
    assert "not a readable notebook" in written["alice_section_1"].read_text()


def test_jobs_must_be_a_positive_integer(tmp_path):
    with pytest.raises(ValueError, match="jobs to be a positive integer"):
        classroom.grade_folder(tmp_path, tmp_path / "out", jobs=0)
