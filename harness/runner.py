"""Run the course: execute notebooks with papermill and write a results summary.

    python -m harness.runner                      # every notebook, default profile
    python -m harness.runner --profile full       # real datasets, ImageNet weights, GPU-sized
    python -m harness.runner --only 01 03         # some notebooks
    python -m harness.runner --list               # what would run
    python -m harness.runner --no-site            # without the rendered site (results/<profile>/site/)

Each notebook runs in its own papermill process with a per-notebook time
limit; a kernel that dies, a cell that raises or a run that times out marks
that notebook failed (the others still run) and the exit code is non-zero.
Executed notebooks, their ``*.results.json`` and ``summary.md``/``summary.json``
land in ``results/<profile>/`` (git-ignored), and the rendered course - a static site of the
executed notebooks, :mod:`harness.site` - in ``results/<profile>/site/`` (``--no-site`` skips it).

Profiles: ``default`` is each notebook's own parameters cell. Any other
profile P reads ``notebooks/profiles/P/<notebook>.yaml`` (parameters that
override the defaults; notebooks without a file run with their defaults).

Introduced in notebook 01 (it is what "run the course" runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lib import environment, paths, report

DEFAULT_TIMEOUT = 900  # seconds per notebook


@dataclasses.dataclass
class RunResult:
    notebook: str
    status: str  # "ok", "failed" or "timeout"
    seconds: float
    output: Path
    results: dict
    error: str = ""


def profile_parameters(stem: str, profile: str = "default") -> dict:
    """The parameters a profile injects into notebook ``stem`` (empty for ``default``)."""
    if profile == "default":
        return {}
    folder = paths.PROFILES / profile
    if not folder.is_dir():
        known = sorted(p.name for p in paths.PROFILES.iterdir() if p.is_dir()) if paths.PROFILES.is_dir() else []
        raise ValueError(f"Expected a profile in {['default', *known]}. Received: profile={profile!r}")
    path = folder / f"{stem}.yaml"
    if not path.exists():
        return {}
    import yaml

    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path} must hold a mapping of PARAMETER: value. Received {type(params).__name__}")
    return params


def select(only: list[str] | None = None) -> list[Path]:
    """Notebooks to run: all, or those whose number or stem is in ``only``."""
    notebooks = paths.notebook_paths()
    if not only:
        return notebooks
    chosen = [nb for nb in notebooks if any(nb.stem == o or nb.stem.split("_")[0] == o.zfill(2) for o in only)]
    missing = [o for o in only if not any(nb.stem == o or nb.stem.split("_")[0] == o.zfill(2) for nb in notebooks)]
    if missing:
        raise ValueError(f"No notebook matches {missing}. Available: {[nb.stem for nb in notebooks]}")
    return chosen


def run_notebook(
    notebook: Path,
    output_dir: Path,
    profile: str = "default",
    timeout: float = DEFAULT_TIMEOUT,
    cwd: Path | None = None,
    extra_parameters: dict | None = None,
) -> RunResult:
    """Execute one notebook with papermill in a child process; never raises for notebook errors."""
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = notebook.stem
    out = output_dir / notebook.name
    params = {**profile_parameters(stem, profile), **(extra_parameters or {}), "OUTPUT_DIR": str(output_dir)}
    results_file = output_dir / f"{stem}{report.SUFFIX}"
    if results_file.exists():
        results_file.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        params_file = Path(tmp) / "params.json"  # JSON is valid YAML for papermill -f
        params_file.write_text(json.dumps(params))
        workdir = Path(cwd) if cwd is not None else paths.NOTEBOOKS
        cmd = [
            sys.executable,
            "-m",
            "papermill",
            str(notebook),
            str(out),
            "-f",
            str(params_file),
            "-k",
            "python3",
            "--cwd",
            str(workdir),
            "--no-progress-bar",
            "--execution-timeout",
            str(int(timeout)),
        ]
        env = kernel_environment()
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60, env=env)
            status = "ok" if proc.returncode == 0 else "failed"
            error = "" if status == "ok" else _error_tail(proc.stderr + proc.stdout)
        except subprocess.TimeoutExpired:
            status, error = "timeout", f"{stem} did not finish within {timeout:.0f} s"
        seconds = time.perf_counter() - start
    results = {}
    if results_file.exists():
        results = report.load(results_file)["results"]
    elif status == "ok":
        status, error = "failed", f"{stem} ran but wrote no {results_file.name} (its last cell records results)"
    return RunResult(stem, status, seconds, out, results, error)


def kernel_environment() -> dict:
    """Environment for the kernel: this interpreter's kernelspec first, this checkout's `lib` importable and
    found by the Setup cell (``CNN_COURSE_ROOT``) whatever the working directory."""
    env = dict(os.environ)
    share = Path(sys.prefix) / "share" / "jupyter"
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(share), env.get("JUPYTER_PATH", "")) if p)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.ROOT), env.get("PYTHONPATH", "")) if p)
    # the Setup cell, run outside the checkout (a scratch working directory), uses this checkout's `lib`
    env["CNN_COURSE_ROOT"] = str(paths.ROOT)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The kernel's own inline backend keeps figures in the executed notebook; a
    # non-interactive MPLBACKEND (set for tests and CI) would drop them.
    env.pop("MPLBACKEND", None)
    return env


def _error_tail(text: str, lines: int = 25) -> str:
    keep = [line for line in text.splitlines() if line.strip()]
    return "\n".join(keep[-lines:])


def write_summary(runs: list[RunResult], output_dir: Path, profile: str) -> Path:
    """Write ``summary.json`` and ``summary.md`` (status, time, recorded results per notebook)."""
    import platform

    output_dir = Path(output_dir)
    meta = {
        "profile": profile,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        **environment_info(),
    }
    data = {
        "meta": meta,
        "notebooks": [
            {
                "notebook": r.notebook,
                "status": r.status,
                "seconds": round(r.seconds, 1),
                "results": r.results,
                "error": r.error,
            }
            for r in runs
        ],
    }
    (output_dir / "summary.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        f"# Results: {profile} profile",
        "",
        f"{meta['created']} - Python {meta['python']} on {meta['machine']}",
        "",
        "| notebook | status | time (s) | recorded results |",
        "|---|---|---|---|",
    ]
    from harness.site import headline_results

    for r in runs:
        lines.append(f"| {r.notebook} | {r.status} | {r.seconds:.0f} | {', '.join(headline_results(r.results))} |")
    total = sum(r.seconds for r in runs)
    lines += ["", f"Total: {total:.0f} s, {sum(r.status == 'ok' for r in runs)}/{len(runs)} notebooks ok."]
    for r in runs:
        if r.error:
            lines += ["", f"## {r.notebook}: {r.status}", "", "```", r.error, "```"]
    path = output_dir / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def environment_info() -> dict:
    """Versions and hardware for a summary: library versions, the CPU and GPU names (cheap: imports nothing heavy).

    Keys: ``tensorflow``, ``keras``, ``jax``, ``numpy`` (installed versions, absent if not installed),
    ``backend`` (``$KERAS_BACKEND`` or ``tensorflow``), ``cpu`` and ``gpu`` (``nvidia-smi``'s names, absent
    without one). Introduced in notebook 01 (the results report).
    """
    from importlib import metadata

    info = {}
    for package in ("tensorflow", "keras", "jax", "numpy"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    info["backend"] = os.environ.get("KERAS_BACKEND", "tensorflow")
    info["cpu"] = environment.cpu_description()
    try:
        proc = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        gpus = [g.strip() for g in proc.stdout.splitlines() if g.strip()] if proc.returncode == 0 else []
        if gpus:
            info["gpu"] = "; ".join(gpus)
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", help="default (offline, CPU) or full")
    parser.add_argument("--only", nargs="*", help="notebook numbers or stems, e.g. 01 03")
    parser.add_argument("--output", default=None, help="folder for executed notebooks (default results/<profile>)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per notebook")
    parser.add_argument("--list", action="store_true", help="list the notebooks and exit")
    parser.add_argument("--no-site", action="store_true", help="skip the rendered site (<output>/site/)")
    args = parser.parse_args(argv)

    notebooks = select(args.only)
    if args.list:
        for nb in notebooks:
            print(nb.stem)
        return 0
    for nb in notebooks:  # fail fast on a bad profile before running anything
        profile_parameters(nb.stem, args.profile)
    output_dir = paths.resolve(args.output or f"results/{args.profile}")
    print(f"Running {len(notebooks)} notebook(s), profile '{args.profile}', into {output_dir}", flush=True)
    runs = []
    for i, nb in enumerate(notebooks, 1):
        print(f"[{i}/{len(notebooks)}] {nb.stem} ...", end=" ", flush=True)
        run = run_notebook(nb, output_dir, profile=args.profile, timeout=args.timeout)
        runs.append(run)
        print(f"{run.status} ({run.seconds:.0f} s)", flush=True)
        if run.error:
            print("    " + run.error.replace("\n", "\n    "), flush=True)
    summary = write_summary(runs, output_dir, args.profile)
    ok = sum(r.status == "ok" for r in runs)
    print(f"{ok}/{len(runs)} notebooks ok in {sum(r.seconds for r in runs):.0f} s. Summary: {summary}", flush=True)
    site_ok = args.no_site or write_site(output_dir)
    return 0 if ok == len(runs) and site_ok else 1


def write_site(output_dir: Path) -> bool:
    """The rendered course (:mod:`harness.site`) of a finished run; says where it is, or why it failed."""
    from harness import site

    try:
        index = site.build(output_dir)
    except Exception as err:  # the run's results stand; the site is reported as failed
        print(f"The site could not be written: {type(err).__name__}: {err}", flush=True)
        return False
    print(f"Site: {index} (open it in a browser)", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
