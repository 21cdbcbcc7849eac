"""utils.benchmark: the per-backend timing table (synthetic rows, and one tiny notebook end to end)."""

from __future__ import annotations

import json

import nbformat

from utils import benchmark, course, runner


def _row(nb, backend, seconds, ok=True, missed=(), load=0.1):
    return {"notebook": nb, "backend": backend, "mode": "full", "seconds": seconds, "ok": ok,
            "error": None if ok else "cell [3]: ValueError: x", "missed": list(missed),
            "date": "2026-12-01T10:00:00+00:00", "load": load, "cpus": 2}


def test_summarise_picks_the_fastest_backend_that_met_its_goals():
    rows = [_row("a", "tensorflow", 120), _row("a", "jax", 60), _row("a", "torch", 30, missed=["accuracy"]),
            _row("b", "tensorflow", 100, ok=False), _row("b", "jax", 200)]
    a, b = benchmark.summarise(rows)
    assert a["fastest_good"] == "jax" and a["ratio_to_tensorflow"] == {"tensorflow": 1.0, "jax": 0.5, "torch": 0.25}
    assert a["minutes"]["tensorflow"] == 2.0
    assert b["fastest_good"] == "jax"
    assert benchmark.summarise([_row("c", "jax", 5, ok=False)])[0]["fastest_good"] is None


def test_a_goal_missed_on_every_backend_does_not_rule_them_all_out():
    rows = [_row("d", "tensorflow", 120, missed=["accuracy"]), _row("d", "jax", 60, missed=["accuracy"]),
            _row("d", "torch", 30, missed=["accuracy", "AUC"])]
    assert benchmark.summarise(rows)[0]["fastest_good"] == "jax"


def test_markdown_marks_failures_misses_and_load():
    rows = [_row("a", "tensorflow", 120), _row("a", "jax", 60, load=1.7),
            _row("a", "torch", 30, missed=["accuracy"]),
            _row("b", "tensorflow", 90, ok=False)]
    text = benchmark.markdown(rows, "full")
    line_a = next(line for line in text.splitlines() if line.startswith("| a |"))
    assert "2.0 (1.00×)" in line_a and "1.0 (0.50×) †" in line_a and "0.5 (0.25×) ○" in line_a
    assert "| jax |" in line_a
    assert "b on tensorflow: cell [3]" in text and "| **total** | 3.5 | 1.0 | 0.5 |" in text
    assert "| b | 1.5 (1.00×) ✗ |" in text
    assert "- a on torch: accuracy" in text
    assert "2 CPU core(s)" in text


def test_benchmark_runs_each_backend_and_keeps_other_rows(tmp_path, monkeypatch, repo_root):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for mod in (course, runner):
        monkeypatch.setattr(mod, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(benchmark, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(benchmark, "RESULTS_DIR", tmp_path / "results")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(repo_root)!r})", metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell("SEED = 42", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nfrom utils import record\n"
                                  "record('t', 'backend is jax', float(os.environ['KERAS_BACKEND'] == 'jax'), 1.0)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "t.ipynb")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "backends.json").write_text(json.dumps([_row("zz_other", "jax", 5)]))
    assert benchmark.main(["t", "--backends", "tensorflow", "jax"]) == 0
    rows = json.loads((tmp_path / "results" / "backends.json").read_text())
    mine = {r["backend"]: r for r in rows if r["notebook"] == "t"}
    assert set(mine) == {"tensorflow", "jax"} and all(r["ok"] for r in mine.values())
    assert mine["jax"]["missed"] == [] and mine["tensorflow"]["missed"] == ["backend is jax"]
    assert any(r["notebook"] == "zz_other" for r in rows)
    assert "| t |" in (tmp_path / "results" / "backends.md").read_text()
