"""Several devices for one Keras model: the backend-specific part of data and model parallelism.

Keras 3 scales a model with the engine of its backend. On JAX that is the
``keras.distribution`` API (``DataParallel``, ``ModelParallel``); on TensorFlow
it is ``tf.distribute`` (``MirroredStrategy``), because Keras' own distribution
API is not implemented there; the PyTorch backend has neither inside ``fit``
(PyTorch users reach for ``torch.distributed`` outside Keras).

Both engines split a batch only while they are active when the training step
runs: on JAX, ``fit`` must run inside ``DataParallel(...).scope()`` (or after
``keras.distribution.set_distribution``); a model built in the scope and trained
after it closed computes the whole batch on every device. On TensorFlow a model
keeps the strategy it was built under, ``fit`` splits each batch, and
``train_on_batch`` hands every replica the whole batch. :class:`BatchProbe`
measures which of these happened, inside the step.

On a machine with one CPU and no accelerators the helpers split the host into
logical devices: XLA's host-device count for JAX (``XLA_FLAGS`` must be set
before JAX starts, which the setup cell does) and logical CPU devices for
TensorFlow (configured before TensorFlow runs its first operation).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import keras
import numpy as np

from .backend import backend
from .startup import XLA_HOST_FLAG


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

        if n > 1:
            synchronous_callbacks()
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


def synchronous_callbacks() -> None:
    """Run Keras' batch-end callbacks in the training loop's own thread (JAX, several devices).

    Keras hands the logs of each step to a pool of threads that copy them to the host while
    the next steps are dispatched. With a batch split over JAX's CPU devices those copies can
    wait on a step whose all-reduce waits on them: ``fit`` hangs (measured: 3 runs of 3 within
    a few epochs), and XLA ends the process after its 40 s collective timeout. Synchronous
    callbacks cost nothing measurable here. Affects this process only.
    """
    from keras.src import backend as keras_backend  # the switch CallbackList reads; no public API sets it

    keras_backend.IS_THREAD_SAFE = False


class OneDevice:
    """The engine for one device where the backend has none (PyTorch): ``scope()`` changes nothing."""

    def scope(self):
        return contextlib.nullcontext()

    def __repr__(self) -> str:
        return "OneDevice()"


def data_parallel(devices: Sequence[str], *, synchronized_reduction: bool = False):
    """The backend's data-parallel engine over ``devices``; build, compile and ``fit`` inside its ``scope()``.

    JAX: ``keras.distribution.DataParallel(devices=devices)``. TensorFlow:
    ``tf.distribute.MirroredStrategy(devices)``, reducing gradients on one device
    (the default CPU all-reduce breaks when a second strategy with another number of
    devices is made in the same process; ``synchronized_reduction=True`` keeps the
    default). PyTorch: :class:`OneDevice` for one device, ``NotImplementedError`` for more.
    """
    devices = list(devices)
    if not devices:
        raise ValueError("data_parallel needs at least one device; get them from replica_devices(n)")
    name = backend()
    if name == "jax":
        from keras import distribution

        return distribution.DataParallel(devices=devices)
    if name == "tensorflow":
        import tensorflow as tf

        reduction = None if synchronized_reduction else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices, cross_device_ops=reduction)
    if len(devices) == 1:
        return OneDevice()
    raise NotImplementedError(
        "Keras 3 has no multi-device training inside fit on the PyTorch backend; "
        "run this notebook with KERAS_BACKEND=jax or tensorflow (set it before the setup cell)."
    )


def engine_name(engine) -> str:
    """``"keras.distribution.DataParallel"``-style name of an engine from :func:`data_parallel`."""
    cls = type(engine)
    module = {"keras.src.distribution.distribution_lib": "keras.distribution"}.get(cls.__module__, cls.__module__)
    if module.startswith("tensorflow"):
        module = "tf.distribute"
    return f"{module}.{cls.__name__}" if cls is not OneDevice else "one device"


def shard_shapes(variable) -> list[tuple[int, ...]]:
    """The shape of the piece of ``variable`` each device holds (JAX), or its full shape per replica."""
    value = variable.value
    if backend() == "jax":
        return [tuple(s.data.shape) for s in value.addressable_shards]
    replicas = getattr(value, "values", None)  # a tf.distribute MirroredVariable
    if replicas is not None:
        return [tuple(r.shape) for r in replicas]
    return [tuple(variable.shape)]


def replica_values(variable) -> list[np.ndarray]:
    """The value of ``variable`` held by each device (JAX shards, tf.distribute replica copies, or one value)."""
    value = variable.value
    if backend() == "jax":
        return [np.asarray(s.data) for s in value.addressable_shards]
    replicas = getattr(value, "values", None)
    if replicas is not None:
        return [np.asarray(r) for r in replicas]
    return [np.asarray(keras.ops.convert_to_numpy(value))]


@keras.saving.register_keras_serializable(package="course")  # a saved model can run in another process
class BatchProbe(keras.layers.Layer):
    """An identity layer that measures, inside the training step, which part of its input each device holds.

    :attr:`shapes` lists, for the first step run since the layer was made or
    :meth:`reset`, the shape of the input's piece on each device (ordered by device or
    replica): ``[(16, 28, 28, 1)] * 4`` when four devices split a batch of 64,
    ``[(64, 28, 28, 1)] * 4`` when each computes the whole batch. With ``keep_values=True``
    :attr:`values` keeps that step's input too: the global value on JAX (one array), each
    replica's piece on TensorFlow. JAX reports the layout XLA compiled the step with
    (``jax.debug.inspect_array_sharding``, so it records when a step is compiled, not when a
    compiled step runs again); TensorFlow reports the batch each replica runs with (a host
    callback in every step).
    """

    def __init__(self, keep_values: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.keep_values = keep_values
        self.supports_jit = backend() != "tensorflow"  # XLA cannot compile TensorFlow's host callback
        self.active = True  # False: a plain identity in steps traced from now on (no callback to slow a timing)
        self.reset()

    def reset(self) -> None:
        """Forget what earlier steps recorded."""
        self._steps: dict[int, list[tuple[int, ...]]] = {}  # device or replica -> its piece's shape, per step
        self._values: dict[int, np.ndarray] = {}
        self.replicas_in_sync: int | None = None

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [self._steps[k][0] for k in sorted(self._steps)]

    @property
    def values(self) -> list[np.ndarray]:
        return [self._values[k] for k in sorted(self._values)]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "keep_values": self.keep_values}

    def call(self, x):
        if not self.active:
            return x
        name = backend()
        if name == "jax":
            return self._call_jax(x)
        if name == "tensorflow":
            return self._call_tensorflow(x)
        self._seen(0, 1, tuple(x.shape))
        if self.keep_values and 0 not in self._values:
            self._values[0] = np.array(keras.ops.convert_to_numpy(x))
        return x

    def _seen(self, key: int, in_sync: int, shape: tuple[int, ...]) -> None:
        self._steps.setdefault(key, []).append(shape)
        self.replicas_in_sync = in_sync

    def _call_jax(self, x):
        import jax

        shape = tuple(x.shape)

        def seen(sharding) -> None:
            pieces = sharding.devices_indices_map(shape)
            for device, index in pieces.items():
                self._seen(device.id, len(pieces), tuple(len(range(*s.indices(n))) for s, n in zip(index, shape)))

        def keep(value) -> None:
            self._values.setdefault(0, np.array(value))

        jax.debug.inspect_array_sharding(x, callback=seen)
        if self.keep_values:
            jax.debug.callback(keep, x)
        return x

    def _call_tensorflow(self, x):
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is None:  # cross-replica context: the layer is being built, not run
            return x
        replica = tf.cast(context.replica_id_in_sync_group, tf.int32)

        def seen(replica_id, in_sync, value):
            self._seen(int(replica_id), int(in_sync), tuple(value.shape))
            if self.keep_values:
                self._values.setdefault(int(replica_id), np.array(value))
            return np.int32(0)

        done = tf.numpy_function(seen, [replica, context.num_replicas_in_sync, x], tf.int32)
        with tf.control_dependencies([done]):
            return tf.identity(x)


def batch_split_error(shapes: Sequence[tuple[int, ...]], n_devices: int, global_batch: int) -> str | None:
    """Why ``shapes`` (from :class:`BatchProbe`) is not ``global_batch`` split evenly over ``n_devices``; None if it is."""
    if n_devices < 1 or global_batch % n_devices:
        raise ValueError(f"a global batch of {global_batch} does not split evenly over {n_devices} device(s)")
    if not shapes:
        return "the probe recorded nothing: it was not called inside a training step since it was made or reset"
    rows = [s[0] for s in shapes]
    wanted = global_batch // n_devices
    if len(rows) == n_devices and all(r == wanted for r in rows):
        return None
    whole = len(rows) > 1 and all(r == global_batch for r in rows)
    return (f"expected {n_devices} devices holding {wanted} of the {global_batch} examples each; measured "
            f"{len(rows)} device(s) holding {', '.join(str(r) for r in rows)}"
            + (" (every device computes the whole batch)" if whole else ""))


def check_batch_split(shapes: Sequence[tuple[int, ...]], n_devices: int, global_batch: int) -> None:
    """Assert that ``n_devices`` devices each held ``global_batch / n_devices`` examples (from :class:`BatchProbe`).

    Raises ``AssertionError`` naming what was measured when the batch was not split
    (every device computing the whole batch) or was split over another number of devices.
    """
    error = batch_split_error(shapes, n_devices, global_batch)
    if error:
        raise AssertionError(error)
