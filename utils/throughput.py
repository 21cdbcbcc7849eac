"""Training throughput of one Keras model on 1, 2, 4 ... devices, in this process or on another backend's engine.

:func:`measure_throughput` trains a model built inside each engine's scope, checks with
its :class:`~utils.devices.BatchProbe` that the batch really is split, and times one pass.
A process runs one Keras backend, so :func:`throughput_on_engine` measures another
engine (TensorFlow's ``MirroredStrategy`` from a JAX notebook, or the reverse) by
saving the model and running this module as a script with that backend, bounded by a
timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .multiworker import ENGINES, engine_env, run_bounded


@dataclass(frozen=True)
class Throughput:
    """One timed pass of training on ``devices`` devices."""

    engine: str  # the backend that trained
    devices: int
    images_per_second: float
    cores_busy: float  # CPU time of the process over wall time: how many cores it kept busy on average
    per_device_batch: int  # measured inside the step by the model's BatchProbe

    @property
    def images_per_cpu_second(self) -> float:
        return self.images_per_second / self.cores_busy


def measure_throughput(build: Callable[[], object], x: np.ndarray, y: np.ndarray, devices: Sequence[str], *,
                       counts: Sequence[int] = (1, 2, 4), batch_size: int = 256,
                       warmup: int = 1024, repeats: int = 3) -> dict[int, Throughput]:
    """Images per second of ``build()``'s model trained on the first ``k`` of ``devices`` for each ``k`` in ``counts``.

    ``build`` must return a compiled model with a ``BatchProbe`` named ``"probe"``; it is
    called inside the engine's scope. A warm-up ``fit`` on ``warmup`` examples compiles
    the step and the probe checks that every device holds ``batch_size / k`` examples;
    then the probe is switched off, the step is compiled again and warmed up, and
    ``repeats`` passes over ``x`` are timed (the median pass is kept).
    """
    import keras

    from .devices import OneDevice, check_batch_split, data_parallel

    if not counts or min(counts) < 1 or max(counts) > len(devices):
        raise ValueError(f"counts must lie between 1 and the {len(devices)} devices given; got {list(counts)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if len(x) < warmup or len(x) != len(y):
        raise ValueError(f"x and y need the same length, at least warmup={warmup}; got {len(x)} and {len(y)}")
    results = {}
    for k in counts:
        engine = data_parallel(devices[:k]) if k > 1 else OneDevice()
        with engine.scope():
            model = build()
            probe = model.get_layer("probe")
            model.fit(x[:warmup], y[:warmup], epochs=1, batch_size=batch_size, verbose=0)
            check_batch_split(probe.shapes, k, batch_size)
            per_device = probe.shapes[0][0]
            # The probe has done its job; TensorFlow would call back into Python in every timed step.
            probe.active = False
            model.train_function = None  # traced again without the probe, then warmed up again
            model.fit(x[:warmup], y[:warmup], epochs=1, batch_size=batch_size, verbose=0)
            passes = []
            for _ in range(repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
                passes.append((time.perf_counter() - wall, time.process_time() - cpu))
        wall, cpu = sorted(passes)[len(passes) // 2]  # the median pass: a busy moment of a shared machine
        results[k] = Throughput(keras.backend.backend(), k, len(x) / wall, cpu / wall, per_device)
    return results


def throughput_on_engine(model, x: np.ndarray, y: np.ndarray, *, engine: str, counts: Sequence[int] = (1, 2, 4),
                         batch_size: int = 256, warmup: int = 1024, timeout: float = 600) -> dict[int, Throughput]:
    """:func:`measure_throughput` of ``model`` (compiled, saved as it is now) in a new process on ``engine``.

    JAX gets ``max(counts)`` logical CPU devices through ``XLA_FLAGS``; TensorFlow
    configures as many logical CPUs before it starts. The process is killed after
    ``timeout`` seconds at the latest (``TimeoutError``; ``WorkerFailed`` if it fails).
    On a GPU the new process takes memory as it needs it, but the calling process may
    already hold most of it (JAX takes 75% up front unless ``XLA_PYTHON_CLIENT_PREALLOCATE=false``
    was set before it started).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES} (the backends with several devices inside fit), "
                         f"got {engine!r}")
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        work = Path(tmp)
        model.save(work / "model.keras")
        np.savez(work / "data.npz", x=x, y=y)
        env = engine_env(engine, jax_devices=max(counts))
        command = [sys.executable, "-m", "utils.throughput", "--workdir", str(work), "--batch-size", str(batch_size),
                   "--warmup", str(warmup), "--counts", *map(str, counts)]
        run_bounded([command], [env], [work / "worker.log"], timeout)
        rows = json.loads((work / "throughput.json").read_text(encoding="utf-8"))
    return {row["devices"]: Throughput(**row) for row in rows}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="holds model.keras and data.npz")
    parser.add_argument("--counts", type=int, nargs="+", required=True)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=1024)
    args = parser.parse_args(argv)
    import keras  # the backend named by KERAS_BACKEND; its start-up notices go to the worker's log

    from .devices import replica_devices  # also registers BatchProbe for load_model

    devices = replica_devices(max(args.counts))
    data = np.load(args.workdir / "data.npz")
    results = measure_throughput(lambda: keras.saving.load_model(args.workdir / "model.keras"), data["x"],
                                 data["y"], devices, counts=args.counts, batch_size=args.batch_size,
                                 warmup=args.warmup)
    rows = [asdict(r) for r in results.values()]
    (args.workdir / "throughput.json").write_text(json.dumps(rows), encoding="utf-8")


if __name__ == "__main__":
    main()
