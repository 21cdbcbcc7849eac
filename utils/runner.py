"""Execute the course's notebooks and build the results table.

    python -m utils.runner                 # every notebook, full mode
    python -m utils.runner --fast          # every notebook, FAST mode (minutes)
    python -m utils.runner ann cnn         # only notebooks whose names contain these
    python -m utils.runner --refresh ann   # full run, then store its outputs in notebooks/

Executed copies go to ``build/<mode>/``; the committed notebooks are rewritten
only with ``--refresh``. Each notebook's headline metrics (written through
:func:`utils.results.record`) and wall time become rows of the results table,
printed at the end and written to ``build/<mode>/results.{json,md}``. A full run
also updates ``results/results.json`` and ``results/README.md``, which are committed.
A failing notebook is reported with its cell and error; the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import NOTEBOOK_DIR, ROOT, notebook_paths
from .results import markdown_table, read_records

BUILD_DIR = ROOT / "build"
RESULTS_DIR = ROOT / "results"


@dataclass
class Run:
    notebook: str
    mode: str
    seconds: float = 0.0
    error: str | None = None
    records: list[dict] = field(default_factory=list)

    def rows(self) -> list[dict]:
        if self.error:
            return [{"notebook": self.notebook, "metric": "FAILED", "value": None, "goal": None,
                     "higher_is_better": True, "met": False, "mode": self.mode,
                     "seconds": round(self.seconds, 1), "error": self.error}]
        if not self.records:
            return [{"notebook": self.notebook, "metric": "(no metric recorded)", "value": None, "goal": None,
                     "higher_is_better": True, "met": None, "mode": self.mode, "seconds": round(self.seconds, 1)}]
        return [{**r, "seconds": round(self.seconds, 1)} for r in self.records]


def _describe_failure(exc: Exception) -> str:
    cell = getattr(exc, "exec_count", None)
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    where = f"cell [{cell}]" if cell is not None else "before any cell ran"
    return f"{where}: {ename}: {str(evalue).strip().splitlines()[-1] if str(evalue).strip() else ''}"


def clean_for_commit(path: Path) -> None:
    """Strip run-specific metadata (papermill timings, injected parameters) from an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def run_notebook(path: Path, out_dir: Path, *, fast: bool, seed: int | None, timeout: int,
                 log_output: bool) -> Run:
    """Execute one notebook with papermill; never raises for a notebook error."""
    import papermill as pm

    mode = "fast" if fast else "full"
    run = Run(path.stem, mode)
    records_file = out_dir / "records" / f"{path.stem}.jsonl"
    records_file.parent.mkdir(parents=True, exist_ok=True)
    records_file.unlink(missing_ok=True)
    env = {"COURSE_FAST": "1" if fast else "0", "COURSE_RESULTS_FILE": str(records_file),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(path), str(out_dir / path.name),
            parameters={"SEED": seed} if seed is not None else None,
            cwd=str(NOTEBOOK_DIR), kernel_name="python3", progress_bar=False,
            log_output=log_output, execution_timeout=timeout,
        )
    except Exception as exc:  # papermill wraps cell errors; anything else is reported the same way
        run.error = _describe_failure(exc)
    finally:
        run.seconds = time.perf_counter() - start
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # Rows are keyed by the file, whatever name the notebook passed to record(), so merging stays exact.
    run.records = [{**r, "notebook": path.stem} for r in read_records(records_file)]
    return run


def write_tables(rows: list[dict], folder: Path, title: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / ("README.md" if folder == RESULTS_DIR else "results.md")).write_text(
        f"# {title}\n\n{markdown_table(rows)}\n", encoding="utf-8")


def merge_full_results(rows: list[dict]) -> list[dict]:
    """Replace the committed rows of the notebooks just run, keep the others."""
    path = RESULTS_DIR / "results.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    ran = {r["notebook"] for r in rows}
    order = {p.stem: i for i, p in enumerate(notebook_paths())}
    merged = [r for r in old if r["notebook"] not in ran] + rows
    return sorted(merged, key=lambda r: order.get(r["notebook"], len(order)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="run only notebooks whose names contain these")
    parser.add_argument("--fast", action="store_true", help="FAST mode (as CI runs it)")
    parser.add_argument("--seed", type=int, default=None, help="override every notebook's SEED")
    parser.add_argument("--refresh", action="store_true",
                        help="after a successful full run, store the executed notebook in notebooks/")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--log-output", action="store_true", help="stream cell outputs while running")
    args = parser.parse_args(argv)
    if args.refresh and (args.fast or args.seed is not None):
        parser.error("--refresh stores full-mode runs with the notebooks' own SEED only")

    mode = "fast" if args.fast else "full"
    out_dir = BUILD_DIR / mode
    paths = notebook_paths(args.names)
    runs = []
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.stem} ({mode}) ...", flush=True)
        run = run_notebook(path, out_dir, fast=args.fast, seed=args.seed, timeout=args.timeout,
                           log_output=args.log_output)
        runs.append(run)
        status = "FAILED " + run.error if run.error else "ok"
        print(f"    {status} in {run.seconds / 60:.1f} min", flush=True)
        for r in run.records:
            print(f"    {r['metric']} = {r['value']:.4g}" + ("" if r["met"] is None else
                  f" (goal {'≥' if r['higher_is_better'] else '≤'} {r['goal']:g}: {'met' if r['met'] else 'MISSED'})"))
        if args.refresh and not run.error:
            target = NOTEBOOK_DIR / path.name
            target.write_bytes((out_dir / path.name).read_bytes())
            clean_for_commit(target)

    rows = [row for run in runs for row in run.rows()]
    write_tables(rows, out_dir, f"Course results ({mode} mode, this run)")
    if mode == "full" and args.seed is None:
        write_tables(merge_full_results(rows), RESULTS_DIR, "Course results (full mode)")
    print()
    print(markdown_table(rows))
    failed = [r for r in runs if r.error]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: " + "; ".join(f"{r.notebook} at {r.error}" for r in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
