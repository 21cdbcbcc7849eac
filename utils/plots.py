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
               size: float = 1.4, cmap: str | None = None, **imshow_kwargs):
    """Show images (``(n, h, w)`` or ``(n, h, w, c)``, floats in [0, 1] or uint8) in a grid.

    Further keyword arguments go to every ``imshow`` call: ``vmin=0, vmax=1`` draws all images on one
    grey scale (by default each is stretched to its own range), ``interpolation="nearest"`` keeps
    pixels crisp and the stored figure small.
    """
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
            ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None), **imshow_kwargs)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def data_parallel_diagram(n_replicas: int = 4, global_batch: int = 64):
    """Draw data parallelism: one global batch split into shards, one replica each, gradients averaged."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, n_replicas + 1)
    ax.axis("off")

    def box(x, y, w, h, text, color):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=color, ec="0.3"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)

    def arrow(x0, y0, x1, y1):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12, color="0.35"))

    mid = (n_replicas + 1) / 2
    box(0.1, mid - 0.6, 1.5, 1.2, f"global batch\nB = {global_batch}", "#dbe9f6")
    box(8.4, mid - 0.6, 1.5, 1.2, "all-reduce:\n$g=\\frac{1}{N}\\sum_k g_k$", "#fde2c8")
    for k in range(n_replicas):
        y = n_replicas - k - 0.25
        box(2.3, y, 1.6, 0.55, f"shard {k}: {global_batch // n_replicas}", "#eef4fb")
        box(4.6, y, 2.9, 0.55, f"replica {k}: copy of $\\theta$ → $g_{k}$", "#e3f1e0")
        arrow(1.6, mid, 2.3, y + 0.27)
        arrow(3.9, y + 0.27, 4.6, y + 0.27)
        arrow(7.5, y + 0.27, 8.4, mid)
    ax.text(5, 0.15, "every replica applies the same update $\\theta \\leftarrow \\theta - \\eta\\, g$, "
            "so the copies stay identical", ha="center", fontsize=9)
    fig.tight_layout()
    return fig
