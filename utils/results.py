"""Headline metrics that notebooks report and the course runner collects.

A notebook calls :func:`record` for each headline metric. When the runner
executes it, ``COURSE_RESULTS_FILE`` names a JSON-lines file the record is
appended to; run by hand, the call only prints the line.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path


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

    def line(self) -> str:
        if self.goal is None:
            return f"{self.notebook} · {self.metric} = {self.value:.4g} ({self.mode}, {self.backend})"
        sign = "≥" if self.higher_is_better else "≤"
        verdict = "met" if self.met else "MISSED"
        return (f"{self.notebook} · {self.metric} = {self.value:.4g} "
                f"(goal {sign} {self.goal:g}: {verdict}, {self.mode}, {self.backend})")


def active_backend() -> str:
    """The Keras backend of this process, if Keras is imported (``"n/a"`` otherwise)."""
    keras = sys.modules.get("keras")
    if keras is None:
        return "n/a"
    return keras.backend.backend()


def record(notebook: str, metric: str, value: float, goal: float | None = None, *,
           higher_is_better: bool = True, fast: bool = False) -> Result:
    """Record a headline metric, print it, and return it.

    ``goal`` is the full-mode target from the course plan; a missed goal is
    reported as missed, never hidden.
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{notebook}/{metric}: value must be a finite number, got {value!r}")
    result = Result(notebook, metric, value, None if goal is None else float(goal),
                    higher_is_better, "fast" if fast else "full", active_backend())
    target = os.environ.get("COURSE_RESULTS_FILE")
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict()) + "\n")
    print(result.line())
    return result


def read_records(path: Path) -> list[dict]:
    """Read the JSON-lines records a notebook run wrote (empty if none)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def markdown_table(rows: list[dict]) -> str:
    """Render result rows (with ``seconds``) as the course's Markdown results table."""
    head = ("| notebook | metric | value | goal | met? | minutes | mode | backend |\n"
            "|---|---|---|---|---|---|---|---|")
    body = []
    for r in rows:
        goal = "" if r.get("goal") is None else ("≥ " if r["higher_is_better"] else "≤ ") + f"{r['goal']:g}"
        met = {True: "yes", False: "**no**", None: "–"}[r.get("met")]
        minutes = "" if r.get("seconds") is None else f"{r['seconds'] / 60:.1f}"
        value = "" if r.get("value") is None else f"{r['value']:.4g}"
        metric = str(r["metric"]).replace("|", "\\|")  # a bar inside a cell would end it
        body.append(f"| {r['notebook']} | {metric} | {value} | {goal} | {met} | {minutes} | {r['mode']} "
                    f"| {r.get('backend', 'n/a')} |")
    return "\n".join([head, *body])
