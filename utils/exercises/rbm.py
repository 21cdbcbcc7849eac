"""Checks for the exercises of 07_rbm_recommender (restricted Boltzmann machines on MovieLens)."""

from __future__ import annotations

import numpy as np

from . import NotYet, call, converted, exercise

MARGINS = np.round(np.arange(-0.3, 0.301, 0.05), 2)  # the grid of exercise 2


def _as_numpy(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _margin_loss(p: np.ndarray, target: np.ndarray, margin: float) -> float:
    from utils.movielens import mean_abs_error_rated

    return mean_abs_error_rated((p > 0.5 + margin).astype("float32"), target, per_user=True)


@exercise("07.2", "the margin with the lowest validation loss on the grid from -0.3 to +0.3")
def choose_margin(answer, *, p: np.ndarray, target: np.ndarray) -> None:
    margin = converted(call(answer, p, target), float, "return the margin as one number")
    if not np.isclose(MARGINS, margin, atol=1e-9).any():
        raise NotYet("the margin should be one of -0.3, -0.25, ..., +0.3 (steps of 0.05)")
    losses = [_margin_loss(p, target, m) for m in MARGINS]
    if _margin_loss(p, target, margin) > min(losses) + 1e-12:
        raise NotYet("another margin on the grid has a lower loss on the ratings you were given: try every "
                     "margin, negative and positive, and keep the one with the lowest loss")


@exercise("07.3", "the free energy F(v) of visible vectors in NumPy, checked against the Keras RBM")
def free_energy_np(answer, *, rbm, v: np.ndarray) -> None:
    W, a, b = (_as_numpy(x) for x in (rbm.W, rbm.a, rbm.b))
    v = np.asarray(v, dtype="float64")
    expected = _as_numpy(rbm.free_energy(v.astype("float32")))
    got = np.asarray(call(answer, v, W, a, b), dtype="float64")
    if got.shape != (len(v),):
        raise NotYet(f"return one free energy per visible vector: expected shape ({len(v)},), got {got.shape}")
    if not np.all(np.isfinite(got)):
        raise NotYet("some free energies are not finite: softplus(x) = log(1 + e^x) can be computed with "
                     "np.logaddexp(0, x) without overflow")
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-3):
        raise NotYet("the values differ from the RBM's free energy: F(v) has a visible-bias term and a sum over "
                     "hidden units of softplus(b_j + v.W_j)")


def _recall(scores: np.ndarray, seen: np.ndarray, target: np.ndarray, k: int) -> float:
    scores = np.where(seen, -np.inf, np.broadcast_to(scores, seen.shape))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    liked = target == 1
    users = liked.any(axis=1)
    hits = np.take_along_axis(liked, top, axis=1).sum(axis=1)
    return float((hits[users] / liked.sum(axis=1)[users]).mean())


@exercise("07.4", "recall@k: the share of each user's held-out likes found in the top k, averaged over users")
def recall_at_k(answer, *, scores: np.ndarray, seen: np.ndarray, target: np.ndarray) -> None:
    for k in (10, 3):
        value = converted(call(answer, scores, seen, target, k=k), float, "return the mean recall as one number")
        expected = _recall(scores, seen, target, k)
        if abs(value - expected) > 1e-6:
            raise NotYet(f"recall@{k} is not right yet: rank only the movies the user did not rate in the input, "
                         "divide each user's hits by that user's number of held-out likes, and average over the "
                         "users who have at least one")
