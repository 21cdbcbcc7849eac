"""Unit tests for utils.pca (synthetic data)."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from utils.pca import NestedPCA


@pytest.fixture
def low_rank():
    """200 'images' of 4x5 values that lie on a 3-dimensional affine subspace, plus tiny noise."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 20))
    x = rng.normal(size=(200, 3)) * [3.0, 2.0, 1.0] @ basis + 5.0 + 1e-4 * rng.normal(size=(200, 20))
    return x.reshape(200, 4, 5)


def test_reconstruction_keeps_the_shape_and_is_exact_at_the_true_rank(low_rank):
    pca = NestedPCA(low_rank, 5)
    recon = pca.reconstruct(low_rank, 3)
    assert recon.shape == low_rank.shape
    assert pca.mse(low_rank, 3) < 1e-7
    assert pca.variance_kept(3) > 0.999999


def test_error_falls_with_k_and_k0_is_the_mean_image(low_rank):
    pca = NestedPCA(low_rank, 5)
    errors = [pca.mse(low_rank, k) for k in range(4)]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    flat = low_rank.reshape(200, -1)
    assert np.isclose(errors[0], np.mean((flat - flat.mean(axis=0)) ** 2))


def test_first_k_components_equal_a_pca_fitted_with_k(low_rank):
    flat = low_rank.reshape(200, -1)
    nested = NestedPCA(low_rank, 5)
    for k in (1, 2):
        alone = PCA(k).fit(flat)
        np.testing.assert_allclose(nested.reconstruct(low_rank, k).reshape(200, -1),
                                   alone.inverse_transform(alone.transform(flat)), atol=1e-8)


def test_integer_input_gives_float_output():
    x = np.random.default_rng(1).integers(0, 255, size=(30, 6))
    assert NestedPCA(x, 2).reconstruct(x, 2).dtype == np.float64


def test_bad_input_is_refused_with_a_clear_message(low_rank):
    with pytest.raises(ValueError, match="max_components must be in 1..20"):
        NestedPCA(low_rank, 21)
    with pytest.raises(ValueError, match="non-empty batch"):
        NestedPCA(np.zeros(5), 2)
    pca = NestedPCA(low_rank, 2)
    with pytest.raises(ValueError, match="Fit NestedPCA with a larger max_components"):
        pca.mse(low_rank, 3)
    with pytest.raises(ValueError, match="fitted on 20"):
        pca.reconstruct(np.zeros((2, 7)), 1)


def test_mse_curve_equals_mse_at_every_k_and_finds_the_matching_size(low_rank):
    pca = NestedPCA(low_rank, 5)
    other = low_rank[::-1] + 0.01  # data the PCA was not fitted on
    curve = pca.mse_curve(other)
    assert curve.shape == (6,)
    np.testing.assert_allclose(curve, [pca.mse(other, k) for k in range(6)], rtol=1e-6, atol=1e-12)
    assert pca.components_to_match(other, curve[2]) == 2
    assert pca.components_to_match(other, (curve[1] + curve[2]) / 2) == 2
    assert pca.components_to_match(other, -1.0) is None
