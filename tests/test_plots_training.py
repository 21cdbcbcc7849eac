"""utils.plots (history curves, image grids) and utils.training.EpochLogger."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils.plots import image_grid, plot_history

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


HISTORY = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.7, 0.8]}


def test_plot_history_dict():
    fig = plot_history(HISTORY, ("loss", "accuracy"), title="run")
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "validation"]
    assert [line.get_label() for line in acc_ax.get_lines()] == ["train"]  # no val_accuracy
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.get_lines()[1].get_ydata(), HISTORY["val_loss"])
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_xlabel() == "epoch"
    assert fig._suptitle is not None and fig._suptitle.get_text() == "run"


def test_plot_history_accepts_history_object():
    class FakeHistory:
        history = HISTORY

    fig = plot_history(FakeHistory())
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 2


def test_plot_history_unknown_metric():
    with pytest.raises(KeyError, match="auc"):
        plot_history(HISTORY, ("loss", "auc"))


@pytest.mark.parametrize("shape", [(5, 8, 8), (5, 8, 8, 1), (5, 8, 8, 3)])
def test_image_grid_shapes(shape):
    rng = np.random.default_rng(0)
    images = rng.random(shape)
    fig = image_grid(images, titles=[f"t{i}" for i in range(5)], ncols=3)
    assert len(fig.axes) == 6  # 2 rows x 3 columns
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    assert shown[0].images[0].get_array().shape[:2] == (8, 8)
    assert [ax.get_title() for ax in shown] == [f"t{i}" for i in range(5)]
    if len(shape) == 3 or shape[-1] == 1:
        assert shown[0].images[0].get_cmap().name == "gray"


def test_image_grid_uint8_single_row():
    fig = image_grid(np.zeros((2, 4, 4), dtype=np.uint8), ncols=8)
    assert len(fig.axes) == 8
    assert sum(bool(ax.images) for ax in fig.axes) == 2


@pytest.mark.parametrize("shape", [(8, 8), (2, 8, 8, 3, 1), (5,)])
def test_image_grid_bad_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        image_grid(np.zeros(shape))


def test_image_grid_titles_mismatch():
    with pytest.raises(ValueError, match="titles"):
        image_grid(np.zeros((3, 4, 4)), titles=["a", "b"])


# --- EpochLogger -----------------------------------------------------------------------------

def _fit(callback, epochs):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).random((16, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    return model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=[callback])


def test_epoch_logger_every_k_and_last(capsys):
    from utils.training import EpochLogger

    _fit(EpochLogger(every=2), epochs=5)
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [int(re.match(r"epoch\s+(\d+)/5\b", line).group(1)) for line in lines]
    assert epochs == [2, 4, 5]
    assert all("loss=" in line and "mae=" in line for line in lines)
    assert "stopped early" not in "\n".join(lines)


def test_epoch_logger_selected_metrics(capsys):
    from utils.training import EpochLogger

    _fit(EpochLogger(every=1, metrics=("mae",)), epochs=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all("mae=" in line and "loss=" not in line for line in lines)


def test_epoch_logger_reports_early_stop(capsys):
    import keras

    from utils.training import EpochLogger

    class StopAtOnce(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    logger = EpochLogger(every=10)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), dtype="float32")
    model.fit(x, x[:, :1], epochs=50, verbose=0, callbacks=[logger, StopAtOnce()])
    out = capsys.readouterr().out
    assert "stopped early" in out
    assert "epoch" not in out  # epoch 1 is neither a multiple of 10 nor the last planned epoch


@pytest.mark.parametrize("every", [0, -3])
def test_epoch_logger_rejects_every_below_one(every):
    from utils.training import EpochLogger

    with pytest.raises(ValueError, match="every"):
        EpochLogger(every=every)


def test_epoch_logger_shows_tiny_losses(capsys):
    from utils.training import EpochLogger

    logger = EpochLogger(every=1)
    logger.params = {"epochs": 1}
    logger.on_epoch_end(0, {"loss": 3.2e-07, "val_loss": 0.25})
    out = capsys.readouterr().out
    assert "loss=3.2e-07" in out and "val_loss=0.25" in out
