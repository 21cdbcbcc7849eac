"""image_grid passes imshow options on: one grey scale for all images, crisp pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from utils.plots import image_grid  # noqa: E402


def test_imshow_options_reach_every_image():
    images = np.stack([np.full((4, 4), 0.5), np.linspace(0, 0.2, 16).reshape(4, 4)])
    fig = image_grid(images, ncols=2, vmin=0, vmax=1, interpolation="nearest")
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 2
    assert all(im.get_clim() == (0, 1) and im.get_interpolation() == "nearest" for im in shown)
    plt.close(fig)


def test_without_options_each_image_keeps_its_own_range():
    fig = image_grid(np.linspace(0, 0.2, 32).reshape(2, 4, 4), ncols=2)
    lows = sorted(ax.images[0].get_clim()[0] for ax in fig.axes if ax.images)
    assert lows[0] == 0 and lows[1] > 0.09  # stretched per image, as before the options existed
    plt.close(fig)
