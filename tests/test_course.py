"""tools.course: topics, badges, the generated setup cell (locally, in a fresh interpreter, in a simulated Colab),
notebook sync, skeletons and ordering."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from tools import course
from utils.startup import BACKENDS

NOTEBOOK_DIR = course.NOTEBOOK_DIR
# What TensorFlow and absl print natively when TensorFlow starts; the setup cell must keep it out of the output.
NATIVE_NOTICE = re.compile(r"oneDNN|cpu_feature_guard|absl::|^[IWEF]\d{4} \d\d:\d\d|cuda drivers|TF-TRT", re.M)


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


# --- topics and badges -------------------------------------------------------------------------------

def test_colab_url_and_badge():
    url = course.colab_url("01_ann_churn")
    assert course.REPO in url and "01_ann_churn.ipynb" in url and course.BRANCH in url
    assert url.startswith("https://colab.research.google.com/github/")
    badge = course.colab_badge("01_ann_churn")
    assert url in badge and badge.startswith("[![Open In Colab]")
    row = course.badge_row("01_ann_churn")
    assert row.startswith(badge) and course.student_colab_url("01_ann_churn") in row
    assert course.student_colab_url("01_ann_churn").endswith("/notebooks/student/01_ann_churn.ipynb")
    assert course.REPO_URL in course.setup_source("01_ann_churn")


def test_topics_are_unique_numbered_and_on_a_course_backend():
    names = [t.notebook for t in course.TOPICS]
    assert len(names) == len(set(names)) and names == sorted(names)
    assert all(t.backend in BACKENDS and t.topic and t.dataset for t in course.TOPICS)
    assert course.topic("99_unknown").backend == "tensorflow"


@pytest.mark.parametrize("t", course.TOPICS, ids=lambda t: t.notebook)
def test_backend_reasons_quote_no_measured_figures(t):
    """Measured figures live in results/, generated; a reason typed by hand would go stale."""
    assert not re.search(r"\d", t.why), f"{t.notebook}: {t.why!r} quotes a figure"
    assert len(t.why) <= 80


def test_there_are_committed_notebooks():
    assert COMMITTED, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_in_sync_and_tagged(path):
    before = path.read_bytes()
    assert course.sync_notebook(path, write=False) is False, \
        f"{path.name} is out of sync: run `python -m tools.course sync`"
    assert path.read_bytes() == before
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "needs exactly one cell tagged 'parameters'"
    assert "SEED =" in params[0].source and "FAST =" in params[0].source
    setup = [c for c in nb.cells if c.cell_type == "code" and course.SETUP_TAG in c.metadata.get("tags", [])]
    assert len(setup) == 1 and setup[0].source == course.setup_source(path.stem)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert any(course.colab_url(path.stem) in c.source for c in nb.cells if c.cell_type == "markdown")


# --- the setup cell ----------------------------------------------------------------------------------

def test_setup_cell_backend_line_and_overrides():
    src = course.setup_source("03_rnn")
    t = course.topic("03_rnn")
    assert f'os.environ.setdefault("KERAS_BACKEND", "{t.backend}")' in src and t.why in src
    assert f'os.environ.get("{course.BRANCH_ENV}", "{course.BRANCH}")' in src
    assert f'os.environ.get("{course.REPO_URL_ENV}", "{course.REPO_URL}")' in src
    assert '"--branch", branch' in src and "notebooks/03_rnn.ipynb" in src
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_setup_cell_in_a_fresh_interpreter(fresh, backend):
    """01's setup cell on its default backend (JAX, KERAS_BACKEND unset) and on the others (set beforehand)."""
    if backend not in fresh.backends:
        pytest.skip(f"{backend} is not installed")
    result = fresh.result(backend, "setup cell").check()
    assert f"on the {backend} backend" in result.out
    assert not NATIVE_NOTICE.search(result.err), result.err  # library warnings may come and go; native notices not


# Colab, simulated: a fake google.colab module, and a subprocess module that records the commands instead of
# cloning and installing. The "clone" makes a folder with a utils package whose import_keras needs no Keras.
COLAB = textwrap.dedent(r"""
    import json, os, subprocess, sys, types
    from pathlib import Path

    sys.modules["google.colab"] = types.ModuleType("google.colab")
    calls = []
    fail_pip = os.environ["FAIL_PIP"] == "1"

    def run(cmd, check=False):
        calls.append(cmd[:5])
        if cmd[0] == "git":
            utils = Path(cmd[-1]) / "utils"
            utils.mkdir(parents=True)
            (utils / "__init__.py").write_text("")
            (utils / "startup.py").write_text(
                "import types\n"
                "def import_keras():\n"
                "    return types.SimpleNamespace(__version__='0', backend=types.SimpleNamespace(backend=lambda: 'x'))\n")
        if cmd[1:3] == ["-m", "pip"] and fail_pip:
            raise subprocess.CalledProcessError(1, cmd)

    subprocess.run = run
    try:
        exec(compile(open(sys.argv[1]).read(), "setup", "exec"), {"__name__": "__main__"})
        outcome = "ok"
    except subprocess.CalledProcessError:
        outcome = "pip failed"
    print(json.dumps({"outcome": outcome, "calls": calls}))
""")


def _colab_run(tmp_path: Path, *, fail_pip: bool) -> dict:
    cell = tmp_path / "setup_cell.py"
    cell.write_text(course.setup_source("06_som_fraud"))
    content = tmp_path / "content"  # Colab's working folder
    content.mkdir(exist_ok=True)
    env = {**os.environ, "FAIL_PIP": "1" if fail_pip else "0"}
    proc = subprocess.run([sys.executable, "-c", COLAB, str(cell)], cwd=content, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_colab_setup_retries_a_failed_package_install(tmp_path):
    first = _colab_run(tmp_path, fail_pip=True)
    assert first["outcome"] == "pip failed"
    assert [c[0] for c in first["calls"]][0] == "git" and first["calls"][1][1:3] == ["-m", "pip"]
    assert (tmp_path / "content" / "course" / "utils").is_dir() and not (tmp_path / "content" / "course.partial").exists()
    second = _colab_run(tmp_path, fail_pip=False)  # the learner runs the cell again
    assert second["outcome"] == "ok"
    assert [c[1:3] for c in second["calls"]] == [["-m", "pip"]]  # no second clone, the install retried
    assert (tmp_path / "content" / course.COLAB_STAMP).is_file()
    third = _colab_run(tmp_path, fail_pip=False)
    assert third == {"outcome": "ok", "calls": []}  # installed once: nothing more to do


# --- sync, skeletons, ordering -------------------------------------------------------------------------

def test_new_notebook_skeleton_and_no_overwrite(tmp_path):
    path = course.new_notebook("99_demo", "Demo topic", tmp_path)
    assert path == tmp_path / "99_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.startswith("# Demo topic")
    assert course.colab_badge("99_demo") in nb.cells[0].source
    tags = {t for c in nb.cells for t in c.metadata.get("tags", [])}
    assert {"setup", "parameters"} <= tags
    assert course.sync_notebook(path, write=False) is False
    assert nb.metadata.kernelspec["name"] == "python3"
    before = path.read_bytes()
    with pytest.raises(SystemExit, match="exists"):
        course.new_notebook("99_demo", "Other title", tmp_path)
    assert path.read_bytes() == before


def test_sync_rewrites_stale_badge_and_setup(tmp_path, capsys):
    path = course.new_notebook("98_stale", "Stale", tmp_path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace(course.REPO, "someone/old-repo")
    nb.cells[2].source = "# old setup"
    nbformat.write(nb, path)
    folder = ["--notebooks", str(tmp_path)]
    assert course.main([*folder, "sync", "--check"]) == 1
    assert "out of sync: 98_stale.ipynb" in capsys.readouterr().out
    assert course.sync_notebook(path, write=False) is True  # --check did not write
    assert course.main([*folder, "sync"]) == 0
    assert "updated: 98_stale.ipynb" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    assert "someone/old-repo" not in nb.cells[0].source and course.REPO in nb.cells[0].source
    assert nb.cells[0].source.count(course.badge_row("98_stale")) == 1  # the student badge added once
    assert nb.cells[2].source == course.setup_source("98_stale")
    assert course.main([*folder, "sync", "--check"]) == 0


def test_course_main_new(tmp_path, capsys):
    assert course.main(["--notebooks", str(tmp_path), "new", "97_cli", "CLI title"]) == 0
    assert (tmp_path / "97_cli.ipynb").is_file()
    assert "97_cli.ipynb" in capsys.readouterr().out


def test_notebook_paths_order_and_selection(tmp_path):
    for stem in ["zz_extra", "10_transformer", "_scratch", "01_ann_churn", "03_rnn", "aa_extra"]:
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / f"{stem}.ipynb")
    paths = lambda names=None: [p.stem for p in course.notebook_paths(names, tmp_path)]  # noqa: E731
    assert paths() == ["01_ann_churn", "03_rnn", "10_transformer", "aa_extra", "zz_extra"]
    assert paths([]) == paths()
    assert paths(["transformer"]) == ["10_transformer"]
    assert paths(["rnn", "03_rnn.ipynb", "ann"]) == ["03_rnn", "01_ann_churn"]
    assert paths(["notebooks/03_rnn.ipynb"]) == ["03_rnn"]
    assert paths(["extra"]) == ["aa_extra", "zz_extra"]
    assert paths(["scratch"]) == ["_scratch"]  # a draft runs when named
    with pytest.raises(SystemExit, match="nope"):
        paths(["nope"])
    for empty in ["", " "]:
        with pytest.raises(SystemExit, match="Empty notebook name"):
            paths([empty])
    with pytest.raises(SystemExit, match=r"No notebook matches '\*'"):  # a name, not a glob pattern
        paths(["*"])


def test_real_notebook_paths_follow_topic_order():
    order = [t.notebook for t in course.TOPICS]
    stems = [p.stem for p in course.notebook_paths() if p.stem in order]
    assert stems == sorted(stems, key=order.index)
