"""Unit tests for utils.paired_tests (synthetic predictions; no data needed)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from utils.paired_tests import compare_classifiers, mcnemar, paired_bootstrap, paired_mean_difference, roc_auc


def test_mcnemar_counts_discordant_rows_and_matches_the_binomial_by_hand():
    # 10 rows only A gets right, 2 only B, 88 both or neither
    a = np.array([True] * 10 + [False] * 2 + [True] * 50 + [False] * 38)
    b = np.array([False] * 10 + [True] * 2 + [True] * 50 + [False] * 38)
    result = mcnemar(a, b)
    assert (result.only_a, result.only_b, result.n) == (10, 2, 100)
    assert result.difference == pytest.approx(0.08)
    # two-sided exact: 2 * P(X >= 10) for X ~ Binomial(12, 1/2) = 2 * (66 + 12 + 1) / 4096
    assert result.p_value == pytest.approx(2 * 79 / 4096)
    assert result.significant() and not result.significant(level=0.01)
    assert "McNemar p = 0.0386" in result.line("net", "trees")


def test_mcnemar_without_discordant_rows_finds_no_difference():
    same = np.array([1, 0, 1, 1, 0])
    result = mcnemar(same, same)
    assert result.p_value == 1.0 and result.difference == 0.0 and not result.significant()


def test_mcnemar_rejects_other_rows_and_scores():
    with pytest.raises(ValueError, match="same rows"):
        mcnemar([True, False], [True, False, True])
    with pytest.raises(ValueError, match="must be booleans"):
        mcnemar([0.7, 0.2], [1, 0])
    with pytest.raises(ValueError, match="one entry per test row"):
        mcnemar([], [])


def test_paired_bootstrap_of_identical_models_is_exactly_zero():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 200), rng.random(200)
    result = paired_bootstrap(y, p, p, roc_auc, n_boot=200)
    assert result.estimate == 0.0 and result.low == 0.0 and result.high == 0.0
    assert result.p_value == 1.0 and not result.significant()
    assert result.line().endswith("p = 1)")


def test_paired_bootstrap_finds_a_clearly_better_model():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    good = y + rng.normal(0, 0.5, 400)
    noise = rng.random(400)
    result = paired_bootstrap(y, good, noise, roc_auc, strata=y, n_boot=300, seed=2)
    assert result.estimate == pytest.approx(roc_auc_score(y, good) - roc_auc_score(y, noise))
    assert result.low > 0.2 and result.significant()
    assert result.p_value == pytest.approx(2 / 301)  # no resample crosses 0: the smallest p it can report
    assert result.line("good", "noise", "ROC-AUC").endswith("p <= 0.0066)")


def test_pairing_makes_a_small_shared_difference_visible():
    # two classifiers that agree on every row but 6: A is right on all 6. The standard error of one
    # accuracy on 1,000 rows is about 0.016, far above the 0.006 gap, yet the pairing sees that B never wins.
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000)
    pred_b = np.where(rng.random(1000) < 0.8, y, 1 - y)
    flip = np.flatnonzero(pred_b != y)[:6]
    pred_a = pred_b.copy()
    pred_a[flip] = y[flip]
    result = paired_bootstrap(y, pred_a, pred_b, lambda t, p: np.mean(t == p), n_boot=500)
    assert result.estimate == pytest.approx(0.006)
    assert 0 < result.low <= result.high <= 0.012 and result.significant()
    assert mcnemar(pred_a == y, pred_b == y).p_value == pytest.approx(2 / 2**6)


def test_paired_bootstrap_is_reproducible_and_strata_keep_the_classes():
    y = np.array([1, 1] + [0] * 18)
    rng = np.random.default_rng(4)
    p_a, p_b = rng.random(20), rng.random(20)
    first = paired_bootstrap(y, p_a, p_b, roc_auc, strata=y, n_boot=200, seed=5)
    assert first == paired_bootstrap(y, p_a, p_b, roc_auc, strata=y, n_boot=200, seed=5)
    # without strata some resamples hold no positive, and ROC-AUC is undefined there
    with pytest.raises(ValueError, match="strata=y_true"):
        paired_bootstrap(y, p_a, p_b, roc_auc, n_boot=200, seed=5)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_boot": 10}, "n_boot must be at least 100"),
    ({"confidence": 1.0}, "confidence must be in"),
    ({"strata": np.zeros(3)}, "strata needs one label per row"),
])
def test_paired_bootstrap_rejects_bad_settings(kwargs, message):
    y, p = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8])
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(y, p, p, roc_auc, **kwargs)


def test_paired_bootstrap_rejects_other_rows():
    with pytest.raises(ValueError, match="same rows: lengths 4, 4, 3"):
        paired_bootstrap([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [0.1, 0.9, 0.2], roc_auc)


def test_paired_mean_difference_of_per_unit_scores():
    a = np.array([0.2, 0.3, 0.1, 0.4] * 25)
    b = a + 0.05
    result = paired_mean_difference(a, b, n_boot=200)
    assert result.estimate == pytest.approx(-0.05)
    assert result.low == pytest.approx(-0.05) and result.high == pytest.approx(-0.05) and result.significant()
    with pytest.raises(ValueError, match="same units"):
        paired_mean_difference(a, b[:-1])
    with pytest.raises(ValueError, match="finite"):
        paired_mean_difference(np.array([0.1, np.nan]), np.array([0.1, 0.2]))


def test_roc_auc_equals_scikit_learn_with_ties_and_is_nan_for_one_class():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + 0.3 * y, 1)  # rounding makes many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert roc_auc([1, 0, 1], [0.9, 0.1, 0.4]) == 1.0
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_compare_classifiers_runs_both_paired_tests_on_the_same_rows():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 500)
    prob_a = np.clip(0.5 * y + rng.normal(0.25, 0.25, 500), 0, 1)
    prob_b = rng.random(500)
    result = compare_classifiers(y, prob_a, prob_b, n_boot=200)
    assert result.accuracy == mcnemar((prob_a >= 0.5) == y, (prob_b >= 0.5) == y)
    assert result.roc_auc.estimate == pytest.approx(roc_auc_score(y, prob_a) - roc_auc_score(y, prob_b))
    row = result.row()
    assert row["McNemar p"] < 0.05 and row["interval low"] > 0 and set(row) >= {"accuracy A - B", "bootstrap p"}
    # the threshold moves the accuracy test only
    assert compare_classifiers(y, prob_a, prob_b, threshold=0.9, n_boot=200).roc_auc == result.roc_auc


def test_compare_classifiers_checks_labels_and_rows():
    with pytest.raises(ValueError, match="0/1 labels"):
        compare_classifiers([0, 2, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    with pytest.raises(ValueError, match="same rows"):
        compare_classifiers([0, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.2])
