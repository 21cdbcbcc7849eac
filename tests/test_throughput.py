"""utils.throughput: the split checked before timing, error paths, and another engine measured in its own process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from utils import throughput
from utils.multiworker import ROOT


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="engine must be one of"):
        throughput.throughput_on_engine(None, np.zeros((4, 1)), np.zeros(4), engine="torch")
    with pytest.raises(ValueError, match="counts must lie between 1 and the 2 devices"):
        throughput.measure_throughput(lambda: None, np.zeros((2048, 1)), np.zeros(2048), ["a", "b"], counts=(1, 4))
    with pytest.raises(ValueError, match="at least warmup=1024; got 10 and 10"):
        throughput.measure_throughput(lambda: None, np.zeros((10, 1)), np.zeros(10), ["a"], counts=(1,))


def test_the_probe_checks_the_warm_up_and_is_off_while_timing():
    import keras

    from utils.devices import BatchProbe

    built = []

    def build():
        model = keras.Sequential([keras.Input((4,)), BatchProbe(name="probe"), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        built.append(model)
        return model

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 4)).astype("float32"), rng.normal(size=256).astype("float32")
    runs = throughput.measure_throughput(build, x, y, ["cpu"], counts=(1,), batch_size=32, warmup=64, repeats=2)
    probe = built[0].get_layer("probe")
    assert runs[1].per_device_batch == 32 and runs[1].images_per_second > 0 and runs[1].devices == 1
    assert not probe.active
    steps_seen = len(next(iter(probe._steps.values())))
    built[0].fit(x, y, batch_size=32, verbose=0)  # a step traced after the warm-up records nothing
    assert len(next(iter(probe._steps.values()))) == steps_seen
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        throughput.measure_throughput(build, x, y, ["cpu"], counts=(1,), warmup=64, repeats=0)


def test_rates_per_cpu_second():
    run = throughput.Throughput("jax", 2, images_per_second=3000.0, cores_busy=1.5, per_device_batch=128)
    assert run.images_per_cpu_second == 2000.0


ENGINES = [e for e in ("jax", "tensorflow") if importlib.util.find_spec(e) is not None]


@pytest.mark.skipif(len(ENGINES) < 2, reason="needs both jax and tensorflow")
@pytest.mark.processes
def test_each_engine_measures_the_other_with_the_batch_split():
    """From a JAX process, TensorFlow on 1 and 2 devices, and from a TensorFlow process, JAX (a probe checks each)."""
    code = textwrap.dedent("""
        import numpy as np
        from utils.startup import import_keras
        keras = import_keras()
        from utils.devices import BatchProbe
        from utils.throughput import throughput_on_engine

        model = keras.Sequential([keras.Input((6,)), BatchProbe(name="probe"), keras.layers.Dense(3)])
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(512, 6)).astype("float32"), rng.integers(0, 3, 512)
        other = {"jax": "tensorflow", "tensorflow": "jax"}[keras.backend.backend()]
        runs = throughput_on_engine(model, x, y, engine=other, counts=(1, 2), batch_size=64, warmup=128,
                                    timeout=240)
        for k, run in runs.items():
            print("RUN", run.engine, k, run.per_device_batch, run.images_per_second > 0, run.cores_busy > 0)
    """)
    for backend in ENGINES:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("XLA_FLAGS", None)
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        other = {"jax": "tensorflow", "tensorflow": "jax"}[backend]
        assert f"RUN {other} 1 64 True True" in result.stdout and f"RUN {other} 2 32 True True" in result.stdout
