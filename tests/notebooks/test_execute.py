"""Execute every notebook with its default parameters and check its results against floors.

Each notebook runs once, by papermill, in a fresh kernel, from an empty working
directory, with a time limit; a failing cell, a dead kernel or a timeout fails
the test. Then the numbers it recorded must meet ``floors/<notebook>.json`` and
its solutions must pass its exercise checks.

The notebooks run on the Keras backend of the test run (TensorFlow, the course's
default), and again on JAX (``test_notebook_runs_on_jax``) with ``-m jax_extra``
(those in ``JAX_BY_DEFAULT`` in every test run; none today: each costs as much
again, the test command must stay under 20 minutes on 2 cores, and what the
notebooks do on JAX is covered by ``lib``'s own tests on JAX, the second pass of
``python3 course.py test``). Same floors, same checks: a number that only holds on one backend is
not a result. ``-m jax_extra`` also runs them on JAX as on a machine without
TensorFlow (``test_notebook_runs_on_jax_without_tensorflow``), where cells that
are TensorFlow by nature must say they are skipped.
"""

import json

import pytest

from harness import floors, runner
from lib import paths, report

NOTEBOOKS = paths.notebook_paths()
TIMEOUT = 420  # seconds; defaults are meant to take about one minute
#: Notebooks executed on JAX by every test run (the others run on JAX with -m jax_extra). Empty: lib's tests run on
#: JAX in every test run, and one notebook more on JAX cost the test command about two of its 20 minutes on 2 cores.
#: `python3 course.py test -m jax_extra` runs all twelve on JAX (and on JAX as on a machine without TensorFlow).
JAX_BY_DEFAULT: set[str] = set()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_defaults_and_meets_floors(path, tmp_path):
    _run_and_check(path, tmp_path)


def _jax_cases():
    for nb in NOTEBOOKS:
        marks = [pytest.mark.notebook] + ([] if nb.stem in JAX_BY_DEFAULT else [pytest.mark.jax_extra])
        yield pytest.param(nb, id=nb.stem, marks=marks)


@pytest.mark.parametrize("path", list(_jax_cases()))
def test_notebook_runs_on_jax(path, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the kernel inherits it; the Setup cell only sets a default
    _run_and_check(path, tmp_path)
    record = report.load(tmp_path / "out" / f"{path.stem}{report.SUFFIX}")
    assert record["backend"] == "jax", f"{path.name} ran on {record['backend']}, not on JAX"


#: Notebooks that need TensorFlow installed whatever the backend: 06 teaches tf.data input pipelines.
NEED_TENSORFLOW = {"06_data_augmentation"}
#: The kernel's start-up file for a machine without TensorFlow (a JAX-only GPU box): `import tensorflow` fails.
NO_TENSORFLOW_STARTUP = """\
import sys


class _NoTensorFlow:  # as if TensorFlow were not installed: every `import tensorflow...` fails, nothing is cached
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorflow_datasets"):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None


sys.meta_path.insert(0, _NoTensorFlow())
"""


@pytest.mark.jax_extra
@pytest.mark.parametrize(
    "path",
    [p for p in NOTEBOOKS if p.stem not in NEED_TENSORFLOW],
    ids=[p.stem for p in NOTEBOOKS if p.stem not in NEED_TENSORFLOW],
)
def test_notebook_runs_on_jax_without_tensorflow(path, tmp_path, monkeypatch):
    """Cells that are TensorFlow by nature say they are skipped; everything else runs (floors aside: the
    skipped cells record nothing)."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00_no_tensorflow.py").write_text(NO_TENSORFLOW_STARTUP)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    _run_and_check(path, tmp_path, with_floors=False)


def _run_and_check(path, tmp_path, with_floors=True):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    run = runner.run_notebook(path, tmp_path / "out", timeout=TIMEOUT, cwd=workdir)
    assert run.status == "ok", f"{path.name} {run.status} after {run.seconds:.0f} s:\n{run.error}"
    if with_floors:
        failures = floors.check_floors(run.results, floors.load(path.stem))
        assert not failures, f"{path.name} results miss their floors:\n" + "\n".join(failures)
    # the notebook's own solutions pass every check it runs
    nb = json.loads(path.read_text())
    checks = sum("check" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
    assert checks >= 3, f"{path.name} has {checks} exercise check cells; expected 3-6"
    assert run.results.get("exercises_total") == checks, (
        f"{path.name} ran {run.results.get('exercises_total')} checks of its {checks} check cells"
    )
    assert run.results.get("exercises_correct") == checks, (
        f"{path.name}: only {run.results.get('exercises_correct')} of {checks} solutions pass their checks"
    )
    return run
