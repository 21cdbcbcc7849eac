"""Time every notebook on every Keras backend, one run after another (a benchmark, not a test).

    python -m tools.benchmark                      # full mode, all notebooks, all three backends
    python -m tools.benchmark rnn gan --backends jax tensorflow
    python -m tools.benchmark --fast               # quick look (FAST mode timings are not the course's)

Writes ``results/backends.md`` and ``results/backends.json`` (full mode) or
``build/benchmark-fast/`` (FAST mode): minutes per notebook and backend, the ratio to
TensorFlow, whether the run passed with every goal met, and the backend that would be
the fastest good default. Rows of notebooks not run this time are kept. The CPU load from other work
at the start of each run is recorded, so a figure taken on a busy machine is visible as such.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from utils.data.download import atomic_path
from utils.startup import BACKENDS

from . import tables
from .course import BUILD_DIR, NOTEBOOK_DIR, RESULTS_DIR, notebook_paths
from .runner import Interrupted, run_notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only notebooks whose names contain these")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--fast", action="store_true", help="FAST mode (a smoke test of the benchmark itself)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder")
    parser.add_argument("--build", type=Path, default=BUILD_DIR, help="where executed copies go")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="the committed results' folder")
    args = parser.parse_args(argv)

    mode = "fast" if args.fast else "full"
    folder = args.results if mode == "full" else args.build / "benchmark-fast"
    store = folder / "backends.json"
    old = json.loads(store.read_text(encoding="utf-8")) if store.exists() else []
    new = []
    try:
        for path in notebook_paths(args.names, args.notebooks):
            for backend in args.backends:
                print(f"{path.stem} on {backend} ({mode}) ...", flush=True)
                run = run_notebook(path, args.build / f"benchmark-{mode}-{backend}", fast=args.fast, seed=None,
                                   timeout=args.timeout, backend=backend, progress=False)
                row = {"notebook": path.stem, "backend": backend, "mode": mode, "seconds": round(run.seconds, 1),
                       "ok": run.error is None, "error": run.error,
                       "missed": [r["metric"] for r in run.records if r["met"] is False],
                       "date": run.date, "load": run.load,
                       "cpus": os.cpu_count()}
                took = f"{run.seconds / 60:.1f} min"
                print(f"    FAILED after {took}: {run.error}" if run.error else f"    ok in {took}"
                      + (f" (missed: {'; '.join(row['missed'])})" if row["missed"] else ""), flush=True)
                new.append(row)
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"\nInterrupted ({signal.Signals(signum).name}): {store} was left as it was.", flush=True)
        return 128 + signum
    done = {(r["notebook"], r["backend"]) for r in new}
    order = {p.stem: i for i, p in enumerate(notebook_paths(folder=args.notebooks))}
    rows = sorted([r for r in old if (r["notebook"], r["backend"]) not in done] + new,
                  key=lambda r: (order.get(r["notebook"], len(order)), BACKENDS.index(r["backend"])))
    folder.mkdir(parents=True, exist_ok=True)
    table = tables.backends_page(rows, mode)
    with atomic_path(store) as tmp:
        tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    with atomic_path(folder / "backends.md") as tmp:
        tmp.write_text(table, encoding="utf-8")
    print()
    print(table)
    return 0 if all(r["ok"] for r in new) else 1


if __name__ == "__main__":
    sys.exit(main())
