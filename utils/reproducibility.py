"""Seeding and run-mode switches shared by every notebook."""

from __future__ import annotations

import os
import random

import numpy as np


def set_seed(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and Keras (and so TensorFlow, JAX or PyTorch) in one call.

    With ``deterministic`` the TensorFlow backend also runs deterministic ops,
    so the same seed gives the same numbers on the same machine.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import keras  # imported here so utils stays importable without the DL stack

    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def fast_mode(default: bool = False) -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes (CI and quick checks)."""
    value = os.environ.get("COURSE_FAST")
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
