"""tools.latest: the newest-releases lane's requirements, verdicts and page (the lane itself: make test-latest)."""

from __future__ import annotations

import pytest

from tools import latest


def test_the_lane_unpins_exactly_keras_and_the_backends(repo_root):
    text, pins = latest.latest_requirements((repo_root / "requirements.txt").read_text())
    assert set(latest.NEWEST) <= set(pins) and pins["numpy"] and all(pins.values())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    unpinned = {latest._name(line) for line in lines if "==" not in line}
    assert unpinned == set(latest.NEWEST)
    assert "jax[cpu]" in lines and "numpy==" in text  # extras kept, the rest pinned


def test_a_requirements_file_without_a_backend_pin_is_refused():
    with pytest.raises(ValueError, match="torch"):
        latest.latest_requirements("keras==3\ntensorflow-cpu==2\njax[cpu]==0.1  # comment\nnumpy==2\n")


def test_verdicts_per_notebook():
    rows = [{"notebook": "01_a", "metric": "acc"}, {"notebook": "01_a", "metric": "auc"},
            {"notebook": "02_b", "metric": "FAILED", "error": "cell [4]: ImportError: no module x\nmore"},
            {"notebook": "03_c", "metric": "(no metric recorded)"}]
    assert latest.verdicts(rows) == {"01_a": "passed", "02_b": "failed: cell [4]: ImportError: no module x",
                                     "03_c": "passed"}


def test_a_run_on_one_backend_keeps_the_verdicts_of_the_others(tmp_path):
    import json

    from tools import tables

    versions = {"keras": "3.16.0"}
    old = {"date": "2026-12-01T09:00:00+00:00", "backends": ["default"], "versions": versions,
           "notebooks": {"01_a": {"default": "passed"}, "02_b": {"default": "failed: x"}}}
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(old))
    new = {"date": "2026-12-03T09:00:00+00:00", "backends": ["torch"], "versions": versions,
           "notebooks": {"01_a": {"torch": "passed"}}}
    merged = latest.merged_with_previous(new, path)
    assert merged["backends"] == ["default", "torch"]
    assert merged["notebooks"] == {"01_a": {"default": "passed", "torch": "passed"}, "02_b": {"default": "failed: x"}}
    assert merged["dates"] == {"default": old["date"], "torch": new["date"]}
    assert "2026-12-01 (default) and 2026-12-03 (torch)" in tables.latest_page(merged)
    assert "| 02_b | failed: x | not run |" in tables.latest_page(merged)
    assert latest.merged_with_previous({**new, "versions": {"keras": "3.17.0"}}, path)["backends"] == ["torch"]
    assert latest.merged_with_previous(new, tmp_path / "none.json") == new
