"""Training plumbing for a GAN written as one Keras model (the GAN notebook).

The notebook's ``GAN`` model maps ``(latent vectors, real samples)`` to the discriminator's
outputs, and one ``fit`` trains both players. This module holds what ``fit`` needs around it:

* :class:`GANBatches`, a ``keras.utils.PyDataset`` of fresh latent vectors and real samples
  for every step, reproducible from a seed;
* :class:`AtSteps`, a callback that calls a function (a score, a snapshot) at chosen steps;
* :func:`train_gan`, which runs ``fit`` with both and returns the logs indexed by step;
* :func:`late_averages`, the means of ``D(x)``, ``D(G(z))`` and both losses over the last part
  of training, next to their values at the game's equilibrium (:data:`EQUILIBRIUM`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import keras
import numpy as np
import pandas as pd

from .training import EpochLogger

#: Values at the equilibrium p_g = p_data, where the best discriminator outputs 1/2 everywhere.
EQUILIBRIUM = {"D(x)": 0.5, "D(G(z))": 0.5, "discriminator loss (real + fake)": 2 * np.log(2),
               "generator loss (non-saturating)": np.log(2)}

_LOG_COLUMNS = ("d_loss_real", "d_loss_fake", "g_loss", "D(x)", "D(G(z))")


class GANBatches(keras.utils.PyDataset):
    """``steps`` batches of ``((z, real), placeholder)``, new ones every epoch, reproducible from ``seed``.

    ``sample_real(n, rng)`` returns ``n`` real samples drawn with the NumPy generator ``rng``.
    The targets are a zero placeholder: a GAN's targets (1 for real, 0 for fake) are fixed
    inside its loss.
    """

    def __init__(self, sample_real: Callable[[int, np.random.Generator], np.ndarray], latent_dim: int,
                 batch_size: int, steps: int, seed: int):
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("batch_size", batch_size), ("steps", steps)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.sample_real, self.latent_dim, self.batch_size, self.steps = sample_real, latent_dim, batch_size, steps
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        z = rng.normal(size=(self.batch_size, self.latent_dim)).astype("float32")
        return (z, self.sample_real(self.batch_size, rng)), np.zeros((self.batch_size, 1), "float32")

    def on_epoch_end(self) -> None:
        self.epoch += 1


class AtSteps(keras.callbacks.Callback):
    """Call ``checkpoint(step)`` after each epoch that ends at one of ``steps``."""

    def __init__(self, checkpoint: Callable[[int], None], steps: Iterable[int], steps_per_epoch: int):
        super().__init__()
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
        self.checkpoint, self.steps, self.steps_per_epoch = checkpoint, set(steps), steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) * self.steps_per_epoch in self.steps:
            self.checkpoint((epoch + 1) * self.steps_per_epoch)


def train_gan(gan: keras.Model, sample_real: Callable[[int, np.random.Generator], np.ndarray], latent_dim: int,
              batch_size: int, steps: int, seed: int, *, steps_per_epoch: int = 50, checkpoints: Iterable[int] = (),
              checkpoint: Callable[[int], None] | None = None, log_every: int = 10) -> pd.DataFrame:
    """Train a compiled one-model GAN for ``steps`` steps; return its logs, one row per block of steps.

    An "epoch" is a block of ``steps_per_epoch`` steps; the logs are means over each block,
    indexed by the step at its end (``D_real``/``D_fake`` renamed ``D(x)``/``D(G(z))``).
    ``checkpoint(step)`` is called before training if 0 is in ``checkpoints`` and after every
    block that ends at one of them. A line is printed every ``log_every`` blocks.
    """
    if steps < steps_per_epoch or steps % steps_per_epoch:
        raise ValueError(f"steps ({steps}) must be a positive multiple of steps_per_epoch ({steps_per_epoch})")
    checkpoints = set(checkpoints)
    if checkpoints and checkpoint is None:
        raise ValueError("checkpoints were given without a checkpoint function to call at them")
    if checkpoint is not None and 0 in checkpoints:
        checkpoint(0)
    callbacks = [EpochLogger(every=log_every, metrics=("d_loss_real", "d_loss_fake", "g_loss", "D_real", "D_fake"))]
    if checkpoint is not None:
        callbacks.append(AtSteps(checkpoint, checkpoints, steps_per_epoch))
    history = gan.fit(GANBatches(sample_real, latent_dim, batch_size, steps_per_epoch, seed),
                      epochs=steps // steps_per_epoch, callbacks=callbacks, verbose=0)
    logs = pd.DataFrame(history.history).rename(columns={"D_real": "D(x)", "D_fake": "D(G(z))"})
    logs.index = steps_per_epoch * (logs.index + 1)
    return logs


def late_averages(logs: pd.DataFrame, fraction: float = 0.5) -> pd.DataFrame:
    """Means of D(x), D(G(z)) and both losses over the last ``fraction`` of training, beside their equilibrium values.

    ``logs`` is what :func:`train_gan` returns. The "last half" (``fraction=0.5``) means the
    blocks that end after the middle step of training.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    missing = [c for c in _LOG_COLUMNS if c not in logs.columns]
    if missing:
        raise ValueError(f"logs lack the columns {missing}; pass the DataFrame that train_gan returns")
    if len(logs) == 0:
        raise ValueError("logs are empty: train for at least one block of steps")
    late = logs.loc[logs.index > logs.index.max() * (1 - fraction)]
    measured = {"D(x)": late["D(x)"].mean(), "D(G(z))": late["D(G(z))"].mean(),
                "discriminator loss (real + fake)": (late["d_loss_real"] + late["d_loss_fake"]).mean(),
                "generator loss (non-saturating)": late["g_loss"].mean()}
    return pd.DataFrame({f"mean over the last {fraction:.0%} of steps": measured, "at equilibrium": EQUILIBRIUM})
