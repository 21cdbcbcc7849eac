"""tools.runner: executing notebooks, failures reported whole, interruption by a real Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tools import runner


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_python3_kernel_is_this_interpreter():
    from jupyter_client.kernelspec import KernelSpecManager

    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    names = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    # jupyter_client replaces these bare names with sys.executable
    assert argv0 in names or Path(argv0).resolve() == Path(sys.executable).resolve(), argv0


def test_clean_for_commit(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("SEED = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("SEED = 2", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(SEED)", metadata={"execution": {"iopub.status.busy": "t"}, "tags": ["keep"]}),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    runner.clean_for_commit(path)
    cleaned = nbformat.read(path, as_version=4)
    assert [c.source for c in cleaned.cells] == ["SEED = 1", "print(SEED)"]
    assert cleaned.metadata.kernelspec["name"] == "python3"
    assert all("execution" not in c.metadata for c in cleaned.cells)
    assert cleaned.cells[1].metadata["tags"] == ["keep"]


def test_describe_failure_keeps_the_whole_message():
    class CellError(Exception):
        ename = "DatasetNotAvailableError"
        evalue = ("Dataset 'imdb' is not cached and could not be fetched.\n"
                  "  - https://ai.stanford.edu/x.tar.gz (Download failed)\nTo fix, do one of:\n")

    text = runner.describe_failure(CellError(), 4)
    assert text.startswith("cell [4]: DatasetNotAvailableError: Dataset 'imdb' is not cached")
    assert "https://ai.stanford.edu/x.tar.gz" in text and text.endswith("To fix, do one of:")
    assert runner.describe_failure(RuntimeError("no kernel"), None) == "before any cell ran: RuntimeError: no kernel"


def test_run_rows():
    failed = runner.Run("nb", "fast", "torch", seconds=12.345, error="cell [2]: KeyError: 'x'")
    (row,) = failed.rows()
    assert row["metric"] == "FAILED" and row["value"] is None and row["met"] is False
    assert row["seconds"] == 12.3 and row["error"] == "cell [2]: KeyError: 'x'" and row["backend"] == "torch"
    (empty,) = runner.Run("nb", "full", "jax", seconds=1.0).rows()
    assert empty["metric"] == "(no metric recorded)" and empty["met"] is None and empty["backend"] == "jax"
    rec = {"notebook": "nb", "metric": "acc", "value": 0.9, "goal": 0.8, "higher_is_better": True,
           "met": True, "mode": "full", "backend": "jax"}
    rows = runner.Run("nb", "full", "jax", seconds=2.04, records=[rec], load=0.3, date="2026-12-01",
                      run="2026-12-01T09:00:00+00:00").rows()
    assert rows == [{**rec, "seconds": 2.0, "load": 0.3, "date": "2026-12-01", "run": "2026-12-01T09:00:00+00:00"}]


def test_inject_parameters_after_the_parameters_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("SEED = 42", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell("print(SEED)")])
    runner.inject_parameters(nb, {})
    assert len(nb.cells) == 3
    runner.inject_parameters(nb, {"SEED": 7})
    assert nb.cells[2].metadata.tags == ["injected-parameters"] and "SEED = 7" in nb.cells[2].source
    with pytest.raises(ValueError, match="parameters"):
        runner.inject_parameters(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), {"SEED": 1})


def test_mark_incomplete_clears_the_outputs_below_the_stop():
    out = nbformat.v4.new_output("stream", name="stdout", text="from the committed run\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a", outputs=[out], execution_count=1),
                                         nbformat.v4.new_code_cell("b", outputs=[out], execution_count=2),
                                         nbformat.v4.new_markdown_cell("text"),
                                         nbformat.v4.new_code_cell("c", outputs=[out], execution_count=3)])
    runner.mark_incomplete(nb, 1, "ValueError: x")
    assert nb.cells[0].cell_type == "markdown" and "Incomplete run" in nb.cells[0].source and "cell 1" in nb.cells[0].source
    a, b, _, c = nb.cells[1:]
    assert a.outputs and b.outputs and a.execution_count == 1  # up to the failing cell: this run's outputs
    assert c.outputs == [] and c.execution_count is None
    assert nb.metadata["course_run"] == {"complete": False, "stopped_at_cell": 1, "why": "ValueError: x"}


def test_kernel_env_backend_mode_notebook_and_inline_figures(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    env = runner.kernel_env(fast=True, records_file=tmp_path / "r.jsonl", backend="default", notebook="01_x")
    assert "KERAS_BACKEND" not in env and env["MPLBACKEND"] == runner.INLINE_BACKEND and env["COURSE_FAST"] == "1"
    assert env["COURSE_NOTEBOOK"] == "01_x" and env["COURSE_CHECKS"] == "solutions"
    env = runner.kernel_env(fast=False, records_file=tmp_path / "r.jsonl", backend="jax")
    assert env["KERAS_BACKEND"] == "jax" and env["COURSE_FAST"] == "0"
    assert env["COURSE_RESULTS_FILE"] == str(tmp_path / "r.jsonl")


def test_bad_arguments_are_refused_before_anything_runs(tmp_path, capsys):
    folders = ["--notebooks", str(tmp_path), "--build", str(tmp_path / "build"), "--results", str(tmp_path / "res")]
    with pytest.raises(SystemExit):
        runner.main(["--refresh", "--fast", *folders])
    with pytest.raises(SystemExit):
        runner.main(["--refresh", "--seed", "3", *folders])
    with pytest.raises(SystemExit, match="Empty notebook name ''"):
        runner.main(["", *folders])
    assert not (tmp_path / "build").exists() and not (tmp_path / "res").exists()


def test_busy_cores_measures_the_share_of_busy_time(monkeypatch):
    samples = iter([(100, 1000), (150, 1100)])  # 50 of 100 jiffies busy in the window
    monkeypatch.setattr(runner, "_busy_jiffies", lambda: next(samples))
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 4)
    assert runner.busy_cores(window=0) == 2.0
    monkeypatch.setattr(runner, "_busy_jiffies", lambda: None)  # no /proc/stat: the load average
    monkeypatch.setattr(runner.os, "getloadavg", lambda: (1.234, 0.0, 0.0))
    assert runner.busy_cores(window=0) == 1.23


def _write_notebook(path: Path, repo_root: Path, *bodies: str, outputs: dict[int, str] | None = None) -> None:
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"),
             nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(repo_root)!r})",
                                       metadata={"tags": ["setup"]}),
             nbformat.v4.new_code_cell("SEED = 42", metadata={"tags": ["parameters"]})]
    for i, body in enumerate(bodies):
        stored = (outputs or {}).get(i)
        cells.append(nbformat.v4.new_code_cell(
            body, outputs=[nbformat.v4.new_output("stream", name="stdout", text=stored)] if stored else []))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


FAILURE = ('class DatasetNotAvailableError(RuntimeError):\n    pass\n'
           'raise DatasetNotAvailableError("Dataset \'x\' could not be fetched.\\n'
           '  - https://example.org/x.zip (offline)\\nTo fix, connect and run again.")')


@pytest.mark.processes
def test_runner_executes_notebooks_and_reports_failures(tmp_path, monkeypatch, repo_root, capfd):
    """Two notebook executions: one records metrics, one raises; --refresh stores only the good one."""
    folder, build, results = tmp_path / "notebooks", tmp_path / "build", tmp_path / "results"
    folder.mkdir()
    monkeypatch.delenv("COURSE_RESULTS_FILE", raising=False)
    monkeypatch.setenv("COURSE_FAST", "sentinel")
    good, bad = folder / "t.ipynb", folder / "boom.ipynb"
    _write_notebook(good, repo_root,
                    "print('prefix:', sys.prefix)\nfrom utils import record\nrecord('m', 1.0, 0.5)\n"
                    "record('m2', 2.0, goal=3.0)\n"
                    "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()")
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as CI exports it: figures must still be stored
    _write_notebook(bad, repo_root, FAILURE, "print('after')", outputs={1: "a committed output\n"})
    bad_before = bad.read_bytes()
    results.mkdir()
    old = [{"notebook": "zz_other", "metric": "kept", "value": 2.0, "goal": None, "higher_is_better": True,
            "met": None, "mode": "full", "seconds": 1.0},
           {"notebook": "t", "metric": "stale", "value": 0.0, "goal": None, "higher_is_better": True,
            "met": None, "mode": "full", "seconds": 1.0}]
    (results / "results.json").write_text(json.dumps(old), encoding="utf-8")

    folders = ["--notebooks", str(folder), "--build", str(build), "--results", str(results)]
    assert runner.main(["t", "boom", "--refresh", "--timeout", "120", *folders]) == 1

    # the environment the runner set for the kernels is restored
    assert "COURSE_RESULTS_FILE" not in os.environ and os.environ["COURSE_FAST"] == "sentinel"
    out, err = capfd.readouterr()
    # the whole error, its main line and its URL, in the failure line and in the summary
    assert out.count("DatasetNotAvailableError: Dataset 'x' could not be fetched.") == 2, out
    assert out.count("https://example.org/x.zip (offline)") == 2 and "1 notebook(s) failed" in out
    assert "t · m = 1 (goal ≥ 0.5: met, full" in out and "t · m2 = 2 (goal ≥ 3: MISSED, full" in out
    rows = json.loads((build / "full" / "results.json").read_text(encoding="utf-8"))
    assert [(r["notebook"], r["metric"]) for r in rows] == [("t", "m"), ("t", "m2"), ("boom", "FAILED")]
    good_row, new_form, bad_row = rows  # the notebook's name comes from the runner
    assert good_row["value"] == 1.0 and good_row["goal"] == 0.5 and good_row["met"] is True
    assert good_row["mode"] == "full" and isinstance(good_row["seconds"], float) and good_row["seconds"] > 0
    assert new_form["mode"] == "full" and new_form["met"] is False  # the mode comes from the runner
    assert bad_row["metric"] == "FAILED" and bad_row["met"] is False and bad_row["value"] is None
    assert bad_row["error"].startswith("cell [") and "https://example.org/x.zip" in bad_row["error"]
    table = (build / "full" / "results.md").read_text(encoding="utf-8")
    assert "| t | m | 1 | ≥ 0.5 | yes |" in table and "| boom | FAILED |" in table

    # full mode: committed results merged (old "t" row replaced, other notebook kept)
    merged = json.loads((results / "results.json").read_text(encoding="utf-8"))
    assert {(r["notebook"], r["metric"]) for r in merged} == {("zz_other", "kept"), ("t", "m"), ("t", "m2"),
                                                              ("boom", "FAILED")}
    assert "| t | m |" in (results / "README.md").read_text(encoding="utf-8")
    assert not (results / ".lock").exists()

    # executed copies in build/: the kernel ran this interpreter's environment
    executed = nbformat.read(build / "full" / "t.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert f"prefix: {sys.prefix}" in text and "t · m = 1" in text
    assert any("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "course_run" not in executed.metadata
    assert "without encryption" not in err
    # the failed run's copy: marked incomplete, no committed output below the failing cell
    failed = nbformat.read(build / "full" / "boom.ipynb", as_version=4)
    assert "Incomplete run" in failed.cells[0].source and failed.metadata["course_run"]["complete"] is False
    after = next(c for c in failed.cells if c.cell_type == "code" and c.source == "print('after')")
    assert after.outputs == []

    # --refresh stored the good notebook, cleaned; the failing one is untouched
    refreshed = nbformat.read(good, as_version=4)
    assert any(c.get("outputs") for c in refreshed.cells if c.cell_type == "code")
    assert bad.read_bytes() == bad_before


@pytest.mark.processes
def test_ctrl_c_stops_the_run_and_leaves_results_alone(tmp_path, repo_root):
    """A real SIGINT to the runner's process group, as a terminal's Ctrl-C sends it, while a cell runs."""
    folder, build, results = tmp_path / "notebooks", tmp_path / "build", tmp_path / "results"
    folder.mkdir()
    started, after = tmp_path / "kernel.pid", tmp_path / "second_notebook_ran"
    _write_notebook(folder / "a_long.ipynb", repo_root,
                    f"import os, time\nopen({str(started)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)")
    _write_notebook(folder / "b_next.ipynb", repo_root, f"open({str(after)!r}, 'w').close()")
    results.mkdir()
    (results / "results.json").write_text('[{"notebook": "a_long", "metric": "kept"}]\n', encoding="utf-8")
    (results / "README.md").write_text("# committed table\n", encoding="utf-8")
    before = _digests(results)

    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_RESULTS_FILE", "COURSE_NOTEBOOK")}
    proc = subprocess.Popen([sys.executable, "-m", "tools.runner", "--quiet", "--notebooks", str(folder),
                             "--build", str(build), "--results", str(results)],
                            cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (started.exists() and started.read_text()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), proc.communicate()[0]
        kernel = int(started.read_text())
        os.killpg(proc.pid, signal.SIGINT)  # the runner's group: what Ctrl-C in its terminal does
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, out
    assert "Interrupted (SIGINT) after 0 of 2 notebook(s)" in out and "Traceback" not in out
    assert _digests(results) == before  # byte-identical, and no new file
    assert not after.exists()  # the run stopped: the next notebook never started
    deadline = time.monotonic() + 10
    while _alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kernel), "the kernel outlived the interrupted run"
    executed = nbformat.read(build / "full" / "a_long.ipynb", as_version=4)
    assert executed.metadata["course_run"]["why"] == "interrupted by SIGINT"
    assert not (build / "full" / "results.json").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has ended; only its exit status is left
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True
