"""Headline metrics that notebooks report and the course runner collects.

A notebook calls :func:`record` for each headline metric::

    record("test accuracy", acc, goal=0.85)                       # the runner supplies notebook and mode

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


def record(metric: str, value: float, goal: float | None = None, *, higher_is_better: bool = True) -> Result:
    """Record a headline metric, print it, and return it.

    The notebook's name and the mode (fast or full) come from the runner's environment
    (``COURSE_NOTEBOOK``, ``COURSE_FAST``). ``goal`` is the full-mode target from the course
    plan; a missed goal is reported as missed, never hidden.
    """
    notebook = os.environ.get(NOTEBOOK_ENV, "")
    if not isinstance(metric, str):
        raise TypeError(f"record(metric, value, goal=None) takes the metric's name first, got {metric!r}; "
                        "the notebook's name comes from the runner")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{notebook}/{metric}: value must be a finite number, got {value!r}")
    mode = "fast" if fast_mode() else "full"
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
