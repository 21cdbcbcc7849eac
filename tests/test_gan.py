"""utils.gan: reproducible GAN batches, checkpoints at chosen steps, logs indexed by step, late averages."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from utils.gan import EQUILIBRIUM, AtSteps, GANBatches, late_averages, train_gan


def sample_real(n, rng):
    return rng.uniform(size=(n, 4)).astype("float32")


def test_batches_have_the_right_shapes_and_are_reproducible():
    batches = GANBatches(sample_real, latent_dim=3, batch_size=8, steps=5, seed=1)
    (z, real), y = batches[0]
    assert len(batches) == 5
    assert z.shape == (8, 3) and z.dtype == np.float32
    assert real.shape == (8, 4) and y.shape == (8, 1) and not y.any()
    (z_again, real_again), _ = GANBatches(sample_real, 3, 8, 5, seed=1)[0]
    np.testing.assert_array_equal(z, z_again)
    np.testing.assert_array_equal(real, real_again)
    assert not np.array_equal(batches[1][0][0], z)  # another step, other draws


def test_batches_change_from_one_epoch_to_the_next():
    batches = GANBatches(sample_real, 3, 8, 5, seed=1)
    first = batches[0][0][0]
    batches.on_epoch_end()
    assert not np.array_equal(batches[0][0][0], first)


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"batch_size": -1}, {"steps": 2.5}])
def test_batches_refuse_bad_sizes(kwargs):
    args = {"latent_dim": 3, "batch_size": 8, "steps": 5} | kwargs
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        GANBatches(sample_real, seed=0, **args)


def test_at_steps_calls_only_at_the_chosen_steps():
    called = []
    callback = AtSteps(called.append, steps=[20, 50], steps_per_epoch=10)
    for epoch in range(6):
        callback.on_epoch_end(epoch)
    assert called == [20, 50]
    with pytest.raises(ValueError, match="steps_per_epoch"):
        AtSteps(called.append, [1], 0)


def tiny_gan() -> keras.Model:
    """Not a GAN: a model with the GAN's inputs and five named metrics, enough to test the plumbing."""
    z, real = keras.Input((3,)), keras.Input((4,))
    out = keras.layers.Dense(2, activation="sigmoid")(keras.layers.Concatenate()([z, real]))
    model = keras.Model([z, real], out)

    def column(name, k):
        return keras.metrics.MeanMetricWrapper(lambda y_true, y_pred: y_pred[:, k % 2], name=name)

    model.compile("sgd", loss=lambda y_true, y_pred: keras.ops.mean(y_pred, axis=-1),
                  metrics=[column(n, k) for k, n in enumerate(("d_loss_real", "d_loss_fake", "g_loss", "D_real", "D_fake"))])
    return model


def test_train_gan_indexes_logs_by_step_and_calls_checkpoints(capsys):
    keras.utils.set_random_seed(0)
    seen = []
    logs = train_gan(tiny_gan(), sample_real, 3, 8, steps=30, seed=0, steps_per_epoch=10,
                     checkpoints=[0, 20], checkpoint=seen.append, log_every=3)
    assert list(logs.index) == [10, 20, 30]
    assert {"D(x)", "D(G(z))", "g_loss"} <= set(logs.columns)
    assert seen == [0, 20]
    assert "epoch    3/3" in capsys.readouterr().out


def test_train_gan_refuses_steps_that_are_not_whole_blocks():
    with pytest.raises(ValueError, match="multiple of steps_per_epoch"):
        train_gan(tiny_gan(), sample_real, 3, 8, steps=25, seed=0, steps_per_epoch=10)
    with pytest.raises(ValueError, match="checkpoint function"):
        train_gan(tiny_gan(), sample_real, 3, 8, steps=10, seed=0, steps_per_epoch=10, checkpoints=[10])


def logs_frame() -> pd.DataFrame:
    index = [50, 100, 150, 200]
    return pd.DataFrame({"d_loss_real": [1.0, 1.0, 0.5, 0.7], "d_loss_fake": [0.0, 0.0, 0.5, 0.3],
                         "g_loss": [9.0, 9.0, 1.0, 2.0], "D(x)": [0.9, 0.9, 0.6, 0.8],
                         "D(G(z))": [0.1, 0.1, 0.4, 0.2]}, index=index)


def test_late_averages_use_the_last_part_only():
    table = late_averages(logs_frame(), fraction=0.5)
    measured = table.iloc[:, 0]
    assert measured["D(x)"] == pytest.approx(0.7)
    assert measured["D(G(z))"] == pytest.approx(0.3)
    assert measured["discriminator loss (real + fake)"] == pytest.approx(1.0)
    assert measured["generator loss (non-saturating)"] == pytest.approx(1.5)
    assert table["at equilibrium"].to_dict() == pytest.approx(EQUILIBRIUM)
    assert EQUILIBRIUM["discriminator loss (real + fake)"] == pytest.approx(1.3863, abs=1e-4)
    assert late_averages(logs_frame(), fraction=1.0).iloc[:, 0]["D(x)"] == pytest.approx(0.8)


def test_late_averages_refuse_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        late_averages(logs_frame(), fraction=0)
    with pytest.raises(ValueError, match="train_gan"):
        late_averages(logs_frame().drop(columns="g_loss"))
    with pytest.raises(ValueError, match="empty"):
        late_averages(logs_frame().iloc[:0])
