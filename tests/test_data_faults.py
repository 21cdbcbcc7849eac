"""utils.data.fetch under faults: errors name the real source and its fix, the cache stays whole.

After every failure the cache must be exactly as it was before (no partial
dataset, no scratch or empty folders); after every success it must hold only
verified files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import subprocess
import sys
import tarfile
import threading
import time
import warnings
import zipfile
from pathlib import Path

import pytest

from utils.data import cache, download, fetch, registry
from utils.data.download import ArchiveError, ChecksumError, DatasetError, DatasetNotAvailableError, file_lock


def _listing(folder: Path) -> list[str]:
    """Everything under ``folder`` (files and folders), or [] if it does not exist."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _register(fake, monkeypatch, sources, **extra) -> None:
    ds = registry.Dataset(name=fake.name, title="fault fake", mirror_dir=fake.mirror_dir,
                          homepage="https://example.org/", licence="test", sources=tuple(sources), **extra)
    monkeypatch.setitem(registry.DATASETS, fake.name, ds)


def _gz_sources(fake, monkeypatch, base: str) -> None:
    """One ``.gz`` source per file, as Fashion-MNIST has."""
    _register(fake, monkeypatch, [registry.Source(f"{base}/{Path(rel).name}.gz", kind="gz", target=rel)
                                  for rel in fake.files])


# --- the messages name the real source and the fix ------------------------------------------

def test_bad_download_names_url_file_hashes_and_network_fix(fake_data, http_server):
    bad = b"a captive portal page\n"
    base = http_server({f"/{fake_data.archive_name}": _zip({"pkg/a.txt": bad,
                                                            "pkg/sub/b.csv": fake_data.files["sub/b.csv"]})})
    fake_data.set_url(f"{base}/{fake_data.archive_name}")
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert fake_data.url in msg and "a.txt" in msg
    assert fake_data.digests["a.txt"] in msg and hashlib.sha256(bad).hexdigest() in msg
    assert "network or proxy" in msg and "Fetch again" in msg
    assert ".staging" not in msg and "Replace it" not in msg  # no scratch path that is already gone
    assert _listing(fake_data.cache) == []


def test_truncated_download_archive_names_url_and_network_fix(fake_data, http_server):
    # The server sends a complete response whose body is half a zip: only the archive check can tell.
    base = http_server({f"/{fake_data.archive_name}": fake_data.archive_bytes[: len(fake_data.archive_bytes) // 2]})
    fake_data.set_url(f"{base}/{fake_data.archive_name}")
    with pytest.raises(ArchiveError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert fake_data.url in msg and "network or proxy" in msg
    assert "Delete it" not in msg and ".staging" not in msg
    assert _listing(fake_data.cache) == []


def test_bad_mirror_file_names_the_mirror_path_and_says_fix_the_mirror(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.write_files(fake_data.mirror_folder, {"sub/b.csv": b"tampered\n"})
    fake_data.use_mirror()
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(fake_data.mirror_folder / "sub/b.csv") in msg
    assert fake_data.digests["sub/b.csv"] in msg and hashlib.sha256(b"tampered\n").hexdigest() in msg
    assert "Fix the mirror" in msg
    assert _listing(fake_data.cache) == []  # a.txt was fine but is not installed alone


def test_corrupt_mirror_archive_names_its_path_and_says_fix_the_mirror(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.mirror_folder.mkdir(parents=True)
    archive = fake_data.mirror_folder / fake_data.archive_name
    archive.write_bytes(fake_data.archive_bytes[:200])
    fake_data.use_mirror()
    with pytest.raises(ArchiveError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(archive) in msg and "Fix the mirror" in msg
    assert "Delete it and fetch it again" not in msg  # the mirror may be read-only; deleting is not the fix
    assert archive.read_bytes() == fake_data.archive_bytes[:200]  # the mirror is left alone
    assert _listing(fake_data.cache) == []


def test_mirror_archive_missing_a_file_names_the_mirror(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.mirror_folder.mkdir(parents=True)
    archive = fake_data.mirror_folder / fake_data.archive_name
    archive.write_bytes(_zip({"pkg/a.txt": fake_data.files["a.txt"]}))
    fake_data.use_mirror()
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(archive) in msg and "sub/b.csv" in msg and "Fix the mirror" in msg
    assert _listing(fake_data.cache) == []


def test_corrupt_placed_archive_names_the_cache_path_to_clear(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    placed = fake_data.cache_dir / fake_data.archive_name
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"not a zip" * 20)
    with pytest.raises(ArchiveError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert f"Delete {placed}" in msg and fake_data.url in msg
    assert _listing(fake_data.cache) == [fake_data.name, f"{fake_data.name}/{fake_data.archive_name}"]


def test_corrupt_cached_file_that_cannot_be_deleted_names_the_path(fake_data, monkeypatch):
    fake_data.write_files(fake_data.cache_dir, {"a.txt": b"corrupted"})
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self.name == "a.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(fake_data.cache_dir / "a.txt") in msg and f"clear {fake_data.cache_dir}" in msg
    assert fake_data.digests["a.txt"] in msg


def test_not_available_names_the_mirror_folder_checked(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.mirror_folder.mkdir(parents=True)
    fake_data.use_mirror()
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(fake_data.mirror_folder) in msg and "a.txt" in msg and fake_data.url in msg
    assert _listing(fake_data.cache) == []


def test_unwritable_cache_says_set_course_data_dir(fake_data, monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("COURSE_DATA_DIR", str(blocker / "cache"))
    with pytest.raises(DatasetError, match="COURSE_DATA_DIR") as info:
        fetch(fake_data.name)
    assert str(blocker / "cache") in str(info.value)


# --- a dataset is installed whole or not at all -------------------------------------------------

def test_corrupt_member_leaves_no_sibling_behind(fake_data, tmp_path):
    """The MovieLens case: a corrupt u.data must not leave README in the cache."""
    bad_zip = tmp_path / "bad" / fake_data.archive_name
    bad_zip.parent.mkdir()
    bad_zip.write_bytes(_zip({"pkg/a.txt": fake_data.files["a.txt"], "pkg/sub/b.csv": b"corrupt"}))
    fake_data.set_url(bad_zip.as_uri())
    with pytest.raises(ChecksumError, match="sub/b.csv"):
        fetch(fake_data.name)
    assert _listing(fake_data.cache) == []


def test_one_corrupt_gz_source_installs_none_of_the_others(fake_data, monkeypatch, http_server):
    """The Fashion-MNIST case: one corrupt label file must not leave the other files behind."""
    routes = {f"/{Path(rel).name}.gz": gzip.compress(content) for rel, content in fake_data.files.items()}
    routes["/b.csv.gz"] = gzip.compress(b"corrupt labels")
    base = http_server(routes)
    _gz_sources(fake_data, monkeypatch, base)
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name)
    assert f"{base}/b.csv.gz" in str(info.value)
    assert _listing(fake_data.cache) == []


def test_failed_fetch_keeps_verified_files_and_adds_nothing(fake_data, monkeypatch, http_server):
    (fake_data.cache_dir).mkdir(parents=True)
    (fake_data.cache_dir / "a.txt").write_bytes(fake_data.files["a.txt"])
    before = _listing(fake_data.cache)
    base = http_server({"/b.csv.gz": gzip.compress(b"corrupt")})
    _gz_sources(fake_data, monkeypatch, base)
    with pytest.raises(ChecksumError):
        fetch(fake_data.name)
    assert _listing(fake_data.cache) == before
    assert (fake_data.cache_dir / "a.txt").read_bytes() == fake_data.files["a.txt"]


def test_failed_install_is_undone(fake_data, monkeypatch):
    real_move = cache._move
    moved = []

    def flaky_move(src, dest):
        if moved:
            raise OSError(28, "No space left on device")
        moved.append(dest)
        real_move(src, dest)

    monkeypatch.setattr(cache, "_move", flaky_move)
    with pytest.raises(DatasetError, match="No space left") as info:
        fetch(fake_data.name)
    assert str(fake_data.cache_dir) in str(info.value)
    assert moved and _listing(fake_data.cache) == []
    monkeypatch.setattr(cache, "_move", real_move)
    fetch(fake_data.name)
    fake_data.assert_cached()


def test_abandoned_scratch_folder_is_cleared(fake_data):
    fake_data.cache.mkdir()
    left = fake_data.cache / f".{fake_data.name}.killed.staging"
    (left / "ready").mkdir(parents=True)
    (left / "ready" / "a.txt").write_bytes(b"half")
    fetch(fake_data.name)
    fake_data.assert_cached()
    assert _listing(fake_data.cache) == [fake_data.name, f"{fake_data.name}/.files", f"{fake_data.name}/a.txt",
                                         f"{fake_data.name}/sub", f"{fake_data.name}/sub/b.csv"]


# --- nothing unverified reaches the cache (IMDB's extra files) ------------------------------------

def _extra_dataset(fake, monkeypatch, tmp_path, *, record: str | None):
    """A tar.gz dataset that allows extra files, like IMDB; the archive holds one unlisted review."""
    members = {f"pkg/{rel}": content for rel, content in fake.files.items()}
    members["pkg/sub/injected.csv"] = b"an unlisted file\n"
    archive = tmp_path / "origin_tar" / "full.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(_tar_gz(members))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest() if record == "match" else (record or "")
    _register(fake, monkeypatch, [registry.Source(archive.as_uri(), kind="tar.gz", root="pkg", sha256=digest)],
              keep_prefixes=("a.txt", "sub/"), allow_extra=True)
    return archive


@pytest.mark.parametrize("record", [None, "0" * 64])
def test_extra_files_from_an_unrecorded_archive_are_dropped(fake_data, monkeypatch, tmp_path, record):
    _extra_dataset(fake_data, monkeypatch, tmp_path, record=record)
    with pytest.warns(UserWarning, match="dropped") as caught:
        fetch(fake_data.name)
    assert (record or "none recorded") in str(caught[0].message)
    fake_data.assert_cached()
    assert not (fake_data.cache_dir / "sub/injected.csv").exists()
    assert _listing(fake_data.cache_dir) == [".files", "a.txt", "sub", "sub/b.csv"]


def test_extra_files_from_the_recorded_archive_are_installed(fake_data, monkeypatch, tmp_path):
    """The full IMDB run: the archive's own SHA-256 vouches for the files the manifest does not list."""
    _extra_dataset(fake_data, monkeypatch, tmp_path, record="match")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fetch(fake_data.name)
    fake_data.assert_cached()
    assert (fake_data.cache_dir / "sub/injected.csv").read_bytes() == b"an unlisted file\n"


def test_datasets_allowing_extra_files_record_their_archive_digest():
    for ds in registry.DATASETS.values():
        if ds.allow_extra:
            for src in ds.sources:
                assert len(src.sha256) == 64 and int(src.sha256, 16) >= 0, ds.name
    assert registry.get("imdb").allow_extra


def test_zip_symlink_member_is_refused_by_fetch(fake_data, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/a.txt", fake_data.files["a.txt"])
        link = zipfile.ZipInfo("pkg/sub/b.csv")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    archive = tmp_path / "links" / fake_data.archive_name
    archive.parent.mkdir()
    archive.write_bytes(buf.getvalue())
    fake_data.set_url(archive.as_uri())
    with pytest.raises(ArchiveError, match="links") as info:
        fetch(fake_data.name)
    assert fake_data.url in str(info.value) and "pkg/sub/b.csv" in str(info.value)
    assert _listing(fake_data.cache) == []


# --- the lock ------------------------------------------------------------------------------------

def test_waiting_process_uses_what_the_lock_holder_installed(fake_data, closed_port, capsys):
    """While another fetch holds the lock, a second one waits, then finds the dataset installed."""
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")  # would fail if tried
    fake_data.cache.mkdir()
    holding, release = threading.Event(), threading.Event()

    def holder():
        with file_lock(fake_data.cache / f".{fake_data.name}.lock"):
            holding.set()
            release.wait(10)
            fake_data.write_files(fake_data.cache_dir)

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(10)
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("root", fetch(fake_data.name)))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # blocked on the lock
    release.set()
    thread.join(10)
    waiter.join(10)
    assert result["root"] == fake_data.cache_dir
    assert "Waiting for another process" in capsys.readouterr().err
    assert _listing(fake_data.cache) == [fake_data.name, f"{fake_data.name}/a.txt", f"{fake_data.name}/sub",
                                         f"{fake_data.name}/sub/b.csv"]


HOLD_LOCK = r"""
import sys, time, types
from pathlib import Path
package = types.ModuleType("utils")
package.__path__ = [sys.argv[1] + "/utils"]
sys.modules["utils"] = package
from utils.data import download
if sys.argv[3] == "fallback":
    download.fcntl = None
with download.file_lock(Path(sys.argv[2])):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("mechanism", ["flock", "fallback"])
def test_lock_of_a_killed_process_does_not_block_forever(fake_data, monkeypatch, repo_root, mechanism):
    fake_data.cache.mkdir()
    lock = fake_data.cache / f".{fake_data.name}.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(repo_root), str(lock), mechanism],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
    finally:
        proc.kill()
        proc.wait(10)
    if mechanism == "fallback":
        assert lock.exists()  # a crash leaves the lock file; its heartbeat has stopped
        monkeypatch.setattr(download, "fcntl", None)
        monkeypatch.setattr(download, "STALE_S", 0.5)
        old = time.time() - 1
        os.utime(lock, (old, old))
    start = time.monotonic()
    fetch(fake_data.name)
    assert time.monotonic() - start < 10
    fake_data.assert_cached()
    assert not lock.exists()
