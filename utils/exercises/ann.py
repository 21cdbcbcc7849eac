"""Checks for the exercises of 01_ann_churn (feed-forward networks on the churn table)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import NotYet, call, close, exercise


def _shuffled_drop(score: Callable[[np.ndarray], float], X: np.ndarray, column: int, seed: int) -> float:
    """The reference: the score lost when one column is shuffled with ``default_rng(seed).permutation``."""
    shuffled = X.copy()
    shuffled[:, column] = np.random.default_rng(seed).permutation(shuffled[:, column])
    return float(score(X) - score(shuffled))


@exercise("01.1", "permutation importance: the validation score lost when one column is shuffled")
def permutation_drop(answer, *, score: Callable[[np.ndarray], float], X: np.ndarray, columns=None) -> None:
    columns = range(X.shape[1]) if columns is None else columns
    for column in columns:
        for seed in (0, 1):
            before = X.copy()
            got = call(answer, score, X, column, seed)
            if not np.array_equal(X, before):
                raise NotYet("your function changed X itself: shuffle a copy, or every later column is measured "
                             "on already shuffled data")
            expected = _shuffled_drop(score, X, column, seed)
            if isinstance(got, int | float | np.floating) and abs(float(got) + expected) < 1e-9 and expected:
                raise NotYet("the sign is reversed: return the score before shuffling minus the score after")
            close(got, expected, abs_=1e-9, what=f"the drop for column {column} with seed {seed}",
                  hint="score X as it is, then a copy whose one column is shuffled with "
                       "np.random.default_rng(seed).permutation, and return the difference")


def _reference_cost(prob: np.ndarray, y_true: np.ndarray, threshold: float) -> float:
    called = prob >= threshold
    return float(5 * np.sum(~called & (y_true == 1)) + np.sum(called))


@exercise("01.4", "the cost of calling every customer whose probability reaches a threshold")
def call_cost(answer, *, prob: np.ndarray, y_true: np.ndarray) -> None:
    prob, y_true = np.asarray(prob), np.asarray(y_true)
    for threshold in (0.0, 0.1, 0.2, 0.35, 0.5, 0.8, 1.1):
        got = call(answer, prob, y_true, threshold)
        expected = _reference_cost(prob, y_true, threshold)
        if threshold == 1.1:
            hint = "calling nobody costs 5 for every leaver"
        elif threshold == 0.0:
            hint = "calling everybody costs 1 per customer, leavers included, and misses nobody"
        else:
            hint = "add 1 for every call (leaver or not) and 5 for every leaver who is not called"
        close(got, expected, abs_=1e-9, what=f"the cost at threshold {threshold}", hint=hint)


def _reference_unpaired_p(right_a: np.ndarray, right_b: np.ndarray) -> float:
    n = len(right_a)
    a1, a2 = right_a.mean(), right_b.mean()
    z = (a1 - a2) / math.sqrt(a1 * (1 - a1) / n + a2 * (1 - a2) / n)
    return math.erfc(abs(z) / math.sqrt(2))  # two-sided: 2 * P(Z > |z|)


@exercise("01.6", "the two-sided p-value of the unpaired z-test for two accuracies")
def unpaired_p(answer, *, right_a: np.ndarray, right_b: np.ndarray) -> None:
    right_a, right_b = np.asarray(right_a, bool), np.asarray(right_b, bool)
    rng = np.random.default_rng(3)
    synthetic = (rng.random(400) < 0.8, rng.random(400) < 0.74)
    for a, b in ((right_a, right_b), (right_b, right_a), synthetic):
        if a.mean() in (0.0, 1.0) or b.mean() in (0.0, 1.0):
            raise ValueError("both models must be right on some rows and wrong on others")
        got = call(answer, a, b)
        expected = _reference_unpaired_p(a, b)
        if isinstance(got, int | float | np.floating) and math.isclose(float(got), expected / 2, rel_tol=1e-6):
            raise NotYet("that is the one-sided p-value: a difference in either direction counts")
        close(got, expected, rel=1e-6, abs_=1e-12, what="the p-value",
              hint="z is the accuracy difference over the square root of the sum of the two binomial variances "
                   "a(1 - a)/n; the p-value is the chance that a standard normal lands beyond |z| on either side")
