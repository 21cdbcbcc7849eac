"""utils.backend: the same gradients on every installed Keras backend (in the fresh interpreters, see conftest)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from utils.backend import input_gradients, variable_gradients
from utils.startup import BACKENDS

# Analytic answers: d/dx sum(x^3) = 3x^2; for L = mean((x W + b)^2) over n rows and u units,
# dL/dW = 2/(n u) x^T (x W + b) and dL/db = 2/(n u) sum over rows of (x W + b).
SCRIPT = textwrap.dedent("""
    import numpy as np
    import keras
    from utils.backend import backend, input_gradients, variable_gradients

    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype="float32")
    value, (g,) = input_gradients(lambda t: keras.ops.sum(t ** 3), x)
    assert np.isclose(value, float(np.sum(x ** 3))), value
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-6)

    rnn = keras.layers.SimpleRNN(4)
    seq = np.random.default_rng(0).normal(size=(2, 5, 1)).astype("float32")
    _, (gs,) = input_gradients(lambda t: keras.ops.sum(rnn(t)), seq)
    eps = 1e-2
    bumped = seq.copy()
    bumped[0, 0, 0] += eps
    numeric = (float(keras.ops.sum(rnn(bumped))) - float(keras.ops.sum(rnn(seq)))) / eps
    assert abs(numeric - gs[0, 0, 0]) < 2e-2 * max(1.0, abs(numeric)), (numeric, gs[0, 0, 0])

    dense = keras.layers.Dense(3)
    dense.build((None, 2))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (dense.kernel, dense.bias))
    value, grads = variable_gradients(lambda: keras.ops.mean(keras.ops.square(dense(x))), dense.trainable_weights)
    out = x @ kernel + bias
    assert np.isclose(value, float(np.mean(out ** 2)), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grads[0]), 2 / out.size * x.T @ out, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grads[1]), 2 / out.size * out.sum(0), rtol=1e-4, atol=1e-6)

    keras.optimizers.SGD(0.5).apply_gradients(zip(grads, dense.trainable_weights))
    moved = keras.ops.convert_to_numpy(dense.kernel) - kernel
    np.testing.assert_allclose(moved, -0.5 * (2 / out.size * x.T @ out), rtol=1e-4, atol=1e-6)
    print("ok", backend())
""")
FRESH_SNIPPETS = {"gradients": SCRIPT}


@pytest.mark.parametrize("name", BACKENDS)
def test_gradients_agree_with_calculus_on_each_backend(name, fresh):
    if name not in fresh.backends:
        pytest.skip(f"{name} is not installed")
    result = fresh.result(name, "gradients").check()
    assert result.out.strip().endswith(f"ok {name}")


def test_input_gradients_errors():
    with pytest.raises(ValueError, match="at least one input"):
        input_gradients(lambda: 0.0)
    with pytest.raises(ValueError, match="scalar"):
        input_gradients(lambda t: t * 2, np.ones((3,), "float32"))


def test_variable_gradients_errors():
    import keras

    with pytest.raises(ValueError, match="build the layer"):
        variable_gradients(lambda: 0.0, [])
    dense = keras.layers.Dense(2)
    dense.build((None, 2))
    x = np.ones((1, 2), "float32")
    with pytest.raises(ValueError, match="scalar"):
        variable_gradients(lambda: dense(x), dense.trainable_weights)
    other = keras.layers.Dense(2)
    other.build((None, 2))
    with pytest.raises(ValueError, match="does not depend on"):
        variable_gradients(lambda: keras.ops.sum(dense(x)), [*dense.trainable_weights, other.kernel])
