"""03_rnn's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.exercises import check
from utils.exercises.rnn import logistic_series


def _sine():
    t = np.linspace(0, 100, 1000)
    return {"series": np.sin(t), "h": t[1] - t[0], "n_train": 800}


def _chaos():
    return {"x": logistic_series(700, 4.0)}


def _recurrence(series, h, n_train):
    return 2 * np.cos(h) * series[n_train - 1:-1] - series[n_train - 2:-2]


def _shifted_recurrence(series, h, n_train):
    """One step too late: the forecast of y[k] uses y[k] itself and y[k - 1]."""
    return 2 * np.cos(h) * series[n_train:] - series[n_train - 1:-1]


def _log_derivative(x, r=4.0):
    return float(np.mean(np.log(np.abs(r * (1 - 2 * np.asarray(x))))))


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "03.2": (_sine, lambda series, h, n_train: series[n_train - 1:-1]),  # persistence, not the recurrence
    "03.4": (_chaos, lambda x: tuple(np.polyfit(x[1:], x[:-1], 2))),  # inputs and targets swapped
    "03.5": (_chaos, lambda x, r=4.0: float(np.mean(np.log(np.abs(r * x * (1 - x)))))),  # ln|f|, not ln|f'|
}


RIGHT = {
    "03.2": (_sine, _recurrence),
    "03.4": (_chaos, lambda x: np.polyfit(x[:-1], x[1:], 2)),
    "03.5": (_chaos, _log_derivative),
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context, right = RIGHT[exercise_id]
    verdict = check(exercise_id, right, **context())
    assert verdict.passed, verdict.hint


@pytest.mark.parametrize(("exercise_id", "answer", "hint"), [
    ("03.2", _shifted_recurrence, "not exact"),
    ("03.2", lambda series, h, n_train: _recurrence(series, h, n_train)[:-1], "shape"),
    ("03.2", lambda series, h, n_train: np.asarray(series[n_train:]), "only use the values before"),
    ("03.2", lambda series, h, n_train: _recurrence(series, 0.1001, n_train), "2 cos(h)"),  # h of the notebook only
    ("03.4", lambda x: tuple(np.polyfit(x[:-1], x[1:], 2))[::-1], "order"),
    ("03.4", lambda x: tuple(np.polyfit(x[:-1], x[1:], 2))[:2], "three numbers"),
    ("03.4", lambda x: tuple(np.polyfit(x[1:], x[:-1], 2)), "predict x_t from x_(t+1)"),
    ("03.4", lambda x: (-4.0, 4.0, 0.0), "least squares"),  # the law, not the fit: fails on the noisy series
    ("03.5", lambda x, r=4.0: _log_derivative(x, 4.0), "use r"),  # r ignored
    ("03.5", lambda x, r=4.0: abs(_log_derivative(x, r)), "negative"),  # the sign dropped: r = 3.2 gives a cycle
    ("03.5", lambda x, r=4.0: float(np.mean(np.log(r * (1 - 2 * np.asarray(x))))), "finite"),  # no |.|
    ("03.5", lambda x, r=4.0: float(np.log(np.abs(np.mean(r * (1 - 2 * np.asarray(x)))))), "log of each"),
])
def test_each_mistake_gets_a_hint_that_names_it(exercise_id, answer, hint, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context = {"03.2": _sine, "03.4": _chaos, "03.5": _chaos}[exercise_id]
    with np.errstate(invalid="ignore"):
        verdict = check(exercise_id, answer, **context())
    assert verdict.status == "not yet" and hint in verdict.hint, verdict.hint


def test_logistic_series_follows_the_map():
    x = logistic_series(5, 4.0, x0=0.2, skip=1)
    assert x[0] == pytest.approx(4 * 0.2 * 0.8)
    assert np.allclose(x[1:], 4 * x[:-1] * (1 - x[:-1]))
