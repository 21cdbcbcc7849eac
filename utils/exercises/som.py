"""Checks for the exercises of 06_som_fraud (self-organising maps)."""

from __future__ import annotations

import math

import numpy as np

from . import NotYet, call, close, exercise


@exercise("06.1", "the step at which the decaying learning rate reaches a given fraction of its start")
def steps_to_fraction(answer, **_) -> None:
    for fraction, total in ((0.5, 10_000), (1 / 3, 20_000), (0.8, 1_000), (0.25, 500)):
        expected = (1 / fraction - 1) * total / 2  # eta0 / (1 + t / (T / 2)) = fraction * eta0
        got = call(answer, fraction, total)
        if isinstance(got, float | int | np.floating | np.integer) and math.isclose(float(got), 0.0) and expected:
            raise NotYet("your step is 0: solve eta0 / (1 + t / (T/2)) = fraction * eta0 for t")
        close(got, expected, rel=1e-6, abs_=1e-6,
              what=f"the step for fraction={fraction:.3g}, T={total}",
              hint="set the decay formula of the theory section equal to fraction * eta0 and solve for t")


@exercise("06.2", "a hexagonal 10 x 10 SOM trained like the rectangular one")
def hexagonal_som(answer, *, data, seed: int = 0, n_iter: int = 500) -> None:
    from minisom import MiniSom

    som = call(answer, data, seed, n_iter)
    if not isinstance(som, MiniSom):
        raise NotYet(f"return the trained MiniSom itself, not a {type(som).__name__}")
    if getattr(som, "topology", None) != "hexagonal":
        raise NotYet("the map's topology is not hexagonal: MiniSom takes topology='hexagonal'")
    weights = som.get_weights()
    if weights.shape != (10, 10, data.shape[1]):
        raise NotYet(f"the map should have 10 x 10 nodes of {data.shape[1]} weights, got shape {weights.shape}")
    start = MiniSom(10, 10, data.shape[1], random_seed=seed)
    start.random_weights_init(data)
    if not som.quantization_error(data) < 0.95 * start.quantization_error(data):
        raise NotYet("the map does not look trained: its quantization error is no lower than that of random "
                     "prototypes (initialise from the data, then train for n_iter steps)")


@exercise("06.3", "flag the share of customers farthest from their best matching unit")
def qe_flags(answer, *, som, data) -> None:
    distance = np.linalg.norm(data - som.quantization(data), axis=1)
    for share in (0.05, 0.1):
        flags = np.asarray(call(answer, som, data, share))
        if flags.shape != (len(data),):
            raise NotYet(f"return one flag per row of data: expected shape ({len(data)},), got {flags.shape}")
        if flags.dtype != bool:
            raise NotYet(f"return booleans (True = flagged), got dtype {flags.dtype}")
        expected = share * len(data)
        if not expected - 2 <= flags.sum() <= expected + 2:
            raise NotYet(f"with share={share} about {expected:.0f} customers should be flagged, you flag {flags.sum()}")
        if flags.all() or not flags.any() or distance[flags].min() < distance[~flags].max() - 1e-12:
            raise NotYet("the flagged customers are not the ones farthest from their BMU: "
                         "use the distance between each row and som.quantization(data)")
