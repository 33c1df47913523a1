"""Exercises with automatic checks: what a student runs after answering, and what grading runs.

Every notebook ends with ``## Exercises``. Each exercise is three cells:

1. a Markdown cell ``**N. Title.** the question ...``;
2. a code cell tagged ``solution`` that assigns the answer variables, with the
   answer between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (the student
   version replaces that region by ``name = None`` stubs, one per assigned name);
3. a code cell tagged ``check``::

       lib.exercises.check("01.1", size_1=size_1, params_1=params_1)

The check functions live in ``lib/exercises/nbNN.py``, registered with
:func:`exercise`; the names of a check function's parameters are the names of
the answer variables. A check computes what is right independently (with Keras
or NumPy, never a typed-in number) and raises :class:`Wrong` with a message
that says what was expected and what was received. :func:`check` never raises:
its result shows as one line - correct, wrong (and why), not answered yet, or the error
the answer caused - and returns a :class:`Result`, so a student notebook with
stubs runs from top to bottom.

Introduced in notebook 01's exercises; the classroom tooling (student
versions, grading) is in :mod:`lib.classroom`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
from typing import Callable

import numpy as np

__all__ = ["Wrong", "Result", "exercise", "check", "grade", "exercises_of", "session_results",
           "expect_equal", "expect_close", "expect_true", "expect_shape"]

CORRECT, WRONG, UNANSWERED, ERROR = "correct", "wrong", "unanswered", "error"
_SYMBOL = {CORRECT: "[correct]", WRONG: "[wrong]", UNANSWERED: "[not answered yet]", ERROR: "[error]"}


class Wrong(AssertionError):
    """Raised by a check function: the message tells the student what is wrong."""


@dataclasses.dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    func: Callable
    answers: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Result:
    key: str
    title: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{_SYMBOL[self.status]} Exercise {self.key} ({self.title}): {self.message}"

    def __repr__(self) -> str:  # a notebook shows the sentence, not the dataclass
        return str(self)


_REGISTRY: dict[str, Exercise] = {}
_SESSION: dict[str, Result] = {}


def _parse_key(key: str) -> tuple[str, int]:
    parts = str(key).split(".")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
        raise ValueError(f"Expected an exercise key like '01.3' (notebook.number). Received: {key!r}")
    return parts[0].zfill(2), int(parts[1])


def exercise(key: str, title: str):
    """Register a check function for exercise ``key`` ("NN.k"); its parameters name the answers."""
    _parse_key(key)

    def register(func):
        params = tuple(inspect.signature(func).parameters)
        _REGISTRY[key] = Exercise(key, title, func, params)
        return func

    return register


def _load(notebook: str) -> None:
    try:
        importlib.import_module(f"lib.exercises.nb{notebook}")
    except ModuleNotFoundError as err:
        if err.name != f"lib.exercises.nb{notebook}":
            raise


def exercises_of(notebook: str | int) -> list[Exercise]:
    """The registered exercises of one notebook ("01" or 1), in order."""
    nb = str(notebook).zfill(2)
    _load(nb)
    found = [ex for key, ex in _REGISTRY.items() if _parse_key(key)[0] == nb]
    return sorted(found, key=lambda ex: _parse_key(ex.key)[1])


def _lookup(key: str) -> Exercise:
    nb, _ = _parse_key(key)
    _load(nb)
    if key not in _REGISTRY:
        known = ", ".join(ex.key for ex in exercises_of(nb)) or "none"
        raise KeyError(f"Expected one of notebook {nb}'s exercises ({known}). Received: {key!r}")
    return _REGISTRY[key]


def _unanswered(value) -> bool:
    return value is None or value is Ellipsis


def evaluate(key: str, **answers) -> Result:
    """Run one check and return its :class:`Result` without printing or recording it."""
    ex = _lookup(key)
    missing = [name for name in ex.answers if name not in answers]
    extra = [name for name in answers if name not in ex.answers]
    if missing or extra:
        return Result(key, ex.title, ERROR,
                      f"this check expects the answers {', '.join(ex.answers)}; "
                      f"received {', '.join(answers) or 'none'}. Keep the check cell as it was given.")
    empty = [name for name in ex.answers if _unanswered(answers[name])]
    if empty:
        return Result(key, ex.title, UNANSWERED, f"set {', '.join(empty)} in the cell above, then run this cell.")
    try:
        note = ex.func(**answers)
    except Wrong as err:
        return Result(key, ex.title, WRONG, str(err))
    except NotImplementedError as err:  # a function still the student version's stub
        detail = f" ({err})" if str(err) else ""
        return Result(key, ex.title, UNANSWERED,
                      f"a function you are asked to write still raises NotImplementedError{detail}; "
                      f"write it in the cell above, then run this cell.")
    except Exception as err:  # the student's answer broke the check: say how, don't crash
        return Result(key, ex.title, ERROR, f"checking your answer raised {type(err).__name__}: {err}")
    return Result(key, ex.title, CORRECT, note if isinstance(note, str) and note else "correct.")


def check(key: str, **answers) -> Result:
    """Check a student's answers to exercise ``key``; record the verdict and return it. Never raises.

    As the last line of a cell, the returned :class:`Result` shows as one sentence.
    """
    try:
        result = evaluate(key, **answers)
    except (KeyError, ValueError) as err:
        result = Result(str(key), "?", ERROR, str(err).strip("'\""))
    _SESSION[result.key] = result
    return result


def session_results() -> dict[str, str]:
    """Status of every exercise checked in this session ({"01.1": "correct", ...})."""
    return {key: res.status for key, res in sorted(_SESSION.items())}


def grade(notebook: str | int, namespace: dict) -> list[Result]:
    """Check every exercise of ``notebook`` against the variables in ``namespace`` (a kernel's globals)."""
    out = []
    for ex in exercises_of(notebook):
        answers = {name: namespace.get(name) for name in ex.answers}
        out.append(evaluate(ex.key, **answers))
    return out


# --- helpers for writing checks: each says what was expected and what was received ---------

def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}" if value.size > 8 else np.array2string(value, precision=4)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def expect_true(condition, message: str) -> None:
    """Raise :class:`Wrong` with ``message`` unless ``condition``."""
    if not condition:
        raise Wrong(message)


def expect_equal(what: str, received, expected, hint: str = "") -> None:
    """Exact equality (numbers, tuples, strings); the message names ``what``."""
    try:
        same = received == expected
        same = bool(np.all(same)) if not isinstance(same, bool) else same
    except Exception:
        same = False
    if not same:
        raise Wrong(f"{what}: expected {_fmt(expected)}, received {_fmt(received)}." + (f" Hint: {hint}" if hint else ""))


def expect_close(what: str, received, expected, rtol: float = 1e-5, atol: float = 1e-8, hint: str = "") -> None:
    """Numerical closeness of numbers or arrays (shapes must match)."""
    try:
        got = np.asarray(received, dtype="float64")
    except (TypeError, ValueError):
        raise Wrong(f"{what}: expected a number or an array, received {type(received).__name__}.") from None
    want = np.asarray(expected, dtype="float64")
    if got.shape != want.shape:
        raise Wrong(f"{what}: expected shape {want.shape}, received shape {got.shape}.")
    if not np.allclose(got, want, rtol=rtol, atol=atol) or not np.all(np.isfinite(got)):
        if got.size == 1:
            detail = f"expected {float(want):.6g}, received {float(got):.6g}"
        else:
            err = float(np.max(np.abs(got - want)))
            detail = f"largest difference {err:.3g} (tolerance rtol={rtol:g}, atol={atol:g})"
        raise Wrong(f"{what}: {detail}." + (f" Hint: {hint}" if hint else ""))


def expect_shape(what: str, received, shape: tuple) -> None:
    """``received`` has ``.shape`` (or is a tuple) equal to ``shape``."""
    got = tuple(getattr(received, "shape", received))
    if got != tuple(shape):
        raise Wrong(f"{what}: expected shape {tuple(shape)}, received {got}.")


def is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(float(value))
