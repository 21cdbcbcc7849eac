"""utils.multiworker: bounded worker processes, and two processes training like one (JAX and TensorFlow)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from utils import multiworker


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_free_ports_are_distinct_and_bindable():
    import socket

    ports = multiworker.free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_hung_process_is_killed_at_the_timeout(tmp_path):
    pid_file = tmp_path / "pid"
    hang = _python(f"""
        import os, time
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
    """)
    tic = time.monotonic()
    with pytest.raises(TimeoutError, match=r"process\(es\) \[0\] still running after 2 s and were killed"):
        multiworker.run_bounded([hang], [dict(os.environ)], [tmp_path / "hang.log"], timeout=2)
    assert time.monotonic() - tic < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_failing_worker_stops_its_peers_at_once(tmp_path):
    fail = _python("""
        import sys
        print("worker 1 cannot reach the coordinator")
        sys.exit(3)
    """)
    hang = _python("import time; time.sleep(600)")
    tic = time.monotonic()
    with pytest.raises(multiworker.WorkerFailed, match="process 1 exited with code 3") as err:
        multiworker.run_bounded([hang, fail], [dict(os.environ)] * 2, [tmp_path / "0.log", tmp_path / "1.log"],
                                timeout=120)
    assert "cannot reach the coordinator" in str(err.value)  # the end of the failing worker's log
    assert time.monotonic() - tic < 20


def test_processes_that_finish_return(tmp_path):
    ok = _python("print('done')")
    multiworker.run_bounded([ok, ok], [dict(os.environ)] * 2, [tmp_path / "a.log", tmp_path / "b.log"], timeout=60)
    assert (tmp_path / "a.log").read_text().strip() == "done"


def test_bad_arguments_are_named():
    x, y = np.zeros((64, 3), "float32"), np.zeros(64)
    with pytest.raises(ValueError, match="engine must be one of"):
        multiworker.compare_with_one_process(None, x, y, engine="torch", steps=1)
    with pytest.raises(ValueError, match="split the global batch 64 evenly"):
        multiworker.compare_with_one_process(None, x, y, engine="jax", steps=1, processes=3)
    with pytest.raises(ValueError, match="need 128 examples each for 2 steps of 64"):
        multiworker.compare_with_one_process(None, x, y, engine="jax", steps=2)


def test_a_worker_refuses_another_backend(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run([sys.executable, "-m", "utils.multiworker", "--engine", "jax", "--workdir", str(tmp_path),
                             "--steps", "1", "--global-batch", "64", "--processes", "1"],
                            cwd=multiworker.ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "KERAS_BACKEND must be 'jax' for --engine jax" in result.stderr


ENGINES = [e for e in ("jax", "tensorflow") if importlib.util.find_spec(e) is not None]


@pytest.mark.skipif(not ENGINES, reason="neither jax nor tensorflow is installed")
@pytest.mark.processes
def test_two_processes_take_the_steps_of_one(tmp_path):
    """The slow one: 2 workers + 1 reference per engine, a few steps of a small network."""
    code = textwrap.dedent(f"""
        import numpy as np
        from utils.startup import import_keras
        keras = import_keras()
        from utils.multiworker import compare_with_one_process

        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.2),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(192, 8)).astype("float32"), rng.integers(0, 3, 192)
        for engine in {ENGINES!r}:
            run = compare_with_one_process(model, x, y, engine=engine, steps=3, timeout=240)
            assert len(run.gaps) == 3 and run.max_gap <= 1e-5 < run.moved / 1000, run
            print("RUN", engine, run.replicas, run.per_process_batch)
    """)
    env = {**os.environ, "KERAS_BACKEND": ENGINES[0], "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code], cwd=multiworker.ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    if "jax" in ENGINES:
        assert "RUN jax 4 32" in result.stdout  # 2 processes x 2 local devices, 32 of each 64 per process
    if "tensorflow" in ENGINES:
        assert "RUN tensorflow 2 32" in result.stdout  # one CPU replica per worker


def test_engine_env_names_the_backend_and_drops_the_parents_settings(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--parent")
    monkeypatch.setenv("TF_CONFIG", "{}")
    monkeypatch.setenv("COURSE_RESULTS_FILE", "parent.jsonl")
    jax_env = multiworker.engine_env("jax", jax_devices=4, cpu_only=True)
    assert jax_env["KERAS_BACKEND"] == "jax" and jax_env["XLA_FLAGS"].endswith("=4")
    assert jax_env["JAX_PLATFORMS"] == "cpu" and str(multiworker.ROOT) == jax_env["PYTHONPATH"]
    tf_env = multiworker.engine_env("tensorflow", jax_devices=4)
    assert tf_env["KERAS_BACKEND"] == "tensorflow" and "XLA_FLAGS" not in tf_env and "JAX_PLATFORMS" not in tf_env
    assert not {"TF_CONFIG", "COURSE_RESULTS_FILE"} & (set(jax_env) | set(tf_env))
