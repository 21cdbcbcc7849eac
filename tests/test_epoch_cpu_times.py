"""utils.training.EpochCPUTimes: one CPU-time entry per epoch, the first (compilation) left out of steady()."""

import keras
import numpy as np
import pytest

from utils.training import EpochCPUTimes


def test_one_entry_per_epoch_and_steady_median():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    timer = EpochCPUTimes()
    model.fit(np.zeros((8, 3)), np.zeros(8), epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and all(s >= 0 for s in timer.seconds)
    timer.seconds = [9.0, 1.0, 3.0, 2.0]
    assert timer.steady() == 2.0  # median of the epochs after the first
    timer.seconds = [5.0]
    assert timer.steady() == 5.0


def test_steady_before_training_says_what_to_do():
    with pytest.raises(ValueError, match="pass this callback to fit"):
        EpochCPUTimes().steady()
