"""One loader per course dataset, returning objects ready for a notebook.

Each loader calls :func:`utils.data.fetch`, so the files are verified before
they are read. Image and text folders are returned as paths: the notebooks build
their pipelines with ``keras.utils.image_dataset_from_directory`` and
``keras.utils.text_dataset_from_directory``, which is part of what they teach.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .cache import fetch

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def load_churn() -> pd.DataFrame:
    """The bank churn table: 10,000 customers, 14 columns, target ``Exited``."""
    return pd.read_csv(fetch("churn") / "Churn_Modelling.csv")


def load_credit_applications() -> pd.DataFrame:
    """690 credit card applications: ``CustomerID``, ``A1``..``A14`` and ``Class`` (1 = approved)."""
    return pd.read_csv(fetch("credit_card_applications") / "Credit_Card_Applications.csv")


def _read_stock(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, thousands=",", skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    df["Date"] = pd.to_datetime(df["Date"], format="%m/%d/%Y")
    for col in ("Open", "High", "Low", "Close", "Volume"):
        df[col] = pd.to_numeric(df[col].astype(str).str.replace(",", ""), errors="raise")
    return df.set_index("Date")


def load_google_stock() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily GOOG prices: training 2012-2016 (1,258 days) and test January 2017 (20 days).

    Columns ``Open, High, Low, Close, Volume`` are numeric, indexed by ``Date``.
    """
    root = fetch("google_stock")
    return _read_stock(root / "Google_Stock_Price_Train.csv"), _read_stock(root / "Google_Stock_Price_Test.csv")


def load_airline_passengers() -> pd.Series:
    """Monthly international airline passengers (thousands), Jan 1949 - Dec 1960."""
    df = pd.read_csv(fetch("airline_passengers") / "airline-passengers.csv")
    series = df.set_index(pd.to_datetime(df["Month"], format="%Y-%m"))["Passengers"].astype("float64")
    series.index.name = "Month"
    return series


def load_sms_spam() -> pd.DataFrame:
    """The SMS Spam Collection: columns ``label`` (``ham``/``spam``) and ``message``."""
    return pd.read_csv(fetch("sms_spam") / "SMSSpamCollection", sep="\t", header=None,
                       names=["label", "message"], quoting=3, encoding="utf-8")


_ML_RATING_COLS = ["user", "item", "rating", "timestamp"]
_ML_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
              "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
              "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def load_movielens(split: str = "u1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens 100K ratings for one of the shipped splits (``u1``..``u5``, ``ua``, ``ub``).

    Returns ``(train, test)`` frames with columns ``user, item, rating, timestamp``;
    user and item ids are 1-based as in the files (943 users, 1,682 items).
    """
    valid = {f"u{i}" for i in range(1, 6)} | {"ua", "ub"}
    if split not in valid:
        raise ValueError(f"Unknown MovieLens split {split!r}; use one of {sorted(valid)}.")
    root = fetch("movielens_100k")
    read = lambda p: pd.read_csv(p, sep="\t", names=_ML_RATING_COLS)  # noqa: E731
    return read(root / f"{split}.base"), read(root / f"{split}.test")


def load_movielens_movies() -> pd.DataFrame:
    """Movie titles and genre flags from ``u.item`` (latin-1), indexed by ``item``."""
    cols = ["item", "title", "release_date", "video_release_date", "imdb_url", *_ML_GENRES]
    df = pd.read_csv(fetch("movielens_100k") / "u.item", sep="|", names=cols, encoding="latin-1")
    return df.set_index("item")


def _read_idx(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST as uint8 arrays: ``((x_train, y_train), (x_test, y_test))``.

    Images are ``(n, 28, 28)``; class names are in :data:`FASHION_MNIST_CLASSES`.
    """
    root = fetch("fashion_mnist")
    return ((_read_idx(root / "train-images-idx3-ubyte"), _read_idx(root / "train-labels-idx1-ubyte")),
            (_read_idx(root / "t10k-images-idx3-ubyte"), _read_idx(root / "t10k-labels-idx1-ubyte")))


def cats_and_dogs_dir() -> Path:
    """Folder with ``train/{cats,dogs}`` (1,000 each) and ``validation/{cats,dogs}`` (500 each)."""
    return fetch("cats_and_dogs")


def imdb_dir() -> Path:
    """Folder with ``train/{pos,neg}`` and ``test/{pos,neg}`` review text files.

    Holds the full 25k/25k dataset when it was downloaded, or the balanced
    2,000/2,000 subset when it came from the offline mirror. The subset's files are
    verified one by one; the full set's extra reviews are trusted because the archive
    they came from matched the SHA-256 recorded in the registry (from any other copy
    they are dropped).
    """
    return fetch("imdb")
