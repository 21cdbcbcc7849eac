"""Import Keras (and TensorFlow, where installed) without native start-up notices in the output."""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from types import ModuleType

BACKENDS = ("tensorflow", "jax", "torch")  # the Keras backends the course runs on, in the order tables list them
# XLA's flag for logical CPU devices (JAX): it must be in XLA_FLAGS before JAX starts, so a notebook's setup cell sets it.
XLA_HOST_FLAG = "--xla_force_host_platform_device_count"


def import_keras() -> ModuleType:
    """Import and return ``keras`` on the backend ``KERAS_BACKEND`` names, quietly.

    TensorFlow writes its absl/oneDNN notices straight to file descriptor 2 the
    first time it is imported, whichever Keras backend is active (the JAX and
    PyTorch notebooks still import it for ``tf.data``). Those lines are noise
    for a learner and differ between runs, so descriptor 2 points at
    ``/dev/null`` while Keras and TensorFlow are imported; later warnings show.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    wanted = os.environ.get("KERAS_BACKEND", "").strip().lower()
    if wanted and wanted not in BACKENDS:
        raise ValueError(
            f"KERAS_BACKEND is {wanted!r}; this course runs on one of {', '.join(BACKENDS)}. "
            "Set it to one of those (or unset it) and restart the kernel."
        )
    if wanted and importlib.util.find_spec("jax" if wanted == "jax" else wanted) is None:
        package = {"tensorflow": "tensorflow-cpu", "jax": "jax[cpu]", "torch": "torch"}[wanted]
        raise ModuleNotFoundError(
            f"KERAS_BACKEND is {wanted!r} but {wanted} is not installed. "
            f"Install it (pip install {package}, see README 'Backends') or choose another backend."
        )
    already = sys.modules.get("keras")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras

        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow  # noqa: F401  (its notices are printed on first import)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    active = keras.backend.backend()
    if already is not None and wanted and active != wanted:
        warnings.warn(
            f"Keras was already imported with the {active} backend; KERAS_BACKEND={wanted} takes effect "
            "only after restarting the kernel (Colab: Runtime > Restart session).",
            stacklevel=2,
        )
    return keras
