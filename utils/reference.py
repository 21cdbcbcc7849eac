"""NumPy reference implementations that the lessons check Keras layers against.

Each is explained in the first notebook that uses it (that notebook prints its source) and imported by
the later ones: ``sigmoid`` in 01_ann_churn, ``lstm_step`` in 04_lstm, ``softmax`` in 10_transformer,
``log_normal_pdf`` in 08_autoencoders.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """The logistic function 1 / (1 + e^-z), elementwise.

    For z below about -88 in float32, ``exp(-z)`` overflows to inf and the result is 0, its correct limit.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, shifted by the maximum so that large scores do not overflow."""
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def lstm_step(x_part: np.ndarray, h: np.ndarray, c: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step for a batch, with Keras' layout: gate blocks ``[i | f | g | o]`` side by side.

    ``x_part`` is the input's share of the pre-activations, ``x_t @ W + b``, so that a caller can compute it
    once per sequence (or per character, from an embedding table); ``U`` is the recurrent kernel.
    Returns the new hidden state ``h`` and cell state ``c``.
    """
    if x_part.shape[-1] != U.shape[-1] or U.shape[-1] != 4 * h.shape[-1]:
        raise ValueError(f"shapes do not fit an LSTM of {h.shape[-1]} units: x_part {x_part.shape}, "
                         f"U {U.shape} (expected (units, 4 * units)), h {h.shape}")
    i, f, g, o = np.split(x_part + h @ U, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    return h, c


def log_normal_pdf(x: np.ndarray, mean: np.ndarray | float, std: np.ndarray | float) -> np.ndarray:
    """log N(x; mean, std^2), elementwise."""
    x, mean, std = np.asarray(x), np.asarray(mean), np.asarray(std)
    return -0.5 * ((x - mean) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi))
