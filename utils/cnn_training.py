"""Train a binary image classifier on in-memory arrays, one freshly augmented epoch at a time.

:func:`train_classifier` compiles a model with Adam (or AdamW) and a warm-up + cosine learning-rate
schedule, trains it on the epochs of :func:`utils.images.augmented_epochs`, measures it on a
validation split after every epoch, and reports the CPU time it took. :func:`predict_mirrored` is the
prediction rule (an image and its mirror image, averaged). :func:`run_search` runs a list of
configurations and keeps each result in a small JSON file, so a long search can be resumed and its
numbers printed later without training again.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .images import AUGMENT, augmented_epochs


@dataclass
class TrainingRun:
    """Per-epoch curves of one training run and what it cost."""

    history: dict[str, list[float]] = field(default_factory=dict)  # loss, accuracy[, val_loss, val_accuracy]
    cpu_seconds: float = 0.0   # process CPU time, all threads (the augmentation thread included)
    wall_seconds: float = 0.0

    @property
    def minutes_on_two_cores(self) -> float:
        """CPU time as the minutes two fully busy cores need: steadier than wall time on a shared machine."""
        return self.cpu_seconds / 120


def warmup_cosine(learning_rate: float, total_steps: int, warmup_steps: int = 0):
    """Learning rate rising linearly from 0 over ``warmup_steps``, then falling along a cosine to 0."""
    import keras

    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}")
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)
    return keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, warmup_target=learning_rate,
                                                  warmup_steps=warmup_steps)


def predict_mirrored(model, images: np.ndarray, batch_size: int = 200) -> np.ndarray:
    """P(class 1) for each image, averaged over the image and its left-right mirror image."""
    x = np.asarray(images, dtype="float32")
    p = model.predict(x, batch_size=batch_size, verbose=0)[:, 0]
    p_mirror = model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0)[:, 0]
    return (p + p_mirror) / 2


def _log_loss(labels: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def train_classifier(model, images: np.ndarray, labels: np.ndarray, *, epochs: int, learning_rate: float,
                     seed: int, batch_size: int = 40, warmup_epochs: int = 0, weight_decay: float = 0.0,
                     augment: dict | None = AUGMENT, validation: tuple[np.ndarray, np.ndarray] | None = None,
                     every: int = 0, print_fn: Callable[[str], None] = print) -> TrainingRun:
    """Compile ``model`` (sigmoid output) and train it for ``epochs`` augmented epochs of ``images``.

    Adam with a warm-up + cosine schedule (:func:`warmup_cosine`); AdamW where ``weight_decay`` > 0.
    With ``validation`` = (images, labels), its loss and accuracy are measured after every epoch
    (one plain prediction per image). ``every`` > 0 prints a line every that many epochs.
    """
    import keras

    labels = np.asarray(labels)
    steps = epochs * math.ceil(len(images) / batch_size)
    schedule = warmup_cosine(learning_rate, steps, warmup_epochs * math.ceil(len(images) / batch_size))
    optimizer = (keras.optimizers.AdamW(schedule, weight_decay=weight_decay) if weight_decay
                 else keras.optimizers.Adam(schedule))
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    run = TrainingRun({"loss": [], "accuracy": []})
    if validation is not None:
        run.history.update(val_loss=[], val_accuracy=[])
    cpu, wall = time.process_time(), time.perf_counter()
    batches = augmented_epochs(images, labels, epochs, seed=seed, augment=augment)
    for epoch, (x, y) in enumerate(batches, 1):
        logs = model.fit(x.astype("float32"), y.astype("float32"), batch_size=batch_size, epochs=1,
                         shuffle=False, verbose=0).history
        run.history["loss"] += logs["loss"]
        run.history["accuracy"] += logs["accuracy"]
        line = f"epoch {epoch:>3}/{epochs}  loss {logs['loss'][-1]:.3f}  accuracy {logs['accuracy'][-1]:.3f}"
        if validation is not None:
            p = model.predict(np.asarray(validation[0], dtype="float32"), batch_size=200, verbose=0)[:, 0]
            run.history["val_loss"].append(_log_loss(validation[1], p))
            run.history["val_accuracy"].append(float(np.mean((p > 0.5) == validation[1])))
            line += f"  val_loss {run.history['val_loss'][-1]:.3f}  val_accuracy {run.history['val_accuracy'][-1]:.3f}"
        if every and (epoch % every == 0 or epoch == epochs):
            print_fn(line)
    run.cpu_seconds, run.wall_seconds = time.process_time() - cpu, time.perf_counter() - wall
    return run


def load_search(path: str | Path) -> list[dict]:
    """The entries of a search file (``[]`` when it does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "config" in e for e in entries):
        raise ValueError(f"{path} is not a search file (a JSON list of entries with a 'config'); delete it or "
                         "point to another file")
    return entries


def _save(path: Path, entries: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the file is meant to be committed and shared
    os.replace(tmp, path)  # never a half-written file, even if the search is stopped


def run_search(configs: Sequence[dict], run_one: Callable[[dict], dict], path: str | Path) -> list[dict]:
    """Run ``run_one(config)`` for every config not yet in the file at ``path``; return every entry.

    Each result (a dict of JSON-serialisable values) is saved as ``{"config": config, **result}`` as soon
    as it is known, so a stopped search resumes where it stopped. Entries of configs no longer listed stay
    in the file.
    """
    path = Path(path)
    entries = load_search(path)
    for config in configs:
        config = json.loads(json.dumps(config))  # what the file will hold (tuples become lists)
        if any(e["config"] == config for e in entries):
            continue
        result = run_one(config)
        if "config" in result:
            raise ValueError("run_one must not return a 'config' key; it is added from the config itself")
        entries.append({"config": config, **result})
        _save(path, entries)
    return entries
