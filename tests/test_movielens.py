"""Unit tests for utils.movielens (synthetic data; no download needed)."""

import numpy as np
import pandas as pd
import pytest

from utils.movielens import (
    N_ITEMS,
    N_USERS,
    UNRATED,
    abs_error_per_user,
    bias_baseline,
    binarize,
    holdout_ratings,
    item_majority,
    like_counts,
    mean_abs_error_rated,
    precision_at_k,
    precision_at_k_per_user,
    rating_matrix,
    rmse,
    shuffle_keeping_counts,
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


def test_holdout_ratings_splits_rated_entries_only():
    rng = np.random.default_rng(1)
    b = np.where(rng.random((50, 40)) < 0.3, (rng.random((50, 40)) < 0.8).astype("float32"), UNRATED)
    kept, held = holdout_ratings(b, share=0.25, seed=3)
    rated = b != UNRATED
    assert not ((kept != UNRATED) & (held != UNRATED)).any()  # disjoint
    np.testing.assert_array_equal(np.where(kept != UNRATED, kept, held), b)  # together they are the input
    assert 0.15 < (held != UNRATED).sum() / rated.sum() < 0.35
    kept2, held2 = holdout_ratings(b, share=0.25, seed=3)
    np.testing.assert_array_equal(held, held2)  # same seed, same split
    with pytest.raises(ValueError, match="share"):
        holdout_ratings(b, share=1.0)


def test_like_counts_counts_likes_not_ratings():
    b = np.array([[1, 0, UNRATED], [1, 1, UNRATED], [0, UNRATED, UNRATED]], dtype="float32")
    np.testing.assert_array_equal(like_counts(b), [2, 1, 0])


def test_precision_at_k_skips_seen_movies_and_users_without_likes():
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.5]])
    seen = np.array([[True, False, False, False], [False, False, False, False], [False] * 4])
    target = np.array([[UNRATED, 1, 0, UNRATED], [UNRATED, 1, UNRATED, 0], [0, UNRATED, UNRATED, UNRATED]])
    # user 1: top-2 unseen = movies 1 (liked) and 3 -> 0.5; user 2: movies 3 (disliked), 2 -> 0; user 3 has no like
    assert precision_at_k(scores, seen, target, k=2) == pytest.approx(0.25)
    assert precision_at_k(scores, seen, target, k=1) == pytest.approx(0.5)
    # one shared score row (popularity), ties broken by movie id
    assert precision_at_k(np.array([1.0, 1.0, 0.0, 0.0]), np.zeros((3, 4), bool), target, k=1) == pytest.approx(0.0)
    assert precision_at_k(np.array([1.0, 1.0, 0.0, 0.0]), np.zeros((3, 4), bool), target, k=2) == pytest.approx(0.5)


def test_precision_at_k_checks_input():
    with pytest.raises(ValueError, match="shapes differ"):
        precision_at_k(np.zeros((2, 3)), np.zeros((2, 3), bool), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(np.zeros((2, 3)), np.zeros((2, 3), bool), np.ones((2, 3)), k=4)
    with pytest.raises(ValueError, match="no likes"):
        precision_at_k(np.zeros((2, 3)), np.zeros((2, 3), bool), np.zeros((2, 3)), k=2)


def test_abs_error_per_user_leaves_out_users_without_ratings():
    target = np.array([[1, 0, UNRATED], [UNRATED, UNRATED, UNRATED], [1, 1, 1]], dtype="float32")
    pred = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1]], dtype="float32")
    np.testing.assert_allclose(abs_error_per_user(pred, target), [0.5, 1 / 3])
    assert mean_abs_error_rated(pred, target, per_user=True) == pytest.approx((0.5 + 1 / 3) / 2)
    with pytest.raises(ValueError, match="shapes differ"):
        abs_error_per_user(pred[:2], target)
    with pytest.raises(ValueError, match="no rated"):
        abs_error_per_user(pred, np.full_like(target, UNRATED))


def test_precision_at_k_per_user_averages_to_precision_at_k():
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.5]])
    seen = np.array([[True, False, False, False], [False] * 4, [False] * 4])
    target = np.array([[UNRATED, 1, 0, UNRATED], [UNRATED, 1, UNRATED, 0], [0, UNRATED, UNRATED, UNRATED]])
    per_user = precision_at_k_per_user(scores, seen, target, k=2)
    np.testing.assert_allclose(per_user, [0.5, 0.0])  # the third user has no like and is left out
    assert precision_at_k(scores, seen, target, k=2) == pytest.approx(per_user.mean())


def test_shuffle_keeping_counts_keeps_row_and_column_sums_and_scrambles_pairs():
    rng = np.random.default_rng(0)
    # two blocks of users who like two disjoint blocks of movies: strong co-occurrence
    likes = np.zeros((40, 30), dtype="float32")
    likes[:20, :15] = rng.random((20, 15)) < 0.6
    likes[20:, 15:] = rng.random((20, 15)) < 0.6
    twin = shuffle_keeping_counts(likes, seed=1)
    assert twin.dtype == likes.dtype and set(np.unique(twin)) <= {0.0, 1.0}
    np.testing.assert_array_equal(twin.sum(axis=1), likes.sum(axis=1))
    np.testing.assert_array_equal(twin.sum(axis=0), likes.sum(axis=0))
    # the blocks are mixed: users of the first block now like movies of the second
    assert twin[:20, 15:].sum() > 0.3 * likes[:20, :15].sum()
    np.testing.assert_array_equal(twin, shuffle_keeping_counts(likes, seed=1))  # reproducible
    np.testing.assert_array_equal(shuffle_keeping_counts(likes, n_trades=0), likes)


def test_shuffle_keeping_counts_checks_input():
    with pytest.raises(ValueError, match="0/1"):
        shuffle_keeping_counts(np.array([[0, 2], [1, 0]]))
    with pytest.raises(ValueError, match="0/1"):
        shuffle_keeping_counts(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="two users"):
        shuffle_keeping_counts(np.array([[0, 1]]))
    with pytest.raises(ValueError, match="n_trades"):
        shuffle_keeping_counts(np.eye(3), n_trades=-1)
