"""02_cnn_cats_vs_dogs's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.exercises import check


def _valid_only(n, k, filters, channels, stride, padding):
    """Ignores the padding: the 'valid' formula for every layer."""
    return (n - k) // stride + 1, (k * k * channels + 1) * filters


def _no_bias(n, k, filters, channels, stride, padding):
    side = -(-n // stride) if padding == "same" else (n - k) // stride + 1
    return side, k * k * channels * filters


def _shifted_sum(a, b):
    """Adds the two kernels instead of composing them."""
    return np.pad(a, 1) + np.pad(b, 1)


def _field_without_pooling_width(blocks):
    """Forgets that a 2x2 pooling widens the patch too."""
    field, jump = 1, 1
    for _ in range(blocks):
        field += 2 * jump
        jump *= 2
    return field


def _field_with_last_pooling(blocks):
    """Counts the pooling of the last block, which comes after relu<blocks>."""
    field, jump = 1, 1
    for _ in range(blocks):
        field += 3 * jump
        jump *= 2
    return field


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "02.1": (dict, _valid_only),
    "02.2": (dict, _shifted_sum),
    "02.3": (dict, _field_without_pooling_width),
    "02.4": (dict, lambda side, k, c_in, c_out: side * side * k * k * c_out),  # forgot the input channels
}


@pytest.mark.parametrize(("exercise_id", "wrong", "hint"), [
    ("02.1", _no_bias, "bias"),
    ("02.1", lambda *args: 48, "two numbers"),
    ("02.2", lambda a, b: a @ b, "5 x 5"),
    ("02.3", _field_with_last_pooling, "relu<blocks>"),
])
def test_more_wrong_answers_get_a_useful_hint(exercise_id, wrong, hint, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    verdict = check(exercise_id, wrong)
    assert verdict.status == "not yet" and hint in verdict.hint


def _receptive_field(blocks):
    field, jump = 1, 1
    for block in range(1, blocks + 1):
        field += 2 * jump
        if block < blocks:
            field += jump
            jump *= 2
    return field


@pytest.mark.parametrize(("exercise_id", "right"), [
    ("02.1", lambda n, k, f, c, s, p: (-(-n // s) if p == "same" else (n - k) // s + 1, (k * k * c + 1) * f)),
    ("02.2", lambda a, b: sum(np.pad(b[p, q] * a, ((p, 2 - p), (q, 2 - q))) for p in range(3) for q in range(3))),
    ("02.3", _receptive_field),
    ("02.4", lambda side, k, c_in, c_out: side * side * c_out * k * k * c_in),
])
def test_right_answers_pass(exercise_id, right, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKS", "solutions")  # a right answer that does not pass raises here
    assert check(exercise_id, right).passed
