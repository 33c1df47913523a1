#!/usr/bin/env python3
"""Set up the course environment and run things in it. Needs only Python 3.11-3.13 and pip.

    python3 course.py run             # create .venv if needed, execute every notebook -> results/default/ (and site/)
    python3 course.py test            # create .venv if needed, run all tests (then lib's on JAX too)
    python3 course.py quick           # the contributors' tier: lib, harness, structure, lint; no notebook runs
    python3 course.py lab             # JupyterLab on the course environment and kernel
    python3 course.py bench --run-notebooks   # benchmark tables -> results/bench/BENCHMARKS.md
    python3 course.py results         # results/full/summary.json (a full-profile run) -> RESULTS.md
    python3 course.py student         # student versions (solutions removed) -> student/
    python3 course.py grade SUBMISSIONS_DIR   # execute and grade submitted notebooks -> graded/ (--jobs N in parallel)
    python3 course.py otter           # the exercises in otter-grader's format -> otter/ (otter assign, Gradescope)
    python3 course.py run --profile full --only 02    # anything after the command goes to it

The environment is ``.venv/`` beside this file, made with ``venv`` and
``uv pip install -r requirements.txt -e .`` (uv installed there by pip, from the
package sources pip is configured with; pip itself where uv fails); it is
rebuilt when requirements.txt changes. Set ``COURSE_PYTHON=/path/to/python`` to
use an environment you made yourself instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"


def _say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


#: The Python versions the pinned requirements install on: jaxlib 0.10.2 and keras 3.15 need 3.11 or newer,
#: tensorflow 2.21 has no wheel for 3.14. pyproject.toml's requires-python says the same (a test checks).
PYTHON_RANGE = ((3, 11), (3, 13))


def check_python(version: tuple[int, int] | None = None) -> None:
    """Stop with a readable message when this Python cannot install the course's pinned requirements."""
    version = tuple(version or sys.version_info[:2])
    low, high = PYTHON_RANGE
    if not low <= version <= high:
        found = ".".join(map(str, version))
        sys.exit(
            f"[course] The course needs Python {low[0]}.{low[1]} to {high[0]}.{high[1]} (its pinned TensorFlow, "
            f"Keras and JAX have wheels for those); this is Python {found}. Run this script with a Python in "
            f"that range, e.g. `python3.11 course.py ...` (or set COURSE_PYTHON to one with the requirements)."
        )


def ensure_environment() -> Path:
    """Return the Python of the course environment, creating or updating it first."""
    if os.environ.get("COURSE_PYTHON"):
        return Path(os.environ["COURSE_PYTHON"])
    python = _venv_python()
    wanted = _requirements_hash()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    check_python()
    if not python.exists():
        _say(f"creating the environment in {VENV} ...")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _say("installing requirements.txt (TensorFlow is large: a few minutes the first time) ...")
    # The installers don't byte-compile (uv never does by default; pip compiles the 16,000 files one by one, 80 s
    # of one core, so not here either): compileall does it on every core (files that don't compile are skipped, as
    # pip skips them). Not left to first imports: where
    # PYTHONDONTWRITEBYTECODE is set (it is on the machines the course is tested on) nothing would be cached, and
    # every notebook kernel would compile TensorFlow's modules again: the tests took 4 minutes longer.
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    install = pip + ["install", "--quiet", "--no-compile"]
    requirements = ["-r", str(ROOT / "requirements.txt"), "-e", str(ROOT)]
    if not _install_with_uv(python, pip, requirements):
        subprocess.run(install + ["--upgrade", "pip"], check=True)
        subprocess.run(install + requirements, check=True)
    packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Not the packages' own test suites (2,800 of the 16,000 files), which nothing here imports.
    subprocess.run([str(python), "-m", "compileall", "-qq", "-j", "0", "-x", r"[/\\]tests[/\\]", packages])
    # A `python3` kernelspec inside the environment, found first by the runner and by `lab`.
    subprocess.run(
        [
            str(python),
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "python3",
            "--display-name",
            "Python 3 (cnn-course)",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    STAMP.write_text(wanted + "\n")
    _say("environment ready.")
    return python


#: The installer used first: uv downloads and unpacks the wheels in parallel (33 s for the course's requirements
#: on 2 cores with nothing cached, installing uv included, where pip took 74 s); pip installs them if uv cannot.
UV = "uv==0.13.9"


def uv_arguments(pip_config: str) -> tuple[list[str], dict[str, str]]:
    """uv's options for the package sources pip is configured with (``pip config list``'s output: its
    configuration files and PIP_* variables): uv reads neither, and without them it would miss a mirror, a local
    index or a constraints file that pip sees. Indexes are searched as pip searches them, every one for the best
    version. Returns (arguments, environment variables)."""
    import shlex

    args, env = ["--index-strategy", "unsafe-best-match"], {}
    options = {
        "index-url": "--index-url",
        "extra-index-url": "--extra-index-url",
        "find-links": "--find-links",
        "constraint": "--constraint",
        "trusted-host": "--allow-insecure-host",
    }
    for line in pip_config.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        name = key.strip().rsplit(".", 1)[-1]
        values = shlex.split(value.strip())
        values = [v for item in values for v in item.split()]
        if name in options:
            for item in values:
                pair = [options[name], item]
                if not any(args[i : i + 2] == pair for i in range(len(args) - 1)):
                    args += pair
        elif name == "cert" and values:
            env["SSL_CERT_FILE"] = values[0]
        elif name == "no-index" and values and values[0].lower() in ("1", "true", "yes", "on"):
            args.append("--no-index")
    return args, env


def _install_with_uv(python: Path, pip: list[str], requirements: list[str]) -> bool:
    """Install ``requirements`` into the environment with uv (itself installed there by pip); False, after saying
    why, where that fails (pip then installs them)."""
    quiet = {"capture_output": True, "text": True}
    got_uv = subprocess.run(pip + ["install", "--quiet", UV], **quiet)
    config = subprocess.run(pip + ["config", "list"], **quiet)
    if got_uv.returncode != 0 or config.returncode != 0:
        _say("uv is not available here: pip installs the requirements (a minute or two longer)")
        return False
    args, env = uv_arguments(config.stdout)
    cmd = [str(python), "-m", "uv", "pip", "install", "--quiet", "--python", str(python), *args, *requirements]
    done = subprocess.run(cmd, env={**os.environ, **env}, **quiet)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        _say(f"uv could not install the requirements ({why}): pip installs them instead")
        return False
    return True


#: Debian/Ubuntu packages the default profile reads its data from (data/manifest.json says which file is which).
SYSTEM_PACKAGES = {"dataset-fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}


def ensure_system_data() -> None:
    """Install the Debian packages holding the default profile's data where we may; else say what to run."""
    missing = [pkg for pkg, folder in SYSTEM_PACKAGES.items() if not folder.is_dir()]
    if not missing or os.environ.get("FASHION_MNIST_DIR"):
        return
    apt = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if apt and is_root:
        _say(f"installing {' '.join(missing)} (Fashion-MNIST, 31 MB) with apt-get ...")
        cmd = [apt, "install", "-y", "--no-install-recommends", *missing]
        quiet = {
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
            "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        }
        if subprocess.run(cmd, **quiet).returncode != 0:  # stale package lists: refresh once
            subprocess.run([apt, "update"], **quiet)
            subprocess.run(cmd, **quiet)
    if any(not SYSTEM_PACKAGES[pkg].is_dir() for pkg in missing):
        how = (
            f"sudo apt-get install {' '.join(missing)}"
            if apt
            else "on Debian/Ubuntu `sudo apt-get install dataset-fashion-mnist`; elsewhere run "
            '`python -c "import keras; keras.datasets.fashion_mnist.load_data()"` once with internet'
        )
        _say(
            f"Fashion-MNIST is not installed, and the notebooks train on it. Run: {how} "
            "(or set FASHION_MNIST_DIR to a folder holding its four .gz files). See data/README.md."
        )


def _env_for(python: Path) -> dict:
    env = dict(os.environ)
    prefix = python.parent.parent
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(prefix / "share" / "jupyter"), env.get("JUPYTER_PATH")) if p)
    env["PATH"] = os.pathsep.join((str(python.parent), env.get("PATH", "")))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("MPLBACKEND", "Agg")
    return env


#: The second pass of `test`: lib's tests on the JAX backend (those whose subject depends on it: tests/lib/conftest.py).
#: The runner and the classroom tools (papermill, nbformat) don't depend on the backend; the notebooks themselves run
#: on JAX with `test -m jax_extra` (tests/notebooks/test_execute.py::test_notebook_runs_on_jax).
JAX_TESTS = ["tests/lib", "--ignore-glob=tests/lib/test_exercises_*"]


#: The subcommands: what each runs with the environment's Python (anything after the subcommand is appended).
COMMANDS = {
    "run": ["-m", "harness.runner"],
    "test": ["-m", "pytest", "-n", "2", "--dist", "loadgroup"],  # paths: pyproject testpaths
    # lib, harness, structure and lint, no notebook execution: a few minutes on 2 cores
    "quick": ["-m", "pytest", "-n", "2", "-m", "not notebook and not full_smoke and not jax_extra and not browser"],
    # rooted at the repository (lib/, README, results/ browsable), opening on the notebooks folder
    "lab": ["-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}", "notebooks/"],
    "bench": ["-m", "harness.bench"],
    "results": ["-m", "harness.results"],  # [--summary results/full/summary.json] [--out RESULTS.md]
    "student": ["-m", "harness.classroom", "student"],  # [--only 01 ...] [--output student/]
    "grade": ["-m", "harness.classroom", "grade"],  # SUBMISSIONS_DIR [--output graded/] [--timeout 300] [--jobs 4]
    "otter": [
        "-m",
        "harness.otter",
    ],  # [--only 05 ...] [--output otter/]: otter-grader's format (otter assign, Gradescope)
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    python = ensure_environment()
    ensure_system_data()
    env = _env_for(python)
    if argv[0] == "lab":
        env.pop("MPLBACKEND", None)
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in argv:
            _say("running as root: adding --allow-root (Jupyter refuses root otherwise)")
            argv = [*argv, "--allow-root"]
    cmd = [str(python), *COMMANDS[argv[0]], *argv[1:]]
    both_passes = argv[0] == "test" and len(argv) == 1
    if both_passes:  # tests that start a JAX process of their own can leave it to the second pass
        env = {**env, "CNN_COURSE_JAX_PASS": "1"}
    _say(" ".join(cmd[1:]))
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if both_passes:
        # `lib` again on Keras's JAX backend (the notebooks and the backend-independent runner ran above).
        jax_cmd = [str(python), "-m", "pytest", "-q", "-n", "2", *JAX_TESTS]
        _say("KERAS_BACKEND=jax " + " ".join(jax_cmd[1:]))
        code = max(code, subprocess.run(jax_cmd, cwd=ROOT, env={**env, "KERAS_BACKEND": "jax"}).returncode)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
