"""Scores and samplers for generative models of small images.

Generated images are judged by a classifier trained on real ones (the *judge*):
:func:`inception_score` reads its class probabilities, :func:`frechet_distance` the
activations of one of its hidden layers. Both are only comparable between models
judged by the same classifier, never with published Inception scores or FIDs.
:func:`fitted_gaussian_samples` draws codes from a Gaussian fitted to a set of codes,
the simplest way to make a decoder generate.
"""

from __future__ import annotations

import numpy as np


def _matrix(a: np.ndarray, name: str, min_rows: int = 1) -> np.ndarray:
    a = np.asarray(a, dtype="float64")
    if a.ndim != 2 or len(a) < min_rows:
        raise ValueError(f"{name} must be a 2-D array (examples, values) with at least {min_rows} rows; "
                         f"got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return a


def inception_score(probs: np.ndarray) -> float:
    """exp(mean over images of KL(p(y|x) || p(y))) for class probabilities of shape (images, classes).

    1 when every image gets the same prediction; at most the number of classes, reached when
    each image is classified with certainty and the classes are used equally (Salimans et al., 2016).
    """
    p = _matrix(probs, "probs")
    if p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probs must hold one probability distribution per row (non-negative, summing to 1): "
                         "pass the judge's softmax outputs, not its logits")
    p_y = p.mean(axis=0)
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(p_y + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def _sqrtm_psd(c: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(c)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features: np.ndarray, reference: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features (rows are examples).

    ||m_f - m_r||^2 + Tr(C_f + C_r - 2 (C_f C_r)^(1/2)), the formula of the FID (Heusel et al.,
    2017). Tr((C_f C_r)^(1/2)) is the sum of the square roots of the eigenvalues of
    C_r^(1/2) C_f C_r^(1/2), which is symmetric, so no general matrix square root is needed.
    """
    f, r = _matrix(features, "features", 2), _matrix(reference, "reference", 2)
    if f.shape[1] != r.shape[1]:
        raise ValueError(f"features have {f.shape[1]} columns, the reference {r.shape[1]}: use the same layer for both")
    c_f, c_r = np.cov(f, rowvar=False), np.cov(r, rowvar=False)
    root_r = _sqrtm_psd(c_r)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_r @ c_f @ root_r), 0, None)).sum()
    return float(np.sum((f.mean(axis=0) - r.mean(axis=0)) ** 2) + np.trace(c_f) + np.trace(c_r) - 2 * cross)


def fitted_gaussian_samples(codes: np.ndarray, n: int, seed: int, temperature: float = 1.0,
                            diagonal: bool = False) -> np.ndarray:
    """``n`` codes drawn from N(mean, temperature^2 * covariance) of the given codes (float32).

    ``temperature`` < 1 draws closer to the mean (crisper, less varied samples), as in
    temperature sampling from a prior N(0, temperature^2 I). ``diagonal=True`` keeps each
    unit's variance and drops the correlations between units.
    """
    c = _matrix(codes, "codes", 2)
    if n < 1 or temperature <= 0:
        raise ValueError(f"n must be positive and temperature above 0; got n={n}, temperature={temperature}")
    rng = np.random.default_rng(seed)
    cov = np.atleast_2d(np.cov(c, rowvar=False)) * temperature ** 2
    if diagonal:
        cov = np.diag(np.diag(cov))
    return rng.multivariate_normal(c.mean(axis=0), cov, size=n).astype("float32")
