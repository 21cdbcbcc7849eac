"""Self-checking exercises: ``check("06.1", answer)`` tells a learner *pass* or *not yet*, with a hint.

Each exercise that has a code or number answer is followed in its notebook by a check cell. The learner
writes a function (or fills in a value) and runs the check, which tests behaviour (shapes, values within a
tolerance, a property) and prints one line: a pass, or "not yet" with a hint that does not give the answer
away. A stub that still raises ``NotImplementedError`` (or returns ``...``/``None``) is reported as not
attempted, and the notebook goes on running.

Checks are registered per topic in the submodules of this package (``ann``, ``som``, ...) with
:func:`exercise`. ``COURSE_CHECKS`` turns the printed verdict into a test:

- ``solutions``: the instructor edition is being tested, so a check that does not pass raises
  ``AssertionError`` (the committed solution is wrong);
- ``stubs``: the student edition is being tested, so a check that is not reported as *not attempted*
  raises (the stub is not a stub, or the check crashed on it);
- unset: a learner is working, nothing raises.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

MODE_ENV = "COURSE_CHECKS"
MODES = ("learn", "solutions", "stubs")

# Which submodule holds the checks of each notebook (the two digits before the dot of an exercise id).
TOPIC_MODULES = {
    "01": "ann", "02": "cnn", "03": "rnn", "04": "lstm", "05": "gru", "06": "som", "07": "rbm",
    "08": "autoencoders", "09": "gan", "10": "transformer", "11": "lstm_cells", "12": "devices",
}


T = TypeVar("T")


class NotYet(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised inside a check: the answer is not right yet. The message is the hint shown to the learner."""


class NotAttempted(Exception):  # noqa: N818
    """The answer is still the stub."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check."""

    exercise: str
    status: str  # "pass", "not yet" or "not attempted"
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def line(self) -> str:
        if self.passed:
            return f"✓ exercise {self.exercise}: pass"
        return f"✗ exercise {self.exercise}: {self.status} · {self.hint}"

    def _ipython_display_(self) -> None:
        """Show nothing when a check ends a cell: check() has printed its line already."""


@dataclass(frozen=True)
class Exercise:
    """A registered check: ``test(answer, **context)`` raises :class:`NotYet` with a hint when wrong."""

    id: str
    test: Callable[..., None]
    summary: str


_REGISTRY: dict[str, Exercise] = {}


def exercise(exercise_id: str, summary: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as the check of ``exercise_id`` (``"NN.k"``)."""
    _validate_id(exercise_id)

    def register(test: Callable[..., None]) -> Callable[..., None]:
        if exercise_id in _REGISTRY and _REGISTRY[exercise_id].test is not test:
            raise ValueError(f"exercise {exercise_id} is registered twice (in {test.__module__}); ids must be unique")
        _REGISTRY[exercise_id] = Exercise(exercise_id, test, summary)
        return test

    return register


def _validate_id(exercise_id: str) -> None:
    head, _, tail = str(exercise_id).partition(".")
    if head not in TOPIC_MODULES or not tail.isdigit():
        raise ValueError(f"exercise id {exercise_id!r} is not of the form 'NN.k' with NN one of "
                         f"{', '.join(TOPIC_MODULES)} (the notebook's number) and k the exercise's number")


def registered(exercise_id: str) -> Exercise:
    """The check of an exercise, importing its topic's module on first use."""
    _validate_id(exercise_id)
    if exercise_id not in _REGISTRY:
        module = TOPIC_MODULES[exercise_id.partition(".")[0]]
        importlib.import_module(f"{__name__}.{module}")
    try:
        return _REGISTRY[exercise_id]
    except KeyError:
        raise KeyError(f"no check is registered for exercise {exercise_id}: add one with "
                       f"@exercise({exercise_id!r}, ...) in utils/exercises/{TOPIC_MODULES[exercise_id[:2]]}.py") from None


def all_exercises() -> dict[str, Exercise]:
    """Every registered check (imports every topic module)."""
    for module in TOPIC_MODULES.values():
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{module}":
                raise
    return dict(sorted(_REGISTRY.items()))


def is_stub(value: Any) -> bool:
    """A value that still marks an unanswered exercise: ``...`` or ``None``."""
    return value is Ellipsis or value is None


def call(answer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function inside a check; its stub raising ``NotImplementedError`` means not attempted."""
    if not callable(answer):
        if is_stub(answer):
            raise NotAttempted("fill in the answer where the exercise says YOUR CODE HERE")
        raise NotYet(f"expected a function, got {type(answer).__name__}")
    try:
        result = answer(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted("replace `raise NotImplementedError()` with your code") from None
    if is_stub(result):
        raise NotAttempted("your function returns nothing yet: write its body and return the answer")
    return result


def mode() -> str:
    """How verdicts are treated: ``learn`` (print only), ``solutions`` or ``stubs`` (raise on the unexpected)."""
    value = os.environ.get(MODE_ENV, "").strip() or "learn"
    if value not in MODES:
        raise ValueError(f"{MODE_ENV}={value!r} is not one of {', '.join(MODES)}; unset it when working "
                         "through the exercises")
    return value


def check(exercise_id: str, answer: Any, /, **context: Any) -> Verdict:
    """Check a learner's answer to ``exercise_id`` and print *pass* or *not yet* with a hint."""
    ex = registered(exercise_id)
    try:
        if is_stub(answer):
            raise NotAttempted("fill in the answer where the exercise says YOUR CODE HERE")
        ex.test(answer, **context)
        verdict = Verdict(exercise_id, "pass")
    except NotAttempted as stub:
        verdict = Verdict(exercise_id, "not attempted", str(stub))
    except NotYet as wrong:
        verdict = Verdict(exercise_id, "not yet", str(wrong))
    except Exception as err:  # an answer that crashes the check is an answer that is not right yet
        verdict = Verdict(exercise_id, "not yet", f"calling your answer raised {type(err).__name__}: {err}")
    print(verdict.line())
    expected = {"solutions": "pass", "stubs": "not attempted"}.get(mode())
    if expected is not None and verdict.status != expected:
        raise AssertionError(f"exercise {exercise_id}: expected '{expected}' with {MODE_ENV}={mode()}, "
                             f"got '{verdict.status}' ({verdict.hint})")
    return verdict


def converted(value: Any, convert: Callable[[Any], T], what: str) -> T:
    """``convert(value)``, or :class:`NotYet` saying ``"<what>, got <value's type>"`` when it cannot be converted.

    ``what`` tells the learner what to return, e.g. ``converted(got, float, "return the margin as one number")``.
    """
    try:
        return convert(value)
    except (TypeError, ValueError):
        raise NotYet(f"{what}, got {type(value).__name__}") from None


def close(value: Any, expected: float, *, rel: float = 0.0, abs_: float = 0.0, what: str = "your answer",
          hint: str = "re-read the exercise") -> None:
    """Raise :class:`NotYet` unless ``value`` is a finite number within ``rel``/``abs_`` of ``expected``."""
    number = converted(value, float, f"{what} should be a number")
    if not math.isfinite(number):
        raise NotYet(f"{what} is not a finite number")
    if abs(number - expected) > max(abs_, rel * abs(expected)):
        raise NotYet(f"{what} is not right yet: {hint}")


def finite_array(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``value`` as a finite float64 array of ``shape``, or :class:`NotYet` saying what is wrong with it."""
    a = converted(value, lambda v: np.asarray(v, dtype="float64"), f"{what} should be an array of numbers")
    if a.shape != shape:
        raise NotYet(f"{what} should have shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise NotYet(f"{what} holds NaN or infinite values")
    return a


__all__ = ["NotAttempted", "NotYet", "Verdict", "all_exercises", "call", "check", "close", "converted", "exercise",
           "finite_array", "is_stub", "mode", "registered"]
