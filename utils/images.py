"""Image folders as in-memory NumPy arrays: each file is decoded and resized once.

A folder laid out as ``root/<class>/<image>`` (the layout of
``keras.utils.image_dataset_from_directory``) becomes one ``uint8`` array of shape
``(n, height, width, 3)`` and an ``int`` label array, classes numbered in
alphabetical order of their folder names. Arrays work the same on every Keras
backend (``model.fit(x, y)``), and a few thousand small images fit in memory
easily: 3,000 images of 96x96x3 take 83 MB.

JPEG files are decoded at reduced scale when that is enough for the target size
(Pillow's ``draft`` mode, a DCT-domain shrink), then resized with an antialiased
bilinear filter, so decoding stays fast even for large photos.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class ImageSet(NamedTuple):
    """Images, their labels, the class names (label i is ``classes[i]``) and the source files."""

    images: np.ndarray  # uint8, (n, height, width, 3)
    labels: np.ndarray  # int64, (n,)
    classes: tuple[str, ...]
    files: tuple[Path, ...]


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) from an int or a pair; both must be positive."""
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    return int(height), int(width)


def load_image(path: str | Path, size: int | Sequence[int]) -> np.ndarray:
    """One image file as a ``uint8`` RGB array of shape ``(height, width, 3)``, resized to ``size``.

    ``size`` is an int (square) or ``(height, width)``; the aspect ratio is not kept
    (as in ``image_dataset_from_directory``). Grey-scale, palette and RGBA images become RGB.
    """
    from PIL import Image  # Pillow comes with Keras' image utilities

    height, width = _size(size)
    with Image.open(path) as image:
        image.draft("RGB", (width, height))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale when still >= size
        image = image.convert("RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
        return np.asarray(image, dtype=np.uint8)


def load_image_folder(folder: str | Path, size: int | Sequence[int], *, workers: int = 2) -> ImageSet:
    """Every image under ``folder/<class>/`` decoded once, resized to ``size``, as arrays.

    Classes are the sub-folders in alphabetical order (label 0 is the first); images
    are ordered by class, then by file name, so the result is the same on every run.
    ``workers`` threads decode in parallel (Pillow releases the GIL while decoding).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no image folder at {folder}")
    _size(size)
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        found = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        files += found
        labels += [label] * len(found)
    if not files:
        raise ValueError(f"no images in the class folders of {folder} (expected {folder}/<class>/<image>)")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        images = list(pool.map(lambda p: load_image(p, size), files))
    return ImageSet(np.stack(images), np.asarray(labels, dtype=np.int64), classes, tuple(files))


def random_affine(images: np.ndarray, rng: np.random.Generator, *, flip: bool = True, rotation: float = 15.0,
                  zoom: float = 0.15, shift: float = 0.1) -> np.ndarray:
    """A randomly flipped, rotated, zoomed and shifted copy of each image (data augmentation).

    ``images`` is ``uint8`` ``(n, height, width, 3)``; each image gets its own draw from
    ``rng``: a left-right flip with probability 1/2 (``flip``), a rotation of up to
    ``rotation`` degrees either way, a zoom in or out by up to ``zoom`` (0.15 = 15 %), and a
    shift of up to ``shift`` of the side along each axis. Pixels that would come from outside
    the photo are filled by mirroring its border (``fill_mode="reflect"`` in Keras' layers).
    The same generator state gives the same images on every Keras backend, since nothing here
    runs on one.
    """
    from PIL import Image

    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 with shape (n, height, width, channels); got {images.dtype} "
                         f"{images.shape}")
    n, height, width = images.shape[:3]
    pad_y, pad_x = height // 2, width // 2  # room for the reflected border
    angles = np.deg2rad(rng.uniform(-rotation, rotation, n))
    scales = rng.uniform(1 - zoom, 1 + zoom, n)  # > 1 zooms in
    shifts = rng.uniform(-shift, shift, (n, 2)) * (width, height)
    mirror = rng.random(n) < 0.5 if flip else np.zeros(n, bool)
    out = np.empty_like(images)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    for i in range(n):
        # Output pixel (x, y) samples the padded input at A @ (x - cx, y - cy) + centre + shift (Pillow's inverse map).
        cos, sin = np.cos(angles[i]) / scales[i], np.sin(angles[i]) / scales[i]
        a, b, d, e = cos, -sin, sin, cos
        if mirror[i]:
            a, d = -a, -d
        tx, ty = cx + pad_x + shifts[i, 0], cy + pad_y + shifts[i, 1]
        coeffs = (a, b, tx - a * cx - b * cy, d, e, ty - d * cx - e * cy)
        padded = np.pad(images[i], ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="reflect")
        image = Image.fromarray(padded).transform((width, height), Image.Transform.AFFINE, coeffs,
                                                     resample=Image.Resampling.BILINEAR)
        out[i] = np.asarray(image)
    return out


AUGMENT = {"flip": True, "rotation": 15.0, "zoom": 0.15, "shift": 0.1}  # the course's standard augmentation


def augmented_epochs(images: np.ndarray, labels: np.ndarray, epochs: int, *, seed: int,
                     augment: dict | None = AUGMENT) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``epochs`` shuffled copies of a training set, each image transformed by :func:`random_affine`.

    Epoch ``e`` always gets the same images (its generator is seeded with ``[seed, e]``), on every Keras
    backend. ``augment`` holds :func:`random_affine`'s keyword arguments; ``None`` only shuffles. While one
    epoch trains, the next is prepared in a background thread (Pillow releases the GIL while it warps).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")

    def make(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(images))
        batch = images[order] if augment is None else random_affine(images[order], rng, **augment)
        return batch, labels[order]

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(make, 0)
        for epoch in range(epochs):
            current = ahead.result()
            if epoch + 1 < epochs:
                ahead = pool.submit(make, epoch + 1)
            yield current
