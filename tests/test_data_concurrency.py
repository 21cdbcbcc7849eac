"""utils.data.fetch from several real processes at once into one empty cache.

PROCESSES interpreters each run ROUNDS rounds; in every round they meet at a
barrier and then call ``fetch`` on the same small synthetic dataset, with a
fresh empty cache per round, from every kind of source: a mirror with
extracted files, a mirror with a zip, a mirror with one ``.gz`` per file, and a
local HTTP server (zip and ``.gz``). Every call must succeed and every round's
cache must then hold exactly the verified files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from utils.data import cache as cache_module

PROCESSES = 4
ROUNDS = 5
NAME = "fake_concurrent_ds"
MIRROR_DIR = "fake/concurrent"

# Big enough that extracting and hashing overlap between processes.
_RNG = np.random.default_rng(7)
FILES = {
    "a.bin": _RNG.bytes(1_500_000),
    "sub/b.bin": _RNG.bytes(1_500_000),
    "sub/c.txt": b"small text file\n",
}

# Runs in each child: register the fake dataset, then per round wait at a barrier and fetch.
CHILD = r"""
import json, os, sys, time, types
from pathlib import Path
spec = json.loads(sys.argv[1])
# utils/__init__ imports numpy; the children need only the data layer, and start faster without it.
package = types.ModuleType("utils")
package.__path__ = [str(Path(spec["repo"]) / "utils")]
sys.modules["utils"] = package
from utils.data import cache, download, registry
if spec["no_flock"]:
    download.fcntl = None  # exercise the portable lock-file fallback
registry.CHECKSUM_DIR = Path(spec["checksum_dir"])
registry.DATASETS[spec["name"]] = registry.Dataset(
    name=spec["name"], title="concurrency fake", mirror_dir=spec["mirror_dir"],
    homepage="https://example.org/", licence="test",
    sources=tuple(registry.Source(**s) for s in spec["sources"]),
)
sync = Path(spec["sync"])
for r in range(spec["rounds"]):
    os.environ["COURSE_DATA_DIR"] = str(Path(spec["caches"]) / str(r))
    (sync / f"{r}-{spec['index']}").touch()
    deadline = time.monotonic() + 30
    while len(list(sync.glob(f"{r}-*"))) < spec["processes"] and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        cache.fetch(spec["name"])
        print(f"{r} OK", flush=True)
    except BaseException as exc:
        text = f"{type(exc).__name__}: {exc}".replace(chr(10), " | ")
        print(f"{r} FAIL {text}", flush=True)
"""


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _gz_name(rel: str) -> str:
    return rel.replace("/", "_") + ".gz"


def _sources(kind: str, base: str) -> list[dict]:
    if kind.endswith("zip"):
        return [{"url": f"{base}/fake.zip", "kind": "zip", "root": "pkg"}]
    return [{"url": f"{base}/{_gz_name(rel)}", "kind": "gz", "target": rel} for rel in FILES]


def _setup(kind: str, tmp: Path, http_server) -> dict:
    """Write the manifest and the source for ``kind``; return the child's spec."""
    checksums = tmp / "checksums"
    checksums.mkdir()
    (checksums / f"{NAME}.sha256").write_text(
        "".join(f"{hashlib.sha256(b).hexdigest()}  {rel}\n" for rel, b in FILES.items()))
    mirror = tmp / "mirror"
    folder = mirror / MIRROR_DIR
    folder.mkdir(parents=True)
    zip_bytes = _zip({f"pkg/{rel}": b for rel, b in FILES.items()})
    gz = {_gz_name(rel): gzip.compress(b, compresslevel=1) for rel, b in FILES.items()}
    base = "https://example.invalid/none"  # never reached: the mirror answers first
    if kind == "mirror_files":
        for rel, content in FILES.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(content)
    elif kind == "mirror_zip":
        (folder / "fake.zip").write_bytes(zip_bytes)
    elif kind == "mirror_gz":
        for name, content in gz.items():
            (folder / name).write_bytes(content)
    elif kind == "http_zip":
        base = http_server({"/fake.zip": zip_bytes})
    elif kind == "http_gz":
        base = http_server({f"/{name}": content for name, content in gz.items()})
    return {
        "name": NAME, "mirror_dir": MIRROR_DIR, "checksum_dir": str(checksums),
        "sources": _sources(kind, base), "mirror": str(mirror), "no_flock": False,
    }


def _run_rounds(spec: dict, tmp: Path, repo_root: Path) -> dict[int, list[str]]:
    """Start PROCESSES children for ROUNDS rounds; return each round's failure messages."""
    sync = tmp / "sync"
    sync.mkdir()
    env = {**os.environ, "COURSE_DATA_MIRROR": spec["mirror"], "PYTHONDONTWRITEBYTECODE": "1"}
    procs = []
    for i in range(PROCESSES):
        child_spec = {**spec, "index": i, "sync": str(sync), "caches": str(tmp / "caches"),
                      "rounds": ROUNDS, "processes": PROCESSES, "repo": str(repo_root)}
        procs.append(subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(child_spec)], cwd=repo_root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    failures: dict[int, list[str]] = {r: [] for r in range(ROUNDS)}
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done = {int(line.split()[0]): line for line in out.splitlines() if line[:1].isdigit()}
        for r in range(ROUNDS):
            line = done.get(r, f"{r} FAIL no result (exit {proc.returncode}): {err[-500:]}")
            if " OK" not in line:
                failures[r].append(line)
    return failures


def _cache_listing(cache: Path) -> list[str]:
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*"))


def _assert_all_rounds_verified(failures: dict[int, list[str]], caches: Path) -> None:
    failed = {r: msgs for r, msgs in failures.items() if msgs}
    assert not failed, f"{len(failed)} of {ROUNDS} rounds had failing processes:\n" + "\n".join(
        msg for msgs in failed.values() for msg in msgs)
    expected = sorted([NAME, f"{NAME}/sub", f"{NAME}/{cache_module.RECORD}", *(f"{NAME}/{rel}" for rel in FILES)])
    for r in range(ROUNDS):
        cache = caches / str(r)
        for rel, content in FILES.items():
            assert (cache / NAME / rel).read_bytes() == content, (r, rel)
        # Only the dataset's own files and its file list: no scratch folder, no lock file, no empty folders.
        assert _cache_listing(cache) == expected, r


KINDS = ["mirror_files", "mirror_zip", "mirror_gz", "http_zip", "http_gz"]


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_fetches_all_succeed(kind, tmp_path, http_server, repo_root):
    spec = _setup(kind, tmp_path, http_server)
    _assert_all_rounds_verified(_run_rounds(spec, tmp_path, repo_root), tmp_path / "caches")


@pytest.mark.parametrize("kind", ["mirror_zip", "http_gz"])
def test_concurrent_fetches_with_lock_file_fallback(kind, tmp_path, http_server, repo_root):
    """Where flock is missing (Windows) the O_EXCL lock file serialises installs just as well."""
    spec = {**_setup(kind, tmp_path, http_server), "no_flock": True}
    _assert_all_rounds_verified(_run_rounds(spec, tmp_path, repo_root), tmp_path / "caches")
