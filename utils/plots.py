"""Figures that several notebooks draw."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_history(history, metrics: Sequence[str] = ("loss",), *, title: str | None = None):
    """Plot training and validation curves from a Keras ``History`` (or its ``.history`` dict).

    One panel per metric; validation curves are drawn when ``val_<metric>`` exists.
    """
    hist = getattr(history, "history", history)
    unknown = [m for m in metrics if m not in hist]
    if unknown:
        raise KeyError(f"Metrics {unknown} not in the history; it has {sorted(hist)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(hist[name]) + 1)
        ax.plot(epochs, hist[name], label="train")
        if f"val_{name}" in hist:
            ax.plot(epochs, hist[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, *, ncols: int = 8,
               size: float = 1.4, cmap: str | None = None):
    """Show images (``(n, h, w)`` or ``(n, h, w, c)``, floats in [0, 1] or uint8) in a grid."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape (n, h, w) or (n, h, w, c); got {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * (titles is not None)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img = images[i]
            if img.ndim == 3 and img.shape[-1] == 1:
                img = img[..., 0]
            ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None))
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig
