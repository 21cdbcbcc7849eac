"""Seeding and run-mode switches shared by every notebook."""

from __future__ import annotations

import os
import random

import numpy as np

FAST_ENV = "COURSE_FAST"  # "1": FAST mode (CI, quick checks); "0" or unset: full mode


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


def fast_mode() -> bool:
    """True when ``COURSE_FAST`` is ``"1"``, False when it is ``"0"``, empty or unset.

    The same answer as a parameters cell's ``os.environ.get("COURSE_FAST", "0") == "1"``, but strict:
    any other value (``"true"``, ``"yes"``) is an error rather than a silent full-mode run.
    """
    value = os.environ.get(FAST_ENV, "")
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise ValueError(f"{FAST_ENV} is {value!r}; set it to 1 for FAST mode, or to 0 (or unset it) for full mode.")
