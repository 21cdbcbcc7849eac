"""The adding problem: a long-range memory task for recurrent networks (Hochreiter and Schmidhuber, 1997).

Each sequence has ``length`` steps and two input channels: a random value in [0, 1) and a
marker that is 1 at exactly two steps (one in the first half, one in the second half) and 0
elsewhere. The target is the sum of the two marked values. To answer, a network has to
notice the first marked value and carry it, unchanged, over up to ``length`` steps of
distracting input.

Predicting the mean of the target (1.0) scores an MSE equal to its variance, 2/12 = 1/6:
a network that scores about that has learned nothing. Remembering only the second value
(the nearer one) scores 1/12, the variance of the first value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: MSE of always predicting the mean target 1.0: Var(u1 + u2) for two independent U(0, 1) values.
VARIANCE_MSE = 2 / 12
#: MSE of a model that knows the second marked value exactly but not the first: Var(u1).
SECOND_VALUE_ONLY_MSE = 1 / 12


@dataclass(frozen=True)
class AddingProblem:
    """Inputs ``X`` (n, length, 2), targets ``y`` (n,), and the two marked steps of each sequence."""

    X: np.ndarray
    y: np.ndarray
    first: np.ndarray
    second: np.ndarray


def adding_problem(n: int, length: int, seed: int | np.random.Generator = 0) -> AddingProblem:
    """Draw ``n`` sequences of the adding problem with ``length`` steps each (float32 inputs and targets)."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n (the number of sequences) must be a positive int, got {n!r}")
    if not isinstance(length, int | np.integer) or length < 2:
        raise ValueError(f"length must be an int of at least 2 (one marked step in each half), got {length!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(n, length))
    first = rng.integers(0, length // 2, size=n)
    second = rng.integers(length // 2, length, size=n)
    rows = np.arange(n)
    markers = np.zeros((n, length))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1).astype("float32")
    y = (values[rows, first] + values[rows, second]).astype("float32")
    return AddingProblem(X, y, first, second)


def marked_gradients(grads, problem: AddingProblem) -> tuple[np.ndarray, np.ndarray]:
    """The derivative of each prediction with respect to its first and its second marked *value*.

    ``grads`` has the shape of ``problem.X``: the gradient of the sum of the predictions
    with respect to the inputs (each prediction depends on its own sequence only). A
    network that solves the task has both derivatives near 1, since the target is
    ``u1 + u2``; one that has forgotten the first value has the first near 0.
    """
    grads = np.asarray(grads)
    if grads.shape != problem.X.shape:
        raise ValueError(f"grads must have the inputs' shape {problem.X.shape}; got {grads.shape}. "
                         "Pass the gradient with respect to the whole input batch.")
    rows = np.arange(len(problem.y))
    return grads[rows, problem.first, 0], grads[rows, problem.second, 0]


def unit_correlations(states, values) -> np.ndarray:
    """|Pearson correlation| of each unit's state with ``values`` across sequences; 0 for a unit that never changes.

    ``states`` is ``(sequences, units)`` (the hidden state at one step of each sequence), ``values``
    ``(sequences,)``, e.g. the first marked value: a unit that carries the value correlates near 1.
    """
    states, values = np.asarray(states, dtype="float64"), np.ravel(np.asarray(values, dtype="float64"))
    if states.ndim != 2 or states.shape[0] != values.shape[0]:
        raise ValueError(f"states must be (sequences, units) with one row per value; got {states.shape} for "
                         f"{values.shape[0]} values")
    centred, v = states - states.mean(axis=0), values - values.mean()
    scale = np.sqrt((centred ** 2).sum(axis=0) * (v ** 2).sum())
    out = np.zeros(states.shape[1])
    alive = scale > 1e-12 * max(1.0, float(np.abs(states).max()))
    out[alive] = np.abs(centred[:, alive].T @ v) / scale[alive]
    return out
