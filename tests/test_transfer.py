"""utils.transfer.split_at: a functional model cut at a stage boundary into a frozen bottom and a top."""

from __future__ import annotations

import numpy as np
import pytest

from utils.transfer import split_at

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _staged(skip_over_cut=False):
    inputs = keras.Input((8, 8, 3))
    s1 = keras.layers.Conv2D(4, 3, padding="same", name="stage1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="down")(s1)
    y = keras.layers.Conv2D(4, 3, padding="same", name="stage2")(x)
    if skip_over_cut:  # a path from stage1 to the output that does not pass through stage2's input
        y = keras.layers.Add(name="skip")([y, keras.layers.AveragePooling2D(2)(s1)])
    y = keras.layers.GlobalAveragePooling2D(name="pool")(y)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(y), name="staged")


def test_split_composes_to_the_model_and_shares_weights():
    keras.utils.set_random_seed(0)
    model = _staged()
    bottom, top = split_at(model, "stage2")
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    whole = keras.ops.convert_to_numpy(model(x))
    parts = keras.ops.convert_to_numpy(top(bottom(x)))
    assert np.allclose(whole, parts, atol=1e-6)
    assert bottom.output.shape[1:] == (4, 4, 4)
    assert {w.path for w in top.weights} == {w.path for w in model.get_layer("stage2").weights} | \
        {w.path for w in model.get_layer("head").weights}
    top.get_layer("head").kernel.assign(np.ones((4, 1), "float32"))  # shared: the model sees the change
    assert np.allclose(keras.ops.convert_to_numpy(model.get_layer("head").kernel), 1.0)


def test_split_errors():
    model = _staged()
    with pytest.raises(ValueError, match="no layer 'nope'"):
        split_at(model, "nope")
    with pytest.raises(ValueError, match="input layer"):
        split_at(model, model.layers[0].name)
    with pytest.raises(ValueError, match="skips over it|do not split"):
        split_at(_staged(skip_over_cut=True), "stage2")


def test_predict_batches_matches_one_call_and_refuses_bad_input():
    from utils.transfer import predict_batches

    keras.utils.set_random_seed(0)
    model = _staged()
    x = np.random.default_rng(1).random((7, 8, 8, 3)).astype("float32")
    out = predict_batches(model, x, batch_size=3)  # 3 + 3 + 1 images
    assert out.shape == (7, 1) and isinstance(out, np.ndarray)
    assert np.allclose(out, keras.ops.convert_to_numpy(model(x)), atol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        predict_batches(model, x, batch_size=0)
    with pytest.raises(ValueError, match="empty"):
        predict_batches(model, x[:0])
