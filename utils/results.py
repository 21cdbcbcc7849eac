"""Headline metrics that notebooks report and the course runner collects.

A notebook calls :func:`record` for each headline metric::

    record("test accuracy", acc, goal=0.85)                       # the runner supplies notebook and mode
    record(NB, "test accuracy", acc, 0.85, fast=FAST)             # the older form, still accepted

When the runner executes a notebook it names the notebook (``COURSE_NOTEBOOK``), the mode
(``COURSE_FAST``) and a JSON-lines file (``COURSE_RESULTS_FILE``) the record is appended to;
run by hand, the call only prints the line.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .reproducibility import fast_mode

RESULTS_FILE_ENV = "COURSE_RESULTS_FILE"
NOTEBOOK_ENV = "COURSE_NOTEBOOK"


@dataclass(frozen=True)
class Result:
    """One headline metric of one notebook run."""

    notebook: str
    metric: str
    value: float
    goal: float | None
    higher_is_better: bool
    mode: str
    backend: str = "n/a"

    @property
    def met(self) -> bool | None:
        """Whether the goal is met (``None`` when there is no goal)."""
        if self.goal is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def _ipython_display_(self) -> None:
        """Show nothing when a record() call ends a cell: record() has printed the line already."""

    def as_dict(self) -> dict:
        return {**asdict(self), "met": self.met}

    @classmethod
    def from_dict(cls, row: dict) -> Result:
        """The result a results row (as written by :meth:`as_dict`, with extra keys) holds."""
        return cls(row["notebook"], row["metric"], row["value"], row.get("goal"), row.get("higher_is_better", True),
                   row.get("mode", "full"), row.get("backend", "n/a"))

    def line(self) -> str:
        """``notebook · metric = value (goal ≥ g: met, mode, backend)``, the line record() prints."""
        name = f"{self.notebook} · " if self.notebook else ""
        goal = ""
        if self.goal is not None:
            goal = f"goal {'≥' if self.higher_is_better else '≤'} {self.goal:g}: {'met' if self.met else 'MISSED'}, "
        return f"{name}{self.metric} = {self.value:.4g} ({goal}{self.mode}, {self.backend})"


def active_backend() -> str:
    """The Keras backend of this process, if Keras is imported (``"n/a"`` otherwise)."""
    keras = sys.modules.get("keras")
    if keras is None:
        return "n/a"
    return keras.backend.backend()


def record(*args, goal: float | None = None, higher_is_better: bool = True, fast: bool | None = None) -> Result:
    """Record a headline metric, print it, and return it.

    ``record(metric, value, goal=None, *, higher_is_better=True)``: the notebook's name and the mode
    come from the runner's environment. The older ``record(notebook, metric, value, goal=None, *,
    higher_is_better=True, fast=False)`` is accepted too. ``goal`` is the full-mode target from the
    course plan; a missed goal is reported as missed, never hidden.
    """
    if len(args) >= 2 and isinstance(args[1], str):  # record(notebook, metric, value, ...)
        notebook, *args = args
    else:
        notebook = os.environ.get(NOTEBOOK_ENV, "")
    if len(args) not in (2, 3) or not isinstance(args[0], str):
        raise TypeError("record() takes (metric, value, goal=None): a metric name, its value and optionally "
                        f"the goal; got {len(args)} positional argument(s) after the notebook name")
    metric, value, *rest = args
    if rest:
        if goal is not None:
            raise TypeError("record() got the goal twice (positionally and as goal=)")
        goal = rest[0]
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{notebook}/{metric}: value must be a finite number, got {value!r}")
    mode = "fast" if (fast_mode() if fast is None else fast) else "full"
    result = Result(notebook, metric, value, None if goal is None else float(goal), higher_is_better, mode,
                    active_backend())
    target = os.environ.get(RESULTS_FILE_ENV)
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict()) + "\n")
    print(result.line())
    return result
