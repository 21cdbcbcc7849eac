"""07_rbm_recommender's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from utils.exercises import check
from utils.exercises.rbm import MARGINS, _margin_loss, _recall
from utils.movielens import UNRATED


def _ratings():
    """Probabilities that lean towards like, and a target with dislikes where the probabilities are low."""
    rng = np.random.default_rng(0)
    p = rng.random((40, 30))
    target = np.where(rng.random((40, 30)) < 0.3, (p + rng.normal(scale=0.2, size=p.shape) > 0.35), UNRATED)
    return {"p": p, "target": target.astype("float32")}


def _worst_margin(p, target):  # the margin with the *highest* loss
    return MARGINS[int(np.argmax([_margin_loss(p, target, m) for m in MARGINS]))]


def _softplus(x):
    return np.logaddexp(0.0, x)


def _toy_rbm():
    rng = np.random.default_rng(1)
    W, a, b = rng.normal(scale=0.5, size=(6, 4)), rng.normal(size=6), rng.normal(size=4)
    return SimpleNamespace(W=W, a=a, b=b, free_energy=lambda v: -v @ a - _softplus(v @ W + b).sum(axis=1))


def _free_energy_context():
    return {"rbm": _toy_rbm(), "v": (np.random.default_rng(2).random((12, 6)) < 0.5).astype("float32")}


def _no_softplus(v, W, a, b):  # the hidden term without the softplus
    return -v @ a - (v @ W + b).sum(axis=1)


def _ranking():
    rng = np.random.default_rng(3)
    seen = rng.random((25, 40)) < 0.2
    target = np.where(~seen & (rng.random((25, 40)) < 0.3), (rng.random((25, 40)) < 0.7), UNRATED)
    return {"scores": rng.random((25, 40)), "seen": seen, "target": target.astype("float32")}


def _precision_instead(scores, seen, target, k=10):  # divides the hits by k
    scores = np.where(seen, -np.inf, scores)
    top = np.argsort(-scores, axis=1)[:, :k]
    liked = target == 1
    users = liked.any(axis=1)
    return float((np.take_along_axis(liked, top, axis=1).sum(axis=1)[users] / k).mean())


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "07.2": (_ratings, _worst_margin),
    "07.3": (_free_energy_context, _no_softplus),
    "07.4": (_ranking, _precision_instead),
}


RIGHT = {
    "07.2": lambda p, target: MARGINS[int(np.argmin([_margin_loss(p, target, m) for m in MARGINS]))],
    "07.3": lambda v, W, a, b: -v @ a - _softplus(v @ W + b).sum(axis=1),
    "07.4": lambda scores, seen, target, k=10: _recall(scores, seen, target, k),
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_right_answers_pass(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert check(exercise_id, RIGHT[exercise_id], **WRONG[exercise_id][0]()).passed


def test_margin_off_the_grid_and_recommending_seen_movies_are_not_yet(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    off_grid = check("07.2", lambda p, target: 0.12, **_ratings())
    assert off_grid.status == "not yet" and "steps of 0.05" in off_grid.hint
    ctx = _ranking()
    seen_too = check("07.4", lambda scores, seen, target, k=10: _recall(scores, np.zeros_like(seen), target, k), **ctx)
    assert seen_too.status == "not yet"
