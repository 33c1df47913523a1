"""Shared test set-up: a quiet TensorFlow, a non-interactive matplotlib, lib importable."""

import functools
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Under `pytest -n N` each worker runs a notebook kernel or TensorFlow tests at the same time as the others, and
# TensorFlow's default thread pools (a thread per core, per process) then oversubscribe the cores: on the 2-core
# CPU two notebooks run side by side took 91 s with the defaults and 72 s with one thread per pool (03 and 06).
# So each worker, and every kernel it starts, gets the cores divided among the workers. A notebook run by
# `course.py run` or by hand keeps TensorFlow's defaults.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", _THREADS)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", _THREADS)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


class NetworkBlocked(OSError):
    """A test tried the network."""


@pytest.fixture
def block_network(monkeypatch):
    """Every socket connection and name lookup fails at once: proves a code path never tries the network."""
    import socket

    def refuse(*args, **kwargs):
        raise NetworkBlocked(f"network access attempted in a test that forbids it: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return NetworkBlocked


@functools.cache
def _run_times() -> dict:
    """The notebooks' measured default-run seconds (harness/run_times.json), or {} without a record."""
    try:
        return json.loads((ROOT / "harness" / "run_times.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return {}


def _expected_seconds(item) -> float:
    """A notebook test's expected run time: the notebook's measured default run, or 60 s (1.5x that on JAX)."""
    path = getattr(item, "callspec", None) and item.callspec.params.get("path")
    seconds = _run_times().get(getattr(path, "stem", None), 60.0)
    return 1.5 * seconds if "jax" in item.name else seconds


def _rank(item) -> tuple[int, float]:
    if item.get_closest_marker("notebook"):
        return 0, -_expected_seconds(item)
    if item.get_closest_marker("xdist_group"):  # a group runs on one worker, its fixtures once: 20-90 s in all
        return 1, 0.0
    return 2, 0.0


def pytest_collection_modifyitems(config, items):
    """Notebook executions first, the longest first, then the xdist groups (each a unit of work for one worker): on
    `pytest -n 2` the many short tests then fill the gaps, and no worker is left running one long unit at the end
    while the other idles (about a notebook's time saved)."""
    order = {id(item): _rank(item) for item in items}
    items.sort(key=lambda item: order[id(item)])
