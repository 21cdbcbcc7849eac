"""Unit tests for utils.generative (synthetic data)."""

import numpy as np
import pytest

from utils.generative import fitted_gaussian_samples, frechet_distance, inception_score


def test_inception_score_bounds():
    assert inception_score(np.eye(10)) == pytest.approx(10.0, rel=1e-6)  # certain and evenly spread
    assert inception_score(np.tile(np.eye(10)[3], (50, 1))) == pytest.approx(1.0)  # collapsed
    assert inception_score(np.full((20, 10), 0.1)) == pytest.approx(1.0)  # no confidence


def test_inception_score_equals_the_entropy_form():
    p = np.random.default_rng(0).dirichlet(np.ones(5) * 0.3, size=400)
    p_y = p.mean(axis=0)
    entropy_form = np.exp(-np.sum(p_y * np.log(p_y)) + np.mean(np.sum(p * np.log(p + 1e-300), axis=1)))
    assert inception_score(p) == pytest.approx(entropy_form, rel=1e-6)


def test_inception_score_refuses_logits():
    with pytest.raises(ValueError, match="not its logits"):
        inception_score(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(ValueError, match="2-D array"):
        inception_score(np.ones(3) / 3)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(size=(20000, 3)) * [2.0, 1.0, 0.5] + [1.0, 0.0, 0.0]
    c_a, c_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # For commuting covariances Tr((C_a C_b)^(1/2)) = sum of sqrt of products of the eigenvalues
    exact = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(c_a) + np.trace(c_b)
             - 2 * np.sum(np.sqrt(np.diag(c_a) * np.diag(c_b))))
    assert frechet_distance(a, b) == pytest.approx(exact, abs=0.02)
    assert frechet_distance(a, b) == pytest.approx(1.0 + 1.0 + 1.0, abs=0.1)  # (1)^2 + (1-2)^2 + (2-1)^2
    assert abs(frechet_distance(a, a)) < 1e-6


def test_frechet_distance_refuses_mismatched_features():
    with pytest.raises(ValueError, match="same layer"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((3, 2), np.nan), np.zeros((5, 2)))


def test_fitted_gaussian_samples_follow_mean_covariance_and_temperature():
    rng = np.random.default_rng(0)
    codes = rng.multivariate_normal([1.0, -2.0], [[2.0, 0.8], [0.8, 1.0]], size=5000)
    z = fitted_gaussian_samples(codes, 20000, seed=1)
    assert z.shape == (20000, 2) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), codes.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.cov(codes, rowvar=False), atol=0.08)
    cold = fitted_gaussian_samples(codes, 20000, seed=1, temperature=0.5)
    np.testing.assert_allclose(np.cov(cold, rowvar=False), 0.25 * np.cov(codes, rowvar=False), atol=0.03)
    np.testing.assert_array_equal(fitted_gaussian_samples(codes, 10, seed=3), fitted_gaussian_samples(codes, 10, seed=3))


def test_fitted_gaussian_samples_refuses_bad_arguments():
    with pytest.raises(ValueError, match="temperature above 0"):
        fitted_gaussian_samples(np.zeros((5, 2)), 10, seed=0, temperature=0)
    with pytest.raises(ValueError, match="at least 2 rows"):
        fitted_gaussian_samples(np.zeros((1, 2)), 10, seed=0)


def test_fitted_gaussian_samples_diagonal_drops_the_correlations():
    rng = np.random.default_rng(0)
    codes = rng.multivariate_normal([0.0, 3.0], [[1.0, 0.9], [0.9, 1.0]], size=5000)
    z = fitted_gaussian_samples(codes, 20000, seed=2, diagonal=True)
    c = np.cov(z, rowvar=False)
    assert abs(c[0, 1]) < 0.03 and np.allclose(np.diag(c), np.diag(np.cov(codes, rowvar=False)), atol=0.05)
    np.testing.assert_allclose(z.mean(axis=0), [0.0, 3.0], atol=0.05)
