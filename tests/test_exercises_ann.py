"""01_ann_churn's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.exercises import check


def _permutation_context():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(int)

    def score(data):  # accuracy of a fixed linear rule: no training needed
        return float(np.mean((data[:, 0] + 0.5 * data[:, 1] > 0) == y))

    return {"score": score, "X": X}


def _shuffle_in_place(score, X, column, seed):
    base = score(X)
    X[:, column] = np.random.default_rng(seed).permutation(X[:, column])
    return base - score(X)


def _cost_context():
    rng = np.random.default_rng(1)
    return {"prob": rng.random(200), "y_true": (rng.random(200) < 0.2).astype(int)}


def _false_alarms_only(prob, y_true, threshold):  # the other question: a caught leaver costs nothing
    called = prob >= threshold
    return 5 * np.sum(~called & (y_true == 1)) + np.sum(called & (y_true == 0))


def _right_rows():
    rng = np.random.default_rng(2)
    return {"right_a": rng.random(500) < 0.86, "right_b": rng.random(500) < 0.84}


def _one_score_error(right_a, right_b):  # the standard error of one score instead of the difference's
    a1, a2, n = right_a.mean(), right_b.mean(), len(right_a)
    return math.erfc(abs(a1 - a2) / math.sqrt(a1 * (1 - a1) / n) / math.sqrt(2))


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "01.1": (_permutation_context, _shuffle_in_place),
    "01.4": (_cost_context, _false_alarms_only),
    "01.6": (_right_rows, _one_score_error),
}


def _right_permutation(score, X, column, seed):
    shuffled = X.copy()
    shuffled[:, column] = np.random.default_rng(seed).permutation(shuffled[:, column])
    return score(X) - score(shuffled)


def _right_cost(prob, y_true, threshold):
    called = prob >= threshold
    return 5 * np.sum(~called & (y_true == 1)) + called.sum()


def _right_p(right_a, right_b):
    a1, a2, n = right_a.mean(), right_b.mean(), len(right_a)
    z = (a1 - a2) / math.sqrt(a1 * (1 - a1) / n + a2 * (1 - a2) / n)
    return 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))


@pytest.mark.parametrize(("exercise_id", "right"), [
    ("01.1", _right_permutation), ("01.4", _right_cost), ("01.6", _right_p),
])
def test_right_answers_pass(exercise_id, right, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert check(exercise_id, right, **WRONG[exercise_id][0]()).passed


def test_reversed_sign_and_one_sided_p_get_their_own_hints(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    reversed_sign = check("01.1", lambda *a: -_right_permutation(*a), **_permutation_context())
    assert reversed_sign.status == "not yet" and "sign" in reversed_sign.hint
    one_sided = check("01.6", lambda a, b: _right_p(a, b) / 2, **_right_rows())
    assert one_sided.status == "not yet" and "one-sided" in one_sided.hint


def test_unpaired_p_refuses_a_model_that_is_always_right():
    from utils.exercises.ann import unpaired_p

    with pytest.raises(ValueError, match="right on some rows and wrong"):
        unpaired_p(_right_p, right_a=np.ones(10, bool), right_b=np.arange(10) < 5)
