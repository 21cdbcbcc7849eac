"""12_multi_device's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import math

import numpy as np

from utils.exercises import check


def _softmax_gradient(W, X, Y):
    logits = X @ W
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(Y)), Y] -= 1.0
    return X.T @ p / len(Y)


def _shards():
    rng = np.random.default_rng(0)
    return {"gradient": _softmax_gradient, "X": rng.normal(size=(64, 5)), "Y": rng.integers(0, 3, 64),
            "W": 0.1 * rng.normal(size=(5, 3))}


def _divide_by_all_devices(shape, spec, mesh):
    devices = math.prod(mesh.values())
    return tuple(d // devices if a else d for d, a in zip(shape, spec))


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "12.1": (dict, lambda eta, k, optimizer: k * eta),  # the linear rule for Adam too
    "12.2": (_shards, lambda gradients, sizes: np.mean(gradients, axis=0)),  # the plain mean of unequal shards
    "12.3": (lambda: {"measured": [((784, 512), (None, "model"), {"batch": 2, "model": 2}, (784, 256))]},
             _divide_by_all_devices),  # cut by every device of the mesh, not by the named axis
    "12.4": (lambda: {"params": 20_000}, lambda n_params, n_devices, width: 2 * n_params * width),  # no (N-1)/N
}


def test_right_answers_pass(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert check("12.1", lambda eta, k, opt: k * eta if opt == "sgd" else math.sqrt(k) * eta).passed
    assert check("12.2", lambda g, s: sum(n / sum(s) * x for x, n in zip(g, s)), **_shards()).passed
    right = lambda shape, spec, mesh: tuple(d // (mesh[a] if a else 1) for d, a in zip(shape, spec))  # noqa: E731
    assert check("12.3", right, measured=[((784, 512), (None, "model"), {"batch": 2, "model": 2}, (784, 256))]).passed
    assert check("12.4", lambda p, n, w: 2 * (n - 1) / n * p * w, params=20_000).passed


def test_hints_name_the_mistake_without_the_answer(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    adam = check("12.1", lambda eta, k, optimizer: k * eta)
    assert adam.status == "not yet" and "Adam" in adam.hint
    wrong_measure = check("12.3", lambda shape, spec, mesh: tuple(shape), measured=[])
    assert "None stays whole" in wrong_measure.hint
    shape = check("12.2", lambda gradients, sizes: gradients, **_shards())
    assert shape.status == "not yet" and "shape" in shape.hint
