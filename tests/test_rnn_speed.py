"""utils.rnn_speed: on JAX a second model of the same structure reuses the compiled program (same numbers);
on PyTorch one thread is set; on TensorFlow nothing changes. Each backend runs in its own process (the shared
fresh interpreters of conftest.py, which run beside the rest of the suite)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from utils.startup import BACKENDS

SCRIPT = textwrap.dedent("""
    import os
    import numpy as np
    import keras
    from utils import set_seed
    from utils.rnn_speed import one_torch_thread, share_compiled_programs, speed_up_small_models

    def check_jax_cache(folder):
        def entries():
            return sorted(os.listdir(folder))

        x = np.random.default_rng(0).normal(size=(16, 6, 1)).astype("float32")
        y = x[:, -1, 0]

        def train():
            set_seed(0)
            model = keras.Sequential([keras.Input((6, 1)), keras.layers.GRU(4), keras.layers.Dense(1)])
            model.compile(keras.optimizers.Adam(1e-2), "mse")
            return model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]

        first = train()
        after_first = entries()
        assert after_first, "the first fit should have stored its compiled programs"
        second = train()
        assert entries() == after_first, "a model of the same structure should reuse the stored programs"
        np.testing.assert_array_equal(first, second)

    name = keras.backend.backend()
    keras.ops.convert_to_numpy(keras.ops.ones((2, 2)) * 2)  # some work before the call, as in a notebook
    description = speed_up_small_models()
    assert description.split(":")[0].lower() in {"jax", "pytorch", "tensorflow"}, description
    folder = share_compiled_programs()
    assert share_compiled_programs() == folder  # idempotent
    assert one_torch_thread() == (name == "torch")
    if name == "torch":
        import torch

        assert torch.get_num_threads() == 1
    if name == "jax":
        check_jax_cache(folder)
        print("ok", folder)
    else:
        assert folder is None
        print("ok none")
""")
FRESH_SNIPPETS = {"rnn_speed": SCRIPT}


@pytest.mark.parametrize("name", BACKENDS)
def test_small_model_settings_on_each_backend(name, fresh):
    if name not in fresh.backends:
        pytest.skip(f"{name} is not installed")
    result = fresh.result(name, "rnn_speed").check()  # waits for the interpreter's exit, so atexit has run
    last = result.out.strip().splitlines()[-1]
    assert last.startswith("ok ")
    if name == "jax":
        assert not Path(last[3:]).exists(), "the temporary cache folder should be removed at exit"
    else:
        assert last == "ok none"
