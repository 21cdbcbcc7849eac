"""Tests for utils.sequences: windows, time splits, train-only scaling, forecast plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.sequences import TrainScaler, make_windows, plot_forecast, rmse, split_in_time  # noqa: E402


def test_windows_of_a_1d_series():
    X, y = make_windows(np.arange(10), 3)
    assert X.shape == (7, 3, 1) and y.shape == (7,)
    assert X[0, :, 0].tolist() == [0, 1, 2] and y[0] == 3
    assert X[-1, :, 0].tolist() == [6, 7, 8] and y[-1] == 9
    assert X.dtype == np.float32 and X.flags["C_CONTIGUOUS"]


def test_windows_horizon_and_features():
    data = np.stack([np.arange(10), 100 + np.arange(10)], axis=1)
    X, y = make_windows(data, 4, horizon=2, target_col=1)
    assert X.shape == (5, 4, 2)
    assert X[0, :, 1].tolist() == [100, 101, 102, 103] and y[0] == 105
    _, y_all = make_windows(data, 4, target_col=None)
    assert y_all.shape == (6, 2) and y_all[0].tolist() == [4, 104]


def test_windows_match_keras_timeseries_dataset():
    keras = pytest.importorskip("keras")
    series = np.random.default_rng(0).normal(size=50).astype("float32")
    X, y = make_windows(series, 7)
    ds = keras.utils.timeseries_dataset_from_array(series[:-1, None], series[7:], sequence_length=7,
                                                   batch_size=1000, shuffle=False)
    kx, ky = next(iter(ds))
    np.testing.assert_array_equal(X, np.asarray(kx))
    np.testing.assert_array_equal(y, np.asarray(ky))


@pytest.mark.parametrize("kwargs", [{"window": 0}, {"window": 2.5}, {"window": 3, "horizon": 0},
                                    {"window": 10}, {"window": 3, "target_col": 1}])
def test_windows_reject_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_windows(np.arange(10), **kwargs)


def test_windows_reject_3d_input():
    with pytest.raises(ValueError, match="1-D series or a 2-D"):
        make_windows(np.zeros((4, 3, 2)), 2)


def test_split_in_time_keeps_order():
    train, test = split_in_time(np.arange(10), 0.8)
    assert train.tolist() == list(range(8)) and test.tolist() == [8, 9]
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            split_in_time(np.arange(10), bad)
    with pytest.raises(ValueError, match="empty"):
        split_in_time(np.arange(2), 0.3)


def test_scaler_uses_training_statistics_only():
    train, test = np.array([0.0, 5.0, 10.0]), np.array([20.0, -10.0])
    sc = TrainScaler().fit(train)
    np.testing.assert_allclose(sc.transform(train), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(sc.transform(test), [2.0, -1.0])  # outside the range, not refitted
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(test)), test)
    assert sc.transform(test[:, None]).shape == (2, 1)


def test_scaler_multifeature_and_range():
    data = np.array([[0.0, 10.0], [2.0, 30.0]])
    sc = TrainScaler((-1, 1))
    np.testing.assert_allclose(sc.fit_transform(data), [[-1, -1], [1, 1]])
    np.testing.assert_allclose(sc.inverse_transform(np.array([0.0]), col=1), [20.0])
    np.testing.assert_allclose(sc.inverse_transform(np.array([[0.0], [1.0]]), col=0), [[1.0], [2.0]])
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(data)), data)
    with pytest.raises(ValueError):
        sc.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError):
        sc.transform(np.zeros(3))
    with pytest.raises(ValueError):
        sc.inverse_transform(np.zeros((3, 3)))


def test_scaler_constant_feature_and_errors():
    sc = TrainScaler().fit(np.ones(4))
    assert np.all(np.isfinite(sc.transform(np.ones(2))))
    with pytest.raises(RuntimeError, match="not fitted"):
        TrainScaler().transform([1.0])
    with pytest.raises(ValueError, match="increasing"):
        TrainScaler((1, 0))
    with pytest.raises(ValueError, match="empty"):
        TrainScaler().fit(np.zeros((0, 1)))


def test_rmse():
    assert rmse([1, 2, 3], [1, 2, 3]) == 0.0
    assert rmse(np.array([[0.0], [0.0]]), [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    with pytest.raises(ValueError, match="differ in length"):
        rmse([1, 2], [1, 2, 3])


def test_plot_forecast():
    import matplotlib.pyplot as plt

    fig = plot_forecast(np.arange(5), {"a": np.arange(5) + 1}, history=np.arange(3), title="t")
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_title() == "t"
    plt.close(fig)
    dates = np.arange("2017-01-01", "2017-01-06", dtype="datetime64[D]")
    plt.close(plot_forecast(np.arange(5), {"a": np.arange(5)}, index=dates))
    with pytest.raises(ValueError, match="forecast 'b'"):
        plot_forecast(np.arange(5), {"b": np.arange(4)})
    with pytest.raises(ValueError, match="index"):
        plot_forecast(np.arange(5), {}, index=np.arange(3))
