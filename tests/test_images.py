"""utils.images: image folders decoded once into NumPy arrays (no Keras needed, so no per-backend runs)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from utils.images import augmented_epochs, load_image, load_image_folder


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


@pytest.fixture
def folder(tmp_path):
    """Two classes in alphabetical order 'cats' < 'dogs', mixed sizes, formats and colour modes."""
    root = tmp_path / "images"
    red = np.zeros((50, 80, 3), np.uint8)
    red[..., 0] = 200
    _save(root / "dogs" / "b.png", red)
    _save(root / "dogs" / "a.jpg", np.full((300, 200, 3), 90, np.uint8))
    _save(root / "cats" / "c.png", np.full((20, 20), 255, np.uint8))                       # grey-scale
    _save(root / "cats" / "d.png", np.dstack([np.full((40, 30, 3), 10, np.uint8),
                                              np.full((40, 30, 1), 255, np.uint8)]))       # RGBA
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "README").write_text("not a class folder")
    return root


def test_folder_shapes_labels_order(folder):
    data = load_image_folder(folder, 16)
    assert data.images.shape == (4, 16, 16, 3) and data.images.dtype == np.uint8
    assert data.classes == ("cats", "dogs")
    assert data.labels.tolist() == [0, 0, 1, 1]
    assert [f.name for f in data.files] == ["c.png", "d.png", "a.jpg", "b.png"]  # by class, then by name


def test_colours_survive_the_resize(folder):
    data = load_image_folder(folder, (12, 20), workers=1)
    assert data.images.shape == (4, 12, 20, 3)
    images = dict(zip((f.name for f in data.files), data.images))
    assert (images["c.png"] == 255).all()                       # grey-scale -> RGB
    assert (images["d.png"] == 10).all()                        # alpha dropped
    assert np.abs(images["a.jpg"].astype(int) - 90).max() <= 3  # JPEG, decoded at reduced scale
    assert (images["b.png"][..., 0] == 200).all() and (images["b.png"][..., 1:] == 0).all()


def test_same_result_with_threads(folder):
    one, two = load_image_folder(folder, 24, workers=1), load_image_folder(folder, 24, workers=3)
    assert np.array_equal(one.images, two.images) and np.array_equal(one.labels, two.labels)


def test_load_image_matches_folder(folder):
    data = load_image_folder(folder, 16)
    assert np.array_equal(load_image(data.files[2], 16), data.images[2])


def test_errors(tmp_path, folder):
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing", 16)
    (tmp_path / "empty" / "cats").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        load_image_folder(tmp_path / "empty", 16)
    with pytest.raises(ValueError, match="positive"):
        load_image_folder(folder, 0)


def _stripes(n=6, size=12):
    """n distinct images (a bright column at a different place in each) and alternating labels."""
    images = np.zeros((n, size, size, 3), np.uint8)
    for i in range(n):
        images[i, :, i + 2] = 200
    return images, np.arange(n) % 2


def test_augmented_epochs_reproducible_and_shuffled():
    images, labels = _stripes()
    first = list(augmented_epochs(images, labels, 3, seed=5))
    again = list(augmented_epochs(images, labels, 3, seed=5))
    other = list(augmented_epochs(images, labels, 3, seed=6))
    assert len(first) == 3 and all(x.shape == images.shape and x.dtype == np.uint8 for x, _ in first)
    for (x1, y1), (x2, y2) in zip(first, again):
        assert np.array_equal(x1, x2) and np.array_equal(y1, y2)   # the same seed gives the same epochs
    assert not np.array_equal(first[0][0], first[1][0])            # each epoch is a new draw
    assert not np.array_equal(first[0][0], other[0][0])            # another seed, other images
    assert sorted(first[0][1].tolist()) == sorted(labels.tolist())  # a permutation of the labels


def test_augmented_epochs_without_augmentation_only_shuffles():
    images, labels = _stripes()
    for x, y in augmented_epochs(images, labels, 2, seed=0, augment=None):
        # each image is unchanged and still carries its own label
        idx = [int(np.flatnonzero(img[0, :, 0])[0]) - 2 for img in x]
        assert sorted(idx) == list(range(len(images))) and np.array_equal(labels[idx], y)


def test_augmented_epochs_errors():
    images, labels = _stripes()
    with pytest.raises(ValueError, match="labels"):
        next(augmented_epochs(images, labels[:3], 1, seed=0))
    with pytest.raises(ValueError, match="epochs"):
        next(augmented_epochs(images, labels, 0, seed=0))
