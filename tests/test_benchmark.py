"""tools.benchmark: one tiny notebook on two backends, end to end (its tables: test_tables.py)."""

from __future__ import annotations

import json

import nbformat
import pytest

from tools import benchmark


def _row(nb, backend, seconds):
    return {"notebook": nb, "backend": backend, "mode": "full", "seconds": seconds, "ok": True, "error": None,
            "missed": [], "date": "2026-12-01T10:00:00+00:00", "load": 0.1, "cpus": 2}


@pytest.mark.processes
def test_benchmark_runs_each_backend_and_keeps_other_rows(tmp_path, repo_root):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(repo_root)!r})", metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell("SEED = 42", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nfrom utils import record\n"
                                  "record('backend is jax', float(os.environ['KERAS_BACKEND'] == 'jax'), 1.0)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "t.ipynb")
    results = tmp_path / "results"
    results.mkdir()
    (results / "backends.json").write_text(json.dumps([_row("zz_other", "jax", 5)]))
    argv = ["t", "--backends", "tensorflow", "jax", "--notebooks", str(folder), "--build", str(tmp_path / "build"),
            "--results", str(results)]
    assert benchmark.main(argv) == 0
    rows = json.loads((results / "backends.json").read_text())
    mine = {r["backend"]: r for r in rows if r["notebook"] == "t"}
    assert set(mine) == {"tensorflow", "jax"} and all(r["ok"] for r in mine.values())
    assert mine["jax"]["missed"] == [] and mine["tensorflow"]["missed"] == ["backend is jax"]
    assert any(r["notebook"] == "zz_other" for r in rows)
    assert "| t |" in (results / "backends.md").read_text()
