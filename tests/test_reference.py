"""The NumPy references agree with Keras' own layers and with known values."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from utils.reference import log_normal_pdf, lstm_step, sigmoid, softmax


def test_sigmoid_and_softmax_match_keras_and_survive_large_inputs():
    z = np.linspace(-100, 100, 41).astype("float32")
    assert np.allclose(sigmoid(z), keras.ops.convert_to_numpy(keras.ops.sigmoid(z)), atol=1e-6)
    assert sigmoid(np.float32(-100)) == 0.0 and sigmoid(0.0) == 0.5
    x = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]])
    assert np.allclose(softmax(x), keras.ops.convert_to_numpy(keras.ops.softmax(x, axis=-1)))
    assert np.allclose(softmax(x, axis=0).sum(axis=0), 1.0)


def test_lstm_step_matches_the_keras_layer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    layer = keras.layers.LSTM(6, return_sequences=True)
    expected = keras.ops.convert_to_numpy(layer(x))
    W, U, b = layer.get_weights()
    h = c = np.zeros((3, 6), "float32")
    for t in range(5):
        h, c = lstm_step(x[:, t] @ W + b, h, c, U)
        assert np.allclose(h, expected[:, t], atol=1e-5)


def test_lstm_step_names_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match="LSTM of 6 units"):
        lstm_step(np.zeros((1, 20)), np.zeros((1, 6)), np.zeros((1, 6)), np.zeros((6, 24)))


def test_log_normal_pdf_integrates_to_one_and_matches_the_formula():
    x = np.linspace(-10, 12, 20001)
    assert np.isclose(np.trapezoid(np.exp(log_normal_pdf(x, 1.0, 2.0)), x), 1.0, atol=1e-6)
    assert np.isclose(log_normal_pdf(0.0, 0.0, 1.0), -0.5 * np.log(2 * np.pi))
