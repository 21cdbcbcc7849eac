"""Unit tests for utils.movielens (synthetic data; no download needed)."""

import numpy as np
import pandas as pd
import pytest

from utils.movielens import (
    N_ITEMS,
    N_USERS,
    UNRATED,
    bias_baseline,
    binarize,
    item_majority,
    mean_abs_error_rated,
    rating_matrix,
    rmse,
)


def ratings(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


def test_rating_matrix_places_ratings_by_one_based_ids():
    m = rating_matrix(ratings([(1, 1, 5), (2, 3, 2), (3, 2, 4)]), n_users=3, n_items=3)
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m, [[5, 0, 0], [0, 0, 2], [0, 4, 0]])


def test_rating_matrix_default_shape_is_movielens_100k():
    m = rating_matrix(ratings([(N_USERS, N_ITEMS, 3)]))
    assert m.shape == (943, 1682) and m[-1, -1] == 3 and m.sum() == 3


@pytest.mark.parametrize("row", [(0, 1, 3), (4, 1, 3), (1, 0, 3), (1, 4, 3)])
def test_rating_matrix_rejects_ids_out_of_range(row):
    with pytest.raises(ValueError, match="ids must be in"):
        rating_matrix(ratings([row]), n_users=3, n_items=3)


def test_rating_matrix_rejects_duplicates_and_missing_columns():
    with pytest.raises(ValueError, match="more than once"):
        rating_matrix(ratings([(1, 1, 3), (1, 1, 4)]), n_users=2, n_items=2)
    with pytest.raises(ValueError, match="lacks columns"):
        rating_matrix(pd.DataFrame({"user": [1], "item": [1]}), n_users=2, n_items=2)


def test_binarize_likes_dislikes_and_unrated():
    b = binarize(np.array([[0, 1, 2, 3, 4, 5]]))
    np.testing.assert_array_equal(b, [[UNRATED, 0, 0, 1, 1, 1]])
    b4 = binarize(np.array([[3, 4]]), like_from=4)
    np.testing.assert_array_equal(b4, [[0, 1]])


def test_item_majority_ties_and_unrated_use_default():
    b = np.array([[1, 0, 0, UNRATED], [1, 1, 0, UNRATED], [0, UNRATED, 1, UNRATED]], dtype="float32")
    np.testing.assert_array_equal(item_majority(b), [1, 1, 0, 1])
    np.testing.assert_array_equal(item_majority(b, default=0.0), [1, 0, 0, 0])


def test_mean_abs_error_rated_global_and_per_user():
    target = np.array([[1, 0, UNRATED, UNRATED], [1, 1, 1, 1]], dtype="float32")
    pred = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype="float32")
    assert mean_abs_error_rated(pred, target) == pytest.approx(2 / 6)
    assert mean_abs_error_rated(pred, target, per_user=True) == pytest.approx((0.5 + 0.25) / 2)


def test_mean_abs_error_rated_skips_users_without_ratings_and_checks_input():
    target = np.array([[1, UNRATED], [UNRATED, UNRATED]], dtype="float32")
    assert mean_abs_error_rated(np.zeros((2, 2)), target, per_user=True) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        mean_abs_error_rated(np.zeros((1, 2)), target)
    with pytest.raises(ValueError, match="no rated"):
        mean_abs_error_rated(np.zeros((2, 2)), np.full((2, 2), UNRATED))


def test_rmse_global_and_per_user():
    target = np.array([[4, 0, 2], [5, 0, 0]], dtype="float32")
    pred = np.array([[3, 1, 2], [3, 3, 3]], dtype="float32")
    assert rmse(pred, target) == pytest.approx(np.sqrt((1 + 0 + 4) / 3))
    assert rmse(pred, target, per_user=True) == pytest.approx((np.sqrt(1 / 2) + 2) / 2)
    with pytest.raises(ValueError, match="shapes differ"):
        rmse(pred[:1], target)
    with pytest.raises(ValueError, match="no ratings"):
        rmse(pred, np.zeros_like(target))


def test_bias_baseline_recovers_additive_biases():
    rng = np.random.default_rng(0)
    user_b, item_b = rng.normal(0, 0.5, 30), rng.normal(0, 0.5, 20)
    full = 3.0 + user_b[:, None] + item_b[None, :]
    train = np.where(rng.random(full.shape) < 0.7, full, 0.0)
    pred = bias_baseline(train, reg=0.0, n_iter=50)
    assert rmse(pred, full) < 0.05
    assert pred.min() >= 1.0 and pred.max() <= 5.0


def test_bias_baseline_rejects_bad_arguments():
    with pytest.raises(ValueError, match="reg must be"):
        bias_baseline(np.ones((2, 2)), reg=-1)
    with pytest.raises(ValueError, match="no ratings"):
        bias_baseline(np.zeros((2, 2)))
