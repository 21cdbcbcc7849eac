"""utils.reproducibility: set_seed repeats random draws; fast_mode reads COURSE_FAST strictly."""

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


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False)])
def test_fast_mode_reads_course_fast_as_the_parameters_cells_do(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert fast_mode() is expected
    assert fast_mode() is (os.environ.get("COURSE_FAST", "0") == "1")  # the parameters cells' own reading


def test_fast_mode_unset_is_full_mode(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert fast_mode() is False


@pytest.mark.parametrize("value", ["true", "yes", " 1", "2", "on"])
def test_fast_mode_refuses_what_a_parameters_cell_would_silently_read_as_full(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    with pytest.raises(ValueError, match="set it to 1"):
        fast_mode()
