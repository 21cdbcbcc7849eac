"""08_autoencoders' exercise checks reject wrong answers and recognise stubs (the right answers run in the notebook)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.exercises import check


def _images():
    """Sparse 'images' in [0, 1]: about half of the pixels are zero, as in Fashion-MNIST."""
    rng = np.random.default_rng(11)  # not the check's own seed: its draws would mask only zero pixels
    return np.where(rng.random((64, 28, 28)) < 0.5, 0.0, rng.random((64, 28, 28))).astype("float32")


def _untied_autoencoder(code_size):
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(code_size, activation="relu"),
                             layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28))])


def _output_gradients(a, x):
    """The gradients with respect to the output x_hat instead of the logit a (the sigmoid's derivative left out)."""
    s = 1 / (1 + np.exp(-a))
    return 2 * (s - x), -x / s + (1 - x) / (1 - s)


def _masking_without_rescaling(x, rate, rng):
    return np.where(rng.random(x.shape) < rate, 0.0, x)


def _sigmoid_formula_for_tanh(x, W, b):
    h = np.tanh(x @ W + b)
    return np.sum((h * (1 - h)) ** 2 * np.sum(W ** 2, axis=0), axis=1)


def _posterior_means():
    return np.random.default_rng(1).normal(size=(300, 8)) * np.linspace(0.0, 0.3, 8)


# Exercise id -> (context for check(), a plausible wrong answer); tests/test_exercises.py injects each.
WRONG = {
    "08.1": (dict, _output_gradients),
    "08.2": (lambda: {"x": _images()}, _untied_autoencoder),
    "08.6": (lambda: {"x": _images(), "rate": 0.25}, _masking_without_rescaling),
    "08.8": (dict, _sigmoid_formula_for_tanh),
    "08.9": (lambda: {"mean": _posterior_means()}, lambda mean, threshold: mean.std(axis=0) > threshold),
}


def _logit_gradients(a, x):
    s = 1 / (1 + np.exp(-a))
    return 2 * (s - x) * s * (1 - s), s - x


def _tanh_penalty(x, W, b):
    h = np.tanh(x @ W + b)
    return np.sum((1 - h ** 2) ** 2 * np.sum(W ** 2, axis=0), axis=1)


def _rescaled_masking(x, rate, rng):
    return np.where(rng.random(x.shape) < rate, 0.0, x / (1 - rate))


def _tied_autoencoder(code_size):
    import keras
    from keras import layers, ops

    class TiedDecoder(layers.Layer):
        def __init__(self, dense, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense

        def build(self, input_shape):
            self.c = self.add_weight(shape=(self.dense.kernel.shape[0],), initializer="zeros", name="bias")

        def call(self, h):
            return ops.sigmoid(ops.matmul(h, ops.transpose(self.dense.kernel)) + self.c)

    dense = layers.Dense(code_size, activation="relu")
    return keras.Sequential([keras.Input((28, 28)), layers.Flatten(), dense, TiedDecoder(dense), layers.Reshape((28, 28))])


RIGHT = {
    "08.1": (dict, _logit_gradients),
    "08.2": (lambda: {"x": _images()}, _tied_autoencoder),
    "08.6": (lambda: {"x": _images(), "rate": 0.25}, _rescaled_masking),
    "08.8": (dict, _tanh_penalty),
    "08.9": (lambda: {"mean": _posterior_means()}, lambda mean, threshold: mean.var(axis=0) > threshold),
}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes_on_the_synthetic_context(exercise_id, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context, right = RIGHT[exercise_id]
    verdict = check(exercise_id, right, **context())
    assert verdict.passed, verdict.hint


@pytest.mark.parametrize(("exercise_id", "answer", "hint"), [
    ("08.1", lambda a, x: _logit_gradients(a, x)[0], "two arrays"),
    ("08.1", lambda a, x: (_logit_gradients(a, x)[0], 1 / (1 + np.exp(-a)) + x), "cross-entropy"),
    ("08.6", lambda x, rate, rng: np.where(rng.random(x.shape) < 1 - rate, 0.0, x / (1 - rate)), "probability"),
    ("08.6", lambda x, rate, rng: np.where(rng.random(x.shape) < rate, 0.0, x * (1 - rate)), "Dropout"),
    ("08.8", lambda x, W, b: _tanh_penalty(x, W, b).mean(), "shape"),
    ("08.9", lambda mean, threshold: mean.var(axis=1) > threshold, "one flag per latent unit"),
    ("08.9", lambda mean, threshold: (mean.var(axis=0) > threshold).astype(int), "booleans"),
])
def test_each_mistake_gets_a_hint_that_names_it(exercise_id, answer, hint, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context = {"08.1": dict, "08.6": lambda: {"x": _images(), "rate": 0.25}, "08.8": dict,
               "08.9": lambda: {"mean": _posterior_means()}}[exercise_id]
    verdict = check(exercise_id, answer, **context())
    assert verdict.status == "not yet" and hint in verdict.hint, verdict.hint


def test_tied_check_finds_a_decoder_that_forgets_the_transpose_or_the_bias(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    import keras
    from keras import layers, ops

    class NoBias(layers.Layer):  # the right parameter count is reached by an unused bias elsewhere
        def __init__(self, dense, **kwargs):
            super().__init__(**kwargs)
            self.dense = dense

        def build(self, input_shape):
            self.c = self.add_weight(shape=(self.dense.kernel.shape[0],), initializer="zeros", name="bias")

        def call(self, h):
            return ops.sigmoid(ops.matmul(h, ops.transpose(self.dense.kernel)))

    def no_bias(code_size):
        dense = layers.Dense(code_size, activation="relu")
        return keras.Sequential([keras.Input((28, 28)), layers.Flatten(), dense, NoBias(dense),
                                 layers.Reshape((28, 28))])

    verdict = check("08.2", no_bias, x=_images())
    assert verdict.status == "not yet" and "sigmoid(h W^T + c)" in verdict.hint
