"""10_transformer's exercise checks reject wrong answers, recognise stubs and pass the right answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.exercises import check


def _no_biases(d_model, num_heads, key_dim):
    return 4 * d_model * num_heads * key_dim


def _mha_parameters(d_model, num_heads, key_dim):
    inner = num_heads * key_dim
    return 3 * (d_model * inner + inner) + inner * d_model + d_model


def _rotation(k, depth, sign=1.0):
    m = np.zeros((depth, depth))
    for i in range(depth // 2):
        a = k / 10000.0 ** (2 * i / depth)
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[np.cos(a), sign * np.sin(a)], [-sign * np.sin(a), np.cos(a)]]
    return m


def _longest(memory, batch_size, heads, bytes_per_number=4):
    return math.isqrt(memory // (batch_size * heads * bytes_per_number))


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "10.1": (dict, _no_biases),  # the biases forgotten
    "10.2": (dict, lambda k, depth: _rotation(k, depth, sign=-1.0)),  # shifts backwards
    "10.3": (dict, lambda memory, batch_size, heads, bytes_per_number=4: _longest(memory, batch_size, 1,
                                                                                  bytes_per_number)),  # one head
}
RIGHT = {"10.1": _mha_parameters, "10.2": _rotation, "10.3": _longest}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_right_answer_passes(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert check(exercise_id, RIGHT[exercise_id]).status == "pass"


def test_hints_name_the_mistake(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert "biases" in check("10.1", _no_biases).hint
    assert "back" in check("10.2", lambda k, depth: _rotation(k, depth, sign=-1.0)).hint
    assert "heads" in check("10.3", lambda m, b, h, s=4: _longest(m, b, 1, s)).hint
    assert "squared" in check("10.3", lambda m, b, h, s=4: m // (b * h * s)).hint
    assert "shape" in check("10.2", lambda k, depth: np.eye(depth + 1)).hint


def test_offset_check_uses_the_notebooks_encoding(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)

    def cos_first(length, depth):  # the other common layout: cos on even dimensions
        pe = np.zeros((length, depth))
        angles = np.arange(length)[:, None] / 10000.0 ** (2 * np.arange(depth // 2)[None, :] / depth)
        pe[:, 0::2], pe[:, 1::2] = np.cos(angles), np.sin(angles)
        return pe

    assert check("10.2", _rotation, encoding=cos_first).status == "not yet"
