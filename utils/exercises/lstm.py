"""Checks for the exercises of 04_lstm (LSTM cells, forecasts compared by a paired test)."""

from __future__ import annotations

import numpy as np

from . import NotYet, call, close, exercise


@exercise("04.1", "the number of weights of an LSTM layer with d input features and u units")
def lstm_param_count(answer, **_) -> None:
    import keras

    for d, u in ((1, 32), (3, 8), (50, 50), (28, 128), (7, 1)):
        layer = keras.layers.LSTM(u)
        layer.build((None, None, d))
        expected = layer.count_params()  # what Keras allocates for this layer
        got = call(answer, d, u)
        close(got, expected, what=f"the count for d={d}, u={u}",
              hint="each of the four blocks has an input kernel, a recurrent kernel and a bias; count all three")


@exercise("04.2", "the forget gate is the derivative of the new cell state with respect to the old one")
def forget_gate(answer, *, x_part, h, U) -> None:
    from ..reference import lstm_step

    x_part, h, U = (np.asarray(v, dtype="float64") for v in (x_part, h, U))
    got = np.asarray(call(answer, x_part, h, U), dtype="float64")
    if got.shape != h.shape:
        raise NotYet(f"return one gate value per example and unit, shape {h.shape}; got {got.shape}")
    if not np.all((got > 0) & (got < 1)):
        raise NotYet("a gate's values lie strictly between 0 and 1: which function squashes the pre-activation?")
    # c_t = f * c_{t-1} + i * g is linear in c_{t-1}: nudging the old cell state by 1 changes the new one by f.
    c = np.random.default_rng(0).normal(size=h.shape)
    derivative = lstm_step(x_part, h, c + 1.0, U)[1] - lstm_step(x_part, h, c, U)[1]
    if not np.allclose(got, derivative, rtol=1e-6, atol=1e-9):
        raise NotYet("these values are not dc_t/dc_(t-1): check which of the four blocks of x_part + h @ U is the "
                     "forget gate in Keras' layout")


@exercise("04.3", "the Diebold-Mariano statistic of two one-step forecasts")
def dm_statistic(answer, *, truth, pred_a, pred_b) -> None:
    from ..forecasting import diebold_mariano

    truth, pred_a, pred_b = (np.ravel(np.asarray(v, dtype="float64")) for v in (truth, pred_a, pred_b))
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(2, 30))
    cases = [(truth, pred_a, pred_b), (truth, pred_b, pred_a), (np.zeros(30), noise[0], 0.8 * noise[1])]
    for k, (y, a, b) in enumerate(cases):
        expected = diebold_mariano(y, a, b).statistic
        close(call(answer, y, a, b), expected, rel=1e-6, abs_=1e-9,
              what=f"your statistic ({'the notebook forecasts' if k < 2 else 'a synthetic pair'}"
                   f"{', swapped' if k == 1 else ''})",
              hint="form the loss differential d_t day by day first; the statistic is its mean over the standard "
                   "error of that mean (sample standard deviation)")
