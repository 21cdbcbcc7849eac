"""Checks for the exercises of 02_cnn_cats_vs_dogs (convolutional networks)."""

from __future__ import annotations

import numpy as np

from . import NotYet, call, close, exercise


def _pair(value, what: str) -> tuple[int, int]:
    """``value`` as two integers, or a NotYet that says what was expected."""
    try:
        side, params = value
        return int(side), int(params)
    except (TypeError, ValueError):
        raise NotYet(f"{what} should return two numbers, (output side, parameter count); got {value!r}") from None


@exercise("02.1", "the output side and parameter count of a Conv2D layer, from the formulas")
def conv2d_output(answer, **_) -> None:
    import keras

    cases = ((96, 5, 16, 3, 2, "same"), (64, 3, 32, 3, 1, "valid"), (31, 3, 32, 32, 1, "valid"),
             (15, 4, 8, 3, 2, "valid"), (15, 3, 8, 5, 2, "same"), (7, 1, 4, 6, 1, "same"))
    for n, k, filters, channels, stride, padding in cases:
        layer = keras.layers.Conv2D(filters, k, strides=stride, padding=padding)
        layer.build((None, n, n, channels))
        side = layer.compute_output_shape((None, n, n, channels))[1]
        got_side, got_params = _pair(call(answer, n, k, filters, channels, stride, padding), "your function")
        case = f"n={n}, k={k}, filters={filters}, channels={channels}, stride={stride}, padding={padding!r}"
        if got_side != side:
            raise NotYet(f"the output side for {case} is not right yet: 'valid' uses floor((n - k) / s) + 1, "
                         "'same' pads so that only the stride shrinks the map (a ceiling)")
        if got_params != layer.count_params():
            raise NotYet(f"the parameter count for {case} is not right yet: every filter spans k x k x channels "
                         "weights, and each filter has a bias")


def _correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' 2-D cross-correlation, as a Conv2D layer computes it."""
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijmn,mn->ij", windows, kernel)


@exercise("02.2", "the 5x5 kernel equal to two 3x3 convolutions in a row")
def merged_kernel(answer, **_) -> None:
    rng = np.random.default_rng(2)
    for _trial in range(3):
        a, b, image = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(12, 12))
        c = np.asarray(call(answer, a, b), dtype=float)
        if c.shape != (5, 5):
            raise NotYet(f"the merged kernel should be 5 x 5 (two 3 x 3 kernels see a 5 x 5 patch), got shape {c.shape}")
        if not np.allclose(_correlate(_correlate(image, a), b), _correlate(image, c), atol=1e-8):
            raise NotYet("convolving with your kernel does not give the two convolutions' result: each weight "
                         "b[p, q] of the second kernel adds a copy of the first kernel, shifted by (p, q)")


def _measured_field(blocks: int) -> int:
    """Width of the input interval one value of relu<blocks> depends on, traced back through the layers."""
    lo = hi = 0  # the value's index at relu<blocks>'s resolution
    for block in range(blocks, 0, -1):
        lo, hi = lo - 1, hi + 1  # conv 3x3, 'same', stride 1: one neighbour on each side
        if block > 1:  # the max pooling (2x2, stride 2) of the block below: index i reads 2i and 2i + 1
            lo, hi = 2 * lo, 2 * hi + 1
    return hi - lo + 1


@exercise("02.3", "the receptive field of relu<blocks> in the better CNN")
def receptive_field(answer, **_) -> None:
    for blocks in (1, 2, 3, 4, 5):
        close(call(answer, blocks), _measured_field(blocks), abs_=0.0,
              what=f"the receptive field of relu{blocks}",
              hint="a 3x3 convolution widens the patch by 2 x jump, a 2x2 pooling by 1 x jump, and pooling "
                   "doubles the jump; relu<blocks> comes before its own block's pooling")


@exercise("02.4", "the multiply-adds of a 'same' convolution for one image")
def conv_multiply_adds(answer, **_) -> None:
    import keras

    for side, k, c_in, c_out in ((32, 3, 16, 32), (64, 3, 16, 32), (10, 5, 3, 8), (7, 1, 64, 16)):
        layer = keras.layers.Conv2D(c_out, k, padding="same", use_bias=False)
        layer.build((None, side, side, c_in))
        out_values = int(np.prod(layer.compute_output_shape((None, side, side, c_in))[1:]))
        expected = out_values * layer.count_params() // c_out  # each output value: one filter's weights
        close(call(answer, side, k, c_in, c_out), expected, abs_=0.5,
              what=f"the multiply-adds for side={side}, k={k}, c_in={c_in}, c_out={c_out}",
              hint="count the output values (side x side x c_out), then the multiply-adds behind each one")
