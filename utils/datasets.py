"""Moved to :mod:`utils.data.loaders`; this module keeps ``from utils.datasets import ...`` working (temporary)."""

from .data.loaders import (  # noqa: F401
    FASHION_MNIST_CLASSES,
    cats_and_dogs_dir,
    imdb_dir,
    load_airline_passengers,
    load_churn,
    load_credit_applications,
    load_fashion_mnist,
    load_google_stock,
    load_movielens,
    load_movielens_movies,
    load_sms_spam,
)
