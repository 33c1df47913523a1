"""Where the notebooks open: Colab (badges, the Setup cell's Colab branch) and JupyterLab's kernel.

Colab is simulated offline: the canonical Setup cell runs in a fresh Python with a
fake ``google.colab`` module, a fake ``git`` first on PATH that "clones" this
checkout's ``lib/``, a fake ``pip`` that records any call, and a temporary folder
standing in for ``/content`` (the cell's one hard-coded path, substituted here).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lib
from harness import notebooks as nbtools
from lib import paths

NOTEBOOKS = paths.notebook_paths()


def first_cell(path):
    cell = json.loads(path.read_text())["cells"][0]
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_colab_base_agrees_with_the_repository_and_the_ref():
    assert lib.REPO_URL.startswith("https://github.com/")
    repo = lib.REPO_URL.removeprefix("https://github.com/").removesuffix(".git")
    assert lib.COLAB_BASE == f"https://colab.research.google.com/github/{repo}/blob/{lib.COURSE_REF}/"
    assert f'COURSE_REPO = os.environ.get("CNN_COURSE_REPO", "{lib.REPO_URL}")' in nbtools.SETUP_CELL
    assert f'COURSE_REF = os.environ.get("CNN_COURSE_REF", "{lib.COURSE_REF}")' in nbtools.SETUP_CELL
    assert re.fullmatch(r"v\d+\.\d+(\.\d+)?", lib.COURSE_REF), "hosted notebooks fetch a release tag, not a branch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_badge_url_is_colab_base_plus_the_notebook_path(path):
    badges = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)\s]+)\)", first_cell(path))
    assert badges == [f"{lib.COLAB_BASE}notebooks/{path.name}"]


def test_readme_badges_point_at_existing_notebooks():
    readme = (paths.ROOT / "README.md").read_text()
    urls = re.findall(r"\((https://colab\.research\.google\.com/github/[^)\s]+)\)", readme)
    assert urls, "the README's notebook table has Colab badges"
    names = {p.name for p in NOTEBOOKS}
    for url in urls:
        assert url.startswith(f"{lib.COLAB_BASE}notebooks/"), url
        assert url.rsplit("/", 1)[1] in names, f"{url} names no notebook"


FAKE_GIT = """#!/bin/sh
# records its arguments; "clones" by copying the local checkout's lib/ and data/ into the last argument
echo "$@" >> "{log}"
for last; do :; done
mkdir -p "$last" && cp -R "{root}/lib" "$last/lib" && cp -R "{root}/data" "$last/data"
"""

FAILING_GIT = """#!/bin/sh
echo "$@" >> "{log}"
echo "fatal: unable to access the repository" >&2
exit 128
"""

FAKE_PIP = """#!/bin/sh
echo "$@" >> "{log}"
exit 1
"""


@pytest.fixture
def colab(tmp_path):
    modules = tmp_path / "modules" / "google" / "colab"
    modules.mkdir(parents=True)
    # no google/__init__.py: a namespace package, so the real google.protobuf stays importable
    (modules / "__init__.py").write_text("# stands in for Colab's google.colab\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("git", FAKE_GIT), ("pip", FAKE_PIP), ("pip3", FAKE_PIP)):
        exe = bin_dir / name
        exe.write_text(text.format(log=tmp_path / f"{name}.log", root=paths.ROOT))
        exe.chmod(0o755)
    content = tmp_path / "content"
    content.mkdir()
    return tmp_path


def test_setup_cell_in_colab_fetches_lib_at_the_pinned_ref_and_keeps_colabs_keras(colab):
    content = colab / "content"
    cell = nbtools.SETUP_CELL
    assert '"/content/cnn-course' in cell, "the Colab checkout folder (the one path substituted here)"
    cell = cell.replace('"/content/cnn-course', f'"{content}/cnn-course')
    program = textwrap.dedent(f"""
        import json, sys
        import google.colab
        cell = {cell!r}
        exec(cell)
        exec(cell)  # running Setup again (Colab's "run all" twice) neither clones again nor fails
        import keras
        print(json.dumps({{"lib": lib.__file__, "keras": keras.__file__, "colab": ENV["in_colab"],
                          "gpus": ENV.get("gpus")}}))
    """)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "KERAS_BACKEND")}
    env["PYTHONPATH"] = str(colab / "modules")
    env["PATH"] = os.pathsep.join((str(colab / "bin"), env.get("PATH", "")))
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=content, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(found["lib"]).resolve() == (content / "cnn-course" / "lib" / "__init__.py").resolve()
    assert found["colab"] is True
    assert str(content) not in found["keras"], "Keras is Colab's own, not one from the checkout"
    calls = (colab / "git.log").read_text().splitlines()
    assert calls == [f"clone --quiet --depth 1 --branch {lib.COURSE_REF} {lib.REPO_URL} {content}/cnn-course"]
    assert not (colab / "pip.log").exists() and not (colab / "pip3.log").exists(), "nothing is pip-installed"


# --- JupyterLab: `python3 course.py lab` opens the notebooks with the environment's own kernel -------


def _course_module():
    spec = importlib.util.spec_from_file_location("course_script", paths.ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lab_finds_the_python3_kernel_of_its_own_environment():
    course = _course_module()
    python = Path(sys.executable)
    env = course._env_for(python)  # what `course.py lab` runs JupyterLab with
    proc = subprocess.run(
        [str(python), "-m", "jupyter", "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    specs = json.loads(proc.stdout)["kernelspecs"]
    assert "python3" in specs, f"no python3 kernel; found {sorted(specs)}"
    prefix = Path(sys.prefix).resolve()
    resource = Path(specs["python3"]["resource_dir"])
    if not resource.is_absolute():
        resource = paths.ROOT / resource
    if prefix not in resource.resolve().parents:
        pytest.skip(f"this environment ({prefix}) has no kernelspec of its own (course.py installs one in .venv)")
    kernel_python = Path(specs["python3"]["spec"]["argv"][0])
    assert kernel_python.resolve().parent in (python.resolve().parent, Path(sys.prefix, "bin").resolve()), (
        f"the python3 kernel runs {kernel_python}, not this environment's {python}"
    )


def test_setup_cell_on_another_host_fetches_into_home_once(colab):
    """Kaggle, Binder, a JupyterHub, a notebook downloaded alone: no checkout around it, no google.colab."""
    home = colab / "home"
    home.mkdir()
    program = f"exec({nbtools.SETUP_CELL!r})\nexec({nbtools.SETUP_CELL!r})\nprint(lib.__file__)"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CNN_COURSE_ROOT")}
    env.update(HOME=str(home), PATH=os.pathsep.join((str(colab / "bin"), env.get("PATH", ""))))
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=colab / "content", env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(proc.stdout.split()[-1]).resolve() == (home / "cnn-course" / "lib" / "__init__.py").resolve()
    assert len((colab / "git.log").read_text().splitlines()) == 1, "fetched once, reused after"


def test_setup_cell_says_in_one_sentence_what_to_do_when_it_cannot_fetch(colab):
    failing = colab / "bin" / "git"
    failing.write_text(FAILING_GIT.format(log=colab / "git.log"))
    program = f"exec({nbtools.SETUP_CELL!r})"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CNN_COURSE_ROOT")}
    env.update(HOME=str(colab), PATH=os.pathsep.join((str(colab / "bin"), env.get("PATH", ""))))
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=colab / "content", env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: This notebook needs the course's `lib` package: run `git clone")
    assert f"--branch {lib.COURSE_REF} {lib.REPO_URL}" in last and last.count(". ") <= 1


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_setup_cell_prints_one_calm_line_and_finds_the_checkout_without_git(backend, colab):
    """No native start-up noise (absl, CUDA probing on a CPU machine) on stderr; one line of versions and device.
    Opened inside a checkout (not on Colab, no PYTHONPATH), the cell imports that checkout's `lib` without git."""
    program = (
        f"exec({nbtools.SETUP_CELL!r})\nimport numpy as np\nkeras.layers.Dense(2)(np.zeros((1, 3)))\n"
        "print(lib.__file__, ENV['in_colab'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    env["KERAS_BACKEND"] = backend
    env["PATH"] = os.pathsep.join((str(colab / "bin"), env.get("PATH", "")))
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=paths.NOTEBOOKS, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.strip() == "", f"the Setup cell wrote to stderr:\n{proc.stderr[-2000:]}"
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Keras ") and "Python" in lines[0], lines
    file, in_colab = lines[1].rsplit(" ", 1)
    assert Path(file).resolve() == (paths.ROOT / "lib" / "__init__.py").resolve() and in_colab == "False"
    assert not (colab / "git.log").exists()
