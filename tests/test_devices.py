"""utils.devices: logical devices, a batch split measured inside the training step, each backend in its own process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from utils.startup import BACKENDS, XLA_HOST_FLAG

INSTALLED = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]

# On each engine: the pattern the lesson used to teach (model built in the scope, trained after it with
# train_on_batch) computes the whole batch on every device, and the split check catches it, although its weights
# equal one device's; fit inside the scope splits the batch; batch normalisation and dropout as each engine does them.
STEP = textwrap.dedent("""
    import numpy as np
    from utils.startup import import_keras
    keras = import_keras()
    from utils import devices

    devs = devices.replica_devices(4)
    assert len(devs) == 4, devs

    def build(norm=False):
        model = keras.Sequential([
            keras.Input((6,)), devices.BatchProbe(name="probe"), keras.layers.Dense(8, activation="tanh"),
            *([keras.layers.BatchNormalization(momentum=0.0, name="bn")] if norm else []), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def gap(a, b):
        return max(np.abs(u - v).max() for u, v in zip(a.get_weights(), b.get_weights()))

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)
    one = build()
    start = one.get_weights()
    one.fit(x, y, batch_size=64, shuffle=False, verbose=0)
    assert one.get_layer("probe").shapes == [(64, 6)], one.get_layer("probe").shapes
    engine = devices.data_parallel(devs)

    with engine.scope():  # the old pattern: built in the scope, one step after it closed
        old = build()
        old.set_weights(start)
    old.train_on_batch(x, y)
    assert gap(one, old) < 1e-6  # the weights cannot tell...
    assert old.get_layer("probe").shapes == [(64, 6)] * 4, old.get_layer("probe").shapes
    try:
        devices.check_batch_split(old.get_layer("probe").shapes, 4, 64)
    except AssertionError as err:
        print("OLD PATTERN FAILS:", err)  # ...the probe can

    with engine.scope():  # fixed: built, compiled and trained inside the scope
        new = build()
        new.set_weights(start)
        new.fit(x, y, batch_size=64, shuffle=False, verbose=0)
    devices.check_batch_split(new.get_layer("probe").shapes, 4, 64)
    moved = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), start))
    assert gap(one, new) < 1e-6 < moved, (gap(one, new), moved)
    assert devices.shard_shapes(new.layers[1].kernel) == [(6, 8)] * 4  # data parallel: a whole copy per device

    with engine.scope():  # batch normalisation: the moving variance each device holds, momentum 0
        norm = build(norm=True)
        norm.fit(x, y, batch_size=64, shuffle=False, verbose=0)
    copies = devices.replica_values(norm.get_layer("bn").moving_variance)
    spread = max(np.abs(c - copies[0]).max() for c in copies)
    print("ENGINE", devices.engine_name(engine), "BN COPIES", len(copies), "DIFFER" if spread > 1e-3 else "EQUAL")
""")


def _run(backend: str, code: str, *, xla_devices: int | None = 4) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("XLA_FLAGS", None)
    if xla_devices:
        env["XLA_FLAGS"] = f"{XLA_HOST_FLAG}={xla_devices}"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backend", [b for b in ("tensorflow", "jax") if b in INSTALLED])
@pytest.mark.processes
def test_split_check_fails_on_the_old_pattern_and_passes_inside_the_scope(backend):
    result = _run(backend, STEP)
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("OLD PATTERN FAILS: expected 4 devices holding 16 of the 64 examples each; measured 4 device(s) "
            "holding 64, 64, 64, 64 (every device computes the whole batch)") in result.stdout
    engine, copies = {"jax": ("keras.distribution.DataParallel", "EQUAL"),
                      "tensorflow": ("tf.distribute.MirroredStrategy", "DIFFER")}[backend]
    assert f"ENGINE {engine} BN COPIES 4 {copies}" in result.stdout  # tf.distribute: per-replica statistics


@pytest.mark.skipif("jax" not in INSTALLED, reason="jax is not installed")
@pytest.mark.processes
def test_model_parallel_splits_the_batch_and_a_kernel_on_jax():
    code = textwrap.dedent("""
        import numpy as np
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
            model = keras.Sequential([keras.Input((5,)), devices.BatchProbe(name="probe"),
                                      keras.layers.Dense(8, name="wide"), devices.BatchProbe(name="out")])
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            model.fit(np.ones((16, 5), "float32"), np.zeros((16, 8), "float32"), batch_size=16, verbose=0)
        assert devices.shard_shapes(model.get_layer("wide").kernel) == [(5, 4)] * 4
        assert devices.shard_shapes(model.get_layer("wide").bias) == [(8,)] * 4
        assert model.get_layer("probe").shapes == [(8, 5)] * 4  # the "batch" axis splits the batch in two
        assert model.get_layer("out").shapes == [(8, 4)] * 4  # the "model" axis splits the outputs in two
        moments = [v for v in model.optimizer.variables if "wide_kernel" in v.path]
        assert moments and all(devices.shard_shapes(v) == [(5, 4)] * 4 for v in moments)
    """)
    result = _run("jax", code)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.skipif("jax" not in INSTALLED, reason="jax is not installed")
@pytest.mark.processes
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
@pytest.mark.processes
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
@pytest.mark.processes
def test_torch_runs_on_one_device_and_refuses_several():
    code = textwrap.dedent("""
        import numpy as np
        from utils.startup import import_keras
        keras = import_keras()
        from utils import devices
        assert not devices.data_parallel_supported() and not devices.model_parallel_supported()
        assert devices.replica_devices(4) == ["cpu"]
        engine = devices.data_parallel(["cpu"])
        assert devices.engine_name(engine) == "one device"
        with engine.scope():
            model = keras.Sequential([keras.Input((3,)), devices.BatchProbe(name="probe"), keras.layers.Dense(1)])
            model.compile(optimizer="sgd", loss="mse")
            model.fit(np.ones((8, 3), "float32"), np.zeros(8), batch_size=8, verbose=0)
        devices.check_batch_split(model.get_layer("probe").shapes, 1, 8)
        try:
            devices.data_parallel(["cpu", "cpu"])
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
    with pytest.raises(ValueError, match="at least one device"):
        devices.data_parallel([])


def test_batch_split_error_names_what_was_measured():
    from utils.devices import batch_split_error, check_batch_split

    assert batch_split_error([(16, 3)] * 4, 4, 64) is None
    assert "every device computes the whole batch" in batch_split_error([(64, 3)] * 4, 4, 64)
    assert "measured 2 device(s) holding 32, 32" in batch_split_error([(32, 3)] * 2, 4, 64)
    assert "recorded nothing" in batch_split_error([], 4, 64)
    with pytest.raises(AssertionError, match="holding 64, 64, 64, 64"):
        check_batch_split([(64, 3)] * 4, 4, 64)
    with pytest.raises(ValueError, match="does not split evenly"):
        batch_split_error([(16, 3)] * 4, 3, 64)


@pytest.mark.skipif("jax" not in INSTALLED, reason="jax is not installed")
@pytest.mark.processes
def test_several_jax_devices_make_the_batch_end_callbacks_synchronous():
    code = textwrap.dedent("""
        from utils.startup import import_keras
        keras = import_keras()
        from keras.src.callbacks.callback_list import CallbackList
        from utils import devices
        devices.replica_devices(1)
        print("ONE", CallbackList([])._async_train)
        devices.replica_devices(4)
        print("FOUR", CallbackList([])._async_train)
    """)
    result = _run("jax", code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ONE True" in result.stdout and "FOUR False" in result.stdout  # Keras' thread pool would deadlock
