"""04_lstm's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np

from utils.exercises import check
from utils.reference import sigmoid


def _gate_context():
    rng = np.random.default_rng(0)
    units = 5
    return {"x_part": rng.normal(size=(3, 4 * units)), "h": rng.normal(size=(3, units)),
            "U": rng.normal(scale=0.5, size=(units, 4 * units))}


def _forecasts():
    rng = np.random.default_rng(2)
    truth = 100 + np.cumsum(rng.normal(size=24))
    return {"truth": truth, "pred_a": truth + rng.normal(0, 2, 24), "pred_b": truth + rng.normal(0, 1, 24)}


def _input_gate(x_part, h, U):
    units = h.shape[-1]
    return sigmoid((x_part + h @ U)[:, :units])  # the input gate: the first block, not the second


def _unpaired_t(truth, a, b):
    # Welch's t on the two sets of squared errors: the days are not paired.
    ea, eb = (truth - a) ** 2, (truth - b) ** 2
    return (ea.mean() - eb.mean()) / np.sqrt(ea.var(ddof=1) / len(ea) + eb.var(ddof=1) / len(eb))


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "04.1": (dict, lambda d, u: 4 * u * (d + u)),  # the biases forgotten
    "04.2": (_gate_context, _input_gate),
    "04.3": (_forecasts, _unpaired_t),
}


def test_right_answers_pass(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)

    def forget(x_part, h, U):
        units = h.shape[-1]
        return sigmoid((x_part + h @ U)[:, units:2 * units])

    def dm(truth, a, b):
        d = (truth - a) ** 2 - (truth - b) ** 2
        return d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))

    assert check("04.1", lambda d, u: 4 * u * (d + u + 1)).passed
    assert check("04.2", forget, **_gate_context()).passed
    assert check("04.3", dm, **_forecasts()).passed


def test_gate_check_names_the_squashing_and_the_shape(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context = _gate_context()
    units = context["h"].shape[-1]
    raw = check("04.2", lambda x_part, h, U: (x_part + h @ U)[:, units:2 * units], **context)
    assert raw.status == "not yet" and "between 0 and 1" in raw.hint
    flat = check("04.2", lambda x_part, h, U: np.full(units, 0.5), **context)
    assert flat.status == "not yet" and "shape" in flat.hint


def test_dm_check_refuses_the_population_standard_deviation(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)

    def dm_ddof0(truth, a, b):
        d = (truth - a) ** 2 - (truth - b) ** 2
        return d.mean() / (d.std() / np.sqrt(len(d)))

    assert check("04.3", dm_ddof0, **_forecasts()).status == "not yet"
