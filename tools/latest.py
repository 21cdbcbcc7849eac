"""The course on the newest releases of Keras and its three backends (``make test-latest``).

    python -m tools.latest                           # every notebook, FAST mode, each on its default backend
    python -m tools.latest --backends default torch  # then every notebook again on PyTorch
    python -m tools.latest rnn gru --backends jax    # only some notebooks, all on JAX

Learners in Colab run whatever Keras, TensorFlow, JAX and PyTorch Colab ships, not the pins of
``requirements.txt``. This lane builds a separate virtual environment (``build/venv-latest``) from
``requirements.txt`` with Keras and the three backends unpinned and upgraded to their newest releases
(PyTorch's CPU build where PyTorch's index is reachable, PyPI's CUDA build otherwise; every other package
stays pinned), runs the notebooks there in FAST mode through the runner (once per backend asked for), and
writes the versions it installed and each notebook's verdict per backend to ``results/latest.json`` and
``results/latest.md`` (verdicts on backends not run this time are kept while the versions are the same).
The pinned environment (``.venv``) is not touched. pip's own configuration applies as usual: a
constraint that caps a release caps it here too, and the table shows what was installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from utils.data.download import atomic_path
from utils.startup import BACKENDS

from . import tables
from .course import BUILD_DIR, RESULTS_DIR, ROOT

NEWEST = ("keras", "tensorflow-cpu", "jax", "torch")  # unpinned in this lane
REPORTED = ("keras", "tensorflow-cpu", "jax", "jaxlib", "torch", "numpy")  # versions shown in the table
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement.strip(), maxsplit=1)[0].lower()


def latest_requirements(pinned: str) -> tuple[str, dict[str, str]]:
    """``requirements.txt`` with the :data:`NEWEST` packages unpinned, and every pin (name -> version)."""
    lines, pins = [], {}
    for line in pinned.splitlines():
        stripped = line.split("#", 1)[0].strip()
        requirement, _, version = stripped.partition("==")
        if version:
            pins[_name(stripped)] = version.strip()
        lines.append(requirement if stripped and _name(stripped) in NEWEST else line)
    missing = set(NEWEST) - set(pins)
    if missing:
        raise ValueError(f"requirements.txt pins none of {sorted(missing)}; the lane upgrades exactly {NEWEST}")
    return "\n".join(lines) + "\n", pins


def _pip(python: Path, *args: str, log: Path) -> None:
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ pip {' '.join(args)}\n")
        out.flush()
        subprocess.run([str(python), "-m", "pip", *args], check=True, stdout=out, stderr=subprocess.STDOUT)


def build_environment(venv: Path, requirements: str, log: Path) -> Path:
    """Create (or upgrade) the lane's virtual environment; return its Python."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _pip(python, "install", "-q", "--upgrade", "pip", log=log)
    wanted = venv / "requirements-latest.txt"
    wanted.write_text(requirements, encoding="utf-8")
    # Where PyTorch's index answers, its CPU build (2.x.y+cpu) ranks above PyPI's CUDA build of the same release.
    # Where it does not, pip would retry it for every package, so it is left out and PyPI's build (several GB) used.
    extra = ["--extra-index-url", TORCH_CPU_INDEX] if _reachable(TORCH_CPU_INDEX) else []
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"{TORCH_CPU_INDEX}: {'used' if extra else 'not reachable; torch from the default index'}\n")
    _pip(python, "install", "-q", "--upgrade", *extra, "-r", str(wanted), log=log)
    return python


def _reachable(url: str, timeout: float = 10.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/torch/", timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def installed_versions(python: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys\n"
            "def v(n):\n    try:\n        return m.version(n)\n    except m.PackageNotFoundError:\n        return ''\n"
            f"print(json.dumps({{n: v(n) for n in {list(REPORTED)!r}}}))")
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def verdicts(rows: list[dict]) -> dict[str, str]:
    """Per notebook: ``passed``, or ``failed: <where and the error's first line>``."""
    out: dict[str, str] = {}
    for r in rows:
        if r["metric"] == "FAILED":
            out[r["notebook"]] = "failed: " + str(r.get("error") or "").strip().splitlines()[0]
        else:
            out.setdefault(r["notebook"], "passed")
    return out


def merged_with_previous(report: dict, path: Path) -> dict:
    """``report`` plus the previous run's verdicts on other backends, where that run installed the same versions."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return report
    if old.get("versions") != report["versions"] or "error" in report or not isinstance(old.get("backends"), list):
        return report
    kept = [b for b in old["backends"] if b not in report["backends"]]
    dates = {b: old.get("dates", {}).get(b, old.get("date", "")) for b in kept}
    notebooks = {name: {b: v for b, v in verdict.items() if b in kept} for name, verdict in old["notebooks"].items()}
    for name, verdict in report["notebooks"].items():
        notebooks.setdefault(name, {}).update(verdict)
    return {**report, "backends": kept + report["backends"], "notebooks": notebooks,
            "dates": {**dates, **dict.fromkeys(report["backends"], report["date"])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.latest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only notebooks whose names contain these")
    parser.add_argument("--backends", nargs="+", choices=("default", *BACKENDS), default=["default"],
                        help="run every notebook on each of these (default: each notebook's own, as a learner runs it)")
    parser.add_argument("--venv", type=Path, default=BUILD_DIR / "venv-latest", help="the lane's environment")
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where latest.json and latest.md go")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    build = args.venv.parent / "latest"
    build.mkdir(parents=True, exist_ok=True)
    log = build / "install.log"
    log.write_text("", encoding="utf-8")
    requirements, pins = latest_requirements(args.requirements.read_text(encoding="utf-8"))
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "backends": args.backends,
              "python": ".".join(map(str, sys.version_info[:3])), "versions": {},
              "pinned": {name: pins[name] for name in REPORTED if name in pins}, "notebooks": {}}
    print(f"building {args.venv} with the newest {', '.join(NEWEST)} (log: {log}) ...", flush=True)
    try:
        python = build_environment(args.venv, requirements, log)
        report["versions"] = installed_versions(python)
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        tail = log.read_text(encoding="utf-8").strip().splitlines()[-5:] if log.exists() else []
        report["error"] = f"the environment could not be built ({exc}): " + " / ".join(tail)
        _write(report, args.results)
        print(report["error"], file=sys.stderr)
        return 1
    print("installed: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v), flush=True)

    for backend in args.backends:
        runner = [str(python), "-m", "tools.runner", "--fast", "--quiet", "--build", str(build), "--backend", backend,
                  "--timeout", str(args.timeout), *args.names]
        subprocess.run(runner, cwd=ROOT, check=False)
        rows_file = build / ("fast" if backend == "default" else f"fast-{backend}") / "results.json"
        if not rows_file.exists():
            report["error"] = f"the runner wrote no results on {backend} ({rows_file}); see its output above"
            break
        for name, verdict in verdicts(json.loads(rows_file.read_text(encoding="utf-8"))).items():
            report["notebooks"].setdefault(name, {})[backend] = verdict
    report = merged_with_previous(report, args.results / "latest.json")
    _write(report, args.results)
    print(f"\n{tables.latest_page(report)}")
    passed = [v == "passed" for per_backend in report["notebooks"].values() for v in per_backend.values()]
    return 0 if passed and all(passed) and "error" not in report else 1


def _write(report: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "latest.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    with atomic_path(folder / "latest.md") as tmp:
        tmp.write_text(tables.latest_page(report), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
