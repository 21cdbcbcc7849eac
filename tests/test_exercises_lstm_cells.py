"""11_lstm_cells' exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import io
import tokenize

import numpy as np
import pytest

from utils.exercises import check
from utils.exercises.lstm_cells import BRACKET_SNIPPET, _coupled_reference
from utils.lstm_cells import bracket_depth
from utils.reference import sigmoid

SOURCE = "import os\n\n\ndef g(x):\n    return [x, (os.sep, '[')]  # ]\n"


def _source():
    return {"source": SOURCE}


def _logits():
    return {"logits": np.random.default_rng(0).normal(0.0, 2.0, 20)}


def _naive_depth(source):
    """Counts every bracket character, those inside strings and comments too."""
    opened = np.cumsum([ch in "([{" for ch in source])
    closed = np.concatenate([[0], np.cumsum([ch in ")]}" for ch in source])[:-1]])
    return opened - closed


def _depth_closing_early(source):
    """tokenize's brackets, but a closing bracket already counts at its own position."""
    starts = np.concatenate([[0], np.flatnonzero(np.array(list(source)) == "\n") + 1])
    change = np.zeros(len(source) + 1, dtype=int)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP and tok.string in "()[]{}":
            at = starts[tok.start[0] - 1] + tok.start[1]
            change[at] += 1 if tok.string in "([{" else -1
    return np.cumsum(change[:-1])


def _entropy(z, tau, log=np.log2, scale=lambda z, tau: z / tau):
    q = scale(np.asarray(z, dtype="float64"), tau)
    p = np.exp(q - q.max())
    p /= p.sum()
    return float(-(p * log(np.where(p > 0, p, 1.0))).sum())


def _coupled_with_separate_input_gate(zx, h, c, U):
    """Uses f for both gates: c = f c + f g, i.e. the input gate is f instead of 1 - f."""
    f, g, o = np.split(zx + h @ U, 3, axis=-1)
    f = sigmoid(f)
    c = f * c + f * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "11.1": (_source, _naive_depth),  # brackets inside strings and comments counted
    "11.4": (_logits, lambda z, tau: _entropy(z, tau, scale=lambda z, tau: z * tau)),  # multiplied by tau
    "11.5": (dict, _coupled_with_separate_input_gate),  # input gate f instead of 1 - f
}


RIGHT = {
    "11.1": (_source, bracket_depth),
    "11.4": (_logits, _entropy),
    "11.5": (dict, _coupled_reference),
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context, right = RIGHT[exercise_id]
    verdict = check(exercise_id, right, **context())
    assert verdict.passed, verdict.hint


def _coupled_swapped_blocks(zx, h, c, U):
    g, f, o = np.split(zx + h @ U, 3, axis=-1)
    f = sigmoid(f)
    c = f * c + (1 - f) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def _coupled_old_c_in_h(zx, h, c, U):
    """The right cell state, but h computed from the old one."""
    o = np.split(zx + h @ U, 3, axis=-1)[2]
    return sigmoid(o) * np.tanh(c), _coupled_reference(zx, h, c, U)[1]


@pytest.mark.parametrize(("exercise_id", "answer", "hint"), [
    ("11.1", _naive_depth, "OP tokens"),
    ("11.1", _depth_closing_early, "just after it"),
    ("11.1", lambda source: bracket_depth(source)[:-1], "one number per character"),
    ("11.4", lambda z, tau: _entropy(z, tau, log=np.log), "nats"),
    ("11.4", lambda z, tau: _entropy(z, tau, scale=lambda z, tau: z * tau), "divide the logits by tau"),
    ("11.4", lambda z, tau: _entropy(z, 1.0), "divide the logits by tau"),  # tau ignored
    ("11.5", _coupled_with_separate_input_gate, "coupled update"),
    ("11.5", _coupled_swapped_blocks, "coupled update"),
    ("11.5", _coupled_old_c_in_h, "hidden state"),
    ("11.5", lambda zx, h, c, U: _coupled_reference(zx, h, c, U)[0], "pair (h, c)"),
])
def test_each_mistake_gets_a_hint_that_names_it(exercise_id, answer, hint, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context = {"11.1": _source, "11.4": _logits, "11.5": dict}[exercise_id]
    verdict = check(exercise_id, answer, **context())
    assert verdict.status == "not yet" and hint in verdict.hint, verdict.hint


def test_the_snippet_has_brackets_that_a_character_count_gets_wrong():
    assert not np.array_equal(_naive_depth(BRACKET_SNIPPET), bracket_depth(BRACKET_SNIPPET))
    assert bracket_depth(BRACKET_SNIPPET)[BRACKET_SNIPPET.index("b)}") + 1] == 2  # the call still open before ')'
