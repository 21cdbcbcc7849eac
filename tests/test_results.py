"""utils.results: goals, both forms of record(), the JSON-lines records the runner reads."""

from __future__ import annotations

import json
import sys
import types

import pytest

from tools.runner import read_records
from utils.results import Result, record


@pytest.fixture(autouse=True)
def _no_runner(monkeypatch):
    """As run by hand: no results file, notebook name or mode from a runner, and Keras not imported."""
    for name in ("COURSE_RESULTS_FILE", "COURSE_NOTEBOOK", "COURSE_FAST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)


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


def test_line_as_dict_and_back():
    ok = _result(0.91234, 0.9)
    assert ok.line() == "nb · m = 0.9123 (goal ≥ 0.9: met, full, n/a)"
    missed = _result(12.0, 10.0, higher=False)
    assert "goal ≤ 10: MISSED" in missed.line()
    assert _result(1.0, None).line() == "nb · m = 1 (full, n/a)"
    assert Result("", "m", 1.0, None, True, "fast").line() == "m = 1 (fast, n/a)"  # no notebook name known
    d = missed.as_dict()
    assert d == {"notebook": "nb", "metric": "m", "value": 12.0, "goal": 10.0,
                 "higher_is_better": False, "mode": "full", "backend": "n/a", "met": False}
    assert Result.from_dict({**d, "seconds": 3.0, "load": 0.1}) == missed


def test_record_appends_json_lines_and_prints(tmp_path, monkeypatch, capsys):
    target = tmp_path / "sub" / "records.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    monkeypatch.setenv("COURSE_NOTEBOOK", "01_ann")
    monkeypatch.delenv("COURSE_FAST", raising=False)
    r1 = record("accuracy", 0.87, 0.85)
    out1 = capsys.readouterr().out
    assert "01_ann" in out1 and "accuracy" in out1 and "met" in out1 and "MISSED" not in out1
    monkeypatch.setenv("COURSE_FAST", "1")
    r2 = record("loss", 0.5, goal=0.3, higher_is_better=False)
    out2 = capsys.readouterr().out
    assert "MISSED" in out2 and "fast" in out2
    assert r1.met is True and r2.met is False and r2.mode == "fast"
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert rows == [r1.as_dict(), r2.as_dict()]
    assert read_records(target) == rows


def test_new_form_takes_notebook_and_mode_from_the_runner(tmp_path, monkeypatch, capsys):
    target = tmp_path / "r.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    monkeypatch.setenv("COURSE_NOTEBOOK", "03_rnn")
    monkeypatch.setenv("COURSE_FAST", "1")
    r = record("test MSE", 2e-7, goal=1e-6, higher_is_better=False)
    assert (r.notebook, r.metric, r.mode, r.met) == ("03_rnn", "test MSE", "fast", True)
    assert capsys.readouterr().out.strip() == "03_rnn · test MSE = 2e-07 (goal ≤ 1e-06: met, fast, n/a)"
    assert record("baseline", 3.0).goal is None and record("with goal", 3.0, 2.0).goal == 2.0
    monkeypatch.setenv("COURSE_FAST", "0")
    assert record("m", 1.0).mode == "full"
    assert [row["notebook"] for row in read_records(target)] == ["03_rnn"] * 4


def test_run_by_hand_no_notebook_is_named(monkeypatch):
    monkeypatch.delenv("COURSE_NOTEBOOK", raising=False)
    assert record("m", 0.5, goal=0.4, higher_is_better=False).notebook == ""


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    (("m",), {}, "missing 1 required positional argument: 'value'"),
    (("nb", "m", 1.0, 0.5), {}, "takes from 2 to 3 positional arguments"),  # the removed form with the notebook name
    ((1.0, 2.0), {}, "takes the metric's name first"),
    (("m", 1.0, 0.5), {"goal": 0.5}, "multiple values for argument 'goal'"),
    (("m", 1.0), {"fast": True}, "unexpected keyword argument 'fast'"),  # the mode comes from the runner
])
def test_record_refuses_bad_calls(args, kwargs, match):
    with pytest.raises(TypeError, match=match):
        record(*args, **kwargs)


def test_record_without_results_file_only_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_NOTEBOOK", "nb")
    monkeypatch.delenv("COURSE_RESULTS_FILE", raising=False)
    r = record("m", 3, None)
    assert isinstance(r.value, float) and r.goal is None and r.met is None
    assert "nb · m = 3" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_record_rejects_non_finite(bad, tmp_path, monkeypatch):
    target = tmp_path / "r.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    with pytest.raises(ValueError, match="finite"):
        record("m", bad)
    assert not target.exists()


def test_read_records_missing_and_blank_lines(tmp_path):
    assert read_records(tmp_path / "nope.jsonl") == []
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert read_records(path) == [{"a": 1}, {"a": 2}]


def test_record_names_the_active_backend(tmp_path, monkeypatch, capsys):
    fake = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.setitem(sys.modules, "keras", fake)
    target = tmp_path / "r.jsonl"
    monkeypatch.setenv("COURSE_RESULTS_FILE", str(target))
    r = record("m", 1.0, 0.5)
    assert r.backend == "jax" and "jax" in capsys.readouterr().out
    assert read_records(target)[0]["backend"] == "jax"
    monkeypatch.delitem(sys.modules, "keras")
    assert record("m", 1.0).backend == "n/a"


def test_record_result_shows_no_repr_in_a_notebook():
    from IPython.core.formatters import format_display_data

    assert not hasattr(_result(1.0, None), "_repr_html_")
    assert _result(1.0, None)._ipython_display_() is None
    data, _ = format_display_data(_result(1.0, None))
    assert data == {}
