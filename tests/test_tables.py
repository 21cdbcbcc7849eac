"""tools.tables: the results page, the notebook-time table, the backends table, the newest-releases page and
README's topic table (checked against the committed results)."""

from __future__ import annotations

import json

import pytest

from tools import course, tables
from utils.results import Result


def _result(value, goal, higher=True):
    return Result("nb", "m", value, goal, higher, "full")


def test_results_table():
    rows = [
        {**_result(0.91234, 0.9).as_dict(), "seconds": 90.0},
        {**_result(12.0, 10.0, higher=False).as_dict(), "seconds": 30},
        {**_result(1.5, None).as_dict()},
        {"notebook": "02_cnn", "metric": "FAILED", "value": None, "goal": None, "higher_is_better": True,
         "met": False, "mode": "fast", "seconds": 6.0, "error": "cell [3]: ValueError: x"},
        {**_result(2.0, None).as_dict(), "metric": "a|b\nc"},
    ]
    rows[0]["backend"] = "jax"
    table = tables.results_table(rows).splitlines()
    assert table[0] == "| notebook | metric | value | goal | met? | minutes | mode | backend |"
    assert table[1] == "|---|---|---|---|---|---|---|---|"
    assert len(table) == 2 + len(rows)
    assert table[2] == "| nb | m | 0.9123 | ≥ 0.9 | yes | 1.5 | full | jax |"
    assert table[3] == "| nb | m | 12 | ≤ 10 | **no** | 0.5 | full | n/a |"
    assert table[4] == "| nb | m | 1.5 |  | – |  | full | n/a |"
    assert table[5] == "| 02_cnn | FAILED |  |  | **no** | 0.1 | fast | n/a |"
    assert table[6].startswith("| nb | a\\|b / c | 2 |")  # neither a bar nor a line break ends the row
    assert tables.results_table([]).count("\n") == 1


def test_time_table_totals_and_marks_load():
    rows = [{"notebook": "a", "backend": "jax", "seconds": 60.0, "load": 0.1, "date": "2026-12-01T10:00"},
            {"notebook": "a", "backend": "jax", "seconds": 60.0, "load": 0.1, "date": "2026-12-01T10:00"},
            {"notebook": "b", "backend": "tensorflow", "seconds": 30.0, "load": 1.9, "date": "2026-12-01T11:00"}]
    table = tables.time_table(rows).splitlines()
    assert table[2] == "| a | jax | 1.0 | 0.1 | 2026-12-01 |"
    assert table[3] == "| b | tensorflow | 0.5 | 1.9 (under load) | 2026-12-01 |"
    assert table[4] == "| **total** | | **1.5** | | |"


def test_time_summary_tells_one_run_from_several_and_names_load():
    one = [{"notebook": n, "seconds": 60.0, "load": 0.0, "run": "2026-12-01T10:00:00+00:00"} for n in "ab"]
    assert tables.time_summary(one) == ("All 2 notebook(s) ran one after another in one run of the runner, "
                                        "started 2026-12-01T10:00:00+00:00: 2.0 minutes of notebook time.")
    several = [one[0], {**one[1], "run": "2026-12-02T08:00:00+00:00"}]
    assert tables.time_summary(several).startswith("These times come from 2 separate runs")
    assert "was not measured in one run" in tables.time_summary([{**one[0], "run": ""}])  # rows from older runners
    loaded = [one[0], {**one[1], "load": 1.2}]
    text = tables.time_summary(loaded)
    assert text.startswith("All 2") and text.endswith("Taken under load: b; the total is not the course's time on "
                                                      "an idle machine.")
    assert tables.time_summary([]) == ""


def test_results_page_holds_both_tables():
    rows = [{**_result(1.0, 0.5).as_dict(), "seconds": 60.0, "load": 0.0, "date": "2026-12-01", "run": "r"}]
    page = tables.results_page(rows, "Course results (full mode)", 2)
    assert page.startswith("# Course results (full mode)\n\n| notebook | metric |")
    assert "on 2 CPU core(s)" in page and "| **total** | | **1.0** | | |" in page


def _row(nb, backend, seconds, ok=True, missed=(), load=0.1):
    return {"notebook": nb, "backend": backend, "mode": "full", "seconds": seconds, "ok": ok,
            "error": None if ok else "cell [3]: ValueError: x\n  - https://example.org/x", "missed": list(missed),
            "date": "2026-12-01T10:00:00+00:00", "load": load, "cpus": 2}


def test_backend_summary_picks_the_fastest_backend_that_met_its_goals():
    rows = [_row("a", "tensorflow", 120), _row("a", "jax", 60), _row("a", "torch", 30, missed=["accuracy"]),
            _row("b", "tensorflow", 100, ok=False), _row("b", "jax", 200)]
    a, b = tables.backend_summary(rows)
    assert a["fastest_good"] == "jax" and a["ratio_to_tensorflow"] == {"tensorflow": 1.0, "jax": 0.5, "torch": 0.25}
    assert a["minutes"]["tensorflow"] == 2.0
    assert b["fastest_good"] == "jax"
    assert tables.backend_summary([_row("c", "jax", 5, ok=False)])[0]["fastest_good"] is None


def test_a_goal_missed_on_every_backend_does_not_rule_them_all_out():
    rows = [_row("d", "tensorflow", 120, missed=["accuracy"]), _row("d", "jax", 60, missed=["accuracy"]),
            _row("d", "torch", 30, missed=["accuracy", "AUC"])]
    assert tables.backend_summary(rows)[0]["fastest_good"] == "jax"


def test_backends_page_marks_failures_misses_and_load():
    rows = [_row("a", "tensorflow", 120), _row("a", "jax", 60, load=1.7),
            _row("a", "torch", 30, missed=["accuracy"]),
            _row("b", "tensorflow", 90, ok=False)]
    text = tables.backends_page(rows, "full")
    line_a = next(line for line in text.splitlines() if line.startswith("| a |"))
    assert "2.0 (1.00×)" in line_a and "1.0 (0.50×) †" in line_a and "0.5 (0.25×) ○" in line_a
    assert "| jax |" in line_a
    assert "- b on tensorflow: cell [3]: ValueError: x / - https://example.org/x" in text  # one bullet, whole
    assert "| **total** | 3.5 | 1.0 | 0.5 |" in text
    assert "| b | 1.5 (1.00×) ✗ |" in text
    assert "- a on torch: accuracy" in text
    assert "2 CPU core(s)" in text


def test_latest_page_lists_versions_and_verdicts_per_backend():
    report = {"date": "2026-12-03T10:00:00+00:00", "backends": ["default", "torch"], "python": "3.11.7",
              "versions": {"keras": "3.16.0"}, "pinned": {"keras": "3.15.1"},
              "notebooks": {"01_a": {"default": "passed", "torch": "passed"},
                            "02_b": {"default": "passed", "torch": "failed: cell [3]: X | y"}}}
    page = tables.latest_page(report)
    assert "| keras | 3.16.0 | 3.15.1 |" in page and "| notebook | default backend | torch |" in page
    assert "| 01_a | passed | passed |" in page and "| 02_b | passed | failed: cell [3]: X \\| y |" in page
    assert "each on its default backend (its setup cell's) and on torch" in page
    assert "Default backend: 2 of 2 notebook(s) passed." in page and "Torch: 1 of 2 notebook(s) passed." in page
    assert "stopped" not in page and "The lane stopped: pip / failed" in tables.latest_page({**report, "error": "pip\nfailed"})


def test_topics_table_comes_from_the_results():
    rows = [{**Result("01_ann_churn", "test accuracy", 0.858, 0.865, True, "full").as_dict()},
            {**Result("01_ann_churn", "majority class", 0.797, None, True, "full").as_dict()},
            {"notebook": "02_cnn_cats_vs_dogs", "metric": "FAILED", "value": None, "goal": None}]
    table = tables.topics_table(rows).splitlines()
    assert len(table) == 2 + len(course.TOPICS)
    assert "test accuracy 0.858 (goal ≥ 0.865: **missed**); majority class 0.797" in table[2]
    assert "| ANN | Bank customer churn |" in table[2] and course.colab_badge("01_ann_churn") in table[2]
    assert "**failed** in the last full run" in table[3] and table[4].split("|")[5].strip() == "–"
    readme = f"intro\n{tables.TOPICS_BEGIN}\nold table\n{tables.TOPICS_END}\nrest\n"
    new = tables.with_topics_table(readme, rows)
    assert new.startswith("intro\n") and new.endswith(f"{tables.TOPICS_END}\nrest\n") and "old table" not in new
    assert tables.with_topics_table(new, rows) == new
    with pytest.raises(ValueError, match="no generated topics table"):
        tables.with_topics_table("no markers", rows)


def test_readme_command_writes_and_checks(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.json").write_text(json.dumps([Result("03_rnn", "mse", 1e-7, 1e-6, False, "full").as_dict()]))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n{tables.TOPICS_BEGIN}\n{tables.TOPICS_END}\n")
    args = ["readme", "--readme", str(readme), "--results", str(results)]
    assert tables.main([*args, "--check"]) == 1
    assert tables.main(args) == 0 and "mse 1e-07 (goal ≤ 1e-06: met)" in readme.read_text()
    assert tables.main([*args, "--check"]) == 0
    readme.write_text("# no markers\n")
    assert tables.main(args) == 1 and "no generated topics table" in capsys.readouterr().err


def test_readme_topics_table_is_current(repo_root):
    """Once README carries the generated table, it must match results/results.json."""
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    if tables.TOPICS_BEGIN not in text:
        pytest.skip("README has no generated topics table yet (see tools/tables.py)")
    rows = json.loads((repo_root / "results" / "results.json").read_text(encoding="utf-8"))
    assert tables.with_topics_table(text, rows) == text, "README's topic table is stale: python -m tools.tables readme"
