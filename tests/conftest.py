"""Shared fixtures for the tests (no network: local servers and file:// URLs only), and the fresh interpreters."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from utils.data import registry

REPO_ROOT_PATH = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root, computed at run time."""
    return REPO_ROOT_PATH


@pytest.fixture
def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server() -> Callable[[dict], str]:
    """Start a threaded HTTP server on 127.0.0.1 (ephemeral port); return its base URL.

    ``routes`` maps a path (``"/x.bin"``) to the body bytes, or to a tuple
    ``(body, declared_length)`` to send a ``Content-Length`` that differs from
    the body (the connection is closed after the short body).
    """
    servers = []

    def start(routes: dict) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                entry = routes.get(self.path)
                if entry is None:
                    self.send_error(404)
                    return
                body, length = entry if isinstance(entry, tuple) else (entry, len(entry))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):  # keep pytest output clean
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # a short poll lets shutdown() return at once instead of after the default half second
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def raw_server() -> Callable[[bytes], str]:
    """Serve one connection on 127.0.0.1 with raw ``payload`` bytes (any request); return the base URL."""
    threads = []

    def start(payload: bytes) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.settimeout(10)

        def serve():
            with sock:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    conn.sendall(payload)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for thread in threads:
        thread.join(timeout=10)


FAKE_FILES = {
    "a.txt": b"hello course\n",
    "sub/b.csv": b"x,y\n1,2\n3,4\n",
}


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


class FakeData:
    """A fake registry entry with its manifest, a zip artifact and tmp cache/mirror folders."""

    name = "fake_unit_test_ds"
    mirror_dir = "fake/mirror_dir"

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch):
        self.tmp = tmp
        self.monkeypatch = monkeypatch
        self.files = dict(FAKE_FILES)
        self.digests = {rel: hashlib.sha256(data).hexdigest() for rel, data in self.files.items()}
        self.checksum_dir = tmp / "checksums"
        self.checksum_dir.mkdir()
        (self.checksum_dir / f"{self.name}.sha256").write_text(
            "".join(f"{d}  {rel}\n" for rel, d in self.digests.items()))
        # The artifact: everything under pkg/, plus an unwanted member that keep_prefixes drops.
        self.source_dir = tmp / "origin"
        self.source_dir.mkdir()
        self.archive_name = "fake-archive.zip"
        members = {f"pkg/{rel}": data for rel, data in self.files.items()}
        members["pkg/ignored/skip.txt"] = b"not wanted"
        members["outside_root.txt"] = b"not under root"
        self.archive_bytes = _zip_bytes(members)
        (self.source_dir / self.archive_name).write_bytes(self.archive_bytes)
        self.cache = tmp / "cache"
        self.mirror = tmp / "mirror"
        self.mirror.mkdir()
        monkeypatch.setattr(registry, "CHECKSUM_DIR", self.checksum_dir)
        registry._read_manifest.cache_clear()
        monkeypatch.setenv("COURSE_DATA_DIR", str(self.cache))
        monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
        self.set_url((self.source_dir / self.archive_name).as_uri())

    @property
    def cache_dir(self) -> Path:
        return self.cache / self.name

    @property
    def mirror_folder(self) -> Path:
        return self.mirror / self.mirror_dir

    def set_url(self, url: str) -> None:
        """(Re)register the dataset with a zip source at ``url``."""
        self.url = url
        self.dataset = registry.Dataset(
            name=self.name,
            title="Fake dataset for unit tests",
            sources=(registry.Source(url, kind="zip", root="pkg"),),
            mirror_dir=self.mirror_dir,
            homepage="https://example.org/",
            licence="test",
            keep_prefixes=("a.txt", "sub/"),
        )
        self.monkeypatch.setitem(registry.DATASETS, self.name, self.dataset)

    def use_mirror(self) -> None:
        self.monkeypatch.setenv("COURSE_DATA_MIRROR", str(self.mirror))

    def write_files(self, folder: Path, overrides: dict[str, bytes] | None = None) -> None:
        for rel, data in {**self.files, **(overrides or {})}.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)

    def assert_cached(self) -> None:
        for rel, data in self.files.items():
            assert (self.cache_dir / rel).read_bytes() == data, rel


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A fake dataset registered in utils.data.registry, with COURSE_DATA_DIR in tmp and no mirror."""
    fake = FakeData(tmp_path, monkeypatch)
    yield fake
    registry._read_manifest.cache_clear()


# --- fresh interpreters -------------------------------------------------------------------------------

# Keras reads KERAS_BACKEND once per process, and the setup cell must be tried in a process that has imported
# nothing yet, so such checks need a new interpreter. Starting one costs seconds (Keras and its backend are
# imported), so they are grouped: one interpreter per backend runs a notebook's setup cell first, then every
# snippet that test modules list in a module-level FRESH_SNIPPETS = {name: code}, or {name: (backends, code)}
# for a snippet that only some backends run. All groups start together as soon as the tests are collected and
# run beside the rest of the suite; a test waits only for its group (fresh.result(backend, name)).
FRESH_SETUP_NOTEBOOK = "01_ann_churn"  # its setup cell's default backend is JAX
FRESH_WORKER = r"""
import json, os, sys, traceback
spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
for i, (name, code) in enumerate(spec["snippets"]):
    base = os.path.join(spec["out"], str(i))
    saved = os.dup(1), os.dup(2)
    with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            exec(compile(code, name, "exec"), {"__name__": "__main__"})
            error = None
        except BaseException:
            error = traceback.format_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump({"name": name, "error": error}, f)
"""


class FreshResult:
    def __init__(self, name: str, error: str | None, out: str, err: str):
        self.name, self.error, self.out, self.err = name, error, out, err

    def check(self) -> FreshResult:
        """Fail the test with the snippet's traceback and output if it raised."""
        assert self.error is None, f"{self.name} failed:\n{self.error}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"
        return self


class FreshInterpreters:
    """One interpreter per installed Keras backend, each running the setup cell, then every listed snippet."""

    def __init__(self, snippets: dict[str, str | tuple[tuple[str, ...], str]], tmp: Path, repo: Path):
        import importlib.util

        from tools.course import setup_source
        from utils.startup import BACKENDS

        self.tmp = tmp
        self.names: dict[str, list[str]] = {}
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        for backend in (b for b in BACKENDS if importlib.util.find_spec(b) is not None):
            mine = [("setup cell", setup_source(FRESH_SETUP_NOTEBOOK))]
            for name, snippet in snippets.items():
                backends, code = snippet if isinstance(snippet, tuple) else (BACKENDS, snippet)
                if backend in backends:
                    mine.append((name, code))
            self.names[backend] = [name for name, _ in mine]
            folder = tmp / backend
            folder.mkdir(parents=True)
            spec = {"out": str(folder), "snippets": mine}
            (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            env = {k: v for k, v in os.environ.items()
                   if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "COURSE_RESULTS_FILE", "COURSE_NOTEBOOK",
                                "JAX_COMPILATION_CACHE_DIR")}
            if backend != course_default_backend():
                env["KERAS_BACKEND"] = backend  # the setup cell's override path; the default path runs as it is
            with open(folder / "crash.txt", "wb") as crash:  # what the interpreter prints outside the snippets
                proc = subprocess.Popen([sys.executable, "-c", FRESH_WORKER, str(folder / "spec.json")],
                                        cwd=repo / "notebooks", env=env, stdout=crash, stderr=subprocess.STDOUT)
            self.procs[backend] = (proc, folder)

    @property
    def backends(self) -> list[str]:
        return list(self.procs)

    def result(self, backend: str, name: str, timeout: float = 600) -> FreshResult:
        proc, folder = self.procs[backend]
        proc.wait(timeout)
        i = self.names[backend].index(name)
        path = folder / f"{i}.json"
        if not path.exists():
            crash = (folder / "crash.txt").read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"the {backend} interpreter ended before {name!r} ran (exit {proc.returncode}):\n"
                                 f"{crash}")
        info = json.loads(path.read_text(encoding="utf-8"))
        read = lambda ext: (folder / f"{i}.{ext}").read_text(encoding="utf-8", errors="replace")  # noqa: E731
        return FreshResult(f"{name} on {backend}", info["error"], read("out"), read("err"))

    def close(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def course_default_backend() -> str:
    from tools.course import topic

    return topic(FRESH_SETUP_NOTEBOOK).backend


_FRESH: dict[str, FreshInterpreters] = {}


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that waits for the fresh interpreters starts processes."""
    for item in items:
        if "fresh" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.processes)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the fresh interpreters once the tests are known, if any collected test asks for them."""
    if not any("fresh" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    snippets: dict = {}
    for module in dict.fromkeys(getattr(item, "module", None) for item in session.items):
        snippets.update(getattr(module, "FRESH_SNIPPETS", {}))
    tmp = Path(tempfile.mkdtemp(prefix="course-fresh-"))
    _FRESH["run"] = FreshInterpreters(snippets, tmp, REPO_ROOT_PATH)


def pytest_sessionfinish(session: pytest.Session) -> None:
    fresh = _FRESH.pop("run", None)
    if fresh is not None:
        fresh.close()
        shutil.rmtree(fresh.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def fresh() -> FreshInterpreters:
    """The fresh interpreters (one per installed backend) started when the tests were collected."""
    if "run" not in _FRESH:
        pytest.skip("the fresh interpreters were not started")
    return _FRESH["run"]
