"""Time every notebook on every Keras backend, one run after another (a benchmark, not a test).

    python -m utils.benchmark                      # full mode, all notebooks, all three backends
    python -m utils.benchmark rnn gan --backends jax tensorflow
    python -m utils.benchmark --fast               # quick look (FAST mode timings are not the course's)

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
import sys

from .course import BACKENDS, notebook_paths, topic
from .runner import BUILD_DIR, BUSY_LOAD, RESULTS_DIR, run_notebook


def summarise(rows: list[dict]) -> list[dict]:
    """Per notebook: minutes on each backend, ratios to TensorFlow, and the fastest backend whose run passed
    and missed no more goals than the best run."""
    out = []
    for name in dict.fromkeys(r["notebook"] for r in rows):
        mine = {r["backend"]: r for r in rows if r["notebook"] == name}
        passed = {b: r for b, r in mine.items() if r["ok"]}
        # A goal that no backend reaches (a documented miss) must not rule every backend out.
        fewest = min((len(r["missed"]) for r in passed.values()), default=0)
        good = {b: r for b, r in passed.items() if len(r["missed"]) == fewest}
        tf = mine.get("tensorflow")
        out.append({
            "notebook": name,
            "minutes": {b: round(r["seconds"] / 60, 2) for b, r in mine.items()},
            "ratio_to_tensorflow": {b: round(r["seconds"] / tf["seconds"], 2) for b, r in mine.items()}
            if tf else {},
            "fastest_good": min(good, key=lambda b: good[b]["seconds"]) if good else None,
            "default": topic(name).backend,
        })
    return out


def markdown(rows: list[dict], mode: str) -> str:
    """The benchmark table, one row per notebook."""
    lines = [f"# Notebook wall time by Keras backend ({mode} mode)", "",
             "Minutes per notebook run (kernel start included), one run after another on the same machine; "
             "in brackets the ratio to TensorFlow. ✗ marks a run that failed (an assertion or an error), "
             "○ one that passed but missed a goal, † one that started "
             f"while other work kept more than {BUSY_LOAD} cores busy (taken under load). *fastest good* is the fastest "
             "backend whose run passed and missed no more goals than the best run of that notebook (a goal missed on "
             "every backend is listed below the table); *default* is the backend the notebook's setup cell "
             "chooses.", "",
             "| notebook | " + " | ".join(BACKENDS) + " | fastest good | default |",
             "|---|" + "---|" * len(BACKENDS) + "---|---|"]
    by_key = {(r["notebook"], r["backend"]): r for r in rows}
    totals = dict.fromkeys(BACKENDS, 0.0)
    for s in summarise(rows):
        cells = []
        for b in BACKENDS:
            r = by_key.get((s["notebook"], b))
            if r is None:
                cells.append("–")
                continue
            totals[b] += r["seconds"] / 60
            ratio = s["ratio_to_tensorflow"].get(b)
            mark = ((" ✗" if not r["ok"] else " ○" if r["missed"] else "")
                    + (" †" if (r.get("load") or 0) > BUSY_LOAD else ""))
            cells.append(f"{r['seconds'] / 60:.1f}" + (f" ({ratio:.2f}×)" if ratio is not None else "") + mark)
        lines.append(f"| {s['notebook']} | " + " | ".join(cells) + f" | {s['fastest_good'] or '–'} | {s['default']} |")
    lines.append("| **total** | " + " | ".join(f"{totals[b]:.1f}" for b in BACKENDS) + " | | |")
    failures = [r for r in rows if not r["ok"]]
    if failures:
        lines += ["", "Failures:", ""] + [f"- {r['notebook']} on {r['backend']}: {r['error']}" for r in failures]
    misses = [r for r in rows if r["ok"] and r["missed"]]
    if misses:
        lines += ["", "Goals missed by runs that passed:", ""] + [
            f"- {r['notebook']} on {r['backend']}: {'; '.join(r['missed'])}" for r in misses]
    cpus = sorted({r.get("cpus") for r in rows if r.get("cpus")})
    dates = sorted({r["date"][:10] for r in rows})
    lines += ["", f"Machine: {', '.join(map(str, cpus))} CPU core(s); runs from {dates[0]} to {dates[-1]}."
              if dates else ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only notebooks whose names contain these")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--fast", action="store_true", help="FAST mode (a smoke test of the benchmark itself)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    mode = "fast" if args.fast else "full"
    folder = RESULTS_DIR if mode == "full" else BUILD_DIR / "benchmark-fast"
    store = folder / "backends.json"
    old = json.loads(store.read_text(encoding="utf-8")) if store.exists() else []
    new = []
    for path in notebook_paths(args.names):
        for backend in args.backends:
            print(f"{path.stem} on {backend} ({mode}) ...", flush=True)
            run = run_notebook(path, BUILD_DIR / f"benchmark-{mode}-{backend}", fast=args.fast, seed=None,
                               timeout=args.timeout, backend=backend, progress=False)
            row = {"notebook": path.stem, "backend": backend, "mode": mode, "seconds": round(run.seconds, 1),
                   "ok": run.error is None, "error": run.error,
                   "missed": [r["metric"] for r in run.records if r["met"] is False],
                   "date": run.date, "load": run.load,
                   "cpus": os.cpu_count()}
            print(f"    {'ok' if row['ok'] else 'FAILED ' + str(run.error)} in {run.seconds / 60:.1f} min"
                  + (f" (missed: {'; '.join(row['missed'])})" if row["missed"] else ""), flush=True)
            new.append(row)
    done = {(r["notebook"], r["backend"]) for r in new}
    order = {p.stem: i for i, p in enumerate(notebook_paths())}
    rows = sorted([r for r in old if (r["notebook"], r["backend"]) not in done] + new,
                  key=lambda r: (order.get(r["notebook"], len(order)), BACKENDS.index(r["backend"])))
    folder.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    table = markdown(rows, mode)
    (folder / "backends.md").write_text(table, encoding="utf-8")
    print()
    print(table)
    return 0 if all(r["ok"] for r in new) else 1


if __name__ == "__main__":
    sys.exit(main())
