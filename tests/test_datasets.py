"""utils.data.loaders on the real data (skipped unless mirrored or cached)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from utils.data import cache_root, registry
from utils.data import loaders as datasets


def _cached(name: str) -> bool:
    root = cache_root() / name
    return all((root / rel).is_file() for rel in registry.get(name).files)


def need(name: str) -> None:
    """Skip unless the dataset can be had offline: mirror set, or already cached."""
    if os.environ.get("COURSE_DATA_MIRROR") or _cached(name):
        return
    pytest.skip(f"dataset {name!r} is not cached and COURSE_DATA_MIRROR is not set")


def test_churn():
    need("churn")
    df = datasets.load_churn()
    assert df.shape == (10000, 14)
    assert int(df["Exited"].sum()) == 2037
    assert set(df["Exited"].unique()) == {0, 1}
    assert {"CreditScore", "Geography", "Gender", "Age", "Balance"} <= set(df.columns)


def test_credit_applications():
    need("credit_card_applications")
    df = datasets.load_credit_applications()
    assert len(df) == 690
    assert list(df.columns) == ["CustomerID", *[f"A{i}" for i in range(1, 15)], "Class"]
    assert int((df["Class"] == 1).sum()) == 307
    assert df["CustomerID"].is_unique


def test_google_stock():
    need("google_stock")
    train, test = datasets.load_google_stock()
    assert len(train) == 1258 and len(test) == 20
    for df in (train, test):
        assert list(df.columns) == ["Open", "High", "Low", "Close", "Volume"]
        assert df.index.name == "Date"
        assert isinstance(df.index, pd.DatetimeIndex)
        assert all(pd.api.types.is_numeric_dtype(df[c]) for c in df.columns)
        assert (df["Volume"] > 0).all()
    assert train.index.min().year == 2012 and train.index.max().year == 2016
    assert (test.index.year == 2017).all() and (test.index.month == 1).all()
    assert train.index.is_monotonic_increasing


def test_airline_passengers():
    need("airline_passengers")
    s = datasets.load_airline_passengers()
    assert len(s) == 144
    assert s.sum() == 40363
    assert s.dtype == np.float64
    assert s.index.name == "Month"
    assert s.index[0] == pd.Timestamp("1949-01-01") and s.index[-1] == pd.Timestamp("1960-12-01")
    assert s.iloc[0] == 112


def test_sms_spam():
    need("sms_spam")
    df = datasets.load_sms_spam()
    assert list(df.columns) == ["label", "message"]
    assert len(df) == 5574
    assert int((df["label"] == "spam").sum()) == 747
    assert set(df["label"]) == {"ham", "spam"}
    assert df["message"].notna().all()


def test_movielens_split():
    need("movielens_100k")
    train, test = datasets.load_movielens("u1")
    assert len(train) == 80000 and len(test) == 20000
    assert list(train.columns) == ["user", "item", "rating", "timestamp"]
    both = pd.concat([train, test])
    assert both["user"].nunique() == 943 and both["user"].min() == 1 and both["user"].max() == 943
    assert both["item"].nunique() == 1682 and both["item"].min() == 1 and both["item"].max() == 1682
    assert set(both["rating"].unique()) == {1, 2, 3, 4, 5}
    merged = train.merge(test, on=["user", "item"])
    assert merged.empty  # a split never puts the same rating in train and test
    ua_train, ua_test = datasets.load_movielens("ua")
    assert len(ua_train) + len(ua_test) == 100000
    assert (ua_test.groupby("user").size() == 10).all()


@pytest.mark.parametrize("split", ["u6", "u0", "train", ""])
def test_movielens_bad_split(split):
    with pytest.raises(ValueError, match="split"):
        datasets.load_movielens(split)


def test_movielens_movies():
    need("movielens_100k")
    movies = datasets.load_movielens_movies()
    assert len(movies) == 1682
    assert movies.index.name == "item"
    assert movies.loc[1, "title"] == "Toy Story (1995)"
    assert movies.loc[1, "Animation"] == 1 and movies.loc[1, "Comedy"] == 1
    assert movies.index.is_unique


def test_fashion_mnist():
    need("fashion_mnist")
    (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert (np.bincount(y_train, minlength=10) == 6000).all()
    assert (np.bincount(y_test, minlength=10) == 1000).all()
    assert x_train.max() == 255 and x_train.min() == 0
    assert len(datasets.FASHION_MNIST_CLASSES) == 10


def test_cats_and_dogs_dir():
    need("cats_and_dogs")
    root = datasets.cats_and_dogs_dir()
    counts = {f"{split}/{cls}": len(list((root / split / cls).glob("*.jpg")))
              for split in ("train", "validation") for cls in ("cats", "dogs")}
    assert counts == {"train/cats": 1000, "train/dogs": 1000, "validation/cats": 500, "validation/dogs": 500}


def test_imdb_dir():
    need("imdb")
    root = datasets.imdb_dir()
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        files = list((root / part).glob("*.txt"))
        assert len(files) >= 1000, part
    sample = next((root / "train/pos").glob("*.txt")).read_text(encoding="utf-8")
    assert sample.strip()
