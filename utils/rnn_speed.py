"""Backend settings for notebooks that train many small recurrent models (the RNN and GRU notebooks).

Two costs dominate such notebooks, and neither is arithmetic:

* **JAX** jit-compiles a model's training step the first time it is fitted, even when a model
  of exactly the same structure was compiled a moment earlier. For a small GRU that compilation
  costs several times more than the training itself, so a comparison over several seeds, or a
  hyperparameter search, spends most of its time compiling the same program again. JAX's
  compilation cache files each compiled program under a hash of the program, so a second model
  with the same layers and batch shapes reuses the first one's. :func:`share_compiled_programs`
  switches it on in a fresh private temporary folder that is removed when the process exits, so
  nothing carries over from one run to the next.
* **PyTorch** runs each small operation on two threads by default. For layers this small a second
  thread only adds synchronisation, and on a busy machine, where the two threads are rarely
  scheduled together, every operation waits for the slower one: a small GRU trained many times
  slower than on one thread. :func:`one_torch_thread` sets one.

:func:`speed_up_small_models` applies whichever fits the active backend (TensorFlow: nothing).
None of this changes the numbers a model computes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import keras

_folder: str | None = None


def share_compiled_programs(directory: str | os.PathLike | None = None) -> str | None:
    """On JAX, let models of the same structure share compiled programs; return the cache folder.

    ``directory`` defaults to a new temporary folder, deleted at exit. A cache folder
    already configured for JAX (``JAX_COMPILATION_CACHE_DIR``) is kept. Calling it again
    returns the folder chosen the first time. Returns ``None`` on other backends.
    """
    global _folder
    if keras.backend.backend() != "jax":
        return None
    import jax

    configured = jax.config.jax_compilation_cache_dir
    if configured:
        _folder = _folder or str(configured)
        return str(configured)
    if _folder is None:
        if directory is None:
            _folder = tempfile.mkdtemp(prefix="keras_course_jax_cache_")
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        else:
            _folder = str(directory)
            os.makedirs(_folder, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", _folder)
    # Cache every program: the default skips those that compile in under a second, which on a fast machine is most of them.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return _folder


def one_torch_thread() -> bool:
    """On PyTorch, run operations on one thread; return whether anything was changed."""
    if keras.backend.backend() != "torch":
        return False
    import torch

    torch.set_num_threads(1)
    return True


def speed_up_small_models() -> str:
    """Apply the setting above that fits the active backend; return a one-line description of it."""
    name = keras.backend.backend()
    if name == "jax":
        share_compiled_programs()
        return "JAX: models of the same structure share their compiled training steps"
    if name == "torch":
        one_torch_thread()
        return "PyTorch: one thread per operation"
    return f"{name}: default settings"
