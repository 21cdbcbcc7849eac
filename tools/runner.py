"""Execute the course's notebooks and build the results table.

    python -m tools.runner                     # every notebook, full mode, each on its default backend
    python -m tools.runner --fast              # every notebook, FAST mode (minutes)
    python -m tools.runner ann cnn             # only notebooks whose names contain these
    python -m tools.runner --backend jax       # every notebook on JAX (tensorflow, jax, torch or default)
    python -m tools.runner --refresh ann       # full run, then store its outputs in notebooks/

Executed copies go to ``build/<mode>/`` (``build/<mode>-<backend>/`` with ``--backend``);
the committed notebooks are rewritten only with ``--refresh``. Each notebook's
headline metrics (written through :func:`utils.results.record`) and wall time
become rows of the results table, printed at the end and written beside the
executed copies. A full run on the default backends also updates
``results/results.json`` and ``results/README.md``, which are committed.
A failing notebook is reported with its cell and its whole error message; the others
still run, and its executed copy keeps no output below the failing cell. Ctrl-C stops
the run at once: the kernel is shut down, nothing is merged into ``results/``, and the
exit status is non-zero. While a notebook runs, a line is printed at each new section it reaches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from utils.data.download import atomic_path, file_lock
from utils.reproducibility import FAST_ENV
from utils.results import NOTEBOOK_ENV, RESULTS_FILE_ENV, Result
from utils.startup import BACKENDS

from . import tables
from .course import BUILD_DIR, NOTEBOOK_DIR, RESULTS_DIR, notebook_paths, topic

# Whatever MPLBACKEND the caller has (CI exports Agg), the kernel draws inline so figures are stored.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class Interrupted(BaseException):  # noqa: N818 (like KeyboardInterrupt, which it stands for)
    """The run was stopped by a signal (Ctrl-C, or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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


def describe_failure(exc: BaseException, exec_count: int | None) -> str:
    """``cell [n]: Name: message``, the whole message, as many lines as it has."""
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    where = f"cell [{exec_count}]" if exec_count is not None else "before any cell ran"
    return f"{where}: {ename}: {str(evalue).strip()}"


def read_records(path: Path) -> list[dict]:
    """Read the JSON-lines records a notebook run wrote (empty if none)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def clean_for_commit(path: Path) -> None:
    """Strip what only this run had (injected parameters, execution timings) from an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
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


def mark_incomplete(nb: nbformat.NotebookNode, stopped_at: int, why: str) -> None:
    """Clear the outputs below cell index ``stopped_at`` (they are a former run's) and say so at the top."""
    for cell in nb.cells[stopped_at + 1:]:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["course_run"] = {"complete": False, "stopped_at_cell": stopped_at, "why": why}
    where = f"at cell {stopped_at}" if stopped_at >= 0 else "before any cell ran"
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(
        f"**Incomplete run**: execution stopped {where} ({why}). The cells below it did not run in this "
        "run, and their outputs were cleared."))


def kernel_env(*, fast: bool, records_file: Path, backend: str, notebook: str = "") -> dict[str, str]:
    """The environment a notebook's kernel runs in."""
    env = {**os.environ, FAST_ENV: "1" if fast else "0", RESULTS_FILE_ENV: str(records_file), NOTEBOOK_ENV: notebook,
           "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": INLINE_BACKEND}
    env.setdefault("COURSE_CHECKS", "solutions")  # the instructor edition: an exercise check that fails stops the run
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
            if heading and self.stream is not None:
                elapsed = time.perf_counter() - self.start
                print(f"    {elapsed / 60:5.1f} min  cells {self.code_done:>3}/{self.code_total}  "
                      f"{heading[3:].strip()}", file=self.stream, flush=True)
        elif cell.cell_type == "code":
            self.code_done += 1

    def on_cell_executed(self, cell, cell_index, execute_reply):
        self.exec_count = execute_reply.get("content", {}).get("execution_count")


class _Client(NotebookClient):
    """nbclient's client, except that Ctrl-C (SIGINT) or SIGTERM stops the run.

    nbclient's own handlers only shut the kernel down, and the run then goes on as if a cell had failed.
    These replace them for the kernel's lifetime: the kernel is shut down at once and :class:`Interrupted`
    reaches the caller.
    """

    interrupted: int | None = None

    @contextlib.asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        try:
            async with super().async_setup_kernel(**kwargs):
                yield
        except asyncio.CancelledError:
            if self.km is not None:  # stopped while the kernel started: nbclient cleans up only once it is up
                await self._async_cleanup_kernel()
            raise

    async def async_start_new_kernel(self, **kwargs) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def stop(signum: int) -> None:
            self.interrupted = signum
            self.shutdown_kernel = "immediate"
            if task is not None:
                task.cancel()

        # nbclient has registered its handlers just before starting the kernel; these take their place.
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop, signum)
        await super().async_start_new_kernel(**kwargs)


def run_notebook(path: Path, out_dir: Path, *, fast: bool, seed: int | None, timeout: int,
                 backend: str = "default", progress: bool = True, run_id: str = "") -> Run:
    """Execute one notebook with nbclient; a notebook error is reported in the result, never raised.

    The executed copy is written to ``out_dir``; a signal that stops the run raises :class:`Interrupted`
    after the kernel is shut down and the (incomplete) copy is written.
    """
    mode = "fast" if fast else "full"
    run = Run(path.stem, mode, topic(path.stem).backend if backend == "default" else backend, run=run_id)
    records_file = out_dir / "records" / f"{path.stem}.jsonl"
    records_file.parent.mkdir(parents=True, exist_ok=True)
    records_file.unlink(missing_ok=True)
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, {"SEED": seed} if seed is not None else {})
    tracker = _Progress(nb, sys.stdout if progress else None)
    client = _Client(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                     on_cell_start=tracker.on_cell_start, on_cell_executed=tracker.on_cell_executed)
    # IPC keeps the kernel's "running over TCP without encryption" warning away (and the traffic local).
    client.km = client.create_kernel_manager()
    run.load, run.date = busy_cores(), datetime.now(UTC).isoformat(timespec="seconds")
    cpu_before = _children_cpu()
    start = time.perf_counter()
    with _kernel_sockets(client):
        try:
            client.execute(env=kernel_env(fast=fast, records_file=records_file, backend=backend, notebook=path.stem))
        except (Exception, asyncio.CancelledError) as exc:  # a failing cell, or a kernel that died or timed out
            if client.interrupted is not None:
                mark_incomplete(nb, tracker.cell_index, f"interrupted by {signal.Signals(client.interrupted).name}")
            else:
                exec_count = tracker.exec_count if isinstance(exc, CellExecutionError) or tracker.code_done else None
                run.error = describe_failure(exc, exec_count)
                mark_incomplete(nb, tracker.cell_index, run.error.splitlines()[0])
        finally:
            run.seconds = time.perf_counter() - start
            cpu_after = _children_cpu()
            run.cpu_seconds = None if cpu_after is None else round(cpu_after - cpu_before, 1)
            nbformat.write(nb, out_dir / path.name)
    if client.interrupted is not None:
        raise Interrupted(client.interrupted)
    # Rows are keyed by the file, whatever name the notebook passed to record(), so merging stays exact.
    run.records = [{**r, "notebook": path.stem} for r in read_records(records_file)]
    return run


@contextlib.contextmanager
def _kernel_sockets(client: NotebookClient) -> Iterator[None]:
    """Talk to the kernel over IPC sockets in a short-lived folder (POSIX; TCP elsewhere)."""
    if os.name != "posix":
        yield
        return
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as sockets:  # short: socket paths are ~100 bytes
        client.km.transport = "ipc"
        client.km.ip = os.path.join(sockets, "k")
        yield


def _children_cpu() -> float | None:
    """User + system CPU seconds of this process's finished children (the kernels)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def write_results(rows: list[dict], folder: Path, title: str, page: str = "results.md") -> None:
    """Write ``results.json`` and the results page into ``folder``, each file replaced whole."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "results.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_path(folder / page) as tmp:
        tmp.write_text(tables.results_page(rows, title, os.cpu_count()), encoding="utf-8")


def merge_full_results(rows: list[dict], results_dir: Path, order: list[str]) -> list[dict]:
    """The committed rows with those of the notebooks just run replaced, in course ``order``."""
    path = results_dir / "results.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    ran = {r["notebook"] for r in rows}
    rank = {name: i for i, name in enumerate(order)}
    merged = [r for r in old if r["notebook"] not in ran] + rows
    return sorted(merged, key=lambda r: rank.get(r["notebook"], len(rank)))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the committed results are rewritten, so both files change together."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.runner", description=__doc__,
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
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder")
    parser.add_argument("--build", type=Path, default=BUILD_DIR, help="where executed copies go")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="the committed results' folder")
    args = parser.parse_args(argv)
    if args.refresh and (args.fast or args.seed is not None):
        parser.error("--refresh stores full-mode runs with the notebooks' own SEED only")

    mode = "fast" if args.fast else "full"
    out_dir = args.build / (mode if args.backend == "default" else f"{mode}-{args.backend}")
    paths = notebook_paths(args.names, args.notebooks)
    run_id = datetime.now(UTC).isoformat(timespec="seconds")
    runs: list[Run] = []
    try:
        for i, path in enumerate(paths, 1):
            backend = topic(path.stem).backend if args.backend == "default" else args.backend
            print(f"[{i}/{len(paths)}] {path.stem} ({mode}, {backend})", flush=True)
            run = run_notebook(path, out_dir, fast=args.fast, seed=args.seed, timeout=args.timeout,
                               backend=args.backend, progress=not args.quiet, run_id=run_id)
            runs.append(run)
            took = f"{run.seconds / 60:.1f} min" + (
                "" if run.cpu_seconds is None else f" (kernel CPU time {run.cpu_seconds / 60:.1f} min)")
            if run.error:
                print(f"    FAILED after {took}: {_indent(run.error, '      ')}", flush=True)
            else:
                print(f"    ok in {took}", flush=True)
            for r in run.records:
                print("    " + Result.from_dict(r).line(), flush=True)
            if args.refresh and not run.error:
                path.write_bytes((out_dir / path.name).read_bytes())
                clean_for_commit(path)
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"\nInterrupted ({signal.Signals(signum).name}) after {len(runs)} of {len(paths)} notebook(s): "
              f"nothing was written to {args.results} or to the results table of {out_dir}.", flush=True)
        return 128 + signum

    rows = [row for run in runs for row in run.rows()]
    try:
        with _signals_held():
            write_results(rows, out_dir, f"Course results ({mode} mode, this run)")
        if mode == "full" and args.seed is None and args.backend == "default":
            args.results.mkdir(parents=True, exist_ok=True)
            with file_lock(args.results / ".lock", what="the committed results"):  # waiting here can be interrupted
                merged = merge_full_results(rows, args.results, [p.stem for p in notebook_paths(folder=args.notebooks)])
                with _signals_held():
                    write_results(merged, args.results, "Course results (full mode)", page="README.md")
    except KeyboardInterrupt:
        print("\nInterrupted while the results were written: each results file is whole, either rewritten or as it "
              "was.", flush=True)
        return 128 + signal.SIGINT
    total = sum(r.seconds for r in runs)
    print()
    print(tables.results_table(rows))
    print(f"\nnotebook time: {total / 60:.1f} min for {len(runs)} notebook(s)")
    failed = [r for r in runs if r.error]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed:")
        for r in failed:
            print(f"  {r.notebook} at {_indent(r.error, '    ')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
