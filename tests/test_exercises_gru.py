"""05_gru's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import math

import numpy as np

from utils.adding_problem import SECOND_VALUE_ONLY_MSE, adding_problem
from utils.exercises import check


def _sensitivity():
    rng = np.random.default_rng(0)
    steps = rng.integers(1, 60, size=80)
    return {"sensitivity": {"GRU": rng.normal(1, 0.1, 80), "SimpleRNN": rng.normal(0, 0.01, 80)},
            "steps_to_end": steps}


def _all_marked(sensitivity, steps_to_end, within):
    return {cell: float(np.mean(s)) for cell, s in sensitivity.items()}  # forgot to keep the near ones only


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "05.2": (dict, lambda units, features, reset_after: 3 * units * (features + units + 1)),  # no second bias
    "05.3": (lambda: {"problem": adding_problem(200, 10, seed=0)}, lambda problem: SECOND_VALUE_ONLY_MSE),  # theory
    "05.4": (_sensitivity, _all_marked),
    "05.5": (dict, lambda z: 1 / (1 - z)),  # the time constant, not the half-life
}


def test_right_answers_pass(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert check("05.2", lambda u, d, reset_after: 3 * u * (d + u + 1) + (3 * u if reset_after else 0)).passed

    def mse(problem):
        rows = np.arange(len(problem.y))
        return np.mean((problem.y - problem.X[rows, problem.second, 0] - 0.5) ** 2)

    assert check("05.3", mse, problem=adding_problem(200, 10, seed=0)).passed

    def near(sensitivity, steps_to_end, within=10):
        return {cell: s[steps_to_end <= within].mean() for cell, s in sensitivity.items()}

    assert check("05.4", near, **_sensitivity()).passed
    assert check("05.5", lambda z: math.log(0.5) / math.log(z)).passed


def test_second_value_mse_refuses_predicting_the_second_value_alone(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)

    def without_mean(problem):
        rows = np.arange(len(problem.y))
        return np.mean((problem.y - problem.X[rows, problem.second, 0]) ** 2)

    verdict = check("05.3", without_mean, problem=adding_problem(200, 10, seed=0))
    assert verdict.status == "not yet" and "mean of the first" in verdict.hint
