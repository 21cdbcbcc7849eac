"""PCA as the linear baseline of an autoencoder, at any code size.

A linear autoencoder trained with squared error can do no better than projecting onto
the top-k principal components (Baldi & Hornik, 1989), so PCA with as many components
as a network's code is the baseline that network must beat. :class:`NestedPCA` fits
the components once and reconstructs with any first k of them: the top-k subspace is
the same whether k or more components were fitted.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


def _flat(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty batch of shape (n, ...); got shape {x.shape}")
    return x.reshape(len(x), -1)


class NestedPCA:
    """PCA fitted once with ``max_components``; reconstructs with its first k components for any k.

    ``x`` is a batch of examples of any shape (images are flattened). The exact
    covariance eigendecomposition is used, so the components do not depend on a seed.
    """

    def __init__(self, x: np.ndarray, max_components: int):
        flat = _flat(x, "x")
        if not 1 <= max_components <= min(flat.shape):
            raise ValueError(f"max_components must be in 1..{min(flat.shape)} for data of shape {flat.shape}; "
                             f"got {max_components}")
        self.shape = np.asarray(x).shape[1:]
        self.pca = PCA(max_components, svd_solver="covariance_eigh").fit(flat)
        self.max_components = max_components

    def _check_k(self, k: int) -> int:
        if not 0 <= k <= self.max_components:
            raise ValueError(f"k must be in 0..{self.max_components} (the components fitted); got {k}. "
                             "Fit NestedPCA with a larger max_components.")
        return int(k)

    def reconstruct(self, x: np.ndarray, k: int) -> np.ndarray:
        """Project ``x`` onto the first ``k`` components and back; the result has the shape of ``x``."""
        k = self._check_k(k)
        flat = _flat(x, "x")
        if flat.shape[1] != self.pca.mean_.shape[0]:
            raise ValueError(f"x has {flat.shape[1]} values per example; the PCA was fitted on {self.pca.mean_.shape[0]}")
        V = self.pca.components_[:k]
        centred = flat - self.pca.mean_
        dtype = np.asarray(x).dtype if np.issubdtype(np.asarray(x).dtype, np.floating) else np.float64
        return (centred @ V.T @ V + self.pca.mean_).reshape(np.asarray(x).shape).astype(dtype)

    def mse(self, x: np.ndarray, k: int) -> float:
        """Mean squared reconstruction error of ``x`` with ``k`` components (over examples and values)."""
        return float(np.mean((self.reconstruct(x, k) - np.asarray(x)) ** 2))

    def mse_curve(self, x: np.ndarray) -> np.ndarray:
        """``mse(x, k)`` for every k from 0 to ``max_components`` at the cost of one projection.

        The components are orthonormal, so the error with k components is the squared norm of
        the centred data minus the squared lengths of its first k coordinates.
        """
        flat = _flat(x, "x").astype("float64")
        if flat.shape[1] != self.pca.mean_.shape[0]:
            raise ValueError(f"x has {flat.shape[1]} values per example; the PCA was fitted on {self.pca.mean_.shape[0]}")
        centred = flat - self.pca.mean_
        captured = np.concatenate([[0.0], np.cumsum(np.sum((centred @ self.pca.components_.T) ** 2, axis=0))])
        return (np.sum(centred ** 2) - captured) / flat.size

    def components_to_match(self, x: np.ndarray, mse: float) -> int | None:
        """The fewest components whose error on ``x`` is at most ``mse`` (``None`` if all fitted ones miss)."""
        reached = np.flatnonzero(self.mse_curve(x) <= mse)
        return int(reached[0]) if len(reached) else None

    def variance_kept(self, k: int) -> float:
        """Share of the training data's variance that the first ``k`` components hold."""
        return float(self.pca.explained_variance_ratio_[:self._check_k(k)].sum())
