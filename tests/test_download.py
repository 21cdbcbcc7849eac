"""utils.data.download: atomic downloads (local HTTP server, file:// URLs), hashing and safe extraction."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import threading
import time
import zipfile

import numpy as np
import pytest

from utils.data import download as download_module
from utils.data.download import (
    ArchiveError,
    ChecksumError,
    DatasetError,
    DatasetNotAvailableError,
    _safe_member,
    atomic_path,
    download,
    extract,
    file_lock,
    sha256_of,
)


def test_error_hierarchy():
    assert issubclass(DatasetNotAvailableError, DatasetError)
    assert issubclass(ChecksumError, DatasetError)
    assert issubclass(DatasetError, RuntimeError)


def test_download_from_local_http_server(http_server, tmp_path):
    body = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MB read chunk
    base = http_server({"/data.bin": body})
    seen = []
    dest = tmp_path / "out" / "data.bin"
    result = download(f"{base}/data.bin", dest, progress=lambda done, total: seen.append((done, total)))
    assert result == dest
    assert dest.read_bytes() == body
    assert seen and seen[-1] == (len(body), len(body))
    assert len(seen) >= 2  # read in chunks
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.bin"]  # no .part left


def test_download_file_url(tmp_path):
    src = tmp_path / "src.txt"
    src.write_bytes(b"file url payload")
    dest = tmp_path / "dest" / "copy.txt"
    download(src.as_uri(), dest)
    assert dest.read_bytes() == b"file url payload"
    assert [p.name for p in dest.parent.iterdir()] == ["copy.txt"]


def test_download_replaces_existing_file_only_on_success(http_server, tmp_path):
    base = http_server({"/new": b"new content"})
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    download(f"{base}/new", dest)
    assert dest.read_bytes() == b"new content"


def test_interrupted_download_leaves_nothing(http_server, tmp_path):
    base = http_server({"/short.bin": (b"only-part-of-it", 100_000)})
    dest_dir = tmp_path / "dest"
    dest = dest_dir / "short.bin"
    with pytest.raises(DatasetNotAvailableError, match="interrupted|failed"):
        download(f"{base}/short.bin", dest, timeout=10)
    assert not dest.exists()
    assert list(dest_dir.iterdir()) == []  # no partial file, no .part temp file


def test_interrupted_chunked_download_raises_not_available(raw_server, tmp_path):
    base = raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nonly a few bytes")
    dest = tmp_path / "d" / "x.bin"
    try:
        with pytest.raises(DatasetNotAvailableError):
            download(f"{base}/x.bin", dest, timeout=10)
    finally:
        assert not dest.parent.exists() or list(dest.parent.iterdir()) == []  # nothing left, even now


def test_non_http_answer_raises_not_available(raw_server, tmp_path):
    base = raw_server(b"SSH-2.0-OpenSSH_9.0\r\n\r\n")
    with pytest.raises(DatasetNotAvailableError):
        download(f"{base}/x.bin", tmp_path / "x.bin", timeout=10)


def test_empty_answer_raises_not_available(raw_server, tmp_path):
    base = raw_server(b"")
    with pytest.raises(DatasetNotAvailableError):
        download(f"{base}/x.bin", tmp_path / "d" / "x.bin", timeout=10)
    assert list((tmp_path / "d").iterdir()) == []


def test_http_404_raises_not_available(http_server, tmp_path):
    base = http_server({})
    dest = tmp_path / "d" / "missing.bin"
    with pytest.raises(DatasetNotAvailableError, match="missing.bin"):
        download(f"{base}/missing.bin", dest)
    assert list(dest.parent.iterdir()) == []


def test_unreachable_url_raises_not_available(closed_port, tmp_path):
    url = f"http://127.0.0.1:{closed_port}/x.zip"
    dest = tmp_path / "d" / "x.zip"
    with pytest.raises(DatasetNotAvailableError) as info:
        download(url, dest, timeout=5)
    assert url in str(info.value)
    assert list(dest.parent.iterdir()) == []


def test_missing_file_url_raises_not_available(tmp_path):
    dest = tmp_path / "d" / "x"
    with pytest.raises(DatasetNotAvailableError):
        download((tmp_path / "does-not-exist").as_uri(), dest)
    assert not dest.exists()


def test_atomic_path_gives_the_permissions_of_a_plain_write(tmp_path):
    with atomic_path(tmp_path / "new.txt") as tmp:
        tmp.write_text("x")
    (tmp_path / "plain.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_atomic_path_moves_on_success_and_cleans_on_error(tmp_path):
    dest = tmp_path / "sub" / "final.txt"
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent and tmp.name.endswith(".part")
        tmp.write_text("done")
        assert not dest.exists()
    assert dest.read_text() == "done"

    other = tmp_path / "sub" / "other.txt"
    with pytest.raises(RuntimeError), atomic_path(other) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not other.exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["final.txt"]


def test_sha256_of_reads_in_chunks(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    data = b"abc" * 1000
    path.write_bytes(data)
    monkeypatch.setattr(download_module, "CHUNK", 7)  # many blocks, the last one short
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


# --- extract() -------------------------------------------------------------------------------

def _make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _make_tar(path, members, extra=()):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in extra:
            tf.addfile(info)
    return path


def _all_files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_extract_zip_strips_root_and_filters(tmp_path):
    archive = _make_zip(tmp_path / "a.zip", {
        "top/": b"",
        "top/x.txt": b"x",
        "top/dir/y.txt": b"y",
        "top/skip/z.txt": b"z",
        "elsewhere.txt": b"e",
    })
    out = tmp_path / "out"
    written = extract(archive, "zip", out, root="top", keep=lambda rel: not rel.startswith("skip/"))
    assert sorted(written) == ["dir/y.txt", "x.txt"]
    assert _all_files(out) == ["dir/y.txt", "x.txt"]
    assert (out / "dir" / "y.txt").read_bytes() == b"y"


def test_extract_zip_without_root_keeps_everything(tmp_path):
    archive = _make_zip(tmp_path / "a.zip", {"a": b"1", "b/c": b"2"})
    written = extract(archive, "zip", tmp_path / "out")
    assert sorted(written) == ["a", "b/c"]
    assert (tmp_path / "out" / "b" / "c").read_bytes() == b"2"


def test_extract_tar_gz_strips_root_and_filters(tmp_path):
    archive = _make_tar(tmp_path / "a.tar.gz", {
        "aclImdb/train/pos/1.txt": b"good",
        "aclImdb/train/neg/2.txt": b"bad",
        "aclImdb/imdb.vocab": b"vocab",
        "other/file": b"o",
    })
    out = tmp_path / "out"
    written = extract(archive, "tar.gz", out, root="aclImdb", keep=lambda rel: rel.startswith("train/"))
    assert sorted(written) == ["train/neg/2.txt", "train/pos/1.txt"]
    assert _all_files(out) == ["train/neg/2.txt", "train/pos/1.txt"]
    assert (out / "train/pos/1.txt").read_bytes() == b"good"


def test_extract_gz_and_file_kinds(tmp_path):
    gz = tmp_path / "data.gz"
    gz.write_bytes(gzip.compress(b"decompressed bytes"))
    out = tmp_path / "out"
    assert extract(gz, "gz", out, target="data") == ["data"]
    assert (out / "data").read_bytes() == b"decompressed bytes"

    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"a,b\n")
    assert extract(plain, "file", out, target="copy.csv") == ["copy.csv"]
    assert (out / "copy.csv").read_bytes() == b"a,b\n"
    assert _all_files(out) == ["copy.csv", "data"]


def test_extract_single_file_kinds_need_target(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    with pytest.raises(ValueError, match="target"):
        extract(plain, "file", tmp_path / "out")


def test_extract_unknown_kind(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    with pytest.raises(ValueError, match="Unknown archive kind"):
        extract(plain, "rar", tmp_path / "out")


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize("bad_name", ["../evil", "sub/../../evil", "/etc/x", "/tmp/evil_abs"])
def test_extract_refuses_unsafe_paths(tmp_path, kind, bad_name):
    make = _make_zip if kind == "zip" else _make_tar
    archive = make(tmp_path / f"evil.{kind}", {bad_name: b"pwned"})
    out = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError, match="unsafe"):
        extract(archive, kind, out)
    assert not (tmp_path / "deep" / "evil").exists()
    assert not (tmp_path / "evil").exists()
    assert _all_files(out) == []


def test_extract_tar_refuses_symlink_member(tmp_path):
    link = tarfile.TarInfo("root/link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    archive = _make_tar(tmp_path / "link.tar.gz", {}, extra=[link])
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match="links"):
        extract(archive, "tar.gz", out, root="root")
    assert not (out / "link").exists() and not (out / "link").is_symlink()


def test_extract_tar_refuses_hardlink_member(tmp_path):
    link = tarfile.TarInfo("hard")
    link.type = tarfile.LNKTYPE
    link.linkname = "target"
    archive = _make_tar(tmp_path / "link.tar.gz", {"target": b"t"}, extra=[link])
    with pytest.raises(ArchiveError):
        extract(archive, "tar.gz", tmp_path / "out")


def test_corrupt_and_truncated_zip(tmp_path):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip file at all" * 10)
    with pytest.raises(ArchiveError, match="garbage.zip"):
        extract(garbage, "zip", tmp_path / "out1")

    good = _make_zip(tmp_path / "good.zip", {"f": bytes(range(256)) * 100})
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ArchiveError, match="truncated"):
        extract(truncated, "zip", tmp_path / "out2")
    assert _all_files(tmp_path / "out2") == []


def test_truncated_tar_gz(tmp_path):
    rng = np.random.default_rng(0)
    good = _make_tar(tmp_path / "good.tar.gz", {"a": rng.bytes(50_000), "b": rng.bytes(50_000)})
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ArchiveError):
        extract(truncated, "tar.gz", tmp_path / "out")
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not gzip data" * 50)
    with pytest.raises(ArchiveError):
        extract(garbage, "tar.gz", tmp_path / "out")


def test_truncated_gz(tmp_path):
    rng = np.random.default_rng(1)
    data = gzip.compress(rng.bytes(100_000))
    truncated = tmp_path / "t.gz"
    truncated.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(ArchiveError):
        extract(truncated, "gz", out, target="t")
    assert _all_files(out) == []  # the atomic temp file was removed


def test_safe_member_mapping():
    assert _safe_member("top/a/b.txt", "top") == "a/b.txt"
    assert _safe_member("top/a/b.txt", "top/") == "a/b.txt"
    assert _safe_member("topx/a.txt", "top") is None  # prefix match is by folder, not by string
    assert _safe_member("other/a.txt", "top") is None
    assert _safe_member("top/", "top") is None
    assert _safe_member("./a.txt", "") == "a.txt"
    for bad in ["../x", "a/../../x", "/abs", "\\abs", "C:/x", "C:\\x", "top/../../x"]:
        with pytest.raises(ArchiveError):
            _safe_member(bad, "top")


def test_extract_tar_with_dot_folder_member(tmp_path):
    archive = tmp_path / "dot.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        folder = tarfile.TarInfo(".")
        folder.type = tarfile.DIRTYPE
        tf.addfile(folder)
        info = tarfile.TarInfo("./a.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"a"))
    assert extract(archive, "tar.gz", tmp_path / "out") == ["a.txt"]


def test_safe_member_refuses_backslash_parent():
    with pytest.raises(ArchiveError):
        _safe_member("..\\evil", "")


def _zip_with_mode(path, name, mode, content=b"x"):
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.create_system = 3  # Unix: the mode lives in the high 16 bits of external_attr
        info.external_attr = mode << 16
        zf.writestr(info, content)
    return path


def test_extract_zip_refuses_symlink_member(tmp_path):
    archive = _zip_with_mode(tmp_path / "link.zip", "root/link", stat.S_IFLNK | 0o777, b"/etc/passwd")
    out = tmp_path / "out"
    with pytest.raises(ArchiveError, match="links") as info:
        extract(archive, "zip", out, root="root")
    assert "root/link" in str(info.value) and str(archive) in str(info.value)
    assert not (out / "link").exists() and not (out / "link").is_symlink()
    assert _all_files(out) == []


@pytest.mark.parametrize("kind_bits", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_extract_zip_refuses_special_members(tmp_path, kind_bits):
    archive = _zip_with_mode(tmp_path / "special.zip", "dev", kind_bits | 0o644)
    with pytest.raises(ArchiveError, match="links and devices"):
        extract(archive, "zip", tmp_path / "out")


@pytest.mark.parametrize("mode", [0, 0o644, stat.S_IFREG | 0o644])
def test_extract_zip_accepts_plain_files_whatever_the_mode_bits(tmp_path, mode):
    archive = _zip_with_mode(tmp_path / "plain.zip", "f.txt", mode, b"plain")
    assert extract(archive, "zip", tmp_path / "out") == ["f.txt"]
    assert (tmp_path / "out" / "f.txt").read_bytes() == b"plain"


def test_extract_links_outside_the_kept_members_are_never_written(tmp_path):
    archive = _zip_with_mode(tmp_path / "link.zip", "other/link", stat.S_IFLNK | 0o777, b"/etc/passwd")
    assert extract(archive, "zip", tmp_path / "out", root="root") == []


def test_extract_errors_name_the_given_origin_and_fix(tmp_path):
    garbage = tmp_path / "g.zip"
    garbage.write_bytes(b"junk" * 50)
    with pytest.raises(ArchiveError) as info:
        extract(garbage, "zip", tmp_path / "out", origin="the download of https://x.org/g.zip",
                fix="Check the proxy.")
    msg = str(info.value)
    assert "the download of https://x.org/g.zip" in msg and msg.endswith("Check the proxy.")
    evil = _make_zip(tmp_path / "evil.zip", {"../evil": b"x"})
    with pytest.raises(ArchiveError, match="unsafe") as info:
        extract(evil, "zip", tmp_path / "out", origin="mirror file /m/evil.zip", fix="Fix the mirror.")
    assert "mirror file /m/evil.zip" in str(info.value) and "Fix the mirror." in str(info.value)


def test_extract_default_error_names_the_full_path(tmp_path):
    garbage = tmp_path / "deep" / "g.zip"
    garbage.parent.mkdir()
    garbage.write_bytes(b"junk" * 50)
    with pytest.raises(ArchiveError, match=f"Delete {garbage}"):
        extract(garbage, "zip", tmp_path / "out")


# --- file_lock -----------------------------------------------------------------------------------

@pytest.fixture(params=["flock", "fallback"])
def lock_mechanism(request, monkeypatch):
    """Run a test with flock and with the O_EXCL lock-file fallback used where flock is missing."""
    if request.param == "fallback":
        monkeypatch.setattr(download_module, "fcntl", None)
    elif download_module.fcntl is None:
        pytest.skip("no fcntl on this platform")
    return request.param


def test_file_lock_excludes_and_removes_its_file(tmp_path, lock_mechanism):
    lock = tmp_path / "x.lock"
    inside, overlaps = [], []

    def worker():
        for _ in range(20):
            with file_lock(lock):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not overlaps
    assert not lock.exists()


def test_file_lock_waits_and_says_so(tmp_path, lock_mechanism, capsys):
    lock = tmp_path / "x.lock"
    held = threading.Event()
    released = []

    def holder():
        with file_lock(lock):
            held.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    with file_lock(lock, what="dataset 'x'"):
        acquired = time.monotonic()
    thread.join(10)
    assert released and acquired >= released[0]
    assert "Waiting for another process that is fetching dataset 'x'" in capsys.readouterr().err


def test_lock_file_fallback_takes_over_a_stale_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "fcntl", None)
    lock = tmp_path / "x.lock"
    lock.write_text("12345 left by a crashed process\n")
    old = time.time() - download_module.STALE_S - 5
    os.utime(lock, (old, old))
    start = time.monotonic()
    with file_lock(lock):
        assert lock.read_text() != "12345 left by a crashed process\n"
    assert time.monotonic() - start < 5
    assert not lock.exists()


def test_lock_file_fallback_keeps_a_live_lock_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "fcntl", None)
    monkeypatch.setattr(download_module, "HEARTBEAT_S", 0.05)
    lock = tmp_path / "x.lock"
    with file_lock(lock):
        old = time.time() - 100
        os.utime(lock, (old, old))
        time.sleep(0.3)
        assert time.time() - lock.stat().st_mtime < 5  # the heartbeat touched it again


def test_lock_file_fallback_never_deletes_a_lock_it_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "fcntl", None)
    lock = tmp_path / "x.lock"
    with file_lock(lock):
        lock.write_text("someone else took over\n")  # e.g. after this process was suspended
    assert lock.read_text() == "someone else took over\n"
