"""Tests for utils.adding_problem: the data, its two reference MSEs, and the marked-gradient lookup."""

import numpy as np
import pytest

from utils.adding_problem import (
    SECOND_VALUE_ONLY_MSE,
    VARIANCE_MSE,
    adding_problem,
    marked_gradients,
    unit_correlations,
)


def test_sequences_have_two_markers_one_per_half():
    p = adding_problem(500, 100, seed=3)
    assert p.X.shape == (500, 100, 2) and p.y.shape == (500,) and p.X.dtype == np.float32
    markers = p.X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2) and set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(p.first < 50) and np.all(p.second >= 50)
    rows = np.arange(500)
    assert np.all(markers[rows, p.first] == 1) and np.all(markers[rows, p.second] == 1)
    np.testing.assert_allclose(p.y, p.X[rows, p.first, 0] + p.X[rows, p.second, 0], rtol=1e-6)
    # The target is the sum of the two values under the markers, nothing else.
    np.testing.assert_allclose(p.y, (p.X[:, :, 0] * markers).sum(axis=1), rtol=1e-5)


def test_reference_mses_hold_empirically():
    p = adding_problem(200_000, 10, seed=0)
    assert np.mean((p.y - 1.0) ** 2) == pytest.approx(VARIANCE_MSE, rel=0.02)
    second = p.X[np.arange(len(p.y)), p.second, 0]
    assert np.mean((p.y - (second + 0.5)) ** 2) == pytest.approx(SECOND_VALUE_ONLY_MSE, rel=0.02)


def test_seeds_and_generators():
    a, b = adding_problem(5, 20, seed=1), adding_problem(5, 20, seed=1)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, adding_problem(5, 20, seed=2).X)
    rng = np.random.default_rng(1)
    assert not np.array_equal(adding_problem(5, 20, rng).X, adding_problem(5, 20, rng).X)


@pytest.mark.parametrize("n, length, message", [(0, 10, "n "), (2.5, 10, "n "), (3, 1, "length"), (3, 7.0, "length")])
def test_bad_arguments(n, length, message):
    with pytest.raises(ValueError, match=message):
        adding_problem(n, length)


def test_marked_gradients_pick_the_marked_values():
    p = adding_problem(4, 10, seed=5)
    grads = np.zeros_like(p.X)
    rows = np.arange(4)
    grads[rows, p.first, 0] = [1, 2, 3, 4]
    grads[rows, p.second, 0] = 0.5
    grads[rows, p.first, 1] = 9  # the marker channel is not the value
    first, second = marked_gradients(grads, p)
    assert first.tolist() == [1, 2, 3, 4] and second.tolist() == [0.5] * 4
    with pytest.raises(ValueError, match="inputs' shape"):
        marked_gradients(grads[:, :5], p)


def test_unit_correlations():
    rng = np.random.default_rng(0)
    values = rng.uniform(size=300)
    states = np.stack([2 * values + 1, -values, rng.normal(size=300), np.full(300, 0.7)], axis=1)
    corr = unit_correlations(states, values)
    np.testing.assert_allclose(corr[:2], [1.0, 1.0])
    assert corr[2] < 0.2 and corr[3] == 0.0  # unrelated, and constant (no division by zero, no warning)
    np.testing.assert_allclose(corr[2], abs(np.corrcoef(states[:, 2], values)[0, 1]))
    with pytest.raises(ValueError, match="sequences, units"):
        unit_correlations(states[:10], values)
