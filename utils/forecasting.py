"""One-step-ahead forecasting of a monthly series, its classical baselines, and a paired test.

The LSTM and GRU notebooks forecast the airline series the same way, and compare the
networks with forecasts that use exactly the same information (every value up to the
month before the one forecast, parameters fitted on the training months only):

* :func:`log_change_windows` builds the networks' inputs: the last ``lookback``
  month-to-month changes of ``log y`` (scaled with training statistics only) and, for
  any predicted change, the forecast ``y[t-1] * exp(change)``;
* :func:`seasonal_naive` ("same month last year") and :func:`seasonal_change_naive`
  ("last month, changed as it changed a year ago");
* :func:`airline_model_forecast`, the seasonal ARIMA model of Box and Jenkins fitted on
  the training months and then run forward through the test months with those
  parameters fixed, one month at a time;
* :func:`diebold_mariano`, the test of whether two forecasts of the same values differ
  in accuracy by more than chance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .sequences import TrainScaler, make_windows


def _series(values, n_train: int, min_history: int) -> np.ndarray:
    arr = np.asarray(values, dtype="float64")
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D series; got shape {arr.shape}")
    if not isinstance(n_train, int | np.integer) or not min_history <= n_train < len(arr):
        raise ValueError(f"n_train must be an int with {min_history} <= n_train < {len(arr)} (the series' length), "
                         f"so that training has enough history and the test part is not empty; got {n_train!r}")
    return arr


@dataclass(frozen=True)
class LogChangeWindows:
    """The networks' view of a positive series: windows of scaled log changes and the way back to levels.

    ``X_train``/``y_train`` are the windows that end inside the training months, ``X_test``
    one window per test month (its target is that month's change). ``last_level[i]`` is the
    value one month before test month ``i``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    last_level: np.ndarray
    scaler: TrainScaler

    def to_levels(self, scaled_change) -> np.ndarray:
        """One-step forecasts ``y[t-1] * exp(change)`` from predicted *scaled* changes, one per test month."""
        change = self.scaler.inverse_transform(np.ravel(np.asarray(scaled_change, dtype="float64")))
        if change.shape != self.last_level.shape:
            raise ValueError(f"expected {len(self.last_level)} predicted changes (one per test month); "
                             f"got {change.shape[0]}")
        return self.last_level * np.exp(change)


def log_change_windows(values, n_train: int, lookback: int = 12) -> LogChangeWindows:
    """Windows of the last ``lookback`` changes of ``log y``, scaled to [-1, 1] on the training months only.

    The first ``n_train`` values are the training months; every later value is a test month.
    """
    arr = _series(values, n_train, lookback + 2)
    if np.any(arr <= 0):
        raise ValueError("log changes need a positive series; shift it or model plain differences instead")
    changes = np.diff(np.log(arr))  # changes[k] = log y[k+1] - log y[k]
    n_change_train = n_train - 1
    scaler = TrainScaler((-1, 1)).fit(changes[:n_change_train])
    scaled = scaler.transform(changes)
    X_train, y_train = make_windows(scaled[:n_change_train], lookback)
    X_test, y_test = make_windows(scaled[n_change_train - lookback:], lookback)
    return LogChangeWindows(X_train, y_train, X_test, y_test, arr[n_train - 1:-1], scaler)


def seasonal_naive(values, n_train: int, period: int = 12) -> np.ndarray:
    """Forecast each test month by the value one ``period`` earlier: ``y[t - period]``."""
    arr = _series(values, n_train, period)
    return arr[n_train - period:len(arr) - period]


def seasonal_change_naive(values, n_train: int, period: int = 12) -> np.ndarray:
    """Last month's value, changed by the factor it changed by a ``period`` earlier: ``y[t-1] * y[t-p] / y[t-p-1]``.

    It uses the same months as a network that reads the last ``period`` changes: the
    change it applies is the oldest change in that window.
    """
    arr = _series(values, n_train, period + 1)
    n = len(arr)
    return arr[n_train - 1:n - 1] * arr[n_train - period:n - period] / arr[n_train - period - 1:n - period - 1]


@dataclass(frozen=True)
class AirlineModelForecast:
    """One-step forecasts of the test months and the parameters fitted on the training months."""

    forecast: np.ndarray
    params: dict[str, float]


def airline_model_forecast(values, n_train: int, *, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12),
                           log: bool = True) -> AirlineModelForecast:
    """Fit a seasonal ARIMA on the training months, then forecast each test month from the months before it.

    The default is the "airline model" of Box and Jenkins, ARIMA(0,1,1)(0,1,1)12 on
    ``log y``. Its parameters are estimated once, on the first ``n_train`` values; the
    Kalman filter then runs through the test months with those parameters fixed, so the
    forecast of month ``t`` uses the values up to ``t - 1`` and nothing later (the same
    information the networks get). With ``log=True`` the forecast is ``exp`` of the
    forecast log, as the networks' ``y[t-1] * exp(change)`` is.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX  # imported here: statsmodels is slow to import

    arr = _series(values, n_train, order[1] + seasonal_order[1] * seasonal_order[3] + 2)
    if log and np.any(arr <= 0):
        raise ValueError("log=True needs a positive series; pass log=False to model the values themselves")
    z = np.log(arr) if log else arr
    with warnings.catch_warnings():
        # A short series gives statsmodels' start-value heuristics little to work with; it says so, then
        # converges. Its warnings would only repeat that.
        warnings.simplefilter("ignore")
        fitted = SARIMAX(z[:n_train], order=order, seasonal_order=seasonal_order).fit(disp=False)
        running = fitted.apply(z)  # same parameters, filtered through every month
        pred = np.asarray(running.get_prediction(start=n_train, end=len(z) - 1, dynamic=False).predicted_mean)
    params = {str(k): float(v) for k, v in zip(fitted.model.param_names, np.ravel(fitted.params))}
    return AirlineModelForecast(np.exp(pred) if log else pred, params)


@dataclass(frozen=True)
class DieboldMariano:
    """Result of :func:`diebold_mariano`: ``statistic > 0`` means forecast ``a`` has the larger loss."""

    statistic: float
    p_value: float
    mean_loss_difference: float
    n: int


def diebold_mariano(truth, pred_a, pred_b, *, horizon: int = 1, power: int = 2) -> DieboldMariano:
    """Diebold-Mariano test of equal accuracy of two forecasts of the same values (two-sided).

    The loss differential is ``d_t = |e_a,t|**power - |e_b,t|**power``. Its mean is
    divided by its standard error, using autocovariances up to lag ``horizon - 1``
    (forecasts ``horizon`` steps ahead have overlapping errors), with the small-sample
    correction of Harvey, Leybourne and Newbold (1997) and a Student t with ``n - 1``
    degrees of freedom. For one-step forecasts this is a paired t-test on the losses.
    """
    y, a, b = (np.ravel(np.asarray(v, dtype="float64")) for v in (truth, pred_a, pred_b))
    if not y.shape == a.shape == b.shape:
        raise ValueError(f"truth and the two forecasts differ in length: {y.shape}, {a.shape}, {b.shape}")
    n = len(y)
    if n < 3:
        raise ValueError(f"the test needs at least 3 forecast values; got {n}")
    if not isinstance(horizon, int) or not 1 <= horizon < n:
        raise ValueError(f"horizon must be an int from 1 to {n - 1}; got {horizon!r}")
    if power not in (1, 2):
        raise ValueError(f"power must be 1 (absolute errors) or 2 (squared errors); got {power!r}")
    d = np.abs(y - a) ** power - np.abs(y - b) ** power
    centred = d - d.mean()
    gamma = [centred[k:] @ centred[:n - k] / n for k in range(horizon)]
    variance = (gamma[0] + 2 * sum(gamma[1:])) / n
    if not variance > 0:
        raise ValueError("the two forecasts have the same loss at every step (or a non-positive variance "
                         "estimate); there is no difference to test")
    correction = math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = correction * d.mean() / math.sqrt(variance)
    p_value = 2 * stats.t.sf(abs(statistic), df=n - 1)
    return DieboldMariano(float(statistic), float(p_value), float(d.mean()), n)
