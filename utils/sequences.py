"""Sequence helpers shared by the RNN, LSTM and GRU notebooks.

* :func:`make_windows` turns a series into ``(inputs, targets)`` pairs of
  fixed-length look-back windows, the same pairs that
  ``keras.utils.timeseries_dataset_from_array`` yields (a notebook checks this);
* :func:`split_in_time` splits a series without shuffling, so the test part
  lies strictly after the training part;
* :class:`TrainScaler` is a min-max scaler that can only be *fitted* on the
  training part, then applied everywhere (no information leaks from the test
  period into the model);
* :func:`rmse` and :func:`plot_forecast` report forecasts against the truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import MinMaxScaler


def _as_2d(values) -> np.ndarray:
    arr = np.asarray(values, dtype="float64")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"expected a 1-D series or a 2-D (time, features) array; got shape {arr.shape}")
    return arr


def make_windows(values, window: int, *, horizon: int = 1, target_col: int | None = 0,
                 dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into look-back windows and the value ``horizon`` steps after each.

    ``values`` is a 1-D series or a ``(time, features)`` array. Returns
    ``X`` of shape ``(n, window, features)`` and ``y`` of shape ``(n,)`` (column
    ``target_col`` of the target step) or ``(n, features)`` when ``target_col`` is
    ``None``, where ``n = len(values) - window - horizon + 1``. Window ``i`` is
    ``values[i : i + window]`` and its target ``values[i + window + horizon - 1]``.
    """
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a positive int, got {horizon!r}")
    arr = _as_2d(values)
    n = len(arr) - window - horizon + 1
    if n < 1:
        raise ValueError(f"a series of length {len(arr)} is too short for window={window}, horizon={horizon}")
    if target_col is not None and not -arr.shape[1] <= target_col < arr.shape[1]:
        raise ValueError(f"target_col {target_col} out of range for {arr.shape[1]} feature(s)")
    X = np.lib.stride_tricks.sliding_window_view(arr, window, axis=0)[:n]  # (n, features, window)
    X = np.ascontiguousarray(X.transpose(0, 2, 1), dtype=dtype)
    y = arr[window + horizon - 1: window + horizon - 1 + n]
    y = y[:, target_col] if target_col is not None else y
    return X, np.ascontiguousarray(y, dtype=dtype)


def split_in_time(values, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a series in time order (no shuffling): the first ``train_fraction`` for training."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    arr = np.asarray(values)
    cut = int(len(arr) * train_fraction)
    if cut < 1 or cut >= len(arr):
        raise ValueError(f"a split at {train_fraction} leaves one part of a length-{len(arr)} series empty")
    return arr[:cut], arr[cut:]


class TrainScaler:
    """scikit-learn's ``MinMaxScaler``, fitted on the training part, with series-friendly shapes.

    ``fit`` sees the training part; ``transform`` and ``inverse_transform`` then
    apply those same statistics to any part (values outside the training range
    map outside ``feature_range``, which is the honest outcome). On top of
    ``MinMaxScaler`` it accepts 1-D series and keeps their shape, and
    ``inverse_transform`` takes predictions of shape ``(n,)`` or ``(n, 1)`` for one
    feature ``col`` of a multi-feature fit.
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"feature_range must be increasing, got {feature_range!r}")
        self.feature_range = (float(lo), float(hi))
        self._scaler: MinMaxScaler | None = None

    def fit(self, train) -> TrainScaler:
        arr = _as_2d(train)
        if len(arr) == 0:
            raise ValueError("cannot fit a scaler on an empty array")
        self._scaler = MinMaxScaler(self.feature_range).fit(arr)
        return self

    def _fitted(self) -> MinMaxScaler:
        if self._scaler is None:
            raise RuntimeError("TrainScaler is not fitted yet; call fit(train) first")
        return self._scaler

    def transform(self, values) -> np.ndarray:
        scaler = self._fitted()
        arr = np.asarray(values, dtype="float64")
        n = scaler.n_features_in_
        if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != n) or (arr.ndim == 1 and n != 1):
            raise ValueError(f"expected {n} feature(s); got an array of shape {arr.shape}")
        return scaler.transform(_as_2d(arr)).reshape(arr.shape)

    def inverse_transform(self, values, col: int = 0) -> np.ndarray:
        """Undo the scaling; a 1-D or ``(n, 1)`` input is taken as feature ``col``."""
        scaler = self._fitted()
        arr = np.asarray(values, dtype="float64")
        n = scaler.n_features_in_
        if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1 and n > 1):
            return (arr - scaler.min_[col]) / scaler.scale_[col]
        if arr.ndim != 2 or arr.shape[1] != n:
            raise ValueError(f"expected {n} feature(s); got an array of shape {arr.shape}")
        return scaler.inverse_transform(arr)

    def fit_transform(self, train) -> np.ndarray:
        return self.fit(train).transform(train)


def rmse(truth, prediction) -> float:
    """Root mean squared error of two equally long 1-D (or ``(n, 1)``) arrays."""
    a, b = np.ravel(truth).astype("float64"), np.ravel(prediction).astype("float64")
    if a.shape != b.shape:
        raise ValueError(f"truth and prediction differ in length: {a.shape} vs {b.shape}")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def plot_forecast(truth, forecasts: Mapping[str, Sequence[float]], *, index=None, history=None,
                  history_index=None, title: str | None = None, ylabel: str = "value",
                  figsize: tuple[float, float] = (9, 3.2)):
    """Draw the true series and one or more forecasts of it (optionally after some history).

    ``forecasts`` maps a label (e.g. ``"LSTM (RMSE 10.2)"``) to predictions aligned
    with ``truth``; ``index`` gives their x positions (dates or steps).
    """
    truth = np.ravel(truth)
    x = np.arange(len(truth)) if index is None else np.asarray(index)
    if len(x) != len(truth):
        raise ValueError(f"index has {len(x)} entries for {len(truth)} true values")
    fig, ax = plt.subplots(figsize=figsize)
    if history is not None:
        history = np.ravel(history)
        hx = np.arange(-len(history), 0) if history_index is None else np.asarray(history_index)
        ax.plot(hx, history, color="0.6", lw=1, label="history")
    ax.plot(x, truth, color="black", lw=1.6, label="truth")
    for label, pred in forecasts.items():
        pred = np.ravel(pred)
        if len(pred) != len(truth):
            raise ValueError(f"forecast {label!r} has {len(pred)} values for {len(truth)} true values")
        ax.plot(x, pred, lw=1.2, ls="--", label=label)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if np.issubdtype(x.dtype, np.datetime64):
        fig.autofmt_xdate()
    fig.tight_layout()
    return fig
