"""Checks for the exercises of 03_rnn (the recurrence, forecasting baselines, chaos)."""

from __future__ import annotations

import numpy as np

from . import NotYet, call, close, converted, exercise


def _series(value, length: int, what: str) -> np.ndarray:
    """``value`` as a finite float64 vector of ``length`` numbers, or :class:`NotYet` saying what is wrong."""
    a = converted(value, lambda v: np.asarray(v, dtype="float64"), f"{what} should be an array of numbers")
    if a.shape != (length,):
        raise NotYet(f"{what} should have shape ({length},), one number per test point; got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise NotYet(f"{what} holds NaN or infinite values")
    return a


def logistic_series(n: int, r: float, x0: float = 0.2, skip: int = 0) -> np.ndarray:
    """``n`` values of the logistic map ``x -> r x (1 - x)`` from ``x0``, after ``skip`` values left out."""
    x = np.empty(n + skip)
    x[0] = x0
    for i in range(1, n + skip):
        x[i] = r * x[i - 1] * (1 - x[i - 1])
    return x[skip:]


@exercise("03.2", "one-step forecasts of a sampled sine by the recurrence y_(t+1) = 2 cos(h) y_t - y_(t-1)")
def recurrence_forecast(answer, *, series, h: float, n_train: int) -> None:
    t = np.linspace(0.0, 30.0, 400)  # another sine: amplitude, frequency and phase differ, so h must be used
    cases = [(np.asarray(series, dtype="float64"), float(h), int(n_train)),
             (2.5 * np.sin(0.7 * t + 0.4), 0.7 * (t[1] - t[0]), 300)]
    for y, step, n in cases:
        what = f"the forecasts of the last {len(y) - n} values"
        got = _series(call(answer, y.copy(), step, n), len(y) - n, what)
        if np.mean((got - y[n:]) ** 2) > 1e-20 * np.mean(y ** 2):
            raise NotYet(f"{what} are not exact yet: the forecast of y[k] uses y[k-1] and y[k-2], for every k from "
                         "n_train to the end; check which slices of the series you multiply, and the factor 2 cos(h)")
        peeked = y.copy()
        peeked[-1] += 1.0  # a forecast must not depend on the value it forecasts
        if not np.allclose(_series(call(answer, peeked, step, n), len(y) - n, what), got, rtol=0, atol=1e-12):
            raise NotYet("your forecast of the last value changes when that value changes: a one-step forecast may "
                         "only use the values before the one it predicts")


@exercise("03.4", "the least-squares quadratic x_(t+1) = a x_t^2 + b x_t + c of a series")
def quadratic_fit(answer, *, x) -> None:
    rng = np.random.default_rng(4)
    noisy = logistic_series(600, 3.8, skip=50) + rng.normal(0.0, 0.01, 600)  # no exact quadratic: only least squares
    for y in (np.asarray(x, dtype="float64"), logistic_series(500, 3.7, skip=50), noisy):
        coefficients = converted(call(answer, y.copy()), lambda g: np.asarray(g, dtype="float64").ravel(),
                                 "return the three numbers (a, b, c)")
        if coefficients.shape != (3,):
            raise NotYet(f"return the three numbers (a, b, c), got {coefficients.size} number(s)")
        expected = np.polyfit(y[:-1], y[1:], 2)
        if np.allclose(coefficients, np.polyfit(y[1:], y[:-1], 2), atol=1e-6) or np.allclose(
                coefficients, np.polyfit(y[1:], y[:-1], 2)[::-1], atol=1e-6):
            raise NotYet("you predict x_t from x_(t+1): the inputs are the values x_t, the targets the values after them")
        if np.allclose(coefficients, expected[::-1], atol=1e-6):
            raise NotYet("your numbers are in the order (c, b, a): return a (the x^2 coefficient) first")
        for name, value, target in zip("abc", coefficients, expected):
            close(value, target, abs_=1e-6, what=f"the coefficient {name}",
                  hint="fit x_(t+1) against x_t over all consecutive pairs of the series by least squares "
                       "(np.polyfit takes inputs, targets and the degree)")


@exercise("03.5", "the Lyapunov exponent of the logistic map x -> r x (1 - x) along a series")
def lyapunov_exponent(answer, *, x, r: float = 4.0) -> None:
    cases = [(np.asarray(x, dtype="float64"), float(r)), (logistic_series(1000, 3.9, skip=200), 3.9),
             (logistic_series(1000, 3.2, skip=200), 3.2)]  # r = 3.2: a stable cycle, a negative exponent
    for y, rate in cases:
        expected = float(np.mean(np.log(np.abs(rate * (1 - 2 * y)))))
        got = call(answer, y.copy(), rate)
        ignores_r = float(np.mean(np.log(np.abs(4.0 * (1 - 2 * y)))))
        if rate != 4.0 and isinstance(got, float | int | np.floating) and abs(got - ignores_r) < 1e-9 < abs(
                expected - ignores_r):
            raise NotYet(f"for r = {rate:g} your exponent is the one of r = 4: does your derivative use r?")
        if rate == 3.2 and isinstance(got, float | int | np.floating) and got > 0:
            raise NotYet("for r = 3.2 the series settles on a cycle of two values, where small errors shrink: the "
                         "exponent must come out negative (does your derivative use r?)")
        close(got, expected, abs_=0.02, what=f"the exponent for r = {rate:g}",
              hint="average ln|f'(x_t)| over the values of the series, with f'(x) the derivative of r x (1 - x) "
                   "(the log of each |derivative|, then the mean)")
