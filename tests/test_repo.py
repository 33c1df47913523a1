"""The repository keeps its promises: pins agree, CI runs the README's test command."""

import os
import re
import subprocess
import sys
import zlib

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
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("set ")
    ]
    readme = (ROOT / "README.md").read_text()
    assert ci and ci[-1] in readme, f"CI's command {ci[-1]!r} must be the README's test command"
    assert "python3 course.py run" in readme and "python3 course.py test" in readme


def test_xdist_group_keeps_its_tests_on_one_worker(tmp_path):
    """`course.py test` runs `pytest -n 2 --dist loadgroup`: tests marked `xdist_group` share one worker, so a
    module's expensive fixture (a graded classroom, a rendered site, otter's export) is built once. pytest 9.2
    with xdist 3.8 silently drops the grouping (pytest-xdist#1386) and each fixture is built on both workers:
    about 90 s more of the test command. The pinned pair must group."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_grouped.py").write_text(
        "import os, pytest\n"
        "@pytest.mark.xdist_group('one')\n"
        "class TestGroup:\n"
        "    @pytest.mark.parametrize('i', range(4))\n"
        "    def test_member(self, i):\n"
        "        with open(os.path.join(os.environ['GROUP_OUT'], f'grouped{i}'), 'w') as f:\n"
        "            f.write(os.environ['PYTEST_XDIST_WORKER'])\n"
        "@pytest.mark.parametrize('i', range(4))\n"
        "def test_free(i):\n"
        "    pass\n"
    )
    flags = "-q -p xdist -p no:cacheprovider -n 2 --dist loadgroup".split()  # only xdist: no plugin autoload
    cmd = [sys.executable, "-m", "pytest", *flags]
    (tmp_path / "run").mkdir()
    env = {**os.environ, "GROUP_OUT": str(tmp_path / "run"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([*cmd, "test_grouped.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    workers = {(tmp_path / "run" / f"grouped{i}").read_text() for i in range(4)}
    assert len(workers) == 1, f"one xdist_group ran on several workers: {sorted(workers)}"


def test_results_folder_is_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "results/" in ignored and ".venv/" in ignored


def _course_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_cli", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_course_command_the_docs_name_exists_and_every_command_is_documented():
    commands = set(_course_module().COMMANDS)
    docs = {
        "README.md": (ROOT / "README.md").read_text(),
        "course.py": (ROOT / "course.py").read_text(),
        "RESULTS.md": (ROOT / "RESULTS.md").read_text(),
        "CONTRIBUTING.md": (ROOT / "CONTRIBUTING.md").read_text(),
    }
    docs.update({str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "lib").glob("*.py")})
    for name, text in docs.items():
        named = set(re.findall(r"python3 course\.py ([a-z]+)", text))
        assert named <= commands, (
            f"{name} names course.py command(s) {sorted(named - commands)}; course.py has {sorted(commands)}"
        )
    readme = set(re.findall(r"python3 course\.py ([a-z]+)", docs["README.md"]))
    assert commands <= readme, f"README.md does not show course.py command(s) {sorted(commands - readme)}"


def test_data_readme_lists_every_manifest_checksum():
    """data/README.md shows each checksum of data/manifest.json, and no other (the manifest is the source)."""
    import json
    import re

    manifest = json.loads((ROOT / "data" / "manifest.json").read_text())
    readme = (ROOT / "data" / "README.md").read_text()
    wanted = set()
    for key, entry in manifest.items():
        if key.startswith("_"):
            continue
        for field in ("sha256", "sha256_content"):
            if field in entry:
                wanted.add(entry[field])
        for facts in entry.get("files", {}).values():
            wanted.update(v for k, v in facts.items() if k in ("sha256", "sha256_content", "md5"))
    shown = set(re.findall(r"`([0-9a-f]{32}|[0-9a-f]{64})`", readme))
    assert wanted == shown, f"in the manifest only: {wanted - shown}; in the README only: {shown - wanted}"


def _lib_conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lib_tests_conftest", ROOT / "tests" / "lib" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Item:
    """What tests/lib/conftest.py's sampling reads of a pytest item."""

    def __init__(self, file, name, case=None, marker=None):
        self.path = ROOT / "tests" / "lib" / file
        self.originalname = name
        self.nodeid = f"tests/lib/{file}::{name}" + (f"[{case}]" if case is not None else "")
        self._marker = marker

    def get_closest_marker(self, name):
        return self._marker if name == self._marker else None


def test_the_jax_pass_samples_grids_keeps_every_test_and_drops_backend_independent_ones(monkeypatch):
    conftest = _lib_conftest()
    monkeypatch.delenv("CNN_COURSE_FULL_GRIDS", raising=False)
    grid = [_Item("test_ops_conv.py", "test_conv_matches_keras", case=i) for i in range(64)]
    small = [_Item("test_ops_conv.py", "test_pair", case=i) for i in range(conftest.GRID_MIN - 1)]
    unlucky = next(  # a test none of whose cases the hash picks
        cases
        for k in range(1000)
        for cases in [[_Item("test_norm.py", f"test_few_{k}", case=i) for i in range(conftest.GRID_MIN)]]
        if all(zlib.crc32(c.nodeid.encode()) % conftest.GRID_SAMPLE for c in cases)
    )
    plain = _Item("test_norm.py", "test_plain")
    independent = [
        _Item("test_flops.py", "test_counts"),
        _Item("test_zoo.py", "test_rows", marker="backend_independent"),
    ]
    items = grid + small + unlucky + [plain] + independent
    kept = conftest._sampled(items)
    assert kept == conftest._sampled(items), "the same cases every run"
    kept_grid = [item for item in kept if item in grid]
    assert 0 < len(kept_grid) < len(grid) / conftest.GRID_SAMPLE * 2, "about one case in GRID_SAMPLE"
    assert all(item in kept for item in small + [plain]), "tests with fewer than GRID_MIN cases all run"
    assert [item for item in unlucky if item in kept] == unlucky[:1], "at least one case of every test: its first"
    assert not any(item in kept for item in independent), "backend-independent tests run in the TensorFlow pass"
    assert [item for item in items if item in kept] == kept, "in collection order"
    monkeypatch.setenv("CNN_COURSE_FULL_GRIDS", "1")
    assert conftest._sampled(items) == items


def test_uv_installs_from_the_package_sources_pip_is_configured_with():
    """course.py installs the environment with uv where it can; uv reads no pip configuration, so the sources
    `pip config list` shows (files and PIP_* variables) are passed to it."""
    course = _course_module()
    listing = (
        ":env:.find-links='/opt/wheels'\n"
        "global.cert='/etc/ssl/certs/ca.crt'\n"
        "global.constraint='/etc/pip/constraints.txt'\n"
        "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'\n"
        "global.find-links='/opt/wheels'\n"
        "global.index-url='https://mirror.example/simple'\n"
        "install.trusted-host='mirror.example'\n"
        "global.timeout='60'\n"
    )
    args, env = course.uv_arguments(listing)
    assert args == [
        "--index-strategy",
        "unsafe-best-match",
        "--find-links",
        "/opt/wheels",
        "--constraint",
        "/etc/pip/constraints.txt",
        "--extra-index-url",
        "file:///opt/a/simple",
        "--extra-index-url",
        "file:///opt/b/simple",
        "--index-url",
        "https://mirror.example/simple",
        "--allow-insecure-host",
        "mirror.example",
    ]
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca.crt"}
    assert course.uv_arguments("") == (["--index-strategy", "unsafe-best-match"], {})
    assert course.UV.startswith("uv==")
