"""utils.devices: several logical devices, one data-parallel step equal to one device's (each backend in its own process)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

INSTALLED = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]

# One SGD step of a small network on 4 replicas against the same step on one device.
STEP = textwrap.dedent("""
    import numpy as np
    from utils.startup import import_keras
    keras = import_keras()
    from utils import devices

    devs = devices.replica_devices(4)
    assert len(devs) == 4, devs

    def build():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 3, 32)
    one = build()
    start = one.get_weights()
    one.train_on_batch(x, y)
    with devices.data_parallel(devs) as engine:
        many = build()
    many.set_weights(start)
    many.train_on_batch(x, y)
    gap = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), many.get_weights()))
    moved = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), start))
    assert gap < 1e-6 < moved, (gap, moved)
    shapes = devices.shard_shapes(many.layers[0].kernel)
    assert shapes == [(6, 8)] * 4, shapes  # data parallel: a whole copy on every device
    print("ENGINE", engine)
""")


def _run(backend: str, code: str, *, xla_devices: int | None = 4) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("XLA_FLAGS", None)
    if xla_devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={xla_devices}"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backend", [b for b in ("tensorflow", "jax") if b in INSTALLED])
def test_data_parallel_step_equals_one_device(backend):
    result = _run(backend, STEP)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {"jax": "keras.distribution.DataParallel", "tensorflow": "tf.distribute.MirroredStrategy"}[backend]
    assert f"ENGINE {expected}" in result.stdout


@pytest.mark.skipif("jax" not in INSTALLED, reason="jax is not installed")
def test_model_parallel_splits_a_kernel_on_jax():
    code = textwrap.dedent("""
        from utils.startup import import_keras
        keras = import_keras()
        from keras import distribution
        from utils import devices

        assert devices.model_parallel_supported()
        devs = devices.replica_devices(4)
        mesh = distribution.DeviceMesh((2, 2), ("batch", "model"), devs)
        layout = distribution.LayoutMap(mesh)
        layout[".*wide.*kernel"] = (None, "model")
        with distribution.ModelParallel(layout_map=layout, batch_dim_name="batch").scope():
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, name="wide")])
        assert devices.shard_shapes(model.layers[0].kernel) == [(5, 4)] * 4
        assert devices.shard_shapes(model.layers[0].bias) == [(8,)] * 4
    """)
    result = _run("jax", code)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.skipif("jax" not in INSTALLED, reason="jax is not installed")
def test_jax_without_the_xla_flag_says_how_to_get_devices():
    code = textwrap.dedent("""
        from utils.startup import import_keras
        keras = import_keras()
        from utils import devices
        try:
            devices.replica_devices(4)
        except RuntimeError as err:
            print("ERROR", err)
    """)
    result = _run("jax", code, xla_devices=None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR JAX sees 1 CPU device(s), 4 were asked for" in result.stdout
    assert "XLA_FLAGS" in result.stdout and "restart the kernel" in result.stdout


@pytest.mark.skipif("tensorflow" not in INSTALLED, reason="tensorflow is not installed")
def test_tensorflow_cannot_be_split_after_it_started():
    code = textwrap.dedent("""
        from utils.startup import import_keras
        keras = import_keras()
        import tensorflow as tf
        from utils import devices
        tf.constant(1.0) + 1.0  # starts the runtime with one CPU device
        try:
            devices.replica_devices(2)
        except RuntimeError as err:
            print("ERROR", err)
    """)
    result = _run("tensorflow", code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR TensorFlow has started with 1 CPU device(s) and cannot be split into 2 now" in result.stdout


@pytest.mark.skipif("torch" not in INSTALLED, reason="torch is not installed")
def test_torch_runs_on_one_device_and_refuses_several():
    code = textwrap.dedent("""
        from utils.startup import import_keras
        keras = import_keras()
        from utils import devices
        assert not devices.data_parallel_supported() and not devices.model_parallel_supported()
        assert devices.replica_devices(4) == ["cpu"]
        with devices.data_parallel(["cpu"]) as engine:
            assert engine == "one device"
        try:
            with devices.data_parallel(["cpu", "cpu"]):
                pass
        except NotImplementedError as err:
            print("ERROR", err)
    """)
    result = _run("torch", code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR Keras 3 has no multi-device training inside fit on the PyTorch backend" in result.stdout


def test_bad_device_count():
    from utils import devices

    with pytest.raises(ValueError, match="n must be at least 1"):
        devices.replica_devices(0)
