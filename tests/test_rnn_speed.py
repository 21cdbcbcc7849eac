"""utils.rnn_speed: on JAX a second model of the same structure reuses the compiled program (same numbers);
on PyTorch one thread is set; on TensorFlow nothing changes. Each backend runs in its own process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

INSTALLED = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]

SCRIPT = textwrap.dedent("""
    import os
    import numpy as np
    import keras
    from utils import set_seed
    from utils.rnn_speed import one_torch_thread, share_compiled_programs, speed_up_small_models

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
    if name != "jax":
        assert folder is None
        print("ok none")
        raise SystemExit

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
    print("ok", folder)
""")


@pytest.mark.parametrize("name", INSTALLED)
def test_small_model_settings_on_each_backend(name, repo_root):
    env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(repo_root)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("ok ")
    if name == "jax":
        assert not Path(last[3:]).exists(), "the temporary cache folder should be removed at exit"
    else:
        assert last == "ok none"
