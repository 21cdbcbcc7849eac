"""Paired tests: is model A better than model B on the *same* test rows?

Two models scored on the same rows make correlated errors, so the standard error of one score
overstates the noise in their difference. A paired test looks at the rows one by one:

* :func:`mcnemar` for accuracy: only the rows that exactly one of the two models gets right carry
  information, and under "no difference" each of them is a fair coin (McNemar, 1947).
* :func:`paired_bootstrap` for any metric (ROC-AUC, accuracy, a loss): resample the rows with
  replacement, score both models on the same resample, and read a confidence interval and a
  p-value off the differences (Efron & Tibshirani, 1993).
* :func:`paired_mean_difference` for per-unit scores (say one error per user): the bootstrap of the
  mean of paired differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, rankdata

Metric = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's exact test on two classifiers' right/wrong answers on the same rows."""

    only_a: int  # rows model A gets right and model B gets wrong
    only_b: int  # rows model B gets right and model A gets wrong
    n: int  # all rows
    p_value: float  # two-sided exact binomial test of only_a against only_a + only_b coin flips

    @property
    def difference(self) -> float:
        """Accuracy of A minus accuracy of B (the discordant rows are all that differ)."""
        return (self.only_a - self.only_b) / self.n

    def significant(self, level: float = 0.05) -> bool:
        """Whether the two accuracies differ at the given significance level."""
        return self.p_value < level

    def line(self, name_a: str = "A", name_b: str = "B") -> str:
        """One readable line: the difference, the discordant counts and the p-value."""
        return (f"{name_a} - {name_b}: accuracy {self.difference:+.4f}; {self.only_a} rows only {name_a} gets right, "
                f"{self.only_b} only {name_b} (McNemar p = {self.p_value:.3g})")


@dataclass(frozen=True)
class PairedDifference:
    """A metric difference between two models on the same rows, with a bootstrap interval."""

    estimate: float  # metric(A) - metric(B) on all rows
    low: float  # lower end of the bootstrap percentile interval
    high: float  # upper end
    p_value: float  # two-sided: how often the resampled difference falls on the other side of 0
    confidence: float
    n_boot: int

    def significant(self) -> bool:
        """Whether the interval excludes 0 (a difference at level 1 - confidence)."""
        return self.low > 0 or self.high < 0

    def line(self, name_a: str = "A", name_b: str = "B", metric: str = "metric") -> str:
        """One readable line: the difference, its interval and the p-value."""
        # no resample crossed 0: the bootstrap can only say that p is at most its smallest reportable value
        p = f"p <= {self.p_value:.2g}" if self.p_value <= 2 / (self.n_boot + 1) else f"p = {self.p_value:.3g}"
        return (f"{name_a} - {name_b}: {metric} {self.estimate:+.4f} "
                f"({self.confidence:.0%} interval {self.low:+.4f} to {self.high:+.4f}, {p})")


def _as_1d(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{name} must hold one entry per test row; got {array!r}")
    return array


def mcnemar(correct_a, correct_b) -> McNemarResult:
    """McNemar's exact test: do models A and B have the same accuracy on these rows?

    ``correct_a`` and ``correct_b`` say, row by row, whether each model's prediction is right
    (booleans or 0/1), e.g. ``pred_a == y_true``. Raises ``ValueError`` when the lengths differ or
    the entries are not booleans.
    """
    a, b = _as_1d("correct_a", correct_a), _as_1d("correct_b", correct_b)
    if a.shape != b.shape:
        raise ValueError(f"correct_a and correct_b must score the same rows: shapes {a.shape} and {b.shape}")
    for name, x in (("correct_a", a), ("correct_b", b)):
        if x.dtype != bool and not np.isin(x, (0, 1)).all():
            raise ValueError(f"{name} must be booleans (prediction == truth per row), not scores or labels")
    a, b = a.astype(bool), b.astype(bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    p_value = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return McNemarResult(only_a, only_b, len(a), p_value)


def roc_auc(y_true, scores) -> float:
    """ROC-AUC as the Mann-Whitney statistic: the chance that a random positive outscores a random negative.

    Equal to ``sklearn.metrics.roc_auc_score`` for 0/1 labels (ties count one half), and fast enough to be
    called thousands of times in a bootstrap. Returns NaN when one class is missing.
    """
    y = np.asarray(y_true).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _bootstrap(statistic: Callable[[np.ndarray], float], n: int, *, strata, n_boot: int,
               confidence: float, seed: int) -> PairedDifference:
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100 for a usable interval, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if strata is None:
        groups = [np.arange(n)]
    else:
        strata = np.asarray(strata)
        if strata.shape != (n,):
            raise ValueError(f"strata needs one label per row ({n}), got shape {strata.shape}")
        groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    rng = np.random.default_rng(seed)
    estimate = float(statistic(np.arange(n)))
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        diffs[i] = statistic(idx)
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    # share of resamples on the far side of 0, counted with the observed one so that p is never 0
    far = min((diffs <= 0).sum(), (diffs >= 0).sum())
    p_value = min(1.0, 2 * (far + 1) / (n_boot + 1))
    return PairedDifference(estimate, float(low), float(high), float(p_value), confidence, n_boot)


def paired_bootstrap(y_true, pred_a, pred_b, metric: Metric, *, strata=None, n_boot: int = 2000,
                     confidence: float = 0.95, seed: int = 0) -> PairedDifference:
    """Bootstrap ``metric(y_true, pred_a) - metric(y_true, pred_b)`` over the shared test rows.

    Every resample draws rows with replacement and scores *both* models on the same rows, so what
    the two share cancels. ``strata`` (e.g. the class labels) resamples within each group, which
    keeps the number of positives fixed (useful for ROC-AUC). Raises ``ValueError`` for arrays of
    different lengths or a metric that fails on a resample.
    """
    y_true, pred_a, pred_b = (_as_1d(name, x) for name, x in
                              (("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)))
    if not len(y_true) == len(pred_a) == len(pred_b):
        raise ValueError(f"y_true, pred_a and pred_b must cover the same rows: lengths "
                         f"{len(y_true)}, {len(pred_a)}, {len(pred_b)}")

    def statistic(idx: np.ndarray) -> float:
        try:
            value = float(metric(y_true[idx], pred_a[idx])) - float(metric(y_true[idx], pred_b[idx]))
        except ValueError as err:
            raise ValueError(f"the metric failed on a bootstrap resample ({err}); with few rows of one class, "
                             "pass strata=y_true") from err
        if not np.isfinite(value):
            raise ValueError("the metric is undefined on a bootstrap resample (one class only?); with few rows "
                             "of one class, pass strata=y_true")
        return value

    return _bootstrap(statistic, len(y_true), strata=strata, n_boot=n_boot, confidence=confidence, seed=seed)


def paired_mean_difference(scores_a, scores_b, *, n_boot: int = 2000, confidence: float = 0.95,
                           seed: int = 0) -> PairedDifference:
    """Bootstrap the mean of ``scores_a - scores_b``: per-unit scores of two models on the same units.

    Use it when the metric is already an average over units (one error per user, one loss per
    sequence). Raises ``ValueError`` for arrays of different lengths or non-finite scores.
    """
    a = _as_1d("scores_a", scores_a).astype("float64")
    b = _as_1d("scores_b", scores_b).astype("float64")
    if a.shape != b.shape:
        raise ValueError(f"scores_a and scores_b must score the same units: shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("scores must be finite numbers; drop units without a score first")
    d = a - b
    return _bootstrap(lambda idx: d[idx].mean(), len(d), strata=None, n_boot=n_boot, confidence=confidence, seed=seed)


@dataclass(frozen=True)
class ClassifierComparison:
    """Two probabilistic classifiers on the same test rows: accuracy by McNemar, ROC-AUC by paired bootstrap."""

    accuracy: McNemarResult
    roc_auc: PairedDifference

    def row(self) -> dict[str, float]:
        """The numbers as one table row (for a ``pandas.DataFrame``)."""
        return {"accuracy A - B": self.accuracy.difference, "McNemar p": self.accuracy.p_value,
                "ROC-AUC A - B": self.roc_auc.estimate, "interval low": self.roc_auc.low,
                "interval high": self.roc_auc.high, "bootstrap p": self.roc_auc.p_value}


def compare_classifiers(y_true, prob_a, prob_b, *, threshold: float = 0.5, n_boot: int = 2000,
                        seed: int = 0) -> ClassifierComparison:
    """Compare classifiers A and B (probabilities of class 1) on the same rows, with both paired tests.

    Accuracy at ``threshold`` goes through :func:`mcnemar`; ROC-AUC through :func:`paired_bootstrap`,
    resampling within each class. Raises ``ValueError`` for labels other than 0/1 or rows that differ.
    """
    y = _as_1d("y_true", y_true)
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must hold 0/1 labels")
    prob_a, prob_b = _as_1d("prob_a", prob_a), _as_1d("prob_b", prob_b)
    if not len(y) == len(prob_a) == len(prob_b):
        raise ValueError(f"y_true, prob_a and prob_b must cover the same rows: lengths "
                         f"{len(y)}, {len(prob_a)}, {len(prob_b)}")
    accuracy = mcnemar((prob_a >= threshold) == y, (prob_b >= threshold) == y)
    auc = paired_bootstrap(y, prob_a, prob_b, roc_auc, strata=y, n_boot=n_boot, seed=seed)
    return ClassifierComparison(accuracy, auc)
