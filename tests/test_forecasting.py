"""Tests for utils.forecasting: log-change windows, seasonal baselines, the airline model, Diebold-Mariano."""

import numpy as np
import pytest
from scipy import stats

from utils.forecasting import (
    airline_model_forecast,
    diebold_mariano,
    log_change_windows,
    seasonal_change_naive,
    seasonal_naive,
)


def seasonal_series(n=72, seed=0):
    # Positive, trending and seasonal (multiplicative), with a little noise: an airline-like series.
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 * np.exp(0.01 * t + 0.15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.02, n))


def test_log_change_windows_round_trip():
    y = seasonal_series()
    w = log_change_windows(y, 48, lookback=12)
    assert w.X_train.shape == (47 - 12, 12, 1) and w.X_test.shape == (24, 12, 1)
    np.testing.assert_allclose(w.last_level, y[47:-1])
    # The test targets turned back into levels are the true test values.
    np.testing.assert_allclose(w.to_levels(w.y_test), y[48:], rtol=1e-5)
    # The last window of the training part ends at the last training change; the first test window continues it.
    changes = np.diff(np.log(y))
    np.testing.assert_allclose(w.scaler.inverse_transform(w.X_test[0, :, 0]), changes[35:47], rtol=1e-5, atol=1e-7)
    # The scaler saw training changes only: they span exactly [-1, 1].
    train_scaled = w.scaler.transform(changes[:47])
    assert train_scaled.min() == pytest.approx(-1) and train_scaled.max() == pytest.approx(1)


def test_log_change_windows_errors():
    y = seasonal_series()
    with pytest.raises(ValueError, match="positive series"):
        log_change_windows(-y, 48)
    with pytest.raises(ValueError, match="n_train"):
        log_change_windows(y, 10)  # too little history for 12-change windows
    with pytest.raises(ValueError, match="n_train"):
        log_change_windows(y, len(y))  # no test part
    with pytest.raises(ValueError, match="1-D"):
        log_change_windows(y[:, None], 48)
    w = log_change_windows(y, 48)
    with pytest.raises(ValueError, match="one per test month"):
        w.to_levels(np.zeros(3))


def test_seasonal_baselines():
    y = np.arange(1.0, 41.0)
    np.testing.assert_array_equal(seasonal_naive(y, 30), y[18:28])
    # Last month times the ratio of the same two months a year earlier.
    expected = y[29:39] * y[18:28] / y[17:27]
    np.testing.assert_allclose(seasonal_change_naive(y, 30), expected)
    # An exactly repeating pattern of changes (a geometric trend times a fixed season) is forecast exactly.
    t = np.arange(48)
    exact = 50 * 1.02 ** t * (1 + 0.2 * np.cos(2 * np.pi * t / 12))
    np.testing.assert_allclose(seasonal_change_naive(exact, 30), exact[30:])
    with pytest.raises(ValueError, match="n_train"):
        seasonal_change_naive(y, 12)


def test_airline_model_uses_only_the_past():
    y = seasonal_series(96)
    result = airline_model_forecast(y, 72)
    assert result.forecast.shape == (24,) and set(result.params) == {"ma.L1", "ma.S.L12", "sigma2"}
    assert -1 < result.params["ma.S.L12"] < 0
    # Changing a test month changes the forecasts of later months only: no look-ahead.
    bumped = y.copy()
    bumped[84] *= 1.5
    other = airline_model_forecast(bumped, 72).forecast
    np.testing.assert_allclose(other[:13], result.forecast[:13])
    assert not np.allclose(other[13:], result.forecast[13:])
    # It beats seasonal naive on a trending series (seasonal naive ignores the growth since last year).
    err = lambda f: np.sqrt(np.mean((y[72:] - f) ** 2))  # noqa: E731
    assert err(result.forecast) < err(seasonal_naive(y, 72))


def test_airline_model_errors():
    with pytest.raises(ValueError, match="positive"):
        airline_model_forecast(-seasonal_series(), 48)
    with pytest.raises(ValueError, match="n_train"):
        airline_model_forecast(seasonal_series(), 10)
    levels = airline_model_forecast(seasonal_series(60), 48, log=False)
    assert levels.forecast.shape == (12,)


def test_diebold_mariano_is_a_paired_t_test_for_one_step():
    rng = np.random.default_rng(1)
    y = rng.normal(size=40)
    a, b = y + rng.normal(0, 1.0, 40), y + rng.normal(0, 0.7, 40)
    dm = diebold_mariano(y, a, b)
    t = stats.ttest_rel((y - a) ** 2, (y - b) ** 2)
    # With horizon 1 the statistic is the paired t statistic scaled by sqrt((n-1)/n) * sqrt(n/(n-1)) = 1.
    assert dm.statistic == pytest.approx(t.statistic) and dm.p_value == pytest.approx(t.pvalue)
    assert dm.n == 40 and dm.mean_loss_difference == pytest.approx(np.mean((y - a) ** 2 - (y - b) ** 2))
    # Swapping the forecasts flips the sign only.
    swapped = diebold_mariano(y, b, a)
    assert swapped.statistic == pytest.approx(-dm.statistic) and swapped.p_value == pytest.approx(dm.p_value)


def test_diebold_mariano_detects_a_real_difference_and_not_noise():
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    good, bad = y + rng.normal(0, 0.5, 300), y + rng.normal(0, 1.5, 300)
    assert diebold_mariano(y, bad, good).p_value < 1e-6
    # Two equally good forecasts: the test rejects in about 5 % of repetitions, as it should.
    rejections = [diebold_mariano(y, y + rng.normal(0, 1, 300), y + rng.normal(0, 1, 300)).p_value < 0.05
                  for _ in range(400)]
    assert 0.02 < np.mean(rejections) < 0.09


def test_diebold_mariano_horizon_and_absolute_loss():
    rng = np.random.default_rng(3)
    y = rng.normal(size=50)
    a, b = y + rng.normal(0, 1, 50), y + rng.normal(0, 1, 50)
    d = np.abs(y - a) - np.abs(y - b)
    assert diebold_mariano(y, a, b, power=1).mean_loss_difference == pytest.approx(d.mean())
    # horizon 2 adds the lag-1 autocovariance and the small-sample factor.
    d = (y - a) ** 2 - (y - b) ** 2
    c = d - d.mean()
    var = (c @ c / 50 + 2 * (c[1:] @ c[:-1]) / 50) / 50
    expected = np.sqrt((50 + 1 - 4 + 2 / 50) / 50) * d.mean() / np.sqrt(var)
    assert diebold_mariano(y, a, b, horizon=2).statistic == pytest.approx(expected)


@pytest.mark.parametrize("kwargs, message", [({"horizon": 0}, "horizon"), ({"horizon": 10}, "horizon"),
                                             ({"power": 3}, "power")])
def test_diebold_mariano_rejects_bad_arguments(kwargs, message):
    y = np.arange(10.0)
    with pytest.raises(ValueError, match=message):
        diebold_mariano(y, y + 1, y - 0.5, **kwargs)


def test_diebold_mariano_errors():
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="differ in length"):
        diebold_mariano(y, y[:-1], y)
    with pytest.raises(ValueError, match="at least 3"):
        diebold_mariano(y[:2], y[:2] + 1, y[:2])
    with pytest.raises(ValueError, match="same loss at every step"):
        diebold_mariano(y, y + 1, y - 1)
