"""Shared fixtures for the utils/ unit tests (no network: local servers and file:// URLs only)."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
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
        thread = threading.Thread(target=server.serve_forever, daemon=True)
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
