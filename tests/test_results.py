"""utils.results: goals, JSON-lines records, the Markdown results table."""

from __future__ import annotations

import json

import pytest

from utils.results import Result, markdown_table, read_records, record


def _result(value, goal, higher=True):
    return Result("nb", "m", value, goal, higher, "full")


@pytest.mark.parametrize(("value", "goal", "higher", "met"), [
    (0.9, 0.8, True, True),
    (0.8, 0.8, True, True),
    (0.7, 0.8, True, False),
    (0.1, 0.2, False, True),
    (0.2, 0.2, False, True),
    (0.3, 0.2, False, False),
    (0.3, None, True, None),
    (0.3, None, False, None),
])
def test_met(value, goal, higher, met):
    assert _result(value, goal, higher).met is met


def test_line_and_as_dict():
    ok = _result(0.91234, 0.9)
    assert "goal ≥ 0.9: met" in ok.line() and "0.9123" in ok.line()
    missed = _result(12.0, 10.0, higher=False)
    assert "goal ≤ 10: MISSED" in missed.line()
    assert "goal" not in _result(1.0, None).line()
    d = missed.as_dict()
    assert d == {"notebook": "nb", "metric": "m", "value": 12.0, "goal": 10.0,
                 "higher_is_better": False, "mode": "full", "backend": "n/a", "met": False}


def test_record_appends_json_lines_and_prints(tmp_path, monkeypatch, capsys):
    target = tmp_path / "sub" / "records.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    r1 = record("01_ann", "accuracy", 0.87, 0.85)
    out1 = capsys.readouterr().out
    assert "01_ann" in out1 and "accuracy" in out1 and "met" in out1 and "MISSED" not in out1
    r2 = record("01_ann", "loss", 0.5, 0.3, higher_is_better=False, fast=True)
    out2 = capsys.readouterr().out
    assert "MISSED" in out2 and "fast" in out2
    assert r1.met is True and r2.met is False and r2.mode == "fast"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    assert rows[0] == r1.as_dict() and rows[1] == r2.as_dict()
    assert read_records(target) == rows


def test_record_without_results_file_only_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_RESULTS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    r = record("nb", "m", 3, None)
    assert isinstance(r.value, float) and r.goal is None and r.met is None
    assert "nb · m = 3" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_record_rejects_non_finite(bad, tmp_path, monkeypatch):
    target = tmp_path / "r.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    with pytest.raises(ValueError, match="finite"):
        record("nb", "m", bad)
    assert not target.exists()


def test_read_records_missing_and_blank_lines(tmp_path):
    assert read_records(tmp_path / "nope.jsonl") == []
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert read_records(path) == [{"a": 1}, {"a": 2}]


def test_markdown_table():
    rows = [
        {**_result(0.91234, 0.9).as_dict(), "seconds": 90.0},
        {**_result(12.0, 10.0, higher=False).as_dict(), "seconds": 30},
        {**_result(1.5, None).as_dict()},
        {"notebook": "02_cnn", "metric": "FAILED", "value": None, "goal": None, "higher_is_better": True,
         "met": False, "mode": "fast", "seconds": 6.0, "error": "cell [3]: ValueError: x"},
    ]
    rows[0]["backend"] = "jax"
    table = markdown_table(rows).splitlines()
    assert table[0] == "| notebook | metric | value | goal | met? | minutes | mode | backend |"
    assert table[1] == "|---|---|---|---|---|---|---|---|"
    assert len(table) == 2 + len(rows)
    assert table[2] == "| nb | m | 0.9123 | ≥ 0.9 | yes | 1.5 | full | jax |"
    assert table[3] == "| nb | m | 12 | ≤ 10 | **no** | 0.5 | full | n/a |"
    assert table[4] == "| nb | m | 1.5 |  | – |  | full | n/a |"
    assert table[5] == "| 02_cnn | FAILED |  |  | **no** | 0.1 | fast | n/a |"
    assert markdown_table([]).count("\n") == 1


def test_record_names_the_active_backend(tmp_path, monkeypatch, capsys):
    import keras

    target = tmp_path / "r.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    r = record("nb", "m", 1.0, 0.5)
    assert r.backend == keras.backend.backend() and r.backend in capsys.readouterr().out
    assert read_records(target)[0]["backend"] == keras.backend.backend()


def test_record_result_shows_no_repr_in_a_notebook():
    from IPython.core.formatters import format_display_data

    assert not hasattr(_result(1.0, None), "_repr_html_")
    assert _result(1.0, None)._ipython_display_() is None
    data, _ = format_display_data(_result(1.0, None))
    assert data == {}
