"""Import Keras without TensorFlow's C++ start-up notices in the notebook output."""

from __future__ import annotations

import os
from types import ModuleType


def import_keras() -> ModuleType:
    """Import and return ``keras``, silencing the backend's one-off native log lines.

    TensorFlow writes its absl/oneDNN notices straight to file descriptor 2 when it
    is first imported; they are noise for a learner and differ between runs, so
    the descriptor is pointed at ``/dev/null`` for the import only. Later warnings
    still show.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow  # noqa: F401  (its notices are printed on first import)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return keras
