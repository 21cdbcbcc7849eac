"""The course's one source of truth: repository address, topics, and the shared notebook cells.

``python -m tools.course new NAME "Title"`` writes a topic notebook skeleton;
``python -m tools.course sync`` rewrites every notebook's Colab badge and setup
cell from the values below (a test checks that nothing is out of sync).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from utils.startup import BACKENDS, XLA_HOST_FLAG

REPO = "deep-learning-course/keras-course"  # owner/name on GitHub: change it here only
BRANCH = "main"
REPO_URL = f"https://github.com/{REPO}"
# A fork runs its own copy in Colab by setting these before the setup cell (os.environ[...] = ...).
REPO_URL_ENV, BRANCH_ENV = "COURSE_REPO_URL", "COURSE_BRANCH"
COLAB_EXTRAS = ("minisom==2.3.6", "keras-tuner==1.4.8")  # what Colab's image lacks
COLAB_STAMP = "course/.colab-packages"  # exists once COLAB_EXTRAS are installed in this Colab runtime

ROOT = Path(__file__).resolve().parents[1]
# Default folders of a checkout; every command takes others as options (tests run on temporary ones).
NOTEBOOK_DIR = ROOT / "notebooks"
BUILD_DIR = ROOT / "build"
RESULTS_DIR = ROOT / "results"

__all__ = ["BACKENDS", "BUILD_DIR", "NOTEBOOK_DIR", "RESULTS_DIR", "ROOT", "TOPICS", "Topic", "notebook_paths",
           "setup_source", "sync_notebook", "topic"]

_TIMED = "chosen from the full-mode timings in results/backends.md"


@dataclass(frozen=True)
class Topic:
    """One topic notebook, with the Keras backend it runs on unless ``KERAS_BACKEND`` says otherwise.

    ``topic`` and ``dataset`` are the short names README's topic table shows; ``why`` is the one-line reason
    for the default backend printed in the setup cell (no measured figures: those live in ``results/``).
    """

    notebook: str
    topic: str
    dataset: str
    backend: str = "tensorflow"
    why: str = "the course's reference backend"
    # Settings that must exist before Keras and its backend are imported (one line of code each).
    pre_import: tuple[str, ...] = ()


# Default backends come from `python -m tools.benchmark` (results/backends.md): the fastest full run
# that meets the notebook's goals on a 2-core CPU.
TOPICS = (
    Topic("01_ann_churn", "ANN", "Bank customer churn", "jax", _TIMED),
    Topic("02_cnn_cats_vs_dogs", "CNN", "Cats vs dogs", "tensorflow", _TIMED),
    Topic("03_rnn", "RNN", "Integer sequences, sine wave", "jax", _TIMED),
    Topic("04_lstm", "LSTM", "Google stock, airline passengers, Fashion-MNIST, SMS spam", "jax", _TIMED),
    Topic("05_gru", "GRU", "Airline passengers", "jax", _TIMED),
    Topic("06_som_fraud", "SOM", "Credit card applications", why="the course's reference backend (the SOM is NumPy)"),
    Topic("07_rbm_recommender", "RBM", "MovieLens 100K", "jax", _TIMED),
    Topic("08_autoencoders", "Autoencoder", "Fashion-MNIST, MovieLens 100K", "jax", _TIMED),
    Topic("09_gan", "GAN", "Sine curves, Fashion-MNIST", "tensorflow", _TIMED),
    Topic("10_transformer", "Transformer", "IMDB reviews", "tensorflow", _TIMED),
    Topic("11_lstm_cells", "LSTM cells", "Python standard-library source code", "jax", _TIMED),
    Topic("12_multi_device", "Several devices", "Fashion-MNIST", "jax",
          "the one backend that runs every section here (model parallelism is JAX-only)",
          pre_import=(f'os.environ.setdefault("XLA_FLAGS", "{XLA_HOST_FLAG}=4")  # JAX: four logical CPU devices',)),
)


def topic(notebook: str) -> Topic:
    """The topic entry of a notebook (a neutral default for notebooks not listed in ``TOPICS``)."""
    for t in TOPICS:
        if t.notebook == notebook:
            return t
    return Topic(notebook, notebook, "")


def colab_url(notebook: str) -> str:
    return f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}.ipynb"


def colab_badge(notebook: str) -> str:
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


STUDENT_BADGE_SVG = "https://img.shields.io/badge/Student_edition-Open_in_Colab-F9AB00?logo=googlecolab"


def student_colab_url(notebook: str) -> str:
    """The student edition (solutions removed; ``python -m tools.editions``) in Colab."""
    return colab_url(f"student/{notebook}")


def badge_row(notebook: str) -> str:
    """The title cell's badges: this notebook in Colab, and its student edition in Colab."""
    return f"{colab_badge(notebook)} [![Student edition in Colab]({STUDENT_BADGE_SVG})]({student_colab_url(notebook)})"


SETUP_TAG = "setup"
# The parameters cell (papermill's tag) every notebook starts from; FAST has one reader, utils.fast_mode.
PARAMETERS_SOURCE = ('from utils import fast_mode\n\nSEED = 42\n'
                     'FAST = fast_mode()  # COURSE_FAST=1 (CI and quick checks): fewer epochs and less data')


def setup_source(notebook: str) -> str:
    """The first code cell of a notebook: works locally, under the runner, and in Colab."""
    t = topic(notebook)
    extras = ", ".join(repr(p) for p in COLAB_EXTRAS)
    pre = "".join(f"{line}\n" for line in t.pre_import)
    return f'''\
# Setup: the Keras backend, the course's `utils` package (cloned first in Colab), a quiet Keras import.
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "{t.backend}")  # {t.why}; set KERAS_BACKEND before this cell to override
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ start-up logs out of the output
{pre}if "google.colab" in sys.modules and not Path("utils").is_dir():
    import shutil
    import subprocess

    if not Path("course").is_dir():  # cloned beside, then renamed: an interrupted clone is redone
        repo = os.environ.get("{REPO_URL_ENV}", "{REPO_URL}")
        branch = os.environ.get("{BRANCH_ENV}", "{BRANCH}")
        shutil.rmtree("course.partial", ignore_errors=True)
        subprocess.run(["git", "clone", "--depth", "1", "--branch", branch, repo, "course.partial"], check=True)
        os.rename("course.partial", "course")
    if not Path("{COLAB_STAMP}").is_file():  # written after a successful install: a failed one is retried
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", {extras}], check=True)
        Path("{COLAB_STAMP}").touch()
    os.chdir("course")
ROOT = next((p for p in (Path.cwd(), *Path.cwd().parents) if (p / "utils" / "__init__.py").is_file()), None)
if ROOT is None:
    raise SystemExit("This notebook needs the course's utils/ package: clone {REPO_URL} and open "
                     "notebooks/{notebook}.ipynb from inside it, or use the Open in Colab badge above.")
sys.path.insert(0, str(ROOT))

from utils.startup import import_keras

keras = import_keras()  # hides TensorFlow's native start-up notices; see utils/startup.py
print(f"Keras {{keras.__version__}} on the {{keras.backend.backend()}} backend")'''


_BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)"
                       r"(?: \[!\[Student edition in Colab\]\([^)]*\)\]\([^)]*\))?")


def sync_notebook(path: Path, *, write: bool = True) -> bool:
    """Bring one notebook's badge and setup cell in line with this module; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _BADGE_RE.search(cell.source):
            new = _BADGE_RE.sub(badge_row(path.stem).replace("\\", "\\\\"), cell.source, count=1)
            changed |= new != cell.source
            cell.source = new
        if cell.cell_type == "code" and SETUP_TAG in cell.metadata.get("tags", []):
            changed |= cell.source != setup_source(path.stem)
            cell.source = setup_source(path.stem)
    if changed and write:
        nbformat.write(nb, path)
    return changed


def notebook_paths(names: list[str] | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Topic notebooks in ``folder`` in course order (all that exist, or those whose names contain ``names``)."""
    order = {t.notebook: i for i, t in enumerate(TOPICS)}
    every = sorted(folder.glob("*.ipynb"), key=lambda p: (order.get(p.stem, len(order)), p.stem))
    if not names:  # drafts (_name.ipynb) only when named
        return [p for p in every if not p.name.startswith("_")]
    paths: list[Path] = []
    for name in names:
        stem = Path(name).stem if name.endswith(".ipynb") else Path(name).name
        if not stem.strip():
            raise SystemExit(f"Empty notebook name {name!r}: give part of a notebook's name (e.g. rnn), "
                             "or no name to run every notebook.")
        matches = [p for p in every if stem in p.stem]
        if not matches:
            raise SystemExit(f"No notebook matches {name!r} in {folder}.")
        paths += [m for m in matches if m not in paths]
    return paths


def new_notebook(name: str, title: str, folder: Path = NOTEBOOK_DIR) -> Path:
    """Write the course skeleton for a new topic notebook and return its path."""
    path = folder / f"{name}.ipynb"
    if path.exists():
        raise SystemExit(f"{path} exists already.")
    md = nbformat.v4.new_markdown_cell
    code = nbformat.v4.new_code_cell
    cells = [
        md(f"# {title}\n\n{badge_row(name)}\n\n*One paragraph: what the learner will build and why it matters.*"),
        md("## Learning objectives\n\n- ...\n- ..."),
        code(setup_source(name), metadata={"tags": [SETUP_TAG]}),
        code(PARAMETERS_SOURCE, metadata={"tags": ["parameters"]}),
        code("import numpy as np\n\nfrom utils import record, set_seed\n\nset_seed(SEED)"),
        md("## Theory\n\nEquations in LaTeX, a diagram or plot, and a NumPy check of the computation against Keras."),
        md("## Data"),
        md("## Baseline"),
        md("## Model"),
        md("## Results"),
        md("## Exercises\n\n1. ...\n\n<details><summary>Solution</summary>\n\n...\n\n</details>"),
        md("## Summary"),
        md("## References"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.course", description=__doc__)
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_new = sub.add_parser("new", help="write a topic notebook skeleton")
    p_new.add_argument("name")
    p_new.add_argument("title")
    p_sync = sub.add_parser("sync", help="rewrite badges and setup cells from tools/course.py")
    p_sync.add_argument("--check", action="store_true", help="only report; exit 1 if out of sync")
    args = parser.parse_args(argv)
    if args.cmd == "new":
        print(new_notebook(args.name, args.title, args.notebooks))
        return 0
    stale = [p for p in notebook_paths(folder=args.notebooks) if sync_notebook(p, write=not args.check)]
    for p in stale:
        print(("out of sync: " if args.check else "updated: ") + p.name)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
