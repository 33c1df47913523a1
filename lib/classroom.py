"""Classroom tooling: student versions of the notebooks, and grading of submitted notebooks.

    python -m lib.classroom student [--only 01 03] [--output student/]
    python -m lib.classroom grade SUBMISSIONS_DIR [--output graded/] [--timeout 300]

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
check cells are reported. ``grades.csv``, ``grades.md`` and ``grades.json`` and
the executed notebooks land in the output folder; a broken, crashing or endless
submission gets a line saying so, never a crash of the run.

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
import sys
import tempfile
import time
import warnings
from pathlib import Path

from lib import notebook as nbtools
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
    return (f"# write: {prefix} {node.name}({ast.unparse(node.args)}): ...{hint}\n"
            f"{node.name} = None  # your answer (a function)")


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
            raise ValueError(f"{where}: expected {text!r} at the start of a line (solution regions are top-level "
                             f"code). Received: {line!r}")
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
        raise ValueError(f"{where} is tagged 'solution' but has no {BEGIN!r} ... {END!r} region. "
                         f"Expected the answer between the two marker lines.")
    return regions


def stub_cell_source(source: str, where: str = "this cell") -> str:
    """A solution cell's source with every solution region replaced by its stub."""
    lines = source.splitlines()
    out, pos = [], 0
    for begin, end in solution_regions(source, where):
        out.extend(lines[pos:begin])
        try:
            out.append(stub_region("\n".join(lines[begin + 1:end])))
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
    text = (f"> **Student version** of `{name}`: the solutions are removed. Each exercise at the end has a cell "
            f"marked `{YOUR_CODE}` - replace the `None` answers there with your own code, then run the check cell "
            f"below it: it says what is right or wrong. Keep the check cells as they are; they are graded.")
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
            raise ValueError(f"{name} cell {i}: expected a code cell to be tagged 'solution'. "
                             f"Received a {cell.get('cell_type')} cell.")
        where = f"{name} cell {i} ({'exercise ' + keys[i] if i in keys else 'no check cell follows'})"
        cell["source"] = stub_cell_source(_source(cell), where)
    out["cells"].insert(1 if out["cells"] else 0, student_note(name))
    out["metadata"]["cnn_course"] = {"notebook": Path(name).stem, "version": "student", "ref": lib.COURSE_REF}
    return out


def build_students(only: list[str] | None = None, output: str | Path = "student") -> list[Path]:
    """Write the student version of every notebook (or those in ``only``) into ``output``."""
    from lib import runner

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

@dataclasses.dataclass
class Grade:
    student: str
    file: str
    notebook: str = ""
    status: str = "ok"  # ok, crashed, timeout, kernel died, broken, unknown notebook, not graded
    exercises: dict = dataclasses.field(default_factory=dict)  # key -> {"status", "title", "message"}
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
        return f"{self.correct}/{self.total}" if self.total else "0/0"

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
    return [_source(c).strip() for c in nb["cells"]
            if c.get("cell_type") == "code" and ("check" in _tags(c) or _CHECK_CALL.search(_source(c)))]


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
        "import importlib as _g_importlib, json as _g_json, sys as _g_sys\n"
        "for _g_name in [m for m in list(_g_sys.modules) if m == 'lib.exercises' or m.startswith('lib.exercises.')]:\n"
        "    del _g_sys.modules[_g_name]\n"
        "_g_exercises = _g_importlib.import_module('lib.exercises')\n"
        f"_g_results = _g_exercises.grade({number!r}, dict(globals()))\n"
        f"with open({str(result_file)!r}, 'w') as _g_file:\n"
        "    _g_json.dump([{'key': r.key, 'title': r.title, 'status': r.status, 'message': r.message}\n"
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


def grade_submission(path: Path, root: Path, output_dir: Path, timeout: float = DEFAULT_TIMEOUT,
                     grader_timeout: float = GRADER_TIMEOUT) -> Grade:
    """Execute and grade one submitted notebook; every failure becomes a status and a note."""
    import nbformat

    rel = path.relative_to(root)
    start = time.perf_counter()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
            raise ValueError("a JSON file but not a notebook (no list of cells)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids are added, not a reason to fail
            nb = nbformat.reads(json.dumps(raw), as_version=4)
            _, normal = nbformat.validator.normalize(nb)
            nb = nbformat.from_dict(normal)
            nbformat.validate(nb)
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
        grade.notes.append(f"grading failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}")
    if not grade.exercises:
        _fill_unanswered(grade, "not graded: " + (grade.notes[-1] if grade.notes else "no verdicts"))
    grade.seconds = time.perf_counter() - start
    return grade


def _fill_unanswered(grade: Grade, message: str) -> None:
    if not grade.notebook:
        return
    from lib import exercises

    for ex in exercises.exercises_of(grade.notebook.split("_")[0]):
        grade.exercises[ex.key] = {"status": "error", "title": ex.title, "message": message}


def _execute_and_grade(nb, grade: Grade, stem: str, out_path: Path, timeout: float, grader_timeout: float) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from lib import runner

    env = runner.kernel_environment()
    env["MPLBACKEND"] = "Agg"
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # find the course's python3 kernelspec first
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        tmp = Path(tmp)
        (tmp / "cwd").mkdir()
        # like papermill: a cell after the parameters cell sends the notebook's results to a scratch folder
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)]
        injected = nbformat.v4.new_code_cell(f"OUTPUT_DIR = {str(tmp / 'out')!r}")
        injected.metadata["tags"] = ["injected-parameters"]
        injected_at = tagged[0] + 1 if tagged else 0
        nb.cells.insert(injected_at, injected)
        result_file = tmp / f"verdicts-{os.urandom(8).hex()}.json"
        grader = nbformat.v4.new_code_cell(_grader_source(stem, result_file))
        grader.metadata["tags"] = ["grader"]
        error_reply = {"ename": "Timeout", "evalue": "the grading time limit was reached", "traceback": []}
        client = NotebookClient(nb, kernel_name="python3", timeout=int(timeout), allow_errors=True,
                                interrupt_on_timeout=True, error_on_timeout=error_reply,
                                resources={"metadata": {"path": str(tmp / "cwd")}})
        deadline = time.monotonic() + timeout
        errors, skipped = [], 0
        try:
            with client.setup_kernel(env=env, cwd=str(tmp / "cwd")):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        skipped += 1
                        continue
                    client.timeout = max(1, math.ceil(left))
                    client.execute_cell(cell, index)
                    error = _error_of(cell)
                    if error:  # named as in the submission: its index there and its first line
                        first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
                        errors.append((index - (index > injected_at), f"{error} (cell starting {first!r})"))
                nb.cells.append(grader)
                client.timeout = int(grader_timeout)
                client.execute_cell(grader, len(nb.cells) - 1)
        except DeadKernelError:
            grade.status = "kernel died"
            grade.notes.append("the kernel died (out of memory, or the code ended the process); "
                               "answers could not be graded")
        finally:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(out_path))
        timed_out = [i for i, e in errors if e.startswith("Timeout:")]
        crashed = [(i, e) for i, e in errors if not e.startswith("Timeout:")]
        if timed_out or skipped:
            grade.status = "timeout"
            where = f" in cell {timed_out[0]}" if timed_out else ""
            grade.notes.append(f"timed out after {timeout:g} s{where}; {skipped} later cell(s) not run; "
                               f"graded what ran")
        if crashed:
            if grade.status == "ok":
                grade.status = "crashed"
            first = crashed[0]
            more = f" (and {len(crashed) - 1} more cell(s))" if len(crashed) > 1 else ""
            grade.notes.append(f"cell {first[0]} raised {first[1][:240]}{more}; the other cells still ran")
        if result_file.exists():
            for item in json.loads(result_file.read_text()):
                grade.exercises[item["key"]] = {k: item[k] for k in ("status", "title", "message")}
        elif grade.status != "kernel died":
            grade.notes.append(f"the grading cell did not finish ({_error_of(grader) or 'no verdicts written'})")


def find_submissions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def write_tables(grades: list[Grade], output_dir: Path) -> dict[str, Path]:
    """Write ``grades.csv``, ``grades.md`` and ``grades.json`` into ``output_dir``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    header = ["student", "file", "notebook", "score", "correct", "total", "status", "exercises", "notes"]
    rows = [[g.student, g.file, g.notebook, g.score, g.correct, g.total, g.status, g.exercise_line(),
             "; ".join(g.notes)] for g in grades]
    with open(output_dir / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["# Grades", "", "| " + " | ".join(header[:4] + header[6:]) + " |",
             "|" + "---|" * (len(header) - 2)]
    for row in rows:
        lines.append("| " + " | ".join(cell(v) for v in row[:4] + row[6:]) + " |")
    lines += ["", "## What was not correct", ""]
    for g in grades:
        wrong = [(k, v) for k, v in g.exercises.items() if v["status"] != "correct"]
        if wrong:
            lines.append(f"**{cell(g.student)}** (`{cell(g.file)}`):")
            lines.extend(f"- {k} {cell(v['title'])}: {v['status']} - {cell(v['message'])}" for k, v in wrong)
            lines.append("")
    (output_dir / "grades.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = [{**dataclasses.asdict(g), "score": g.score, "correct": g.correct, "total": g.total} for g in grades]
    (output_dir / "grades.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return {name: output_dir / f"grades.{name}" for name in ("csv", "md", "json")}


def grade_folder(submissions: str | Path, output: str | Path = "graded", timeout: float = DEFAULT_TIMEOUT,
                 grader_timeout: float = GRADER_TIMEOUT, verbose: bool = True) -> list[Grade]:
    """Grade every ``*.ipynb`` under ``submissions``; write the tables and executed notebooks to ``output``."""
    root = Path(submissions).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"Expected a folder of submitted notebooks. Received: submissions={str(submissions)!r}")
    output_dir = paths.resolve(output)
    found = find_submissions(root)
    grades = []
    for i, path in enumerate(found, 1):
        if verbose:
            print(f"[{i}/{len(found)}] {path.relative_to(root)} ...", end=" ", flush=True)
        grade = grade_submission(path, root, output_dir, timeout, grader_timeout)
        grades.append(grade)
        if verbose:
            print(f"{grade.score} {grade.status} ({grade.seconds:.0f} s)", flush=True)
    write_tables(grades, output_dir)
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.classroom", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("student", help="build the student versions of the notebooks")
    st.add_argument("--only", nargs="+", help="notebook numbers or names (default: all)")
    st.add_argument("--output", default="student", help="folder to write them to (default: student/)")
    gr = sub.add_parser("grade", help="execute and grade a folder of submitted notebooks")
    gr.add_argument("submissions", help="folder of submitted .ipynb files (subfolders per student are fine)")
    gr.add_argument("--output", default="graded", help="folder for grades.csv/.md/.json and executed notebooks")
    gr.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"seconds of student code per notebook (default {DEFAULT_TIMEOUT})")
    args = parser.parse_args(argv)
    try:
        if args.command == "student":
            written = build_students(args.only, args.output)
            for path in written:
                print(f"student version -> {path}")
            return 0
        grades = grade_folder(args.submissions, args.output, args.timeout)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = paths.resolve(args.output)
    print(f"{len(grades)} submission(s) graded -> {out / 'grades.md'} and grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
