"""Gradients outside ``fit``, the same call on TensorFlow, JAX and PyTorch.

Keras 3 has no backend-neutral gradient API: ``fit`` hides it, and custom code
normally uses ``tf.GradientTape``, ``jax.grad`` or ``torch.autograd``. Lessons
that need a gradient directly (the size of dL/dx_t through time, one optimizer
step by hand, a GAN step) call these two helpers instead, so the notebook reads
the same on every backend. The course's other backend-specific code is in
``utils.devices`` (several devices) and ``utils.rnn_speed`` (speed settings for small
recurrent models); notebooks hold none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np


def backend() -> str:
    """The active Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def _check_scalar(value) -> None:
    shape = tuple(keras.ops.shape(value))
    if shape not in ((), (1,)):
        raise ValueError(f"the function must return a scalar loss; it returned shape {shape}. "
                         "Reduce it first, e.g. with keras.ops.sum or keras.ops.mean.")


def input_gradients(fn: Callable[..., object], *inputs) -> tuple[float, list[np.ndarray]]:
    """Return ``fn(*inputs)`` (a scalar) and its gradients with respect to each input, as NumPy arrays.

    ``inputs`` are arrays (NumPy or backend tensors); ``fn`` may call Keras layers and
    ``keras.ops``. Layers must be stateless in the call (no dropout or batch-norm
    updates), which holds for the layers of an inference-mode forward pass.
    """
    if not inputs:
        raise ValueError("input_gradients needs at least one input to differentiate with respect to")
    name = backend()
    xs = [np.asarray(keras.ops.convert_to_numpy(x), dtype="float32") for x in inputs]
    if name == "tensorflow":
        import tensorflow as tf

        ts = [tf.constant(x) for x in xs]
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            value = fn(*ts)
        _check_scalar(value)
        grads = tape.gradient(value, ts)
    elif name == "jax":
        import jax

        def wrapped(*args):
            out = fn(*args)
            _check_scalar(out)
            return keras.ops.reshape(out, ())

        value, grads = jax.value_and_grad(wrapped, argnums=tuple(range(len(xs))))(*xs)
    elif name == "torch":
        import torch

        ts = [torch.tensor(x, requires_grad=True) for x in xs]
        value = fn(*ts)
        _check_scalar(value)
        grads = torch.autograd.grad(keras.ops.reshape(value, ()), ts)
    else:  # pragma: no cover - Keras only ships the backends above (and numpy, which has no gradients)
        raise NotImplementedError(f"gradients are not available on the {name} backend")
    return float(keras.ops.convert_to_numpy(value)), [np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]


def variable_gradients(fn: Callable[[], object], variables: Sequence) -> tuple[float, list]:
    """Return ``fn()`` (a scalar) and its gradients with respect to Keras ``variables``.

    The gradients are backend tensors in the variables' order, ready for
    ``optimizer.apply_gradients(zip(grads, variables))``. On JAX the variables are
    replaced by traced values through ``keras.StatelessScope``, the documented way
    to run Keras code functionally there.
    """
    variables = list(variables)
    if not variables:
        raise ValueError("variable_gradients needs at least one variable; build the layer or model first "
                         "(call it once on an input) so its weights exist")
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = fn()
        _check_scalar(value)
        grads = tape.gradient(value, variables)
    elif name == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                out = fn()
            _check_scalar(out)
            return keras.ops.reshape(out, ())

        value, grads = jax.value_and_grad(pure)([v.value for v in variables])
    elif name == "torch":
        import torch

        value = fn()
        _check_scalar(value)
        grads = torch.autograd.grad(keras.ops.reshape(value, ()), [v.value for v in variables])
    else:  # pragma: no cover
        raise NotImplementedError(f"gradients are not available on the {name} backend")
    if any(g is None for g in grads):
        unused = [v.path for v, g in zip(variables, grads) if g is None]
        raise ValueError(f"the loss does not depend on {unused}; pass only the variables the function uses")
    return float(keras.ops.convert_to_numpy(value)), list(grads)
