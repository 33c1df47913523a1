"""The repository keeps its promises: pins agree, CI runs the README's test command."""

import re

from lib import paths

ROOT = paths.ROOT


def pins(text):
    return dict(re.findall(r"^\s*(?:- )?([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)", text, flags=re.M))


def test_environment_yml_pins_equal_requirements():
    req = pins((ROOT / "requirements.txt").read_text())
    env = pins((ROOT / "environment.yml").read_text())
    assert req and req == env


def test_every_requirement_is_pinned_and_commented():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line and "#" in line, f"pin and comment every dependency: {line!r}"


def test_ci_runs_the_readme_test_command():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith("set ")]
    readme = (ROOT / "README.md").read_text()
    assert ci and ci[-1] in readme, f"CI's command {ci[-1]!r} must be the README's test command"
    assert "python3 course.py run" in readme and "python3 course.py test" in readme


def test_results_folder_is_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "results/" in ignored and ".venv/" in ignored
