"""tools.course: topics, badges, the generated setup cell (locally and in a fresh interpreter), notebook sync,
skeletons and ordering."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
    assert course.REPO_URL in course.setup_source("01_ann_churn")


def test_topics_are_unique_numbered_and_on_a_course_backend():
    names = [t.notebook for t in course.TOPICS]
    assert len(names) == len(set(names)) and names == sorted(names)
    assert all(t.backend in BACKENDS and t.topic and t.dataset for t in course.TOPICS)
    assert course.topic("99_unknown").backend == "tensorflow"


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
