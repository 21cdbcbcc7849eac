"""utils.reproducibility: set_seed repeats random draws; fast_mode reads COURSE_FAST."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from utils.reproducibility import fast_mode, set_seed

# keras' TensorFlow backend calls np.array(tensor) internally; not this package's concern.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _draws():
    import keras

    layer = keras.layers.Dense(4)
    layer.build((None, 3))
    return (
        random.random(),
        np.random.rand(5),
        keras.ops.convert_to_numpy(keras.random.normal((5,))),
        keras.ops.convert_to_numpy(layer.kernel),
    )


def test_set_seed_repeats_draws(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # restored afterwards; set_seed overwrites it
    set_seed(1234)
    first = _draws()
    set_seed(1234)
    second = _draws()
    assert first[0] == second[0]
    for a, b in zip(first[1:], second[1:]):
        np.testing.assert_array_equal(a, b)
    set_seed(4321)
    third = _draws()
    assert first[0] != third[0]
    assert not np.array_equal(first[1], third[1])
    assert not np.array_equal(first[3], third[3])


def test_set_seed_sets_pythonhashseed(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    set_seed(7)
    assert os.environ["PYTHONHASHSEED"] == "7"


@pytest.mark.parametrize("bad", [-1, 1.5, True, False, "3", None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        set_seed(bad)


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True), (" 1 ", True),
    ("0", False), ("false", False), ("no", False), ("off", False), ("banana", False),
])
def test_fast_mode_parses_env(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert fast_mode() is expected
    assert fast_mode(default=True) is expected


def test_fast_mode_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert fast_mode() is False
    assert fast_mode(default=True) is True
    monkeypatch.setenv("COURSE_FAST", "")
    assert fast_mode() is False
    assert fast_mode(default=True) is True
