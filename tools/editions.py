"""The student edition of every notebook, generated from the instructor edition (the committed notebooks).

    python -m tools.editions            # write notebooks/student/NN_name.ipynb for every topic notebook
    python -m tools.editions --check    # exit 1 if a committed student notebook is out of date

Markers in the instructor edition, in nbgrader's conventions (its ``ClearSolutions`` preprocessor does the
replacing):

- in a code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` become
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()``. A region must sit inside a function body, so the
  stub raises inside the exercise's ``check(...)`` (which reports "not attempted") and the notebook goes on;
- a markdown cell whose metadata has ``nbgrader.solution = true`` (a model answer to an open question)
  becomes ``YOUR ANSWER HERE``.

Everything else is identical, except that cells holding a solution or a ``check(...)`` lose their outputs
and the title cell says which edition this is.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
STUDENT_DIR = "student"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_CALL = re.compile(r"^\s*check\(", re.MULTILINE)
STUDENT_NOTE = ("**Student edition**: the exercises' solutions are removed. Write your code where it says "
                "`YOUR CODE HERE` and run the `check(...)` cell below it: it says *pass* or *not yet* with a hint. "
                "The instructor edition, with solutions, is [{name}.ipynb](../{name}.ipynb).")


class EditionError(ValueError):
    """A notebook's solution markers cannot be turned into a student edition."""


def topic_notebooks(notebooks: Path = NOTEBOOKS) -> list[Path]:
    """The instructor-edition notebooks: ``NN_name.ipynb`` directly under ``notebooks``."""
    return sorted(p for p in notebooks.glob("[0-9][0-9]_*.ipynb"))


def _is_solution_cell(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def _validate(cell, where: str) -> None:
    """Solution regions only inside function bodies; solution metadata only on markdown cells."""
    if cell.cell_type == "code" and _is_solution_cell(cell):
        raise EditionError(f"{where}: a whole code cell is marked as a solution; its stub would stop the student's "
                           f"notebook. Mark a region inside a function with {BEGIN!r} / {END!r} instead.")
    if cell.cell_type != "code":
        if BEGIN in cell.source or END in cell.source:
            raise EditionError(f"{where}: solution markers in a markdown cell; mark the cell's metadata "
                               "nbgrader.solution = true instead")
        return
    depth = 0
    for line in cell.source.splitlines():
        if BEGIN in line:
            if depth:
                raise EditionError(f"{where}: nested {BEGIN!r}")
            if not line.startswith((" ", "\t")):
                raise EditionError(f"{where}: {BEGIN!r} at the top level of the cell; put the region inside a "
                                   "function so that its stub raises inside the exercise's check")
            depth = 1
        elif END in line:
            if not depth:
                raise EditionError(f"{where}: {END!r} without {BEGIN!r}")
            depth = 0
    if depth:
        raise EditionError(f"{where}: {BEGIN!r} without {END!r}")


def _clear_solutions():
    from nbgrader.preprocessors import ClearSolutions  # maintainers' tool only: learners never need nbgrader

    return ClearSolutions(enforce_metadata=False, begin_solution_delimeter=BEGIN, end_solution_delimeter=END)


def student_edition(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student edition of one instructor notebook (a new object; ``nb`` is not changed)."""
    student = copy.deepcopy(nb)
    touched = []
    for i, cell in enumerate(student.cells):
        _validate(cell, f"{name}.ipynb, cell {i}")
        has_solution = _is_solution_cell(cell) or (cell.cell_type == "code" and BEGIN in cell.source)
        touched.append(has_solution or (cell.cell_type == "code" and bool(CHECK_CALL.search(cell.source))))
    student, _ = _clear_solutions().preprocess(student, {})
    for cell, clear in zip(student.cells, touched):
        if cell.cell_type == "code" and clear:
            cell.outputs, cell.execution_count = [], None
    if student.cells and student.cells[0].cell_type == "markdown":
        title = student.cells[0]
        title.source = title.source.replace(f"notebooks/{name}.ipynb", f"notebooks/{STUDENT_DIR}/{name}.ipynb")
        title.source = f"{title.source.rstrip()}\n\n{STUDENT_NOTE.format(name=name)}\n"
    return student


def render(nb: nbformat.NotebookNode) -> str:
    """A notebook as it is written to disk (so that a byte comparison tells whether it is up to date)."""
    return nbformat.writes(nb, version=4) + "\n"


def build(notebooks: Path = NOTEBOOKS, *, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every student notebook; return those that were out of date."""
    out_dir = notebooks / STUDENT_DIR
    stale = []
    expected_names = set()
    for path in topic_notebooks(notebooks):
        text = render(student_edition(nbformat.read(path, as_version=4), path.stem))
        target = out_dir / path.name
        expected_names.add(path.name)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not check:
            out_dir.mkdir(exist_ok=True)
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
    for orphan in sorted(out_dir.glob("*.ipynb")) if out_dir.is_dir() else []:
        if orphan.name not in expected_names:
            stale.append(orphan)
            if not check:
                orphan.unlink()
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report student notebooks that are out of date")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="folder of the instructor notebooks")
    args = parser.parse_args(argv)
    try:
        stale = build(args.notebooks, check=args.check)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(args.notebooks.parent)}")
    if args.check and stale:
        print("run `make student` (python -m tools.editions) and commit notebooks/student/", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
