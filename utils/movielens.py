"""MovieLens 100K helpers shared by the RBM and autoencoder notebooks.

The loaders in :mod:`utils.data.loaders` return ratings as long tables
(``user, item, rating, timestamp``). The recommenders need a dense
users × movies matrix instead, plus the metrics of the classic course.
User and item ids are 1-based in the files; row ``u - 1`` and column
``i - 1`` of a matrix hold user ``u`` and movie ``i``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_USERS = 943
N_ITEMS = 1682
UNRATED = -1.0  # marks an unrated movie in a binarised like/dislike matrix


def rating_matrix(ratings: pd.DataFrame, n_users: int = N_USERS, n_items: int = N_ITEMS,
                  dtype: str = "float32") -> np.ndarray:
    """Users × movies matrix of ratings (1-5), with 0 where a user did not rate a movie.

    ``ratings`` needs columns ``user``, ``item`` and ``rating`` with 1-based ids.
    Raises ``ValueError`` for ids out of range or a user rating a movie twice.
    """
    missing = {"user", "item", "rating"} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings lacks columns {sorted(missing)}")
    users = ratings["user"].to_numpy(dtype="int64")
    items = ratings["item"].to_numpy(dtype="int64")
    if len(users) and (users.min() < 1 or users.max() > n_users):
        raise ValueError(f"user ids must be in 1..{n_users}")
    if len(items) and (items.min() < 1 or items.max() > n_items):
        raise ValueError(f"item ids must be in 1..{n_items}")
    if ratings.duplicated(["user", "item"]).any():
        raise ValueError("a user rates the same movie more than once")
    matrix = np.zeros((n_users, n_items), dtype=dtype)
    matrix[users - 1, items - 1] = ratings["rating"].to_numpy()
    return matrix


def binarize(matrix: np.ndarray, like_from: float = 3.0) -> np.ndarray:
    """Like (1) / dislike (0) matrix from ratings; unrated (0) becomes :data:`UNRATED` (-1).

    Ratings ``>= like_from`` (3, 4, 5 by default) are likes, lower ratings (1, 2) dislikes.
    """
    matrix = np.asarray(matrix)
    out = np.full(matrix.shape, UNRATED, dtype="float32")
    rated = matrix > 0
    out[rated] = (matrix[rated] >= like_from).astype("float32")
    return out


def item_majority(binary: np.ndarray, default: float = 1.0) -> np.ndarray:
    """Each movie's majority like/dislike in a binarised matrix (ties and unrated movies get ``default``)."""
    binary = np.asarray(binary)
    rated = binary != UNRATED
    likes = np.where(rated, binary, 0).sum(axis=0)
    counts = rated.sum(axis=0)
    majority = np.full(binary.shape[1], default, dtype="float32")
    decided = (counts > 0) & (2 * likes != counts)
    majority[decided] = (2 * likes[decided] > counts[decided]).astype("float32")
    return majority


def _rated_abs_errors(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|pred - target| on the rated entries of a binarised ``target`` (0 elsewhere), and the mask of rated entries.

    Raises ``ValueError`` when the shapes differ or ``target`` has no rated entry.
    """
    pred, target = np.asarray(pred, dtype="float64"), np.asarray(target, dtype="float64")
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {target.shape}")
    rated = target != UNRATED
    if not rated.any():
        raise ValueError("target has no rated entries")
    return np.where(rated, np.abs(pred - target), 0.0), rated


def abs_error_per_user(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each user's mean |pred - target| over their rated entries of a binarised ``target``.

    Users without a rated entry (a row of -1) are left out, so the result has one value per user
    who has ratings: paired per-user scores for comparing two predictions on the same users.
    """
    err, rated = _rated_abs_errors(pred, target)
    counts = rated.sum(axis=1)
    users = counts > 0
    return err.sum(axis=1)[users] / counts[users]


def mean_abs_error_rated(pred: np.ndarray, target: np.ndarray, *, per_user: bool = False) -> float:
    """Mean |pred - target| over the rated entries of a binarised ``target`` (entries equal to -1 are skipped).

    With ``per_user`` the mean is taken per user and then averaged over users with at least one
    rated entry, which is how the classic course's RBM test loss is defined.
    """
    if per_user:
        return float(abs_error_per_user(pred, target).mean())
    err, rated = _rated_abs_errors(pred, target)
    return float(err.sum() / rated.sum())


def rmse(pred: np.ndarray, target: np.ndarray, *, per_user: bool = False) -> float:
    """Root mean squared error over the rated entries (``target > 0``) of a ratings matrix.

    With ``per_user`` each user's RMSE is computed over their rated entries and averaged over
    users with at least one rating: the classic course's autoencoder test metric. Otherwise it
    is the standard global RMSE over all ratings.
    """
    pred, target = np.asarray(pred, dtype="float64"), np.asarray(target, dtype="float64")
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {target.shape}")
    rated = target > 0
    if not rated.any():
        raise ValueError("target has no ratings")
    sq = np.where(rated, (pred - target) ** 2, 0.0)
    if not per_user:
        return float(np.sqrt(sq.sum() / rated.sum()))
    counts = rated.sum(axis=1)
    users = counts > 0
    return float(np.sqrt(sq.sum(axis=1)[users] / counts[users]).mean())


def bias_baseline(train: np.ndarray, reg: float = 10.0, n_iter: int = 10) -> np.ndarray:
    """Predicted ratings ``mu + b_user + b_item`` fitted on a ratings matrix (0 = unrated).

    Biases are fitted by alternating regularised least squares (``reg`` shrinks users and
    movies with few ratings towards the global mean ``mu``); predictions are clipped to [1, 5].
    """
    train = np.asarray(train, dtype="float64")
    if reg < 0 or n_iter < 1:
        raise ValueError("reg must be >= 0 and n_iter >= 1")
    rated = train > 0
    if not rated.any():
        raise ValueError("train has no ratings")
    mu = train[rated].mean()
    b_user = np.zeros(train.shape[0])
    b_item = np.zeros(train.shape[1])
    for _ in range(n_iter):
        resid = np.where(rated, train - mu - b_user[:, None], 0.0)
        b_item = resid.sum(axis=0) / (rated.sum(axis=0) + reg)
        resid = np.where(rated, train - mu - b_item[None, :], 0.0)
        b_user = resid.sum(axis=1) / (rated.sum(axis=1) + reg)
    return np.clip(mu + b_user[:, None] + b_item[None, :], 1.0, 5.0)


def holdout_ratings(binary: np.ndarray, share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the rated entries of a binarised matrix into ``(kept, held_out)``, both binarised matrices.

    Each rated entry goes to ``held_out`` with probability ``share`` (drawn with ``seed``) and
    becomes :data:`UNRATED` in ``kept``; unrated entries stay unrated in both. Use it to carve a
    validation set out of the training ratings, so that epochs and hyper-parameters are never
    chosen on the test ratings.
    """
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share}")
    binary = np.asarray(binary, dtype="float32")
    rated = binary != UNRATED
    held = rated & (np.random.default_rng(seed).random(binary.shape) < share)
    return np.where(held, UNRATED, binary), np.where(held, binary, UNRATED)


def like_counts(binary: np.ndarray) -> np.ndarray:
    """Number of likes per movie in a binarised matrix: the popularity baseline's score."""
    return (np.asarray(binary) == 1).sum(axis=0).astype("float64")


def precision_at_k_per_user(scores: np.ndarray, seen: np.ndarray, target: np.ndarray, k: int = 10) -> np.ndarray:
    """Precision@k of each user with at least one like in ``target`` (see :func:`precision_at_k`)."""
    seen = np.asarray(seen, dtype=bool)
    target = np.asarray(target)
    scores = np.broadcast_to(np.asarray(scores, dtype="float64"), seen.shape)
    if target.shape != seen.shape:
        raise ValueError(f"shapes differ: {target.shape} vs {seen.shape}")
    if not 0 < k <= seen.shape[1]:
        raise ValueError(f"k must be in 1..{seen.shape[1]}, got {k}")
    liked = target == 1
    users = liked.any(axis=1)
    if not users.any():
        raise ValueError("target has no likes")
    ranked = np.where(seen, -np.inf, scores)[users]
    # The k best without a full sort: everything above the k-th best score, then ties at it by movie id.
    kth = -np.partition(-ranked, k - 1, axis=1)[:, k - 1:k]
    above = ranked > kth
    tied = ranked == kth
    room = k - above.sum(axis=1, keepdims=True)
    top = (above | (tied & (np.cumsum(tied, axis=1) <= room))) & ~seen[users]
    hits = (top & liked[users]).sum(axis=1)
    return hits / k


def precision_at_k(scores: np.ndarray, seen: np.ndarray, target: np.ndarray, k: int = 10) -> float:
    """Mean precision@k of per-user movie rankings against the likes of a binarised ``target``.

    ``scores`` is users × movies (or one row of movie scores shared by every user, e.g.
    :func:`like_counts`); ``seen`` is a boolean users × movies matrix of the movies each user
    rated in the input, which are never recommended. For each user with at least one like in
    ``target`` the ``k`` best-scored unseen movies are taken (ties broken by movie id) and the share
    of them the user liked in ``target`` is the user's precision; the mean over those users is returned.
    """
    return float(precision_at_k_per_user(scores, seen, target, k).mean())


def shuffle_keeping_counts(likes: np.ndarray, n_trades: int | None = None, seed: int = 0) -> np.ndarray:
    """A random 0/1 matrix with the same number of likes in every row (user) and every column (movie).

    Only *who likes what together* is scrambled: the "curveball" algorithm (Strona et al., 2014)
    repeatedly takes two random users and redistributes the movies exactly one of them likes, at
    random, keeping each user's count. ``n_trades`` defaults to 20 trades per user. A model that
    scores each movie on its own (visible biases only) cannot tell the result from the real data on
    average; a model that learned co-occurrence can.
    """
    likes = np.asarray(likes)
    if likes.ndim != 2 or not np.isin(likes, (0, 1)).all():
        raise ValueError("likes must be a 2-D matrix of 0/1 (e.g. (binary == 1) of a binarised matrix)")
    n_users = likes.shape[0]
    if n_users < 2:
        raise ValueError("need at least two users to trade likes between")
    n_trades = 20 * n_users if n_trades is None else n_trades
    if n_trades < 0:
        raise ValueError(f"n_trades must be >= 0, got {n_trades}")
    rng = np.random.default_rng(seed)
    rows = [set(np.flatnonzero(row).tolist()) for row in likes]
    for _ in range(n_trades):
        i, j = rng.choice(n_users, 2, replace=False)
        only_i = len(rows[i] - rows[j])
        pool = sorted(rows[i] ^ rows[j])  # sorted: the result depends on the seed alone
        rng.shuffle(pool)
        shared = rows[i] & rows[j]
        rows[i], rows[j] = shared | set(pool[:only_i]), shared | set(pool[only_i:])
    out = np.zeros_like(likes)
    for user, movies in enumerate(rows):
        out[user, sorted(movies)] = 1
    return out
