"""06_som_fraud's exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np
from minisom import MiniSom

from utils.exercises import check


def _data():
    return np.random.default_rng(0).random((150, 5))


def _trained(topology="rectangular"):
    som = MiniSom(10, 10, 5, topology=topology, random_seed=1)
    som.random_weights_init(_data())
    som.train_random(_data(), 300)
    return som


def _farthest_but_too_many(som, data, share):
    distance = np.linalg.norm(data - som.quantization(data), axis=1)
    return distance >= np.quantile(distance, 1 - 2 * share)


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "06.1": (dict, lambda fraction, total: fraction * total / 2),  # forgot to invert the decay
    "06.2": (lambda: {"data": _data(), "seed": 0, "n_iter": 300},
             lambda data, seed, n_iter: _trained("rectangular")),  # the rectangular map
    "06.3": (lambda: {"som": _trained(), "data": _data()}, _farthest_but_too_many),
}


def test_qe_flags_check_refuses_the_wrong_customers():
    som, data = _trained(), _data()
    distance = np.linalg.norm(data - som.quantization(data), axis=1)

    def nearest(som, data, share):
        return distance <= np.quantile(distance, share)

    verdict = check("06.3", nearest, som=som, data=data)
    assert verdict.status == "not yet" and "farthest" in verdict.hint
