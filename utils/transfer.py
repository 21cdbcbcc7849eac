"""Transfer learning helpers: cut a pretrained functional model in two at a stage boundary.

The bottom part stays frozen, so its outputs can be computed once for every image and kept; the top
part (the last stage) is then trained on them, first frozen with a new head (feature extraction), then
unfrozen with a small learning rate (fine-tuning). Both parts share the original model's weights.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np


def split_at(model, layer_name: str):
    """``(bottom, top)``: the part of ``model`` before layer ``layer_name`` and the part from it on.

    ``bottom`` maps the model's input to that layer's input; ``top`` maps that tensor to the model's
    output. The layer must be a stage boundary, the one tensor everything after it depends on (a skip
    connection around it makes the cut invalid, and it is refused). The two parts share the weights
    of ``model``: training ``top`` changes ``model``.
    """
    import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        names = [lay.name for lay in model.layers]
        raise ValueError(f"{model.name} has no layer {layer_name!r}; its layers include {names[:3]} ... "
                         f"{names[-3:]}") from None
    if layer is model.layers[0]:
        raise ValueError(f"{layer_name!r} is the input layer of {model.name}: there is nothing below it to freeze")
    cut = layer.input
    bottom = keras.Model(model.input, cut, name=f"{model.name}_bottom")
    try:
        top = keras.Model(cut, model.output, name=f"{model.name}_top")
    except ValueError as err:  # a tensor from below the cut is needed above it
        raise ValueError(f"cannot cut {model.name} at {layer_name!r}: a connection skips over it ({err})") from None
    counted = {id(w) for w in bottom.weights} | {id(w) for w in top.weights}
    if len(counted) != len(model.weights) or {id(w) for w in bottom.weights} & {id(w) for w in top.weights}:
        raise ValueError(f"cannot cut {model.name} at {layer_name!r}: the two parts do not split its weights")
    return bottom, top



@contextlib.contextmanager
def _quiet_tensorflow_log():
    """Raise TensorFlow's Python logger to ERROR for a while (a no-op on the other backends).

    Each model of a transfer-learning run compiles its own prediction function; after a few of them
    TensorFlow logs a "retracing" warning that is expected here and says nothing about the lesson.
    """
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def predict_batches(model, images, batch_size: int = 50) -> np.ndarray:
    """``model.predict(images)``, ``batch_size`` images at a time, without progress bar or retracing warnings."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(images) == 0:
        raise ValueError("no images to predict: the array is empty")
    with _quiet_tensorflow_log():
        return model.predict(np.asarray(images, dtype="float32"), batch_size=batch_size, verbose=0)
