"""utils.course (badges, notebook sync, skeletons, ordering) and utils.runner (executing notebooks)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils import course, runner
from utils.results import read_records

NOTEBOOK_DIR = course.NOTEBOOK_DIR


def _committed_notebooks() -> list[Path]:
    """Notebooks tracked by git (work in progress by others is not checked); all of them without git."""
    try:
        out = subprocess.run(["git", "ls-files", "--", "*.ipynb"], cwd=NOTEBOOK_DIR, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return course.notebook_paths()
    tracked = {(NOTEBOOK_DIR / line).resolve() for line in out.splitlines() if line}
    return [p for p in course.notebook_paths() if p.resolve() in tracked]


COMMITTED = _committed_notebooks()


def _digests(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# --- course ----------------------------------------------------------------------------------

def test_colab_url_and_badge():
    url = course.colab_url("01_ann_churn")
    assert course.REPO in url and "01_ann_churn.ipynb" in url and course.BRANCH in url
    assert url.startswith("https://colab.research.google.com/github/")
    badge = course.colab_badge("01_ann_churn")
    assert url in badge and badge.startswith("[![Open In Colab]")
    assert course.REPO_URL in course.setup_source("01_ann_churn")


def test_setup_cell_backend_line_and_overrides():
    src = course.setup_source("03_rnn")
    t = course.topic("03_rnn")
    assert f'os.environ.setdefault("KERAS_BACKEND", "{t.backend}")' in src and t.why in src
    assert t.backend in course.BACKENDS
    assert f'os.environ.get("{course.BRANCH_ENV}", "{course.BRANCH}")' in src
    assert f'os.environ.get("{course.REPO_URL_ENV}", "{course.REPO_URL}")' in src
    assert '"--branch", branch' in src and "notebooks/03_rnn.ipynb" in src
    assert course.topic("99_unknown").backend == "tensorflow"
    compile(src, "setup", "exec")
    devices = course.setup_source("12_multi_device")
    assert devices.index("xla_force_host_platform_device_count") < devices.index("import_keras()")


def _run_setup_cell(src: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", src], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_setup_cell_outside_the_repository_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = _run_setup_cell(course.setup_source("01_ann_churn"), tmp_path, env)
    assert proc.returncode != 0
    assert "clone " + course.REPO_URL in proc.stderr and "Colab" in proc.stderr
    assert "StopIteration" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("backend", ["default", "jax"])
def test_setup_cell_honours_keras_backend(backend, repo_root):
    import importlib.util

    if backend != "default" and importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if backend != "default":
        env["KERAS_BACKEND"] = backend
    proc = _run_setup_cell(course.setup_source("01_ann_churn"), repo_root / "notebooks", env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = course.topic("01_ann_churn").backend if backend == "default" else backend
    assert f"on the {expected} backend" in proc.stdout
    assert proc.stderr.strip() == "", proc.stderr  # TensorFlow's start-up notices stay hidden


def test_topics_are_unique_and_numbered():
    names = [t.notebook for t in course.TOPICS]
    assert len(names) == len(set(names))
    assert names == sorted(names)


def test_there_are_committed_notebooks():
    assert COMMITTED, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_in_sync_and_tagged(path):
    before = path.read_bytes()
    assert course.sync_notebook(path, write=False) is False, \
        f"{path.name} is out of sync: run `python -m utils.course sync`"
    assert path.read_bytes() == before
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "needs exactly one cell tagged 'parameters'"
    assert "SEED =" in params[0].source and "FAST =" in params[0].source
    setup = [c for c in nb.cells if c.cell_type == "code" and course.SETUP_TAG in c.metadata.get("tags", [])]
    assert len(setup) == 1 and setup[0].source == course.setup_source(path.stem)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert any(course.colab_url(path.stem) in c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.fixture
def tmp_notebooks(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(course, "NOTEBOOK_DIR", folder)
    return folder


def test_new_notebook_skeleton_and_no_overwrite(tmp_notebooks):
    path = course.new_notebook("99_demo", "Demo topic")
    assert path == tmp_notebooks / "99_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.startswith("# Demo topic")
    assert course.colab_badge("99_demo") in nb.cells[0].source
    tags = {t for c in nb.cells for t in c.metadata.get("tags", [])}
    assert {"setup", "parameters"} <= tags
    assert course.sync_notebook(path, write=False) is False
    assert nb.metadata.kernelspec["name"] == "python3"
    before = path.read_bytes()
    with pytest.raises(SystemExit, match="exists"):
        course.new_notebook("99_demo", "Other title")
    assert path.read_bytes() == before


def test_sync_rewrites_stale_badge_and_setup(tmp_notebooks, capsys):
    path = course.new_notebook("98_stale", "Stale")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace(course.REPO, "someone/old-repo")
    nb.cells[2].source = "# old setup"
    nbformat.write(nb, path)
    assert course.main(["sync", "--check"]) == 1
    assert "out of sync: 98_stale.ipynb" in capsys.readouterr().out
    assert course.sync_notebook(path, write=False) is True  # --check did not write
    assert course.main(["sync"]) == 0
    assert "updated: 98_stale.ipynb" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    assert "someone/old-repo" not in nb.cells[0].source and course.REPO in nb.cells[0].source
    assert nb.cells[2].source == course.setup_source("98_stale")
    assert course.main(["sync", "--check"]) == 0


def test_course_main_new(tmp_notebooks, capsys):
    assert course.main(["new", "97_cli", "CLI title"]) == 0
    assert (tmp_notebooks / "97_cli.ipynb").is_file()
    assert "97_cli.ipynb" in capsys.readouterr().out


def test_notebook_paths_order_and_selection(tmp_notebooks):
    for stem in ["zz_extra", "10_transformer", "_scratch", "01_ann_churn", "03_rnn", "aa_extra"]:
        nbformat.write(nbformat.v4.new_notebook(), tmp_notebooks / f"{stem}.ipynb")
    assert [p.stem for p in course.notebook_paths()] == ["01_ann_churn", "03_rnn", "10_transformer",
                                                         "aa_extra", "zz_extra"]
    assert [p.stem for p in course.notebook_paths(["transformer"])] == ["10_transformer"]
    assert [p.stem for p in course.notebook_paths(["rnn", "03_rnn.ipynb", "ann"])] == ["03_rnn", "01_ann_churn"]
    assert [p.stem for p in course.notebook_paths(["extra"])] == ["aa_extra", "zz_extra"]
    with pytest.raises(SystemExit, match="nope"):
        course.notebook_paths(["nope"])


def test_real_notebook_paths_follow_topic_order():
    order = [t.notebook for t in course.TOPICS]
    stems = [p.stem for p in course.notebook_paths() if p.stem in order]
    assert stems == sorted(stems, key=order.index)


# --- runner ----------------------------------------------------------------------------------

def test_python3_kernel_is_this_interpreter():
    from jupyter_client.kernelspec import KernelSpecManager

    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    names = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    # jupyter_client replaces these bare names with sys.executable
    assert argv0 in names or Path(argv0).resolve() == Path(sys.executable).resolve(), argv0


def test_clean_for_commit(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("SEED = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("SEED = 2", metadata={"tags": ["injected-parameters"], "papermill": {"x": 1}}),
        nbformat.v4.new_code_cell("print(SEED)", metadata={"papermill": {"duration": 1.0},
                                                           "execution": {"iopub.status.busy": "t"},
                                                           "tags": ["keep"]}),
    ])
    nb.metadata["papermill"] = {"duration": 3.2, "parameters": {"SEED": 2}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    runner.clean_for_commit(path)
    cleaned = nbformat.read(path, as_version=4)
    assert [c.source for c in cleaned.cells] == ["SEED = 1", "print(SEED)"]
    assert "papermill" not in cleaned.metadata and cleaned.metadata.kernelspec["name"] == "python3"
    for cell in cleaned.cells:
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
    assert cleaned.cells[1].metadata["tags"] == ["keep"]


def test_describe_failure():
    class CellError(Exception):
        exec_count = 4
        ename = "ValueError"
        evalue = "first line\nbad value here"

    assert runner._describe_failure(CellError()) == "cell [4]: ValueError: bad value here"
    assert runner._describe_failure(RuntimeError("no kernel")) == "before any cell ran: RuntimeError: no kernel"


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


def test_time_table_totals_and_marks_load():
    rows = [{"notebook": "a", "backend": "jax", "seconds": 60.0, "load": 0.1, "date": "2026-12-01T10:00"},
            {"notebook": "a", "backend": "jax", "seconds": 60.0, "load": 0.1, "date": "2026-12-01T10:00"},
            {"notebook": "b", "backend": "tensorflow", "seconds": 30.0, "load": 1.9, "date": "2026-12-01T11:00"}]
    table = runner.time_table(rows).splitlines()
    assert table[2] == "| a | jax | 1.0 | 0.1 | 2026-12-01 |"
    assert table[3] == "| b | tensorflow | 0.5 | 1.9 (under load) | 2026-12-01 |"
    assert table[4] == "| **total** | | **1.5** | | |"


def test_time_summary_tells_one_run_from_several_and_names_load():
    one = [{"notebook": n, "seconds": 60.0, "load": 0.0, "run": "2026-12-01T10:00:00+00:00"} for n in "ab"]
    assert runner.time_summary(one) == ("All 2 notebook(s) ran one after another in one run of the runner, "
                                        "started 2026-12-01T10:00:00+00:00: 2.0 minutes of notebook time.")
    several = [one[0], {**one[1], "run": "2026-12-02T08:00:00+00:00"}]
    assert runner.time_summary(several).startswith("These times come from 2 separate runs")
    assert "was not measured in one run" in runner.time_summary([{**one[0], "run": ""}])  # rows from older runners
    loaded = [one[0], {**one[1], "load": 1.2}]
    text = runner.time_summary(loaded)
    assert text.startswith("All 2") and text.endswith("Taken under load: b; the total is not the course's time on "
                                                      "an idle machine.")
    assert runner.time_summary([]) == ""


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


def test_kernel_env_backend_and_inline_figures(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    env = runner.kernel_env(fast=True, records_file=tmp_path / "r.jsonl", backend="default")
    assert "KERAS_BACKEND" not in env and env["MPLBACKEND"] == runner.INLINE_BACKEND and env["COURSE_FAST"] == "1"
    env = runner.kernel_env(fast=False, records_file=tmp_path / "r.jsonl", backend="jax")
    assert env["KERAS_BACKEND"] == "jax" and env["COURSE_FAST"] == "0"
    assert env["COURSE_RESULTS_FILE"] == str(tmp_path / "r.jsonl")


def test_refresh_rejects_fast_and_seed(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "BUILD_DIR", tmp_path / "build")
    with pytest.raises(SystemExit):
        runner.main(["--refresh", "--fast"])
    with pytest.raises(SystemExit):
        runner.main(["--refresh", "--seed", "3"])
    assert not (tmp_path / "build").exists()


def _write_notebook(path: Path, repo_root: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(repo_root)!r})",
                                  metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell("SEED = 42", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_runner_executes_notebooks_and_reports_failures(tmp_path, monkeypatch, repo_root, capfd):
    """Two notebook executions: one records a metric, one raises; --refresh stores only the good one."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    build, results = tmp_path / "build", tmp_path / "results"
    monkeypatch.setattr(course, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(runner, "BUILD_DIR", build)
    monkeypatch.setattr(runner, "RESULTS_DIR", results)
    monkeypatch.delenv("COURSE_RESULTS_FILE", raising=False)
    monkeypatch.setenv("COURSE_FAST", "sentinel")
    good, bad = folder / "t.ipynb", folder / "boom.ipynb"  # record() names notebook "t"
    _write_notebook(good, repo_root,
                    "print('prefix:', sys.prefix)\nfrom utils import record\nrecord('t', 'm', 1.0, 0.5)\n"
                    "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()")
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as CI exports it: figures must still be stored
    _write_notebook(bad, repo_root, "raise RuntimeError('deliberate failure xyz')")
    bad_before = bad.read_bytes()
    results.mkdir()
    old = [{"notebook": "zz_other", "metric": "kept", "value": 2.0, "goal": None, "higher_is_better": True,
            "met": None, "mode": "full", "seconds": 1.0},
           {"notebook": "t", "metric": "stale", "value": 0.0, "goal": None, "higher_is_better": True,
            "met": None, "mode": "full", "seconds": 1.0}]
    (results / "results.json").write_text(json.dumps(old), encoding="utf-8")
    committed_before = _digests(COMMITTED)

    assert runner.main(["t", "boom", "--refresh", "--timeout", "120"]) == 1

    # the environment the runner set for the kernels is restored
    assert "COURSE_RESULTS_FILE" not in os.environ and os.environ["COURSE_FAST"] == "sentinel"
    records = build / "full" / "records" / "t.jsonl"
    assert [r["metric"] for r in read_records(records)] == ["m"]
    out, err = capfd.readouterr()
    assert "deliberate failure xyz" in out and "1 notebook(s) failed" in out
    rows = json.loads((build / "full" / "results.json").read_text(encoding="utf-8"))
    assert [r["notebook"] for r in rows] == ["t", "boom"]
    good_row, bad_row = rows
    assert good_row["metric"] == "m" and good_row["value"] == 1.0 and good_row["goal"] == 0.5
    assert good_row["met"] is True and good_row["mode"] == "full"
    assert isinstance(good_row["seconds"], float) and good_row["seconds"] > 0
    assert bad_row["metric"] == "FAILED" and bad_row["met"] is False and bad_row["value"] is None
    assert "RuntimeError" in bad_row["error"] and "deliberate failure xyz" in bad_row["error"]
    assert bad_row["error"].startswith("cell [")
    table = (build / "full" / "results.md").read_text(encoding="utf-8")
    assert "| t | m | 1 | ≥ 0.5 | yes |" in table and "| boom | FAILED |" in table

    # full mode: committed results merged (old "t" row replaced, other notebook kept)
    merged = json.loads((results / "results.json").read_text(encoding="utf-8"))
    assert {(r["notebook"], r["metric"]) for r in merged} == {("zz_other", "kept"), ("t", "m"), ("boom", "FAILED")}
    assert "| t | m |" in (results / "README.md").read_text(encoding="utf-8")

    # executed copies in build/, the kernel ran this interpreter's environment
    executed = nbformat.read(build / "full" / "t.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert f"prefix: {sys.prefix}" in text and "t · m = 1" in text
    assert any("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "without encryption" not in err

    # --refresh stored the good notebook, cleaned; the failing one is untouched
    refreshed = nbformat.read(good, as_version=4)
    assert "papermill" not in refreshed.metadata
    assert all("papermill" not in c.metadata for c in refreshed.cells)
    assert any(c.get("outputs") for c in refreshed.cells if c.cell_type == "code")
    assert bad.read_bytes() == bad_before
    # the course's committed notebooks were not touched
    assert _digests(COMMITTED) == committed_before


def test_busy_cores_counts_only_other_work():
    load = runner.busy_cores(window=0.2)
    assert load is None or 0.0 <= load <= (os.cpu_count() or 1) + 0.5
