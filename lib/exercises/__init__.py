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

**Points.** An exercise is worth ``points`` (default 1), all or nothing: a check
that returns gives them all, one that raises gives none. A check may instead
award **parts**: declare them with their points, ``@exercise("05.2", "Title",
parts={"test-time logits": 1, "inverted weights": 2})``, and check each inside
``with part("test-time logits"):`` - a :class:`Wrong` raised inside a part costs
that part's points only, and the check goes on with the next part. A part never
reached (a :class:`Wrong` raised outside every part stops the check) earns nothing.

Introduced in notebook 01's exercises; the classroom tooling (student
versions, grading) is in :mod:`harness.classroom`, the otter-grader export in :mod:`harness.otter`.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import importlib
import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

__all__ = [
    "Wrong",
    "Result",
    "Part",
    "exercise",
    "part",
    "check",
    "verify",
    "grade",
    "exercises_of",
    "session_results",
    "expect_equal",
    "expect_close",
    "expect_bool",
    "expect_true",
    "expect_shape",
]

CORRECT, PARTIAL, WRONG, UNANSWERED, ERROR = "correct", "partial", "wrong", "unanswered", "error"
NOT_CHECKED = "not checked"
_SYMBOL = {
    CORRECT: "[correct]",
    PARTIAL: "[partly correct]",
    WRONG: "[wrong]",
    UNANSWERED: "[not answered yet]",
    ERROR: "[error]",
}
_HINT = " Hint: "
_STOPPED = " The check stopped: "


class Wrong(AssertionError):
    """Raised by a check function: the message tells the student what is wrong."""


@dataclasses.dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    func: Callable
    answers: tuple[str, ...]
    points: float = 1.0
    parts: tuple[tuple[str, float], ...] = ()  # (name, points) in the order the check runs them


@dataclasses.dataclass(frozen=True)
class Part:
    """The verdict on one named part of an exercise: ``status`` is correct, wrong, error or not checked."""

    name: str
    status: str
    points: float
    possible: float
    message: str = ""

    @property
    def hint(self) -> str:
        return _split_hint(self.message)[1]


def _split_hint(message: str) -> tuple[str, str]:
    text, _, hint = message.partition(_HINT)
    return text, hint.strip()


@dataclasses.dataclass(frozen=True)
class Result:
    key: str
    title: str
    status: str
    message: str
    points: float = 0.0
    possible: float = 1.0
    parts: tuple[Part, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    @property
    def hint(self) -> str:
        """The hint the message gives (the text after "Hint:"; for parts, each wrong part's), or ""."""
        if not self.parts:
            return _split_hint(self.message)[1]
        hints = [p.hint for p in self.parts if p.status != CORRECT]
        hints.append(_split_hint(self.message.partition(_STOPPED)[2])[1])  # a Wrong raised outside the parts
        return " ".join(h for h in hints if h)

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


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"Expected {name} to be a positive number. Received: {name}={value!r}")
    return float(value)


def _parts_of(parts: Mapping[str, float] | Sequence[str] | None) -> tuple[tuple[str, float], ...]:
    if parts is None:
        return ()
    items = list(parts.items()) if isinstance(parts, Mapping) else [(name, 1) for name in parts]
    if not items or isinstance(parts, str):
        raise ValueError(f"Expected parts as {{name: points}} or a list of names. Received: parts={parts!r}")
    names = [name for name, _ in items]
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(f"Expected distinct, non-empty part names. Received: parts={parts!r}")
    return tuple((name, _positive(points, f"parts[{name!r}]")) for name, points in items)


def exercise(
    key: str, title: str, points: float | None = None, parts: Mapping[str, float] | Sequence[str] | None = None
):
    """Register a check function for exercise ``key`` ("NN.k"); its parameters name the answers.

    ``points`` (default 1, or the sum of the parts) is what the exercise is worth. ``parts`` -
    ``{name: points}``, or a list of names worth 1 each - gives partial credit: the check runs each
    part inside ``with part(name):``. Without parts the exercise is all or nothing.
    """
    _parse_key(key)
    declared = _parts_of(parts)
    total = sum(p for _, p in declared) if declared else 1.0
    if points is not None:
        points = _positive(points, "points")
        if declared and not math.isclose(points, total):
            raise ValueError(
                f"Expected points to equal the sum of the parts' points ({total:g}). Received: points={points:g}"
            )
        total = points

    def register(func):
        params = tuple(inspect.signature(func).parameters)
        _REGISTRY[key] = Exercise(key, title, func, params, total, declared)
        return func

    return register


class _Parts:
    """The verdicts of the parts of one running check (see :func:`part`)."""

    def __init__(self, ex: Exercise):
        self.exercise = ex
        self.verdicts: dict[str, Part] = {}

    def possible(self, name: str) -> float:
        declared = dict(self.exercise.parts)
        if name not in declared:
            known = ", ".join(repr(n) for n in declared) or "none"
            raise KeyError(f"Exercise {self.exercise.key} declares the parts {known}. Received: part {name!r}")
        if name in self.verdicts:
            raise KeyError(f"Exercise {self.exercise.key}: part {name!r} is checked twice")
        return declared[name]

    def record(self, name: str, status: str, message: str) -> None:
        possible = dict(self.exercise.parts)[name]
        self.verdicts[name] = Part(name, status, possible if status == CORRECT else 0.0, possible, message)

    def all(self, reason: str) -> tuple[Part, ...]:
        """Every declared part in order; those never reached are "not checked" (with ``reason``)."""
        return tuple(
            self.verdicts.get(name, Part(name, NOT_CHECKED, 0.0, possible, reason))
            for name, possible in self.exercise.parts
        )


_ACTIVE: contextvars.ContextVar[_Parts | None] = contextvars.ContextVar("lib_exercises_parts", default=None)


@contextlib.contextmanager
def part(name: str) -> Iterator[None]:
    """Check one declared part of an exercise: a :class:`Wrong` (or an error) inside costs this part only.

    Use inside a check function registered with ``parts=``::

        with part("inverted weights"):
            expect_close("inverted weights", inverted_weights_2, keep * w)

    Outside a running check (a check function called directly) it does nothing: errors propagate.
    """
    parts = _ACTIVE.get()
    if parts is None:
        yield
        return
    parts.possible(name)
    try:
        yield
    except Wrong as err:
        parts.record(name, WRONG, str(err))
    except NotImplementedError:
        raise  # a function still the student version's stub: the whole exercise is not answered yet
    except Exception as err:  # the student's answer broke this part of the check
        parts.record(name, ERROR, f"checking your answer raised {type(err).__name__}: {err}")
    else:
        parts.record(name, CORRECT, "correct.")


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


def _call(ex: Exercise, answers: dict, parts: _Parts) -> tuple[str, str]:
    """Call the check function with ``parts`` recording its parts: its status and message."""
    token = _ACTIVE.set(parts)
    try:
        note = ex.func(**answers)
    except Wrong as err:
        return WRONG, str(err)
    except NotImplementedError as err:  # a function still the student version's stub
        detail = f" ({err})" if str(err) else ""
        return UNANSWERED, (
            f"a function you are asked to write still raises NotImplementedError{detail}; "
            f"write it in the cell above, then run this cell."
        )
    except Exception as err:  # the student's answer broke the check: say how, don't crash
        return ERROR, f"checking your answer raised {type(err).__name__}: {err}"
    finally:
        _ACTIVE.reset(token)
    return CORRECT, note if isinstance(note, str) and note else "correct."


def _run(ex: Exercise, answers: dict) -> tuple[str, str, tuple[Part, ...]]:
    """Run the check: its status and message, and its parts' verdicts (empty without parts)."""
    parts = _Parts(ex)
    status, message = _call(ex, answers, parts)
    if not ex.parts or status == UNANSWERED:
        return status, message, ()
    verdicts = parts.all("not checked (the check stopped before this part).")
    if status == CORRECT and all(p.status == CORRECT for p in verdicts):
        return CORRECT, message, verdicts
    earned = sum(p.points for p in verdicts)
    if status == CORRECT:
        status, message = (PARTIAL if earned else WRONG), ""
    elif earned:
        status = PARTIAL
    lines = "; ".join(f"{p.name}: {p.message}" for p in verdicts)
    stopped = f"{_STOPPED}{message}" if message else ""
    return status, f"{earned:g} of {ex.points:g} points - {lines}{stopped}", verdicts


def evaluate(key: str, **answers) -> Result:
    """Run one check and return its :class:`Result` (with its points) without printing or recording it."""
    ex = _lookup(key)
    missing = [name for name in ex.answers if name not in answers]
    extra = [name for name in answers if name not in ex.answers]
    if missing or extra:
        return Result(
            key,
            ex.title,
            ERROR,
            f"this check expects the answers {', '.join(ex.answers)}; "
            f"received {', '.join(answers) or 'none'}. Keep the check cell as it was given.",
            0.0,
            ex.points,
        )
    empty = [name for name in ex.answers if _unanswered(answers[name])]
    if empty:
        message = f"set {', '.join(empty)} in the cell above, then run this cell."
        return Result(key, ex.title, UNANSWERED, message, 0.0, ex.points)
    status, message, parts = _run(ex, answers)
    if parts:
        points = ex.points if status == CORRECT else sum(p.points for p in parts)
    else:
        points = ex.points if status == CORRECT else 0.0
    return Result(key, ex.title, status, message, points, ex.points, parts)


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


def verify(key: str, part: str | None = None, **answers) -> bool:
    """True when the answers to exercise ``key`` (or its part named ``part``) are correct; else raise :class:`Wrong`.

    What the otter-grader tests of the course call (``python -m harness.otter``): a test
    passes when this returns, and shows the check's message when it raises.
    """
    result = evaluate(key, **answers)
    if part is None:
        if result.status == CORRECT:
            return True
        raise Wrong(str(result))
    names = [name for name, _ in _lookup(key).parts]
    if part not in names:
        raise KeyError(f"Exercise {key} declares the parts {names}. Received: part={part!r}")
    if result.status == CORRECT:
        return True
    verdict = next((p for p in result.parts if p.name == part), None)
    if verdict is not None and verdict.status == CORRECT:
        return True
    reason = verdict.message if verdict is not None else result.message  # unanswered, or wrong answer names
    raise Wrong(f"{_SYMBOL[result.status]} Exercise {key} ({result.title}), part {part!r}: {reason}")


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
        raise Wrong(
            f"{what}: expected {_fmt(expected)}, received {_fmt(received)}." + (f" Hint: {hint}" if hint else "")
        )


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


def expect_bool(name: str, received) -> None:
    """``received`` is True or False (a Python or NumPy bool); the message names the answer ``name``."""
    if not isinstance(received, (bool, np.bool_)):
        raise Wrong(f"{name}: expected True or False, received {type(received).__name__} {received!r}.")


def expect_shape(what: str, received, shape: tuple) -> None:
    """``received`` has ``.shape`` (or is a tuple) equal to ``shape``."""
    got = tuple(getattr(received, "shape", received))
    if got != tuple(shape):
        raise Wrong(f"{what}: expected shape {tuple(shape)}, received {got}.")


def is_number(value) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
