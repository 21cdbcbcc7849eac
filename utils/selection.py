"""Choosing between model configurations, and comparing models, with paired scores.

On a small data set a neural model's validation score moves with the seed (initial weights, dropout masks, batch
order) by about as much as configurations differ. So every configuration is trained once per seed, with the same
seeds for all, and two configurations are compared seed by seed: a *paired* comparison. The same functions compare
two fixed models example by example (``scores`` = 1 for a correct prediction, 0 for a wrong one, on the same examples).

* :func:`paired_difference` gives the mean paired difference and its standard error;
* :func:`clearly_better` says whether that difference is significant (a paired t-test, one-sided, 5 %);
* :func:`choose` keeps the configuration with the highest mean or, given an order from simplest, the simplest one
  that is not clearly worse than the best (in the spirit of the "one standard error" rule of Hastie, Tibshirani and
  Friedman, *The Elements of Statistical Learning*, section 7.10);
* :func:`spread` is the seed-to-seed range of one configuration's scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def _scores(name: str, values: Sequence[float], min_seeds: int = 1) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or len(a) < min_seeds:
        raise ValueError(f"{name}: need one score per seed for at least {min_seeds} seed(s), got {values!r}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: scores must be finite numbers, got {values!r}")
    return a


def paired_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean of ``a[i] - b[i]`` over seeds and its standard error (``a`` and ``b`` scored with the same seeds)."""
    a, b = _scores("a", a, min_seeds=2), _scores("b", b, min_seeds=2)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold one score per seed for the same seeds, got {len(a)} and {len(b)} scores")
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def clearly_better(a: Sequence[float], b: Sequence[float], level: float = 0.05) -> bool:
    """True when ``a`` beats ``b`` by more than seed noise explains: a one-sided paired t-test at ``level``.

    With one seed there is no measure of the noise, so nothing counts as clearly better.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if len(_scores("a", a)) == 1 and len(_scores("b", b)) == 1:
        return False
    mean, se = paired_difference(a, b)
    if mean <= 0:
        return False
    if se == 0:  # every seed gives the same positive difference
        return True
    return bool(mean / se > stats.t.ppf(1 - level, len(a) - 1))


def spread(scores: Sequence[float]) -> float:
    """Seed-to-seed spread of one configuration's scores: the largest minus the smallest."""
    a = _scores("scores", scores)
    return float(a.max() - a.min())


@dataclass(frozen=True)
class Choice:
    """The outcome of :func:`choose`."""

    chosen: str  # the configuration kept
    best: str  # the configuration with the highest mean score
    means: dict[str, float]
    tied_with_best: tuple[str, ...]  # configurations the best one is not clearly better than (the best included)

    @property
    def difference_is_clear(self) -> bool:
        """Whether the best configuration is clearly better than every other one."""
        return self.tied_with_best == (self.best,)

    def describe(self) -> str:
        """One sentence saying which configuration is kept and why."""
        if self.difference_is_clear:
            return f"{self.chosen} kept: clearly better than the other configurations"
        others = ", ".join(name for name in self.tied_with_best if name != self.best)
        if self.chosen == self.best:
            return (f"{self.chosen} kept: the highest mean, but not clearly better than {others} "
                    "(the difference is within the noise)")
        return (f"{self.chosen} kept: {self.best} has the higher mean, but is not clearly better (the difference is "
                f"within the noise), and {self.chosen} is the simpler")


def choose(scores: Mapping[str, Sequence[float]], simplest_first: Sequence[str] | None = None,
           level: float = 0.05) -> Choice:
    """Choose a configuration from paired scores: one per seed (or per validation example), the same for all.

    Without ``simplest_first`` the configuration with the highest mean is kept. With it, the first configuration in
    that order that the best one does not clearly beat is kept: a more complex configuration has to earn its place.
    With a single score each nothing is clearly better.
    """
    if len(scores) < 2:
        raise ValueError(f"need at least two configurations to choose from, got {list(scores)}")
    arrays = {name: _scores(name, values) for name, values in scores.items()}
    if len({len(a) for a in arrays.values()}) != 1:
        raise ValueError("every configuration needs one score per seed for the same seeds; got "
                         + ", ".join(f"{name}: {len(a)}" for name, a in arrays.items()))
    order = list(simplest_first) if simplest_first is not None else list(arrays)
    if sorted(order) != sorted(arrays):
        raise ValueError(f"simplest_first must list each configuration once: {sorted(arrays)}, got {order}")
    means = {name: float(a.mean()) for name, a in arrays.items()}
    best = max(order, key=lambda name: means[name])  # on a tie of means, the first listed
    tied = tuple(name for name in order if name == best or not clearly_better(arrays[best], arrays[name], level))
    chosen = tied[0] if simplest_first is not None else best
    return Choice(chosen=chosen, best=best, means=means, tied_with_best=tied)
