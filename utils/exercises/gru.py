"""Checks for the exercises of 05_gru (gated recurrent units, the adding problem)."""

from __future__ import annotations

import math

import numpy as np

from . import NotYet, call, close, exercise


@exercise("05.2", "the parameter count of a Keras GRU layer, for both reset_after settings")
def gru_param_count(answer, **_) -> None:
    import keras

    for units, features in ((1, 1), (8, 3), (32, 2), (64, 28)):
        for reset_after in (True, False):
            layer = keras.layers.GRU(units, reset_after=reset_after, kernel_initializer="zeros",
                                     recurrent_initializer="zeros")
            layer.build((None, 5, features))
            close(call(answer, units, features, reset_after), layer.count_params(), abs_=0.5,
                  what=f"the count for {units} units on {features} features, reset_after={reset_after}",
                  hint="count the kernel, the recurrent kernel and the bias of each of the three blocks; "
                       "reset_after=True keeps one more bias vector (see the theory section)")


@exercise("05.3", "the test MSE of knowing the second marked value and guessing the mean for the first")
def second_value_only_mse(answer, *, problem) -> None:
    from utils.adding_problem import adding_problem

    for p in (problem, adding_problem(300, 20, seed=11)):
        rows = np.arange(len(p.y))
        expected = float(np.mean((p.y - (p.X[rows, p.second, 0] + 0.5)) ** 2))
        close(call(answer, p), expected, rel=1e-4,
              what=f"the MSE on {len(p.y)} sequences of {p.X.shape[1]} steps",
              hint="predict the second marked value plus the mean of the first (a uniform value in [0, 1)), "
                   "then average the squared error over these sequences, not the theoretical value")


@exercise("05.4", "the mean derivative with respect to marked values that lie near the end")
def near_end_sensitivity(answer, *, sensitivity, steps_to_end) -> None:
    steps_to_end = np.asarray(steps_to_end)
    for within in (10, 25):
        got = call(answer, sensitivity, steps_to_end, within)
        if not isinstance(got, dict) or set(got) != set(sensitivity):
            raise NotYet(f"return a dict with one entry per cell: {sorted(sensitivity)}")
        near = steps_to_end <= within
        for cell, s in sensitivity.items():
            close(got[cell], float(np.asarray(s)[near].mean()), abs_=1e-6,
                  what=f"the mean for {cell} within {within} steps",
                  hint="keep only the entries whose marked value lies at most `within` steps from the end "
                       "(steps_to_end <= within) and average those")


@exercise("05.5", "the number of steps after which a gate z keeps half of a stored value")
def half_life(answer, **_) -> None:
    for z in (0.5, 0.9, 0.99, 0.999):
        got = call(answer, z)
        close(got, math.log(0.5) / math.log(z), rel=1e-3, what=f"the half-life for z = {z}",
              hint="with the candidate ignored, h_k = z * h_(k-1): after k steps z**k of the value is left; "
                   "solve z**k = 1/2 for k")
