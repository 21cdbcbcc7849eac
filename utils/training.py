"""Training helpers that keep notebook outputs short."""

from __future__ import annotations

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
