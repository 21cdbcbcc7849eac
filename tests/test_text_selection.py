"""utils.text (reading, cleaning and cutting reviews) and utils.selection (choosing configurations over seeds)."""

import numpy as np
import pytest

from utils.selection import Choice, choose, clearly_better, paired_difference, spread
from utils.text import clean_review, head_and_tail, read_reviews


def write_reviews(root, counts):
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            (root / name / f"{i}_5.txt").write_text(f"{name} review {i}", encoding="utf-8")


def test_read_reviews_labels_follow_folders(tmp_path):
    write_reviews(tmp_path, {"neg": 3, "pos": 2})
    texts, labels = read_reviews(tmp_path, None, np.random.default_rng(0))
    assert len(texts) == 5 and labels.dtype == np.int32
    for text, label in zip(texts, labels):
        assert text.startswith("pos" if label == 1 else "neg")
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1]


def test_read_reviews_per_class_draws_without_repeats(tmp_path):
    write_reviews(tmp_path, {"neg": 10, "pos": 10})
    texts, labels = read_reviews(tmp_path, 4, np.random.default_rng(1))
    assert labels.tolist().count(0) == 4 and labels.tolist().count(1) == 4
    assert len(set(texts)) == 8
    again, _ = read_reviews(tmp_path, 4, np.random.default_rng(1))
    assert again == texts  # the same generator state draws the same reviews in the same order


def test_read_reviews_errors(tmp_path):
    write_reviews(tmp_path, {"neg": 2})
    with pytest.raises(FileNotFoundError, match="pos"):
        read_reviews(tmp_path, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="per_class"):
        read_reviews(tmp_path, 0, np.random.default_rng(0))


def test_clean_review():
    assert clean_review("Great<br />film, isn't it? 10/10!").split() == ["great", "film", "isn't", "it", "10", "10"]


def test_head_and_tail_cuts_and_pads():
    assert head_and_tail(np.arange(1, 11), 6, 2).tolist() == [1, 2, 7, 8, 9, 10]
    assert head_and_tail(np.arange(1, 11), 6, 3).tolist() == [1, 2, 3, 8, 9, 10]
    assert head_and_tail(np.arange(1, 11), 6, 0).tolist() == [5, 6, 7, 8, 9, 10]
    assert head_and_tail(np.array([5, 6, 0, 0]), 4, 1).tolist() == [5, 6, 0, 0]  # padding is dropped, then re-added
    with pytest.raises(ValueError, match="head"):
        head_and_tail(np.arange(1, 11), 6, 7)


def test_paired_difference():
    mean, se = paired_difference([0.8, 0.9, 0.7], [0.7, 0.8, 0.7])
    assert mean == pytest.approx(2 / 30)
    assert se == pytest.approx(np.std([0.1, 0.1, 0.0], ddof=1) / np.sqrt(3))
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference([0.8, 0.9], [0.7, 0.8, 0.7])
    with pytest.raises(ValueError, match="at least 2 seed"):
        paired_difference([0.8], [0.7])


def test_clearly_better_needs_more_than_seed_noise():
    assert clearly_better([0.85, 0.86, 0.87], [0.80, 0.81, 0.82])  # ahead by 0.05 with every seed
    assert not clearly_better([0.86, 0.80, 0.85], [0.80, 0.84, 0.82])  # ahead on average, behind with one seed
    assert not clearly_better([0.80, 0.81, 0.82], [0.85, 0.86, 0.87])
    assert not clearly_better([0.8, 0.8], [0.8, 0.8])
    with pytest.raises(ValueError, match="level"):
        clearly_better([0.8, 0.9], [0.7, 0.8], level=1.5)


def test_spread():
    assert spread([0.82, 0.85, 0.80]) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="finite"):
        spread([0.8, float("nan")])


def test_choose_keeps_the_simplest_unless_the_best_is_clearly_better():
    noisy = {"simple": [0.84, 0.86, 0.82], "complex": [0.86, 0.83, 0.86]}
    choice = choose(noisy, simplest_first=["simple", "complex"])
    assert isinstance(choice, Choice)
    assert choice.best == "complex" and choice.chosen == "simple" and not choice.difference_is_clear
    assert "complex has the higher mean" in choice.describe() and "simple is the simpler" in choice.describe()
    clear = {"simple": [0.80, 0.81, 0.82], "complex": [0.85, 0.86, 0.87]}
    assert choose(clear, simplest_first=["simple", "complex"]).chosen == "complex"
    assert choose(clear).difference_is_clear and "clearly better" in choose(clear).describe()
    assert choose(noisy, simplest_first=["complex", "simple"]).chosen == "complex"
    assert choose(noisy).means["simple"] == pytest.approx(0.84)


def test_choose_without_an_order_keeps_the_highest_mean():
    noisy = {"simple": [0.84, 0.86, 0.82], "complex": [0.86, 0.83, 0.86]}
    choice = choose(noisy)
    assert choice.chosen == "complex" == choice.best and choice.tied_with_best == ("simple", "complex")
    assert "not clearly better than simple" in choice.describe()


def test_choose_compares_fixed_models_example_by_example():
    rng = np.random.default_rng(0)
    truth_a = (rng.random(2_000) < 0.86).astype(float)  # 1 = correct prediction on that example
    truth_b = truth_a.copy()
    truth_b[np.flatnonzero(truth_a)[:80]] = 0.0  # b is wrong on 80 examples a gets right: 4 points worse
    assert clearly_better(truth_a, truth_b)
    assert choose({"b": truth_b, "a": truth_a}, simplest_first=["b", "a"]).chosen == "a"


def test_choose_errors():
    with pytest.raises(ValueError, match="two configurations"):
        choose({"a": [0.8, 0.9]})
    with pytest.raises(ValueError, match="same seeds"):
        choose({"a": [0.8, 0.9], "b": [0.8, 0.9, 0.7]})
    with pytest.raises(ValueError, match="each configuration once"):
        choose({"a": [0.8, 0.9], "b": [0.8, 0.9]}, simplest_first=["a", "c"])


def test_one_seed_shows_no_clear_difference():
    assert not clearly_better([0.9], [0.5])
    choice = choose({"simple": [0.70], "complex": [0.90]}, simplest_first=["simple", "complex"])
    assert choice.best == "complex" and choice.chosen == "simple"
    assert spread([0.8]) == 0.0
