"""Checks for the exercises of 10_transformer (attention, positional encodings, the cost of attention)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import NotYet, call, close, exercise


def _sinusoids(length: int, depth: int) -> np.ndarray:
    """The sinusoidal encoding of the theory section: sin on even dimensions, cos on odd ones."""
    angles = np.arange(length)[:, None] / np.power(10000.0, 2 * np.arange(depth // 2)[None, :] / depth)
    pe = np.zeros((length, depth))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe


@exercise("10.1", "the number of parameters of a MultiHeadAttention layer, counted by hand")
def mha_parameters(answer, **_) -> None:
    import keras

    for d_model, heads, key_dim in ((32, 1, 16), (32, 2, 16), (32, 4, 8), (24, 3, 5), (10, 2, 7)):
        layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
        x = np.zeros((1, 3, d_model), dtype="float32")
        layer(x, x)  # builds the layer for inputs of width d_model
        expected = layer.count_params()
        got = call(answer, d_model, heads, key_dim)
        inner = heads * key_dim
        if isinstance(got, int | float | np.integer | np.floating):
            if math.isclose(float(got), 4 * d_model * inner):
                raise NotYet("you counted the kernels but not the biases: every projection, W^O included, has one")
            if math.isclose(float(got), 4 * (d_model * d_model + d_model)) and inner != d_model:
                raise NotYet("the query, key and value projections map d_model to num_heads x key_dim numbers, "
                             "which need not equal d_model")
        close(got, expected, abs_=0.5, what=f"the count for d_model={d_model}, num_heads={heads}, key_dim={key_dim}",
              hint="add up W^Q, W^K, W^V (d_model -> num_heads x key_dim, with biases) and W^O "
                   "(num_heads x key_dim -> d_model, with a bias)")


@exercise("10.2", "the matrix that shifts a sinusoidal position code by k positions")
def offset_matrix(answer, *, encoding: Callable[[int, int], np.ndarray] | None = None) -> None:
    encode = encoding or _sinusoids
    for depth in (4, 16, 64):
        pe = np.asarray(encode(300, depth), dtype=float)
        for k in (1, 7, 50):
            m = np.asarray(call(answer, k, depth), dtype=float)
            if m.shape != (depth, depth):
                raise NotYet(f"for depth={depth} return a ({depth}, {depth}) matrix, got shape {m.shape}")
            moved = pe[:-k] @ m.T  # row p: M @ PE[p]
            if np.allclose(moved, pe[k:], atol=1e-6):
                continue
            if k < len(pe) - k and np.allclose(moved[k:], pe[:-2 * k], atol=1e-6):
                raise NotYet("your matrix moves the code k positions back, not forward: check the signs of the "
                             "sine terms")
            raise NotYet(f"M @ PE[p] is not PE[p + {k}] (depth {depth}): expand sin((p + k) w) and cos((p + k) w) "
                         "with the angle-addition formulas; dimensions 2i and 2i + 1 only mix with each other")


@exercise("10.3", "the longest sequence whose attention weights fit a memory budget")
def longest_sequence(answer, **_) -> None:
    for memory, batch, heads, size in ((10**9, 32, 2, 4), (16 * 2**30, 8, 12, 2), (10**6, 1, 1, 4), (123_456_789, 5, 3, 8)):
        expected = math.isqrt(memory // (batch * heads * size))
        got = call(answer, memory, batch, heads, size)
        if isinstance(got, int | float | np.integer | np.floating):
            if math.isclose(float(got), math.isqrt(memory // (batch * size))) and heads > 1:
                raise NotYet("every head has its own T x T matrix of weights: count the heads")
            if math.isclose(float(got), memory // (batch * heads * size)):
                raise NotYet("the weights of one head form a T x T matrix: the memory grows with T squared")
        close(got, expected, abs_=0.5, what=f"the length for {memory:,} bytes, batch {batch}, {heads} head(s), "
              f"{size}-byte numbers", hint="the largest whole T with batch x heads x T^2 x bytes <= memory")
