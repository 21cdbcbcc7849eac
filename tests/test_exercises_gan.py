"""09_gan's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.exercises import check


def _densities():
    x = np.linspace(-10, 10, 5001)
    return {"p_data": np.exp(-0.5 * x ** 2) / np.sqrt(2 * np.pi), "p_g": np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi)}


def _smoothing_of_real_targets_only(p_data, p_g, real_target, fake_target):
    return real_target * p_data / (p_data + p_g)  # the fakes' target left out


def _same_formula_for_both_paddings(n, kernel, stride, padding):
    return (n - 1) * stride + kernel


def _kl_instead_of_jsd(mu):
    return mu ** 2 / 2  # KL(N(0, 1) || N(mu, 1)): unbounded, not the JSD


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "09.2": (_densities, _smoothing_of_real_targets_only),
    "09.4": (dict, _same_formula_for_both_paddings),
    "09.6": (dict, _kl_instead_of_jsd),
}


def _jsd(mu):
    x = np.linspace(-10, 10, 5001)
    log_p, log_q = -0.5 * x ** 2 - 0.5 * np.log(2 * np.pi), -0.5 * (x - mu) ** 2 - 0.5 * np.log(2 * np.pi)
    log_m = np.logaddexp(log_p, log_q) - np.log(2)
    return 0.5 * np.sum(np.exp(log_p) * (log_p - log_m) + np.exp(log_q) * (log_q - log_m)) * (x[1] - x[0])


RIGHT = {
    "09.2": (_densities, lambda p, q, a, b: (a * p + b * q) / (p + q)),
    "09.4": (dict, lambda n, k, s, padding: n * s if padding == "same" else (n - 1) * s + k),
    "09.6": (dict, _jsd),
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context, right = RIGHT[exercise_id]
    verdict = check(exercise_id, right, **context())
    assert verdict.passed, verdict.hint


@pytest.mark.parametrize(("exercise_id", "answer", "hint"), [
    ("09.2", lambda p, q, a, b: q / (p + q), "re-derive"),  # real and fake swapped
    ("09.2", lambda p, q, a, b: (a * p + b * q)[:-1] / (p + q)[:-1], "shape"),
    ("09.4", lambda n, k, s, padding: n * s, "size is not Keras'"),  # the 'same' size for both
    ("09.4", lambda n, k, s, padding: None, "returns nothing"),
    ("09.6", _kl_instead_of_jsd, "between 0 and log 2"),
    ("09.6", lambda mu: 0.5 * _jsd(mu), "not right yet"),  # the factor 1/2 twice
    ("09.6", lambda mu: _jsd(mu) / np.log(2), "between 0 and log 2"),  # in bits
])
def test_each_mistake_gets_a_hint_that_names_it(exercise_id, answer, hint, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context = _densities() if exercise_id == "09.2" else {}
    verdict = check(exercise_id, answer, **context)
    assert verdict.status != "pass" and hint in verdict.hint, verdict.hint
