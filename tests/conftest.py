"""Shared test set-up: a quiet TensorFlow, a non-interactive matplotlib, lib importable."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

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
