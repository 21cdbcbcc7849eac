"""Checks on a notebook's *stored* outputs: what a learner reads when opening it without running it.

    python -m tools.nbcheck                          # every committed notebook
    python -m tools.nbcheck notebooks/04_lstm.ipynb
    python -m tools.nbcheck --max-cell-lines 40      # also list code cells longer than 40 lines

Nothing is executed. A notebook passes when

* every code cell that draws a figure stores an image;
* no output, in any of its forms (a stream, or the ``text/plain``, ``text/html``, ... of a result or a display),
  holds an error, a traceback, a printed exception message, a Python warning, ANSI escape codes, a progress bar
  or a long log;
* the file stays under :data:`MAX_BYTES`;
* every ``record(...)`` call with a goal is followed by an ``assert`` (in its cell or the next code cell);
* with ``max_cell_lines``, no code cell but the generated setup cell is longer than that.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import notebook_paths

MAX_BYTES = 1_000_000
MAX_LOG_LINES = 60  # stream lines one cell may store
MAX_CELL_LINES = 40  # the course's limit for a code cell (notebooks/README.md); checked when asked for
# Calls that draw: matplotlib's entry points and the course's plotting helpers (plot_*, image_grid).
_PLOT_ATTRS = {"show", "subplots", "figure", "imshow", "matshow", "subplot_mosaic"}
_PLOT_NAMES = {"image_grid"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PROGRESS = [
    re.compile(r"\d+/\d+ [━─=>.\[\]]{5,}"),                # Keras' Progbar: "32/32 ━━━━━━━━━━ 0s 2ms/step"
    re.compile(r"━{5,}\s+\d+(\.\d+)?(s|ms|us)\b"),         # its tail, when the count scrolled away
    re.compile(r"\d+%\|[^|\n]*\|\s*\d+/\d+"),              # tqdm
    re.compile(r"\bETA:? \d"),
]
# "file.py:12: UserWarning: ..." as the warnings module prints it: it also leaks the path of the run's machine.
# TensorFlow's and absl's loggers ("WARNING:tensorflow:...", "W0000 00:00:00.000 ...") count as warnings too.
_WARNING = re.compile(r"^\S+:\d+: \w*Warning: |^(WARNING|ERROR):(tensorflow|absl|jax)\b|^[WE]\d{4} \d\d:\d\d:\d\d", re.M)
# A traceback, or an exception's message printed by code that caught it: "ValueError: ...", "<urlopen error ...>",
# "[Errno 2] ...", a line that starts with "Error: ".
_ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|<urlopen error|\[Errno -?\d+\]"
                         r"|\b[A-Z]\w*(Error|Exception): |^Error: |^\w+(Error|Exception)\b.*line \d+", re.M)


@dataclass(frozen=True)
class Problem:
    cell: int  # index in the notebook's cells
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.what}"


def _code(cell) -> str:
    # IPython magics and shell escapes are not Python; blank them so ast can parse the rest.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())


def _parse(cell) -> ast.Module | None:
    try:
        return ast.parse(_code(cell))
    except SyntaxError:
        return None


def _call_name(node: ast.Call) -> tuple[str | None, str | None]:
    """(attribute, name) of a call: ``plt.show()`` -> ("show", None); ``image_grid(x)`` -> (None, "image_grid")."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr, None
    if isinstance(func, ast.Name):
        return None, func.id
    return None, None


def _is_plot_call(node: ast.Call, plotting_functions: set[str]) -> bool:
    attr, name = _call_name(node)
    if attr is not None:
        return attr in _PLOT_ATTRS or attr.startswith("plot_")
    return name is not None and (name in _PLOT_NAMES or name.startswith("plot_") or name in plotting_functions)


def _top_level_calls(tree: ast.Module):
    """Calls made when the cell runs: not those inside function or class bodies."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def plotting_functions(nb) -> set[str]:
    """Names of functions the notebook defines that draw (directly or through another such function)."""
    defs: dict[str, ast.AST] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and (tree := _parse(cell)) is not None:
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    defs[node.name] = node
    found: set[str] = set()
    changed = True
    while changed:  # a helper that calls a plotting helper also plots
        changed = False
        for name, node in defs.items():
            if name not in found and any(isinstance(n, ast.Call) and _is_plot_call(n, found) for n in ast.walk(node)):
                found.add(name)
                changed = True
    return found


def draws_figure(cell, plotting: set[str] = frozenset()) -> bool:
    """Whether running this code cell draws a figure."""
    tree = _parse(cell)
    return tree is not None and any(_is_plot_call(c, set(plotting)) for c in _top_level_calls(tree))


def shows(cell) -> int:
    """How many times the cell calls ``plt.show()`` when it runs (each shows one or more figures)."""
    tree = _parse(cell)
    if tree is None:
        return 0
    return sum(1 for c in _top_level_calls(tree) if _call_name(c)[0] == "show")


def _texts(output) -> list[str]:
    """Every text form of an output: a stream's text, each ``text/*`` form of a result or display."""
    if output.output_type == "stream":
        return [output.text]
    if output.output_type in ("execute_result", "display_data"):
        # Each form is what some reader shows: HTML in Jupyter, plain text in a terminal, on GitHub's
        # fallback or in an exported script; all of them must be clean.
        return [v if isinstance(v, str) else "".join(v) for k, v in output.get("data", {}).items()
                if k.startswith("text/") and isinstance(v, str | list)]
    if output.output_type == "error":
        return ["\n".join(output.get("traceback", []))]
    return []


def _first_line_of(match: re.Match) -> str:
    text = match.string
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = _ANSI.sub("", text[start:end if end >= 0 else len(text)]).strip()
    return line if len(line) <= 100 else line[:97] + "..."


def _record_goal(call: ast.Call) -> bool:
    """True if a ``record(...)`` call passes a goal that is not the literal None."""
    goal = call.args[2] if len(call.args) > 2 else next((k.value for k in call.keywords if k.arg == "goal"), None)
    return goal is not None and not (isinstance(goal, ast.Constant) and goal.value is None)


def _has_assert(tree: ast.Module | None, after_line: int = 0) -> bool:
    return tree is not None and any(isinstance(n, ast.Assert) and n.lineno > after_line for n in ast.walk(tree))


def code_lines(cell) -> int:
    """Lines of a code cell's source, blank lines inside it included, trailing ones not."""
    return len(cell.source.rstrip().splitlines())


def check_notebook(nb, *, size: int | None = None, max_cell_lines: int | None = None) -> list[Problem]:
    """Every problem a learner would see in this notebook's stored outputs (and cells over ``max_cell_lines``)."""
    problems: list[Problem] = []
    if size is not None and size >= MAX_BYTES:
        problems.append(Problem(-1, f"the file is {size / 1e6:.2f} MB; keep it under {MAX_BYTES / 1e6:.0f} MB "
                                    "(smaller or fewer figures, shorter logs)"))
    plotting = plotting_functions(nb)
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for pos, (i, cell) in enumerate(code_cells):
        outputs = cell.get("outputs", [])
        images = sum(1 for o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {})))
        wanted = max(int(draws_figure(cell, plotting)), shows(cell))
        if images < wanted:
            problems.append(Problem(i, f"draws {wanted} figure(s) but stores {images} image(s) (was it run under a "
                                       "non-interactive MPLBACKEND? refresh it with `python -m tools.runner --refresh`)"))
        if (max_cell_lines is not None and "setup" not in cell.metadata.get("tags", [])
                and code_lines(cell) > max_cell_lines):
            problems.append(Problem(i, f"has {code_lines(cell)} lines of code (at most {max_cell_lines}); move "
                                       "reusable logic into a tested utils/ module or split the cell"))
        lines = 0
        for out in outputs:
            if out.output_type == "error":
                problems.append(Problem(i, f"stores an error: {out.get('ename')}: {out.get('evalue')}"))
            for text in _texts(out):
                if _ANSI.search(text):
                    problems.append(Problem(i, "stores ANSI escape codes (colours or cursor moves)"))
                if "\r" in text or any(p.search(text) for p in _PROGRESS):
                    problems.append(Problem(i, "stores a progress bar (use verbose=0 with a compact logger)"))
                if out.output_type != "error" and (found := _ERROR_TEXT.search(text)):
                    problems.append(Problem(i, f"stores an error message or traceback ({_first_line_of(found)!r}): "
                                               "fix its cause, or print what the learner needs instead"))
                if _WARNING.search(text):
                    problems.append(Problem(i, "stores a Python warning (fix its cause; it also shows a local path)"))
                if text.lstrip().startswith("Result(notebook="):
                    problems.append(Problem(i, "stores the repr of a record() result"))
            if out.output_type == "stream":
                lines += out.text.count("\n")
        if lines > MAX_LOG_LINES:
            problems.append(Problem(i, f"stores {lines} lines of log (at most {MAX_LOG_LINES}); print less often"))
        tree = _parse(cell)
        if tree is None:
            continue
        goal_lines = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                      and _call_name(n)[1] == "record" and _record_goal(n)]
        if goal_lines:
            nxt = _parse(code_cells[pos + 1][1]) if pos + 1 < len(code_cells) else None
            if not (_has_assert(tree, max(goal_lines)) or _has_assert(nxt)):
                problems.append(Problem(i, "records a metric with a goal but no assert follows it"))
    return list(dict.fromkeys(problems))  # one line per kind of problem and cell


def check_file(path: Path, *, max_cell_lines: int | None = None) -> list[Problem]:
    """:func:`check_notebook` on a notebook file, size included."""
    return check_notebook(nbformat.read(path, as_version=4), size=path.stat().st_size, max_cell_lines=max_cell_lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.nbcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to check (default: every course notebook)")
    parser.add_argument("--max-cell-lines", type=int, default=None, metavar="N",
                        help=f"also refuse code cells longer than N lines (the course's limit: {MAX_CELL_LINES})")
    args = parser.parse_args(argv)
    paths = args.paths or notebook_paths()
    bad = 0
    for path in paths:
        problems = check_file(path, max_cell_lines=args.max_cell_lines)
        bad += bool(problems)
        for p in problems:
            print(f"{path.name}: {p}")
    print(f"{len(paths) - bad} of {len(paths)} notebook(s) pass")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
