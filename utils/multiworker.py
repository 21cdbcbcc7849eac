"""One Keras model trained by two processes on this machine, as on a cluster, and compared with one process.

Each worker is this module run as a script (``python -m utils.multiworker``), one
process per "host", talking over localhost:

- JAX: ``jax.distributed.initialize`` joins the processes (2 processes x 2 local CPU
  devices = one global mesh of 4), ``keras.distribution.set_distribution(DataParallel())``
  makes every ``fit`` step data parallel over all of them, and each process feeds its own
  part of every global batch.
- TensorFlow: ``TF_CONFIG`` names the two workers and ``tf.distribute.MultiWorkerMirroredStrategy``
  joins them (one CPU replica each). Keras 3's ``fit`` fails under this strategy
  (keras-team/keras#20585: its first step reduces the input batch with a call the
  strategy rejects), so the worker runs the step ``fit`` would run, ``strategy.run`` of
  loss, gradients and ``optimizer.apply_gradients``, on the same Keras model and optimizer.

The one-process reference trains the same saved model with a plain ``fit`` on one device.
:func:`compare_with_one_process` launches everything, bounded by a timeout, and returns the
weight gap after every step. Process ``p`` of ``n`` reads examples ``p, p + n, ...``, so each
global batch holds the same examples as the one-process batch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .startup import XLA_HOST_FLAG

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("jax", "tensorflow")
LOCAL_JAX_DEVICES = 2  # logical CPU devices per JAX process


class WorkerFailed(RuntimeError):
    """A worker process exited with an error (its log's last lines are in the message)."""


@dataclass(frozen=True)
class Comparison:
    """Weights of a run on several processes against one process, after every step."""

    engine: str
    processes: int
    replicas: int
    per_process_batch: int
    global_batch: int
    gaps: list[float]  # largest absolute weight difference after each step
    moved: float  # largest change of a weight over the run (what the gaps compare with)
    seconds: float

    @property
    def max_gap(self) -> float:
        return max(self.gaps)


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_bounded(commands: Sequence[Sequence[str]], envs: Sequence[dict], logs: Sequence[Path],
                timeout: float) -> None:
    """Run processes together; kill them all when one fails or ``timeout`` seconds pass.

    Each runs in its own session so that killing it also ends anything it started.
    Raises :class:`WorkerFailed` or ``TimeoutError`` with the end of the logs.
    """
    procs: list[subprocess.Popen] = []
    deadline = time.monotonic() + timeout
    try:
        for command, env, log in zip(commands, envs, logs):
            with open(log, "wb") as out:
                procs.append(subprocess.Popen(list(command), env=env, cwd=ROOT, stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        while True:
            codes = [p.poll() for p in procs]
            failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i = failed[0]
                raise WorkerFailed(f"process {i} exited with code {codes[i]}:\n{_tail(logs[i])}")
            if all(c == 0 for c in codes):
                return
            if time.monotonic() > deadline:
                waiting = [i for i, c in enumerate(codes) if c is None]
                raise TimeoutError(f"process(es) {waiting} still running after {timeout:g} s and were killed; "
                                   f"end of the log of process {waiting[0]}:\n{_tail(logs[waiting[0]])}")
            time.sleep(0.1)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def compare_with_one_process(model, x: np.ndarray, y: np.ndarray, *, engine: str, steps: int,
                             global_batch: int = 64, processes: int = 2, timeout: float = 180) -> Comparison:
    """Train ``model`` (compiled, saved as it is now) ``steps`` steps on ``processes`` workers and on one process.

    ``x`` and ``y`` must hold at least ``steps * global_batch`` examples. Each process is
    killed after ``timeout`` seconds at the latest. Raises ``WorkerFailed`` or ``TimeoutError``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if processes < 2 or global_batch % processes:
        raise ValueError(f"need 2 or more processes that split the global batch {global_batch} evenly, "
                         f"got {processes}")
    if len(x) < steps * global_batch or len(x) != len(y):
        raise ValueError(f"x and y need {steps * global_batch} examples each for {steps} steps of "
                         f"{global_batch}; got {len(x)} and {len(y)}")
    with tempfile.TemporaryDirectory(prefix="multiworker-") as tmp:
        work = Path(tmp)
        model.save(work / "model.keras")
        n = steps * global_batch
        np.savez(work / "data.npz", x=x[:n], y=y[:n])
        tic = time.perf_counter()
        for attempt in range(2):  # a port taken between choosing and binding it: choose again, once
            try:
                _launch(work, engine, processes, steps, global_batch, timeout)
                break
            except WorkerFailed as err:
                if attempt or "in use" not in str(err).lower():
                    raise
        seconds = time.perf_counter() - tic
        single, multi = np.load(work / "single.npz"), np.load(work / "multi.npz")
        gaps = np.abs(single["weights"] - multi["weights"]).max(axis=1)
        moved = float(np.abs(single["weights"][-1] - single["start"]).max())
        return Comparison(engine, processes, int(multi["replicas"]), int(multi["per_process_batch"]),
                          global_batch, [float(g) for g in gaps], moved, seconds)


def engine_env(engine: str, *, jax_devices: int | None = None, cpu_only: bool = False) -> dict[str, str]:
    """The environment for a new Keras process on ``engine``, started from this one.

    It names the backend, keeps TensorFlow's C++ logs quiet, makes this repository importable,
    and drops the parent's device flags, ``TF_CONFIG`` and results file. On a GPU the process
    takes memory as it needs it. ``jax_devices`` asks JAX for that many logical CPU devices;
    ``cpu_only`` keeps JAX off any accelerator.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "TF_CONFIG", "COURSE_RESULTS_FILE")}
    env.update(KERAS_BACKEND=engine, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
               XLA_PYTHON_CLIENT_PREALLOCATE="false", TF_FORCE_GPU_ALLOW_GROWTH="true")
    if cpu_only:
        env["JAX_PLATFORMS"] = "cpu"
    if jax_devices and engine == "jax":
        env["XLA_FLAGS"] = f"{XLA_HOST_FLAG}={jax_devices}"
    return env


def _launch(work: Path, engine: str, processes: int, steps: int, global_batch: int, timeout: float) -> None:
    ports = free_ports(processes if engine == "tensorflow" else 1)
    common = [sys.executable, "-m", "utils.multiworker", "--engine", engine, "--workdir", str(work),
              "--steps", str(steps), "--global-batch", str(global_batch)]
    commands = [[*common, "--processes", "1", "--process-id", "0"]]
    envs = [engine_env(engine, cpu_only=True)]
    for p in range(processes):
        env = engine_env(engine, jax_devices=LOCAL_JAX_DEVICES, cpu_only=True)
        if engine == "jax":
            address = f"127.0.0.1:{ports[0]}"
        else:
            env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{q}" for q in ports]},
                                           "task": {"type": "worker", "index": p}})
            address = ""
        commands.append([*common, "--processes", str(processes), "--process-id", str(p), "--address", address])
        envs.append(env)
    logs = [work / "single.log", *[work / f"worker-{p}.log" for p in range(processes)]]
    run_bounded(commands, envs, logs, timeout)


# ---- inside a worker process -------------------------------------------------------------


def _flat(model) -> np.ndarray:
    return np.concatenate([np.ravel(w) for w in model.get_weights()])


def _weights_after_each_step(keras, after: list):
    """A callback that appends the flattened weights after every step (``self.model`` syncs JAX's state)."""

    class WeightsAfterEachStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after.append(_flat(self.model))

    return WeightsAfterEachStep()


def _single(keras, work: Path, x, y, steps: int, global_batch: int) -> None:
    model = keras.saving.load_model(work / "model.keras")
    start, after = _flat(model), []
    record = _weights_after_each_step(keras, after)
    model.fit(x, y, batch_size=global_batch, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    np.savez(work / "single.npz", start=start, weights=np.stack(after[:steps]))


def _jax_worker(keras, work: Path, x, y, args) -> None:
    import jax

    # Process 0 also runs the coordinator; bind it to localhost only (on a cluster: the first host's address).
    jax.distributed.initialize(coordinator_address=args.address, num_processes=args.processes,
                               process_id=args.process_id, coordinator_bind_address=args.address,
                               initialization_timeout=60, shutdown_timeout_seconds=30)
    from keras import distribution

    # Every process must create the same initial values (JAX checks it when it places them on the global mesh).
    keras.utils.set_random_seed(args.seed)
    # auto_shard_dataset=False: each process already holds only its own part of the data.
    distribution.set_distribution(distribution.DataParallel(auto_shard_dataset=False))
    model = keras.saving.load_model(work / "model.keras")
    local_x, local_y = x[args.process_id::args.processes], y[args.process_id::args.processes]
    per_process = args.global_batch // args.processes
    after = []
    record = _weights_after_each_step(keras, after)
    model.fit(local_x, local_y, batch_size=per_process, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    if args.process_id == 0:
        np.savez(work / "multi.npz", weights=np.stack(after[:args.steps]), replicas=jax.device_count(),
                 per_process_batch=per_process)


def _tensorflow_worker(keras, work: Path, x, y, args) -> None:
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG; before any other TF op
    with strategy.scope():
        model = keras.saving.load_model(work / "model.keras")
        model.optimizer.build(model.trainable_variables)
    per_example_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
        # One input pipeline per worker: examples id, id + n, ... of the whole set.
        data = tf.data.Dataset.from_tensor_slices((x, y))
        data = data.shard(context.num_input_pipelines, context.input_pipeline_id)
        return data.batch(context.get_per_replica_batch_size(args.global_batch))

    batches = iter(strategy.distribute_datasets_from_function(dataset))

    def step(xb, yb):
        with tf.GradientTape() as tape:
            # Summed over this replica's part and divided by the global batch: the replicas' sum is the global mean.
            loss = tf.nn.compute_average_loss(per_example_loss(yb, model(xb, training=True)),
                                              global_batch_size=args.global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))  # all-reduces the gradients

    train_step = tf.function(lambda xb, yb: strategy.run(step, args=(xb, yb)))
    after = []
    for _ in range(args.steps):
        train_step(*next(batches))
        after.append(_flat(model))
    if strategy.cluster_resolver.task_id == 0:
        np.savez(work / "multi.npz", weights=np.stack(after), replicas=strategy.num_replicas_in_sync,
                 per_process_batch=args.global_batch // args.processes)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="holds model.keras and data.npz")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--global-batch", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True, help="1: the one-process reference")
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--address", default="", help="JAX: the coordinator's host:port")
    parser.add_argument("--seed", type=int, default=0, help="the same in every process")
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") != args.engine:
        raise SystemExit(f"KERAS_BACKEND must be {args.engine!r} for --engine {args.engine}; "
                         "compare_with_one_process sets it")
    import keras  # its start-up notices go to this worker's log

    data = np.load(args.workdir / "data.npz")
    x, y = data["x"], data["y"]
    if args.processes == 1:
        _single(keras, args.workdir, x, y, args.steps, args.global_batch)
    elif args.engine == "jax":
        _jax_worker(keras, args.workdir, x, y, args)
    else:
        _tensorflow_worker(keras, args.workdir, x, y, args)


if __name__ == "__main__":
    main()
