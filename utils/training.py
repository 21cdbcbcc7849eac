"""Training helpers that keep notebook outputs short."""

from __future__ import annotations

import statistics
import time

import keras


class EpochLogger(keras.callbacks.Callback):
    """Print one compact line every ``every`` epochs (and the last), instead of a progress bar.

    Use with ``verbose=0`` so a long run leaves a short, readable log.
    """

    def __init__(self, every: int = 10, metrics: tuple[str, ...] | None = None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.metrics = metrics
        self._start = 0.0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        total = self.params.get("epochs") if self.params else None
        last = total is not None and epoch + 1 == total
        if (epoch + 1) % self.every and not last:
            return
        keys = self.metrics or tuple(logs)
        parts = " ".join(f"{k}={logs[k]:.4g}" for k in keys if k in logs)  # 4 significant digits: tiny losses stay readable
        print(f"epoch {epoch + 1:>4}{'/' + str(total) if total else ''}  {parts}")

    def on_train_end(self, logs=None):
        if getattr(self.model, "stop_training", False):
            print("stopped early")


class EpochCPUTimes(keras.callbacks.Callback):
    """Record the process CPU seconds of every epoch in ``seconds`` (a list, one entry per epoch).

    CPU time rather than wall time: on a shared machine it is far less disturbed by other work.
    The first epoch includes compiling the training step; :meth:`steady` leaves it out.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.process_time() - self._start)

    def steady(self) -> float:
        """Median CPU seconds per epoch after the first (the first alone if there is only one)."""
        if not self.seconds:
            raise ValueError("no epoch was timed: pass this callback to fit() and train at least one epoch")
        return float(statistics.median(self.seconds[1:] or self.seconds))
