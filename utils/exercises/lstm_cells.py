"""Checks for the exercises of 11_lstm_cells (labels from tokenize, temperature, a coupled-gate LSTM step)."""

from __future__ import annotations

import numpy as np

from ..reference import sigmoid
from . import NotYet, call, close, converted, exercise

# Brackets in a string, in a comment, across lines and closed on the next line: what a character count gets wrong.
BRACKET_SNIPPET = (
    "def f(a, b=[1, (2, 3)]):\n"
    "    s = '(not a bracket'  # nor this: [\n"
    "    return {'k': g(a,\n"
    "                   b)}\n"
)


def _labels(value, length: int, what: str) -> np.ndarray:
    a = converted(value, lambda v: np.asarray(v, dtype="float64"), f"{what} should be an array of numbers")
    if a.shape != (length,):
        raise NotYet(f"{what} should have one number per character, shape ({length},); got {a.shape}")
    return a


@exercise("11.1", "per character, the number of brackets open there, from tokenize's OP tokens")
def bracket_depth(answer, *, source: str) -> None:
    from ..lstm_cells import bracket_depth as reference

    for text in (BRACKET_SNIPPET, source):
        got = _labels(call(answer, text), len(text), "the depths")
        expected = reference(text)
        if np.array_equal(got, expected):
            continue
        naive = np.cumsum([{"(": 1, "[": 1, "{": 1}.get(ch, 0) for ch in text]) - np.concatenate(
            [[0], np.cumsum([{")": 1, "]": 1, "}": 1}.get(ch, 0) for ch in text])[:-1]])
        if text is BRACKET_SNIPPET and np.array_equal(got, naive):
            raise NotYet("brackets inside strings or comments count in your labels: take the brackets from "
                         "tokenize's OP tokens, not from the characters")
        wrong = np.flatnonzero(got != expected)
        k = int(wrong[0])
        line = text.count("\n", 0, k) + 1
        raise NotYet(f"{len(wrong)} of {len(text)} depths differ, the first on line {line} of "
                     f"{'the check' if text is BRACKET_SNIPPET else 'the module'}'s text: an opening bracket counts "
                     "from its own position on, a closing one from just after it (tokenize gives (row, column) "
                     "positions: turn them into offsets in the text)")


def _entropy_bits(z: np.ndarray, tau: float) -> float:
    q = (z - z.max()) / tau
    p = np.exp(q - np.log(np.exp(q).sum()))
    return float(-(p * np.log2(np.where(p > 0, p, 1.0))).sum())


@exercise("11.4", "the entropy in bits of the next-character distribution at a temperature")
def temperature_entropy(answer, *, logits) -> None:
    rng = np.random.default_rng(11)
    cases = [np.asarray(logits, dtype="float64").ravel(), rng.normal(0.0, 3.0, 50), np.array([2.0, 1.0, 0.0, -1.0])]
    for z in cases:
        for tau in (0.2, 0.5, 1.0, 2.0):
            expected = _entropy_bits(z, tau)
            got = call(answer, z.copy(), tau)
            if isinstance(got, float | int | np.floating) and abs(float(got) - expected * np.log(2)) < 1e-6 < abs(
                    float(got) - expected):
                raise NotYet("your entropy is in nats: the exercise asks for bits (log base 2)")
            close(got, expected, rel=1e-4, abs_=1e-6, what=f"the entropy at tau = {tau:g}",
                  hint="divide the logits by tau (not multiply), take the softmax, then -sum p log2 p; "
                       "subtract the largest logit first so exp does not overflow")
    flat = call(answer, np.zeros(8), 1.0)
    close(flat, 3.0, abs_=1e-6, what="the entropy of 8 equal logits", hint="equal logits give a uniform distribution")


def _coupled_reference(zx, h, c, U):
    f, g, o = np.split(zx + h @ U, 3, axis=-1)
    f = sigmoid(f)
    c = f * c + (1 - f) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


@exercise("11.5", "one step of the LSTM with coupled input and forget gates (blocks f, g, o)")
def coupled_step(answer, **_) -> None:
    rng = np.random.default_rng(5)
    n, u = 4, 6
    zx, h, c = rng.normal(size=(n, 3 * u)), rng.normal(0, 0.5, (n, u)), rng.normal(size=(n, u))
    U = rng.normal(0, 0.5, (u, 3 * u))
    got = call(answer, zx.copy(), h.copy(), c.copy(), U.copy())
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise NotYet("return the pair (h, c): the new hidden state and the new cell state")
    h_new, c_new = (np.asarray(v, dtype="float64") for v in got)
    if h_new.shape != (n, u) or c_new.shape != (n, u):
        raise NotYet(f"h and c should keep the shape (batch, units) = {(n, u)}; got {h_new.shape} and {c_new.shape}")
    h_ref, c_ref = _coupled_reference(zx, h, c, U)
    # A forget gate shut (f = 0) must write the whole candidate; one wide open (f = 1) must keep the old cell.
    for bias, expect_c in ((-50.0, lambda: np.tanh(np.split(zx + h @ U, 3, axis=-1)[1])), (50.0, lambda: c)):
        pushed = zx.copy()
        pushed[:, :u] += bias
        c_limit = np.asarray(call(answer, pushed, h.copy(), c.copy(), U.copy())[1], dtype="float64")
        if not np.allclose(c_limit, expect_c(), atol=1e-6):
            state = "shut (f = 0)" if bias < 0 else "wide open (f = 1)"
            raise NotYet(f"with the forget gate {state} the cell state is not what the coupled update gives: "
                         "c_t = f * c_(t-1) + (1 - f) * tanh(g), with f the first of the three blocks")
    if not np.allclose(c_new, c_ref, atol=1e-6):
        raise NotYet("the cell state is not right yet: split zx + h @ U into three blocks f, g, o (in that order), "
                     "and use sigmoid for the gates, tanh for the candidate")
    if not np.allclose(h_new, h_ref, atol=1e-6):
        raise NotYet("the cell state is right, the hidden state is not: h = sigmoid(o) * tanh(c) with the new c")
