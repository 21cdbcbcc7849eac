"""Execute the course's notebooks and build the results table.

    python -m utils.runner                     # every notebook, full mode, each on its default backend
    python -m utils.runner --fast              # every notebook, FAST mode (minutes)
    python -m utils.runner ann cnn             # only notebooks whose names contain these
    python -m utils.runner --backend jax       # every notebook on JAX (tensorflow, jax, torch or default)
    python -m utils.runner --refresh ann       # full run, then store its outputs in notebooks/

Executed copies go to ``build/<mode>/`` (``build/<mode>-<backend>/`` with ``--backend``);
the committed notebooks are rewritten only with ``--refresh``. Each notebook's
headline metrics (written through :func:`utils.results.record`) and wall time
become rows of the results table, printed at the end and written beside the
executed copies. A full run on the default backends also updates
``results/results.json`` and ``results/README.md``, which are committed.
A failing notebook is reported with its cell and error; the others still run.
While a notebook runs, a line is printed at each new section it reaches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .course import BACKENDS, NOTEBOOK_DIR, ROOT, notebook_paths, topic
from .results import markdown_table, read_records

BUILD_DIR = ROOT / "build"
RESULTS_DIR = ROOT / "results"
# Whatever MPLBACKEND the caller has (CI exports Agg), the kernel draws inline so figures are stored.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
BUSY_LOAD = 0.5  # a run that starts while other work keeps more cores than this busy shared the machine


@dataclass
class Run:
    notebook: str
    mode: str
    backend: str = "n/a"
    seconds: float = 0.0
    error: str | None = None
    records: list[dict] = field(default_factory=list)
    load: float | None = None  # CPU cores kept busy by other work when the run started
    date: str = ""
    cpu_seconds: float | None = None  # CPU time the kernel used: a steadier measure than wall time on a busy machine
    run: str = ""  # when the runner invocation that ran this notebook started: rows with one value came from one run

    def rows(self) -> list[dict]:
        base = {"notebook": self.notebook, "mode": self.mode, "backend": self.backend,
                "seconds": round(self.seconds, 1), "load": self.load, "date": self.date, "run": self.run}
        if self.error:
            return [{**base, "metric": "FAILED", "value": None, "goal": None, "higher_is_better": True,
                     "met": False, "error": self.error}]
        if not self.records:
            return [{**base, "metric": "(no metric recorded)", "value": None, "goal": None,
                     "higher_is_better": True, "met": None}]
        return [{**r, **base} for r in self.records]


def _describe_failure(exc: Exception) -> str:
    cell = getattr(exc, "exec_count", None)
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    where = f"cell [{cell}]" if cell is not None else "before any cell ran"
    return f"{where}: {ename}: {str(evalue).strip().splitlines()[-1] if str(evalue).strip() else ''}"


def clean_for_commit(path: Path) -> None:
    """Strip run-specific metadata (timings, injected parameters) from an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def inject_parameters(nb: nbformat.NotebookNode, parameters: dict) -> None:
    """Insert a cell after the ``parameters`` cell that overrides them (papermill's convention)."""
    if not parameters:
        return
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), None)
    if index is None:
        raise ValueError("the notebook has no cell tagged 'parameters' to override")
    source = "# Parameters injected by the course runner\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))


def kernel_env(*, fast: bool, records_file: Path, backend: str) -> dict[str, str]:
    """The environment a notebook's kernel runs in."""
    env = {**os.environ, "COURSE_FAST": "1" if fast else "0", "COURSE_RESULTS_FILE": str(records_file),
           "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": INLINE_BACKEND}
    if backend == "default":
        env.pop("KERAS_BACKEND", None)  # the notebook's own default (its setup cell) applies
    else:
        env["KERAS_BACKEND"] = backend
    return env


class _Progress:
    """Prints one line per section (``##`` heading) as execution reaches it."""

    def __init__(self, nb: nbformat.NotebookNode, stream=sys.stdout):
        self.code_total = sum(1 for c in nb.cells if c.cell_type == "code")
        self.code_done = 0
        self.cell_index = -1
        self.exec_count: int | None = None
        self.start = time.perf_counter()
        self.stream = stream

    def on_cell_start(self, cell, cell_index):
        self.cell_index = cell_index
        if cell.cell_type == "markdown":
            heading = next((line for line in cell.source.splitlines() if line.startswith("## ")), None)
            if heading:
                elapsed = time.perf_counter() - self.start
                print(f"    {elapsed / 60:5.1f} min  cells {self.code_done:>3}/{self.code_total}  "
                      f"{heading[3:].strip()}", file=self.stream, flush=True)
        elif cell.cell_type == "code":
            self.code_done += 1

    def on_cell_executed(self, cell, cell_index, execute_reply):
        self.exec_count = execute_reply.get("content", {}).get("execution_count")


def run_notebook(path: Path, out_dir: Path, *, fast: bool, seed: int | None, timeout: int,
                 backend: str = "default", progress: bool = True, run_id: str = "") -> Run:
    """Execute one notebook with nbclient; never raises for a notebook error."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    mode = "fast" if fast else "full"
    run = Run(path.stem, mode, topic(path.stem).backend if backend == "default" else backend, run=run_id)
    records_file = out_dir / "records" / f"{path.stem}.jsonl"
    records_file.parent.mkdir(parents=True, exist_ok=True)
    records_file.unlink(missing_ok=True)
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, {"SEED": seed} if seed is not None else {})
    tracker = _Progress(nb, sys.stdout if progress else open(os.devnull, "w"))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
                            on_cell_start=tracker.on_cell_start, on_cell_executed=tracker.on_cell_executed)
    # IPC keeps the kernel's "running over TCP without encryption" warning away (and the traffic local).
    client.km = client.create_kernel_manager()
    sockets = None
    if os.name == "posix":
        sockets = tempfile.mkdtemp(prefix="course-kernel-")  # short: socket paths are limited to ~100 bytes
        client.km.transport = "ipc"
        client.km.ip = os.path.join(sockets, "k")
    run.load, run.date = busy_cores(), datetime.now(UTC).isoformat(timespec="seconds")
    cpu_before = _children_cpu()
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env(fast=fast, records_file=records_file, backend=backend))
    except CellExecutionError as exc:
        exc.exec_count = tracker.exec_count
        run.error = _describe_failure(exc)
    except Exception as exc:  # a kernel that died or timed out is reported the same way
        exc_count = tracker.exec_count if tracker.code_done else None
        run.error = _describe_failure(_annotate(exc, exc_count))
    finally:
        run.seconds = time.perf_counter() - start
        cpu_after = _children_cpu()
        run.cpu_seconds = None if cpu_after is None else round(cpu_after - cpu_before, 1)
        nbformat.write(nb, out_dir / path.name)
        if sockets:
            shutil.rmtree(sockets, ignore_errors=True)
    # Rows are keyed by the file, whatever name the notebook passed to record(), so merging stays exact.
    run.records = [{**r, "notebook": path.stem} for r in read_records(records_file)]
    return run


def _children_cpu() -> float | None:
    """User + system CPU seconds of this process's finished children (the kernels)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _annotate(exc: Exception, exec_count: int | None) -> Exception:
    try:
        exc.exec_count = exec_count
    except AttributeError:  # pragma: no cover - built-in exceptions without a __dict__
        pass
    return exc


def _busy_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (None elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def busy_cores(window: float = 1.0) -> float | None:
    """How many CPU cores other work kept busy just before a run starts.

    Measured over ``window`` seconds from /proc/stat while no notebook kernel of this runner is
    alive, so the runner's own previous notebook does not count (the 1-minute load average would
    still carry it). Elsewhere, the 1-minute load average; None where the platform has neither.
    """
    first = _busy_jiffies()
    if first is not None:
        time.sleep(window)
        second = _busy_jiffies()
        if second is not None and second[1] > first[1]:
            share = (second[0] - first[0]) / (second[1] - first[1])
            return round(share * (os.cpu_count() or 1), 2)
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def time_table(rows: list[dict]) -> str:
    """Minutes per notebook run and their total, with the machine's load when each run started."""
    runs = {}
    for r in rows:
        runs.setdefault(r["notebook"], r)
    lines = ["| notebook | backend | minutes | load at start | date |", "|---|---|---|---|---|"]
    for name, r in runs.items():
        load = r.get("load")
        busy = " (under load)" if load is not None and load > BUSY_LOAD else ""
        lines.append(f"| {name} | {r.get('backend', 'n/a')} | {r['seconds'] / 60:.1f} | "
                     f"{'' if load is None else load}{busy} | {(r.get('date') or '')[:10]} |")
    total = sum(r["seconds"] for r in runs.values()) / 60
    lines.append(f"| **total** | | **{total:.1f}** | | |")
    return "\n".join(lines)


def time_summary(rows: list[dict]) -> str:
    """Whether the total above is the time of one run on an idle machine, in one or two sentences."""
    runs = {}
    for r in rows:
        runs.setdefault(r["notebook"], r)
    if not runs:
        return ""
    total = sum(r["seconds"] for r in runs.values()) / 60
    started = {r.get("run") or None for r in runs.values()}
    if len(started) == 1 and None not in started:
        text = (f"All {len(runs)} notebook(s) ran one after another in one run of the runner, started "
                f"{next(iter(started))}: {total:.1f} minutes of notebook time.")
    else:
        text = (f"These times come from {len(started)} separate runs (each notebook's latest): their total, "
                f"{total:.1f} minutes, was not measured in one run.")
    loaded = [name for name, r in runs.items() if (r.get("load") or 0) > BUSY_LOAD]
    if loaded:
        text += (f" Taken under load: {', '.join(loaded)}; the total is not the course's time on an idle "
                 "machine.")
    return text


def write_tables(rows: list[dict], folder: Path, title: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    cpus = os.cpu_count()
    text = (f"# {title}\n\n{markdown_table(rows)}\n\n## Notebook time\n\n"
            f"Wall time of each notebook's run (kernel start included) on {cpus} CPU core(s). *Load at start* is "
            f"the number of cores other work kept busy in the second before the run; a run that started above "
            f"{BUSY_LOAD} shared the machine and is marked *under load*.\n\n"
            f"{time_table(rows)}\n\n{time_summary(rows)}\n")
    (folder / ("README.md" if folder == RESULTS_DIR else "results.md")).write_text(text, encoding="utf-8")


@contextmanager
def _locked(folder: Path):
    """Serialise read-modify-write of the committed results between concurrent runners."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: runs are not concurrent there in practice
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def merge_full_results(rows: list[dict]) -> list[dict]:
    """Replace the committed rows of the notebooks just run, keep the others."""
    path = RESULTS_DIR / "results.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    ran = {r["notebook"] for r in rows}
    order = {p.stem: i for i, p in enumerate(notebook_paths())}
    merged = [r for r in old if r["notebook"] not in ran] + rows
    return sorted(merged, key=lambda r: order.get(r["notebook"], len(order)))


def _format_record(r: dict) -> str:
    goal = "" if r.get("goal") is None else (
        f" (goal {'≥' if r['higher_is_better'] else '≤'} {r['goal']:g}: {'met' if r['met'] else 'MISSED'})")
    return f"    {r['metric']} = {r['value']:.4g}{goal}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="run only notebooks whose names contain these")
    parser.add_argument("--fast", action="store_true", help="FAST mode (as CI runs it)")
    parser.add_argument("--seed", type=int, default=None, help="override every notebook's SEED")
    parser.add_argument("--backend", choices=("default", *BACKENDS), default="default",
                        help="Keras backend for every notebook (default: each notebook's own, see its setup cell)")
    parser.add_argument("--refresh", action="store_true",
                        help="after a successful full run, store the executed notebook in notebooks/")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--quiet", action="store_true", help="no per-section progress lines")
    args = parser.parse_args(argv)
    if args.refresh and (args.fast or args.seed is not None):
        parser.error("--refresh stores full-mode runs with the notebooks' own SEED only")

    mode = "fast" if args.fast else "full"
    out_dir = BUILD_DIR / (mode if args.backend == "default" else f"{mode}-{args.backend}")
    paths = notebook_paths(args.names)
    run_id = datetime.now(UTC).isoformat(timespec="seconds")
    runs = []
    for i, path in enumerate(paths, 1):
        backend = topic(path.stem).backend if args.backend == "default" else args.backend
        print(f"[{i}/{len(paths)}] {path.stem} ({mode}, {backend})", flush=True)
        run = run_notebook(path, out_dir, fast=args.fast, seed=args.seed, timeout=args.timeout,
                           backend=args.backend, progress=not args.quiet, run_id=run_id)
        runs.append(run)
        status = "FAILED " + run.error if run.error else "ok"
        cpu = "" if run.cpu_seconds is None else f" (kernel CPU time {run.cpu_seconds / 60:.1f} min)"
        print(f"    {status} in {run.seconds / 60:.1f} min{cpu}", flush=True)
        for r in run.records:
            print(_format_record(r), flush=True)
        if args.refresh and not run.error:
            target = NOTEBOOK_DIR / path.name
            target.write_bytes((out_dir / path.name).read_bytes())
            clean_for_commit(target)

    rows = [row for run in runs for row in run.rows()]
    write_tables(rows, out_dir, f"Course results ({mode} mode, this run)")
    if mode == "full" and args.seed is None and args.backend == "default":
        with _locked(RESULTS_DIR):
            write_tables(merge_full_results(rows), RESULTS_DIR, "Course results (full mode)")
    total = sum(r.seconds for r in runs)
    print()
    print(markdown_table(rows))
    print(f"\nnotebook time: {total / 60:.1f} min for {len(runs)} notebook(s)")
    failed = [r for r in runs if r.error]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: " + "; ".join(f"{r.notebook} at {r.error}" for r in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
