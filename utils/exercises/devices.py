"""Checks for the exercises of 12_multi_device (scaling rules, gradients of shards, mesh layouts, all-reduce cost)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from . import NotYet, call, close, converted, exercise


@exercise("12.1", "the learning rate for a global batch k times larger: linear for SGD, square root for Adam")
def scaled_learning_rate(answer, **_) -> None:
    for eta, k in ((0.1, 8), (0.01, 4), (3e-4, 16), (0.05, 1)):
        for optimizer, expected in (("sgd", k * eta), ("adam", math.sqrt(k) * eta)):
            got = call(answer, eta, k, optimizer)
            close(got, expected, rel=1e-9, what=f"the rate for {optimizer!r} with eta={eta:g} and k={k}",
                  hint=("SGD's step is proportional to the gradient: re-read the linear scaling rule"
                        if optimizer == "sgd" else
                        "Adam's step hardly depends on the gradient's size: re-read the paragraph 'With Adam the "
                        "rule changes'"))


@exercise("12.2", "combine the gradients of unequal shards into the gradient of the whole batch")
def combine_gradients(answer, *, gradient: Callable, X: np.ndarray, Y: np.ndarray, W: np.ndarray) -> None:
    full = gradient(W, X, Y)
    n = len(Y)
    for cuts in ([n // 2, 3 * n // 4, 7 * n // 8], [n // 4, n // 2, 3 * n // 4], [5, n - 3]):
        shards = np.split(np.arange(n), cuts)
        sizes = [len(s) for s in shards]
        got = call(answer, [gradient(W, X[s], Y[s]) for s in shards], sizes)
        got = converted(got, lambda g: np.asarray(g, dtype="float64"), "return one array, the combined gradient")
        if got.shape != full.shape:
            raise NotYet(f"the combined gradient should have the shape of one shard's gradient, {full.shape}; "
                         f"got {got.shape}")
        if not np.allclose(got, full, rtol=1e-9, atol=1e-12):
            raise NotYet(f"with shards of {sizes} examples the result is not the gradient of the whole batch: each "
                         "shard's gradient is a mean over its own examples, so weigh it by how many it has")


def _reference_shape(shape: Sequence[int], spec: Sequence[str | None], mesh: dict[str, int]) -> tuple[int, ...]:
    return tuple(int(d) // (mesh[a] if a else 1) for d, a in zip(shape, spec))


@exercise("12.3", "the shape of the piece of an array each device holds under a mesh and a layout")
def per_device_shape(answer, *, measured: Sequence[tuple] = ()) -> None:
    cases = [
        ((784, 512), (None, "model"), {"batch": 2, "model": 2}),
        ((784, 512), (None, "model"), {"batch": 1, "model": 4}),
        ((512,), ("model",), {"batch": 2, "model": 2}),
        ((512, 10), (None, None), {"batch": 2, "model": 2}),
        ((64, 28, 28, 1), ("batch", None, None, None), {"batch": 4, "model": 1}),
        ((256, 1024), ("model", "batch"), {"batch": 2, "model": 4}),
    ]
    for shape, spec, mesh in cases:
        expected = _reference_shape(shape, spec, mesh)
        _compare(call(answer, shape, spec, dict(mesh)), expected, shape, spec, mesh)
    for shape, spec, mesh, shard in measured:  # what the notebook measured on the devices (JAX)
        _compare(call(answer, tuple(shape), tuple(spec), dict(mesh)), tuple(shard), shape, spec, mesh)


def _compare(got, expected: tuple[int, ...], shape, spec, mesh) -> None:
    got = converted(got, lambda g: tuple(int(d) for d in g), "return a tuple of ints")
    if got != expected:
        raise NotYet(f"for an array of shape {tuple(shape)} with layout {tuple(spec)} on a mesh {mesh} your shape "
                     f"{got} is not the piece one device holds: an axis named in the layout is cut into as many "
                     "pieces as that mesh axis has devices; an axis marked None stays whole")


@exercise("12.4", "the bytes each device sends per step in a ring all-reduce of the gradients")
def ring_allreduce_bytes(answer, *, params: int) -> None:
    for n_params, n_devices, width in ((int(params), 4, 4), (int(params), 8, 2), (25_000_000, 8, 4),
                                       (1_000, 2, 4), (1_000, 1, 4)):
        expected = 2 * (n_devices - 1) / n_devices * n_params * width
        got = call(answer, n_params, n_devices, width)
        close(got, expected, rel=1e-9, abs_=1e-9,
              what=f"the bytes for {n_params:,} parameters on {n_devices} device(s) at {width} bytes each",
              hint="a ring all-reduce is a reduce-scatter and an all-gather, each passing N - 1 of the N pieces "
                   "of the gradient; one device alone sends nothing")
