"""utils.images.random_affine: each transform checked against the geometry it claims (no Keras needed)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.images import random_affine

H, W = 40, 60


def _draws(seed: int, n: int, *, rotation: float, zoom: float, shift: float):
    """The draws random_affine makes from a generator with this seed, in its order."""
    rng = np.random.default_rng(seed)
    angles = np.deg2rad(rng.uniform(-rotation, rotation, n))
    scales = rng.uniform(1 - zoom, 1 + zoom, n)
    shifts = rng.uniform(-shift, shift, (n, 2)) * (W, H)
    mirror = rng.random(n) < 0.5
    return angles, scales, shifts, mirror


def _blob(y: float, x: float) -> np.ndarray:
    """A bright Gaussian spot at (y, x) on black, uint8 RGB."""
    yy, xx = np.mgrid[:H, :W]
    spot = 255 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 1.5 ** 2))
    return np.repeat(spot[..., None], 3, axis=2).astype(np.uint8)


def _centroid(image: np.ndarray) -> np.ndarray:
    weight = image[..., 0].astype(float)
    yy, xx = np.mgrid[:H, :W]
    return np.array([(weight * yy).sum(), (weight * xx).sum()]) / weight.sum()


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, H, W, 3), dtype=np.uint8)


def test_no_transform_is_the_identity():
    images = _images(3)
    out = random_affine(images, np.random.default_rng(1), flip=False, rotation=0, zoom=0, shift=0)
    np.testing.assert_array_equal(out, images)


# Pillow samples at pixel centres (index i covers [i, i + 1)), so the image turns about (width / 2, height / 2) in
# its coordinates; random_affine uses ((width - 1) / 2, (height - 1) / 2), half a pixel off: a flip comes out one
# column shifted (its last column from the reflected border) and every turn or zoom moves the image by up to half
# a pixel. The fix in utils/images.py: cy, cx = height / 2, width / 2. Strict: passes (and so fails) once fixed.
HALF_PIXEL = pytest.mark.xfail(strict=True, reason="random_affine turns about a point half a pixel off the centre")


@HALF_PIXEL
def test_flip_alone_mirrors_about_half_of_the_images():
    images = _images(40)
    out = random_affine(images, np.random.default_rng(2), rotation=0, zoom=0, shift=0)
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)]
    kept = [np.array_equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept))  # each image is either mirrored or untouched
    _, _, _, mirror = _draws(2, 40, rotation=0, zoom=0, shift=0)
    assert flipped == list(mirror) and 10 < sum(flipped) < 30


def _spot_errors(seed: int = 3, n: int = 12) -> list[float]:
    """How far (pixels) a spot lands from where the geometry puts it, for n random transforms.

    Output pixel o shows input point A(o - c) + c + t, so a spot at p lands at s R(-θ) (p - c - t) + c.
    """
    p = np.array([14.0, 38.0])  # (y, x), off centre
    images = np.repeat(_blob(*p)[None], n, axis=0)
    out = random_affine(images, np.random.default_rng(seed), flip=False, rotation=30, zoom=0.2, shift=0.1)
    angles, scales, shifts, _ = _draws(seed, n, rotation=30, zoom=0.2, shift=0.1)
    c = np.array([(H - 1) / 2, (W - 1) / 2])  # the centre in pixel indices
    errors = []
    for i in range(n):
        dy, dx = p - c - shifts[i, ::-1]
        cos, sin = np.cos(angles[i]), np.sin(angles[i])
        # inverse of x_in = (cos x - sin y) / s, y_in = (sin x + cos y) / s
        expected = c + scales[i] * np.array([-sin * dx + cos * dy, cos * dx + sin * dy])
        errors.append(float(np.abs(_centroid(out[i]) - expected).max()))
    return errors


def test_rotation_zoom_and_shift_move_a_spot_where_the_geometry_says():
    """A turn the wrong way, a zoom inverted or a shift of the wrong sign moves the spot by several pixels."""
    assert max(_spot_errors()) < 0.35


@HALF_PIXEL
def test_transforms_turn_about_the_image_centre():
    assert max(_spot_errors()) < 0.1


def test_the_border_is_reflected_not_filled_with_black():
    """A flat image stays flat: every pixel that comes from outside the photo is its mirrored border."""
    grey = np.full((20, H, W, 3), 137, np.uint8)
    assert (random_affine(grey, np.random.default_rng(4)) == 137).all()  # the defaults
    assert (random_affine(grey, np.random.default_rng(4), rotation=20, zoom=0.2, shift=0.15) == 137).all()


def test_same_generator_state_same_images_and_input_untouched():
    images = _images(4)
    before = images.copy()
    a = random_affine(images, np.random.default_rng(5))
    b = random_affine(images, np.random.default_rng(5))
    c = random_affine(images, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == images.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(images, before)


@pytest.mark.parametrize("bad", [np.zeros((H, W, 3), np.uint8), np.zeros((2, H, W, 3), np.float32)])
def test_bad_input_is_refused(bad):
    with pytest.raises(ValueError, match="uint8 with shape"):
        random_affine(bad, np.random.default_rng(0))
