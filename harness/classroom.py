"""Classroom tooling: student versions of the notebooks, and grading of submitted notebooks.

    python -m harness.classroom student [--only 01 03] [--output student/]
    python -m harness.classroom grade SUBMISSIONS_DIR [--output graded/] [--timeout 300] [--jobs 4]

(``python3 course.py student ...`` and ``python3 course.py grade ...`` run these in the
course environment.)

**Student versions.** In every code cell tagged ``solution``, each region between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes ``# YOUR CODE HERE`` and one
``name = None  # your answer`` line per name the region assigns at top level
(functions too, after a comment with their signature, so every check reports
"not answered yet"; imports are kept). Everything else is kept as it
is; outputs are stripped and a Markdown note says that this is the student
version. A solution cell without markers is an error that names the cell.

**Grading.** Each submitted notebook is recognised by its metadata (student
versions carry ``metadata.cnn_course.notebook``), its file name or its check
cells, executed in a fresh ``python3`` kernel (cells that raise are recorded and
the rest still runs; the student's cells share one time budget per notebook),
and then graded by a cell the grader appends: it imports the check modules
afresh and calls :func:`lib.exercises.grade` on the kernel's variables, so the
verdict does not depend on the student's own check cells. Edited or removed
check cells are reported. Each exercise earns its points (``@exercise(...,
points=...)``, default 1), all or nothing, or part of them where its check
gives partial credit (``parts=``). ``--jobs N`` grades N submissions at once,
each in its own kernel. ``grades.csv`` (with a column of points per exercise),
``grades.md``, ``grades.json``, a feedback file per student
(``feedback/<student>.md``: every exercise with its points, message and hint)
and the executed notebooks land in the output folder; a broken, crashing or
endless submission gets a line saying so, never a crash of the run.

**Otter-grader.** :mod:`harness.otter` writes the notebooks in otter-grader's
assignment format (``python -m harness.otter``), for ``otter assign`` and Gradescope.

Introduced in notebook 01's exercises (the README's "For teachers" explains the workflow).
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from harness import notebooks as nbtools
from lib import paths

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
YOUR_CODE = "# YOUR CODE HERE"
STUDENT_NOTE_TAG = "student-note"
DEFAULT_TIMEOUT = 300  # seconds of student code per notebook
GRADER_TIMEOUT = 120  # seconds for the appended grading cell
_CHECK_CALL = re.compile(r"""lib\.exercises\.check\(\s*["'](\d+)\.(\d+)["']""")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", []) or []


# --- student versions -----------------------------------------------------------------------


class _Names(ast.NodeVisitor):
    """Names bound at the top level of a region (not inside functions, classes, lambdas, comprehensions)."""

    def __init__(self):
        self.names: list[str] = []

    def _add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store):
            self._add(node.id)

    def visit_FunctionDef(self, node):
        self._add(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):  # comprehension variables are local to the comprehension...
        for gen in node.generators:  # ...but walrus targets inside them are not
            for sub in ast.walk(gen):
                if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                    self._add(sub.target.id)

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp


def _function_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    doc = (ast.get_docstring(node) or "").strip().splitlines()
    hint = f"  - {doc[0]}" if doc else ""
    return (
        f"# write: {prefix} {node.name}({ast.unparse(node.args)}): ...{hint}\n"
        f"{node.name} = None  # your answer (a function)"
    )


def stub_region(code: str) -> str:
    """The student's stub for one solution region: ``# YOUR CODE HERE`` and ``name = None`` lines.

    Imports are kept. Every name bound at top level (assignments, tuple targets,
    augmented and annotated assignments, loop and ``with`` targets, functions,
    classes) becomes ``name = None  # your answer``, so the check says "not answered
    yet" and code after the region can test ``if name is not None``; a function's
    line follows a comment with its signature (and its docstring's first line).

    Introduced in notebook 01's exercises (the student versions).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise ValueError(f"Expected Python code between the solution markers. Received a syntax error: {err}") from None
    out, stubbed = [YOUR_CODE], set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(ast.get_source_segment(code, node) or ast.unparse(node))
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name not in stubbed:
                out.append(_function_stub(node))
                stubbed.add(node.name)
            continue
        finder = _Names()
        finder.visit(node)
        for name in finder.names:
            if name not in stubbed:
                out.append(f"{name} = None  # your answer")
                stubbed.add(name)
    return "\n".join(out)


def stub_names(code: str) -> list[str]:
    """The names a solution region's stub defines (answer variables and functions), in order."""
    names = []
    for line in stub_region(code).splitlines():
        match = re.match(r"^(\w+) = None  # your answer", line)
        if match:
            names.append(match.group(1))
    return names


def solution_regions(source: str, where: str = "this cell") -> list[tuple[int, int]]:
    """Line ranges ``(begin, end)`` (the marker lines' indices) of the solution regions of a cell."""
    regions, begin = [], None
    for i, line in enumerate(source.splitlines()):
        text = line.strip()
        if text not in (BEGIN, END):
            continue
        if line != text:
            raise ValueError(
                f"{where}: expected {text!r} at the start of a line (solution regions are top-level "
                f"code). Received: {line!r}"
            )
        if text == BEGIN:
            if begin is not None:
                raise ValueError(f"{where}: expected {END!r} before the next {BEGIN!r} (line {i + 1}).")
            begin = i
        else:
            if begin is None:
                raise ValueError(f"{where}: expected {BEGIN!r} before {END!r} (line {i + 1}).")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise ValueError(f"{where}: expected {END!r} after {BEGIN!r} (line {begin + 1}).")
    if not regions:
        raise ValueError(
            f"{where} is tagged 'solution' but has no {BEGIN!r} ... {END!r} region. "
            f"Expected the answer between the two marker lines."
        )
    return regions


def stub_cell_source(source: str, where: str = "this cell") -> str:
    """A solution cell's source with every solution region replaced by its stub."""
    lines = source.splitlines()
    out, pos = [], 0
    for begin, end in solution_regions(source, where):
        out.extend(lines[pos:begin])
        try:
            out.append(stub_region("\n".join(lines[begin + 1 : end])))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        pos = end + 1
    out.extend(lines[pos:])
    text = "\n".join(out)
    return text + "\n" if source.endswith("\n") else text


def _exercise_keys(cells: list[dict]) -> dict[int, str]:
    """For each solution cell index, the key of the next check cell ("01.3")."""
    keys, pending = {}, []
    for i, cell in enumerate(cells):
        if "solution" in _tags(cell):
            pending.append(i)
        match = _CHECK_CALL.search(_source(cell)) if cell.get("cell_type") == "code" else None
        if match:
            for j in pending:
                keys[j] = f"{match.group(1)}.{match.group(2)}"
            pending = []
    return keys


def student_note(name: str) -> dict:
    text = (
        f"> **Student version** of `{name}`: the solutions are removed. Each exercise at the end has a cell "
        f"marked `{YOUR_CODE}` - replace the `None` answers there with your own code, then run the check cell "
        f"below it: it says what is right or wrong. Keep the check cells as they are; they are graded."
    )
    return {"cell_type": "markdown", "id": "student-note", "metadata": {"tags": [STUDENT_NOTE_TAG]}, "source": text}


def student_notebook(nb: dict, name: str) -> dict:
    """The student version of notebook ``nb`` (a dict, left unchanged); ``name`` is its file name."""
    import lib

    out = nbtools.strip(copy.deepcopy(nb))
    keys = _exercise_keys(out["cells"])
    for i, cell in enumerate(out["cells"]):
        if "solution" not in _tags(cell):
            continue
        if cell.get("cell_type") != "code":
            raise ValueError(
                f"{name} cell {i}: expected a code cell to be tagged 'solution'. "
                f"Received a {cell.get('cell_type')} cell."
            )
        where = f"{name} cell {i} ({'exercise ' + keys[i] if i in keys else 'no check cell follows'})"
        cell["source"] = stub_cell_source(_source(cell), where)
    out["cells"].insert(1 if out["cells"] else 0, student_note(name))
    out["metadata"]["cnn_course"] = {"notebook": Path(name).stem, "version": "student", "ref": lib.COURSE_REF}
    return out


def build_students(only: list[str] | None = None, output: str | Path = "student") -> list[Path]:
    """Write the student version of every notebook (or those in ``only``) into ``output``."""
    from harness import runner

    out_dir = paths.resolve(output)
    notebooks = runner.select(only)
    built = []
    for path in notebooks:  # check every notebook before writing any
        built.append((path, student_notebook(json.loads(path.read_text()), path.name)))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in built:
        target = out_dir / path.name
        nbtools.write(nb, target)
        written.append(target)
    return written


# --- grading --------------------------------------------------------------------------------


def _points_of(verdict: dict) -> float:
    return float(verdict.get("points", 1.0 if verdict.get("status") == "correct" else 0.0))


def _fmt_points(value: float) -> str:
    return f"{value:g}"


@dataclasses.dataclass
class Grade:
    student: str
    file: str
    notebook: str = ""
    status: str = "ok"  # ok, crashed, timeout, kernel died, broken, unknown notebook, not graded
    # key -> {"status", "title", "message", "hint", "points", "possible", "parts": [{"name", "status", ...}]}
    exercises: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def correct(self) -> int:
        return sum(v["status"] == "correct" for v in self.exercises.values())

    @property
    def total(self) -> int:
        return len(self.exercises)

    @property
    def score(self) -> str:
        """Exercises fully correct out of all: "4/5"."""
        return f"{self.correct}/{self.total}" if self.total else "0/0"

    @property
    def points(self) -> float:
        """Points earned: each exercise's points, parts of an exercise that gives partial credit included."""
        return sum(_points_of(v) for v in self.exercises.values())

    @property
    def possible(self) -> float:
        return sum(float(v.get("possible", 1.0)) for v in self.exercises.values())

    def exercise_line(self) -> str:
        return " ".join(f"{key}:{v['status']}" for key, v in self.exercises.items())


def _known_notebooks() -> dict[str, Path]:
    return {p.stem: p for p in paths.notebook_paths()}


def identify(nb: dict | None, filename: str) -> str | None:
    """The course notebook (stem) a submission is: from its metadata, its file name, or its check cells."""
    known = _known_notebooks()
    by_number = {stem.split("_")[0]: stem for stem in known}
    if isinstance(nb, dict):
        meta = nb.get("metadata", {}).get("cnn_course", {})
        if isinstance(meta, dict) and meta.get("notebook") in known:
            return meta["notebook"]
    for stem in sorted(known, key=len, reverse=True):
        if stem in filename:
            return stem
    match = re.match(r"^(\d{2})(?!\d)", Path(filename).name)
    if match and match.group(1) in by_number:
        return by_number[match.group(1)]
    if isinstance(nb, dict):
        for cell in nb.get("cells", []):
            found = _CHECK_CALL.search(_source(cell)) if isinstance(cell, dict) else None
            if found and found.group(1).zfill(2) in by_number:
                return by_number[found.group(1).zfill(2)]
    return None


def _check_sources(nb: dict) -> list[str]:
    return [
        _source(c).strip()
        for c in nb["cells"]
        if c.get("cell_type") == "code" and ("check" in _tags(c) or _CHECK_CALL.search(_source(c)))
    ]


def tamper_notes(submission: dict, original: dict) -> list[str]:
    """What differs between the submission's check cells and the original's (empty: untouched)."""
    want, got = _check_sources(original), _check_sources(submission)
    notes = []
    missing = [s for s in want if s not in got]
    extra = [s for s in got if s not in want]
    for src in missing:
        match = _CHECK_CALL.search(src)
        what = f"{match.group(1)}.{match.group(2)}" if match else src.splitlines()[0][:40]
        notes.append(f"tampered: the check cell of exercise {what} was edited or removed")
    if extra:
        notes.append(f"tampered: {len(extra)} check cell(s) not in the original (edited or added)")
    return notes


def _grader_source(notebook: str, result_file: Path) -> str:
    number = notebook.split("_")[0]
    return (
        "# grader: fresh check modules, the kernel's variables, verdicts to a file\n"
        "import dataclasses as _g_dataclasses, importlib as _g_importlib, json as _g_json, sys as _g_sys\n"
        "for _g_name in [m for m in list(_g_sys.modules) if m == 'lib.exercises' or m.startswith('lib.exercises.')]:\n"
        "    del _g_sys.modules[_g_name]\n"
        "_g_exercises = _g_importlib.import_module('lib.exercises')\n"
        f"_g_results = _g_exercises.grade({number!r}, dict(globals()))\n"
        f"with open({str(result_file)!r}, 'w') as _g_file:\n"
        "    _g_json.dump([{'key': r.key, 'title': r.title, 'status': r.status, 'message': r.message,\n"
        "                  'hint': r.hint, 'points': r.points, 'possible': r.possible,\n"
        "                  'parts': [_g_dataclasses.asdict(p) | {'hint': p.hint} for p in r.parts]}\n"
        "                 for r in _g_results], _g_file)\n"
    )


def _error_of(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def _student_of(rel: Path, stem: str | None) -> str:
    if len(rel.parts) > 1:
        return rel.parent.as_posix()
    name = rel.stem
    if stem and stem in name:
        name = name.replace(stem, "")
    name = re.sub(r"^\d{2}(?!\d)", "", name) if not stem else name
    return name.strip(" _-.()") or rel.stem


def _read_submission(path: Path):
    """The submitted notebook as nbformat reads it (normalized, validated); raises if it is not one."""
    import nbformat

    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("a JSON file but not a notebook (no list of cells)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing cell ids are added, not a reason to fail
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        _, normal = nbformat.validator.normalize(nb)
        nb = nbformat.from_dict(normal)
        nbformat.validate(nb)
    return raw, nb


def grade_submission(
    path: Path, root: Path, output_dir: Path, timeout: float = DEFAULT_TIMEOUT, grader_timeout: float = GRADER_TIMEOUT
) -> Grade:
    """Execute and grade one submitted notebook; every failure becomes a status and a note."""
    rel = path.relative_to(root)
    start = time.perf_counter()
    try:
        raw, nb = _read_submission(path)
    except Exception as err:
        stem = identify(None, path.name)
        grade = Grade(_student_of(rel, stem), rel.as_posix(), stem or "", status="broken")
        grade.notes.append(f"not a readable notebook ({type(err).__name__}: {str(err).splitlines()[0][:160]})")
        _fill_unanswered(grade, "not graded: the file could not be read")
        return grade
    stem = identify(raw, path.name)
    grade = Grade(_student_of(rel, stem), rel.as_posix(), stem or "")
    if stem is None:
        grade.status = "unknown notebook"
        grade.notes.append("could not tell which course notebook this is (metadata, file name or check cells)")
        return grade
    original = json.loads(_known_notebooks()[stem].read_text())
    grade.notes.extend(tamper_notes(raw, original))
    try:
        _execute_and_grade(nb, grade, stem, output_dir / rel, timeout, grader_timeout)
    except Exception as err:  # the grading run goes on whatever one submission does
        grade.status = "not graded"
        grade.notes.append(
            f"grading failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        )
    if not grade.exercises:
        _fill_unanswered(grade, "not graded: " + (grade.notes[-1] if grade.notes else "no verdicts"))
    grade.seconds = time.perf_counter() - start
    return grade


def _fill_unanswered(grade: Grade, message: str) -> None:
    if not grade.notebook:
        return
    from lib import exercises

    for ex in exercises.exercises_of(grade.notebook.split("_")[0]):
        grade.exercises[ex.key] = {
            "status": "error",
            "title": ex.title,
            "message": message,
            "hint": "",
            "points": 0.0,
            "possible": ex.points,
            "parts": [],
        }


@dataclasses.dataclass
class _Run:
    """What happened when a submission's cells ran."""

    errors: list = dataclasses.field(default_factory=list)  # (cell index in the submission, "Error: text")
    skipped: int = 0  # cells not run: the time budget was spent
    died: bool = False  # the kernel died


def _inject_output_dir(nb, output_dir: Path) -> int:
    """Like papermill: a cell after the parameters cell sends the notebook's results to ``output_dir``.

    Returns the index the cell was inserted at.
    """
    import nbformat

    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)]
    injected = nbformat.v4.new_code_cell(f"OUTPUT_DIR = {str(output_dir)!r}")
    injected.metadata["tags"] = ["injected-parameters"]
    at = tagged[0] + 1 if tagged else 0
    nb.cells.insert(at, injected)
    return at


def _kernel_manager():
    """A manager for a fresh ``python3`` kernel that finds this environment's kernelspec first.

    The course's kernelspec (``python3 course.py`` installs it into the environment) is looked up in
    this interpreter's ``share/jupyter/kernels`` before Jupyter's usual folders, without changing this
    process's environment.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager()
    ours = str(Path(sys.prefix) / "share" / "jupyter" / "kernels")
    specs.kernel_dirs = [ours, *[d for d in specs.kernel_dirs if d != ours]]
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def _run_cells(client, nb, injected_at: int, timeout: float, run: _Run) -> None:
    """Execute the notebook's code cells in order, all of them within ``timeout`` seconds; record what raised."""
    deadline = time.monotonic() + timeout
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            run.skipped += 1
            continue
        client.timeout = max(1, math.ceil(left))
        client.execute_cell(cell, index)
        error = _error_of(cell)
        if error:  # named as in the submission: its index there and its first line
            first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
            run.errors.append((index - (index > injected_at), f"{error} (cell starting {first!r})"))


def _execute(nb, grader, injected_at: int, workdir: Path, timeout: float, grader_timeout: float) -> _Run:
    """Run the submission in a fresh kernel (cells that raise are recorded), then the grader cell after it."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from harness import runner

    env = {**runner.kernel_environment(), "MPLBACKEND": "Agg"}
    error_reply = {"ename": "Timeout", "evalue": "the grading time limit was reached", "traceback": []}
    client = NotebookClient(
        nb,
        km=_kernel_manager(),
        timeout=int(timeout),
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout=error_reply,
        resources={"metadata": {"path": str(workdir)}},
    )
    run = _Run()
    try:
        # the kernel process's own stdout/stderr (its start-up warnings) would interleave with the grading log
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with client.setup_kernel(env=env, cwd=str(workdir), cleanup_kc=True, **quiet):
            _run_cells(client, nb, injected_at, timeout, run)
            nb.cells.append(grader)
            client.timeout = int(grader_timeout)
            client.execute_cell(grader, len(nb.cells) - 1)
    except DeadKernelError:
        run.died = True
    return run


def _record_run(grade: Grade, run: _Run, timeout: float) -> None:
    """The grade's status and notes from what happened when the cells ran."""
    if run.died:
        grade.status = "kernel died"
        grade.notes.append(
            "the kernel died (out of memory, or the code ended the process); answers could not be graded"
        )
    timed_out = [i for i, e in run.errors if e.startswith("Timeout:")]
    crashed = [(i, e) for i, e in run.errors if not e.startswith("Timeout:")]
    if timed_out or run.skipped:
        grade.status = "timeout"
        where = f" in cell {timed_out[0]}" if timed_out else ""
        grade.notes.append(
            f"timed out after {timeout:g} s{where}; {run.skipped} later cell(s) not run; graded what ran"
        )
    if crashed:
        if grade.status == "ok":
            grade.status = "crashed"
        first = crashed[0]
        more = f" (and {len(crashed) - 1} more cell(s))" if len(crashed) > 1 else ""
        grade.notes.append(f"cell {first[0]} raised {first[1][:240]}{more}; the other cells still ran")


def _read_verdicts(grade: Grade, result_file: Path, grader) -> None:
    """The grader cell's verdicts into ``grade.exercises`` (or a note saying why there are none)."""
    if result_file.exists():
        for item in json.loads(result_file.read_text()):
            grade.exercises[item.pop("key")] = item
    elif grade.status != "kernel died":
        grade.notes.append(f"the grading cell did not finish ({_error_of(grader) or 'no verdicts written'})")


def _execute_and_grade(nb, grade: Grade, stem: str, out_path: Path, timeout: float, grader_timeout: float) -> None:
    """Execute submission ``nb`` of notebook ``stem`` and grade it: status, notes and verdicts go on ``grade``.

    The student's cells run in a fresh kernel in a scratch folder with ``timeout`` seconds in all; the
    notebook's results go to the scratch folder too. Then a grader cell (``grader_timeout`` seconds)
    checks the answers with check modules loaded afresh. The executed notebook is written to ``out_path``.
    """
    import nbformat

    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        scratch = Path(tmp)
        (scratch / "cwd").mkdir()
        injected_at = _inject_output_dir(nb, scratch / "out")
        result_file = scratch / f"verdicts-{os.urandom(8).hex()}.json"
        grader = nbformat.v4.new_code_cell(_grader_source(stem, result_file))
        grader.metadata["tags"] = ["grader"]
        try:
            run = _execute(nb, grader, injected_at, scratch / "cwd", timeout, grader_timeout)
        finally:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(out_path))
        _record_run(grade, run, timeout)
        _read_verdicts(grade, result_file, grader)


def find_submissions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# --- grades tables and feedback -------------------------------------------------------------


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_tables(grades: list[Grade], output_dir: Path) -> dict[str, Path]:
    """Write ``grades.csv``, ``grades.md`` and ``grades.json`` into ``output_dir``.

    One line per submission: the exercises fully correct (``score``), the points earned out of the
    points possible (partial credit included), the status and notes; ``grades.csv`` also has one
    column of points per exercise, for a gradebook.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    keys = sorted({key for g in grades for key in g.exercises})
    header = ["student", "file", "notebook", "score", "correct", "total", "status", "points", "possible"]
    header += ["exercises", "notes", *keys]
    rows = []
    for g in grades:
        row = [g.student, g.file, g.notebook, g.score, g.correct, g.total, g.status]
        row += [_fmt_points(g.points), _fmt_points(g.possible), g.exercise_line(), "; ".join(g.notes)]
        row += [_fmt_points(_points_of(g.exercises[k])) if k in g.exercises else "" for k in keys]
        rows.append(row)
    with open(output_dir / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)

    shown = ["student", "file", "notebook", "score", "status", "points", "exercises", "notes"]
    lines = ["# Grades", "", "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for g in grades:
        points = f"{_fmt_points(g.points)}/{_fmt_points(g.possible)}"
        values = [g.student, g.file, g.notebook, g.score, g.status, points, g.exercise_line(), "; ".join(g.notes)]
        lines.append("| " + " | ".join(_md(v) for v in values) + " |")
    lines += ["", "## What was not correct", ""]
    for g in grades:
        wrong = [(k, v) for k, v in g.exercises.items() if v["status"] != "correct"]
        if wrong:
            lines.append(f"**{_md(g.student)}** (`{_md(g.file)}`):")
            for k, v in wrong:
                earned = f"{_fmt_points(_points_of(v))}/{_fmt_points(float(v.get('possible', 1.0)))}"
                lines.append(f"- {k} {_md(v['title'])}: {v['status']} - {_md(v['message'])} ({earned} points)")
            lines.append("")
    (output_dir / "grades.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = [
        {**dataclasses.asdict(g), "score": g.score, "correct": g.correct, "total": g.total}
        | {"points": g.points, "possible": g.possible}
        for g in grades
    ]
    (output_dir / "grades.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return {name: output_dir / f"grades.{name}" for name in ("csv", "md", "json")}


def feedback_markdown(student: str, grades: list[Grade]) -> str:
    """One student's feedback: for each submission, every exercise with its points, message and hint."""
    lines = [f"# Feedback for {student}", ""]
    for g in grades:
        lines += [f"## {g.notebook or 'unknown notebook'} (`{g.file}`)", ""]
        lines.append(
            f"**{_fmt_points(g.points)} of {_fmt_points(g.possible)} points**; "
            f"{g.score} exercises fully correct; status: {g.status}."
        )
        lines += [""] + [f"- {note}" for note in g.notes] + ([""] if g.notes else [])
        if g.exercises:
            lines += ["| exercise | points | verdict |", "|---|---|---|"]
            for key, v in g.exercises.items():
                earned = f"{_fmt_points(_points_of(v))}/{_fmt_points(float(v.get('possible', 1.0)))}"
                lines.append(f"| {key} {_md(v['title'])} | {earned} | {v['status']} |")
            lines.append("")
        for key, v in g.exercises.items():
            earned = f"{_fmt_points(_points_of(v))} of {_fmt_points(float(v.get('possible', 1.0)))}"
            lines += [f"### {key} {v['title']}: {v['status']}, {earned} points", ""]
            parts = v.get("parts") or []
            if parts:
                for p in parts:
                    text = p["message"].partition(" Hint: ")[0]
                    lines.append(
                        f"- {p['name']} ({_fmt_points(p['points'])} of {_fmt_points(p['possible'])}): "
                        f"{p['status']} - {text}"
                    )
                lines.append("")
            else:
                lines += [v["message"].partition(" Hint: ")[0], ""]
            hint = v.get("hint") or v["message"].partition(" Hint: ")[2]
            if hint and v["status"] != "correct":
                lines += [f"**Hint:** {hint}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _file_name(student: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w.-]+", "_", student).strip("._") or "student"
    name, i = base, 2
    while name.lower() in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name.lower())
    return name + ".md"


def write_feedback(grades: list[Grade], output_dir: Path) -> dict[str, Path]:
    """Write ``feedback/<student>.md`` for each student (all their submissions); returns student -> path."""
    folder = output_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Grade]] = {}
    for g in grades:
        by_student.setdefault(g.student, []).append(g)
    written, taken = {}, set()
    for student, theirs in by_student.items():
        path = folder / _file_name(student, taken)
        path.write_text(feedback_markdown(student, theirs), encoding="utf-8")
        written[student] = path
    return written


# --- grading a folder -----------------------------------------------------------------------


def grade_folder(
    submissions: str | Path,
    output: str | Path = "graded",
    timeout: float = DEFAULT_TIMEOUT,
    grader_timeout: float = GRADER_TIMEOUT,
    verbose: bool = True,
    jobs: int = 1,
) -> list[Grade]:
    """Grade every ``*.ipynb`` under ``submissions``; write the tables, feedback and executed notebooks to ``output``.

    ``jobs`` submissions are graded at once, each in its own kernel.
    """
    root = Path(submissions).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"Expected a folder of submitted notebooks. Received: submissions={str(submissions)!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"Expected jobs to be a positive integer. Received: jobs={jobs!r}")
    output_dir = paths.resolve(output)
    found = find_submissions(root)
    done = 0

    def report(path: Path, grade: Grade) -> None:
        nonlocal done
        done += 1
        if verbose:
            print(
                f"[{done}/{len(found)}] {path.relative_to(root)}: {grade.score} "
                f"({_fmt_points(grade.points)}/{_fmt_points(grade.possible)} points) "
                f"{grade.status} ({grade.seconds:.0f} s)",
                flush=True,
            )

    args = [(path, root, output_dir, timeout, grader_timeout) for path in found]
    if jobs == 1 or len(found) < 2:
        grades = []
        for arg in args:
            grades.append(grade_submission(*arg))
            report(arg[0], grades[-1])
    else:  # threads: each waits on its own kernel process, which does the work
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(min(jobs, len(found)), thread_name_prefix="grade") as pool:
            futures = {pool.submit(grade_submission, *arg): i for i, arg in enumerate(args)}
            results: dict[int, Grade] = {}
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                report(found[i], results[i])
        grades = [results[i] for i in range(len(found))]
    write_tables(grades, output_dir)
    write_feedback(grades, output_dir)
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.classroom", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("student", help="build the student versions of the notebooks")
    st.add_argument("--only", nargs="+", help="notebook numbers or names (default: all)")
    st.add_argument("--output", default="student", help="folder to write them to (default: student/)")
    gr = sub.add_parser("grade", help="execute and grade a folder of submitted notebooks")
    gr.add_argument("submissions", help="folder of submitted .ipynb files (subfolders per student are fine)")
    gr.add_argument("--output", default="graded", help="folder for grades.csv/.md/.json, feedback/ and notebooks")
    gr.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds of student code per notebook (default {DEFAULT_TIMEOUT})",
    )
    gr.add_argument("--jobs", "-j", type=int, default=1, help="submissions graded at once (default 1)")
    args = parser.parse_args(argv)
    try:
        if args.command == "student":
            written = build_students(args.only, args.output)
            for path in written:
                print(f"student version -> {path}")
            return 0
        grades = grade_folder(args.submissions, args.output, args.timeout, jobs=args.jobs)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = paths.resolve(args.output)
    print(f"{len(grades)} submission(s) graded -> {out / 'grades.md'}, grades.csv and feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
