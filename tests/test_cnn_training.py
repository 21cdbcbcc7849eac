"""utils.cnn_training: the training loop with validation curves, the schedule, mirrored predictions, the search log."""

from __future__ import annotations

import json

import numpy as np
import pytest

from utils.cnn_training import load_search, predict_mirrored, run_search, train_classifier, warmup_cosine

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_warmup_cosine_rises_then_falls_to_zero():
    schedule = warmup_cosine(0.01, total_steps=100, warmup_steps=10)
    lr = [float(keras.ops.convert_to_numpy(schedule(s))) for s in (0, 5, 10, 55, 100)]
    assert lr[0] == pytest.approx(0.0) and lr[1] == pytest.approx(0.005)
    assert lr[2] == pytest.approx(0.01) and lr[3] == pytest.approx(0.005) and lr[4] == pytest.approx(0.0, abs=1e-9)
    plain = warmup_cosine(0.01, total_steps=100)
    assert float(keras.ops.convert_to_numpy(plain(0))) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_cosine(0.01, total_steps=10, warmup_steps=10)


def _bright_or_dark(n=64, size=8, seed=0):
    """Class 1: bright images, class 0: dark ones, with noise: a task a tiny CNN learns in a few epochs."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.integers(0, 60, (n, size, size, 3)) + 150 * labels[:, None, None, None]
    return images.astype(np.uint8), labels


def _tiny_cnn(size=8):
    return keras.Sequential([keras.Input((size, size, 3)), keras.layers.Rescaling(1 / 255),
                             keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")])


def test_train_classifier_curves_and_cost():
    keras.utils.set_random_seed(0)
    x, y = _bright_or_dark()
    lines = []
    run = train_classifier(_tiny_cnn(), x, y, epochs=8, learning_rate=0.05, seed=1, batch_size=16,
                           warmup_epochs=1, validation=_bright_or_dark(seed=1), every=4, print_fn=lines.append)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 8 for v in run.history.values())
    assert run.history["val_accuracy"][-1] > 0.9            # it learned the task, measured on held-out images
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert len(lines) == 2 and lines[-1].startswith("epoch   8/8")
    assert run.cpu_seconds > 0 and run.minutes_on_two_cores == pytest.approx(run.cpu_seconds / 120)


def test_train_classifier_adamw_without_validation():
    x, y = _bright_or_dark(n=16)
    model = _tiny_cnn()
    run = train_classifier(model, x, y, epochs=1, learning_rate=1e-3, seed=0, weight_decay=0.01, augment=None)
    assert set(run.history) == {"loss", "accuracy"}
    assert isinstance(model.optimizer, keras.optimizers.AdamW)


def test_predict_mirrored_is_mirror_invariant():
    keras.utils.set_random_seed(0)
    model = _tiny_cnn()
    x, _ = _bright_or_dark(n=4)
    p = predict_mirrored(model, x)
    assert p.shape == (4,) and np.all((p > 0) & (p < 1))
    assert np.allclose(p, predict_mirrored(model, x[:, :, ::-1]), atol=1e-6)


def test_run_search_saves_and_resumes(tmp_path):
    path = tmp_path / "search.json"
    calls = []

    def run_one(config):
        calls.append(config)
        return {"score": config["size"] / 100}

    entries = run_search([{"size": 64}, {"size": 96, "filters": (16, 32)}], run_one, path)
    assert [e["score"] for e in entries] == [0.64, 0.96] and len(calls) == 2
    assert json.loads(path.read_text())[1]["config"] == {"size": 96, "filters": [16, 32]}
    entries = run_search([{"size": 96, "filters": (16, 32)}, {"size": 128}], run_one, path)  # one new config
    assert len(calls) == 3 and [e["config"]["size"] for e in entries] == [64, 96, 128]
    assert load_search(path) == entries


def test_search_file_errors(tmp_path):
    assert load_search(tmp_path / "missing.json") == []
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    with pytest.raises(ValueError, match="not a search file"):
        load_search(bad)
    with pytest.raises(ValueError, match="config"):
        run_search([{"a": 1}], lambda c: {"config": 2}, tmp_path / "s.json")
