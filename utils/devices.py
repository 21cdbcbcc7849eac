"""Several devices for one Keras model: the backend-specific part of data and model parallelism.

Keras 3 scales a model with the engine of its backend. On JAX that is the
``keras.distribution`` API (``DataParallel``, ``ModelParallel``); on TensorFlow
it is ``tf.distribute`` (``MirroredStrategy``), because Keras' own distribution
API is not implemented there; the PyTorch backend has neither inside ``fit``
(PyTorch users reach for ``torch.distributed`` outside Keras). The lessons call
the helpers below, so a notebook reads the same on every backend.

On a machine with one CPU and no accelerators the helpers split the host into
logical devices: XLA's host-device count for JAX (``XLA_FLAGS`` must be set
before JAX starts, which the setup cell does) and logical CPU devices for
TensorFlow (configured before TensorFlow runs its first operation).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from .backend import backend

XLA_HOST_FLAG = "--xla_force_host_platform_device_count"


def data_parallel_supported() -> bool:
    """Whether this backend can train one Keras model on several devices inside ``fit``."""
    return backend() in ("tensorflow", "jax")


def model_parallel_supported() -> bool:
    """Whether this backend implements ``keras.distribution.ModelParallel`` (JAX only)."""
    return backend() == "jax"


def replica_devices(n: int) -> list[str]:
    """Names of ``n`` devices to train on: real accelerators when there are ``n`` or more, else logical CPUs.

    JAX: ``"cpu:0"``-style names from ``keras.distribution.list_devices``. TensorFlow:
    ``"/device:CPU:0"``-style names for ``tf.distribute``. PyTorch: ``["cpu"]`` (one device).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    name = backend()
    if name == "jax":
        from keras import distribution

        devices = distribution.list_devices()
        gpus = [d for d in devices if not d.startswith("cpu")]
        pool = gpus if len(gpus) >= n else distribution.list_devices("cpu")
        if len(pool) < n:
            raise RuntimeError(
                f"JAX sees {len(pool)} CPU device(s), {n} were asked for. Set "
                f'os.environ["XLA_FLAGS"] = "{XLA_HOST_FLAG}={n}" before Keras is imported '
                "(the setup cell does), then restart the kernel."
            )
        return pool[:n]
    if name == "tensorflow":
        import tensorflow as tf

        if len(tf.config.list_physical_devices("GPU")) >= n:
            return [d.name for d in tf.config.list_logical_devices("GPU")[:n]]
        # Listing logical devices starts TensorFlow's runtime, after which it cannot be split: split first.
        physical = tf.config.list_physical_devices("CPU")
        with contextlib.suppress(RuntimeError):  # already started: checked below
            tf.config.set_logical_device_configuration(
                physical[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
        cpus = tf.config.list_logical_devices("CPU")
        if len(cpus) < n:
            raise RuntimeError(
                f"TensorFlow has started with {len(cpus)} CPU device(s) and cannot be split into {n} now. "
                "Call replica_devices before anything else runs in TensorFlow (right after the setup "
                "cell), then restart the kernel."
            )
        return [d.name for d in cpus[:n]]
    return ["cpu"]


@contextlib.contextmanager
def data_parallel(devices: Sequence[str]) -> Iterator[str]:
    """Build and compile a model inside this block to train it with one replica per device.

    JAX: ``keras.distribution.DataParallel``; TensorFlow: ``tf.distribute.MirroredStrategy``.
    Yields the engine's name. On PyTorch it raises ``NotImplementedError`` for more than one device.
    """
    devices = list(devices)
    name = backend()
    if name == "jax":
        from keras import distribution

        with distribution.DataParallel(devices=devices).scope():
            yield "keras.distribution.DataParallel"
    elif name == "tensorflow":
        import tensorflow as tf

        # The default CPU all-reduce (collective ops) breaks when a second strategy with another number of
        # devices is made in the same process ("group size" clash); reducing on one device works for any count.
        strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
        with strategy.scope():
            yield "tf.distribute.MirroredStrategy"
    elif len(devices) == 1:
        yield "one device"
    else:
        raise NotImplementedError(
            "Keras 3 has no multi-device training inside fit on the PyTorch backend; "
            "run this notebook with KERAS_BACKEND=jax or tensorflow (set it before the setup cell)."
        )


def shard_shapes(variable) -> list[tuple[int, ...]]:
    """The shape of the piece of ``variable`` each device holds (JAX), or its full shape per replica."""
    value = variable.value
    if backend() == "jax":
        return [tuple(s.data.shape) for s in value.addressable_shards]
    replicas = getattr(variable.value, "values", None)  # a tf.distribute MirroredVariable
    if replicas is not None:
        return [tuple(r.shape) for r in replicas]
    return [tuple(variable.shape)]

