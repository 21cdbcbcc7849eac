"""utils.data.fetch against a tampered or half-installed cache: every fetch compares the folder's file list with
its record, an install killed halfway (a real process, a real SIGKILL) is noticed and repaired, a read-only
cache or a stale scratch folder is handled, and an archive that uses one path as file and folder is refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest

from utils.data import cache, download, fetch, registry
from utils.data.cache import RECORD, UnlistedFilesError
from utils.data.download import ArchiveError, DatasetError, DatasetNotAvailableError

EXTRAS = {f"sub/extra{i}.csv": f"unlisted review {i}\n".encode() for i in range(6)}


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _full_archive(fake, tmp_path: Path) -> tuple[Path, dict]:
    """Like IMDB: a tar.gz with the manifest's files and unlisted ones, trusted by its recorded digest."""
    archive = tmp_path / "origin_tar" / "full.tar.gz"
    archive.parent.mkdir(exist_ok=True)
    archive.write_bytes(_tar_gz({f"pkg/{rel}": data for rel, data in {**fake.files, **EXTRAS}.items()}))
    source = {"url": archive.as_uri(), "kind": "tar.gz", "root": "pkg",
              "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}
    return archive, source


def _register(fake, monkeypatch, source: dict) -> None:
    ds = registry.Dataset(name=fake.name, title="tamper fake", mirror_dir=fake.mirror_dir, homepage="https://e.org/",
                          licence="test", sources=(registry.Source(**source),), keep_prefixes=("a.txt", "sub/"),
                          allow_extra=True)
    monkeypatch.setitem(registry.DATASETS, fake.name, ds)


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# --- files added by hand are refused, never used -----------------------------------------------------

def test_a_file_injected_into_a_cached_dataset_is_refused(fake_data):
    fake_data.use_mirror()
    fake_data.write_files(fake_data.mirror_folder)
    fetch(fake_data.name)
    injected = fake_data.cache_dir / "sub" / "injected.csv"
    injected.write_bytes(b"x,y\n9,9\n")
    with pytest.raises(UnlistedFilesError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert "sub/injected.csv" in msg and str(fake_data.cache_dir) in msg and "Delete them" in msg
    assert injected.exists()  # reported, not deleted: it is not the course's to remove
    injected.unlink()
    assert fetch(fake_data.name) == fake_data.cache_dir


def test_an_injected_file_in_a_cache_without_a_record_is_refused_too(fake_data):
    """A cache filled before file lists were recorded: the manifest is its list."""
    fake_data.write_files(fake_data.cache_dir)
    assert fetch(fake_data.name, allow_download=False) == fake_data.cache_dir
    assert not (fake_data.cache_dir / RECORD).exists()  # a complete cache is only read, never written
    (fake_data.cache_dir / "extra.txt").write_bytes(b"?")
    with pytest.raises(UnlistedFilesError, match="extra.txt"):
        fetch(fake_data.name)


def test_a_hand_placed_archive_and_file_manager_clutter_are_not_data(fake_data):
    fake_data.write_files(fake_data.cache_dir)
    (fake_data.cache_dir / fake_data.archive_name).write_bytes(fake_data.archive_bytes)
    (fake_data.cache_dir / "sub" / ".DS_Store").write_bytes(b"\0")
    assert fetch(fake_data.name, allow_download=False) == fake_data.cache_dir


def test_an_injected_review_in_the_full_dataset_is_refused(fake_data, monkeypatch, tmp_path):
    _, source = _full_archive(fake_data, tmp_path)
    _register(fake_data, monkeypatch, source)
    fetch(fake_data.name)
    record = (fake_data.cache_dir / RECORD).read_text().split()
    assert sorted(record) == sorted([*fake_data.files, *EXTRAS])
    (fake_data.cache_dir / "sub" / "extra99.csv").write_bytes(b"injected\n")
    with pytest.raises(UnlistedFilesError, match="extra99.csv") as info:
        fetch(fake_data.name)
    assert str(fake_data.cache_dir / RECORD) in str(info.value)


def test_an_unlisted_file_in_an_extracted_mirror_is_warned_about_and_not_used(fake_data, monkeypatch, tmp_path):
    _, source = _full_archive(fake_data, tmp_path)
    source["url"] = "https://example.invalid/full.tar.gz"  # never reached: the mirror has every listed file
    _register(fake_data, monkeypatch, source)
    fake_data.write_files(fake_data.mirror_folder, {"sub/extra1.csv": EXTRAS["sub/extra1.csv"]})
    (fake_data.mirror_folder / "README").write_text("not kept by the dataset's filter\n")
    fake_data.use_mirror()
    with pytest.warns(UserWarning, match="holds 1 file") as caught:
        fetch(fake_data.name)
    assert "sub/extra1.csv" in str(caught[0].message) and str(fake_data.mirror_folder) in str(caught[0].message)
    assert _files(fake_data.cache_dir) == {*fake_data.files, RECORD}


# --- an interrupted install is noticed and repaired ---------------------------------------------------

KILLED_INSTALL = r"""
import json, os, signal, sys, types
from pathlib import Path
spec = json.loads(sys.argv[1])
package = types.ModuleType("utils")  # the data layer alone, as in test_data_concurrency
package.__path__ = [spec["repo"] + "/utils"]
sys.modules["utils"] = package
from utils.data import cache, registry
registry.CHECKSUM_DIR = Path(spec["checksums"])
registry.DATASETS[spec["name"]] = registry.Dataset(
    name=spec["name"], title="killed", mirror_dir="none", homepage="https://e.org/", licence="test",
    sources=(registry.Source(**spec["source"]),), keep_prefixes=("a.txt", "sub/"), allow_extra=True)
moves = []
real_move = cache._move
def move(src, dest):
    if len(moves) == spec["after"]:
        os.kill(os.getpid(), signal.SIGKILL)  # the machine went down halfway through the install
    moves.append(dest)
    real_move(src, dest)
cache._move = move
cache.fetch(spec["name"])
"""


def _kill_an_install(fake, tmp_path: Path, repo_root: Path, source: dict, after: int) -> None:
    spec = {"repo": str(repo_root), "checksums": str(fake.checksum_dir), "name": fake.name, "source": source,
            "after": after}
    env = {**os.environ, "COURSE_DATA_DIR": str(fake.cache), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COURSE_DATA_MIRROR", None)
    proc = subprocess.run([sys.executable, "-c", KILLED_INSTALL, json.dumps(spec)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr


def test_an_install_killed_halfway_is_noticed_and_repaired(fake_data, monkeypatch, tmp_path, repo_root):
    _, source = _full_archive(fake_data, tmp_path)
    _register(fake_data, monkeypatch, source)
    _kill_an_install(fake_data, tmp_path, repo_root, source, after=len(fake_data.files) + 2)
    on_disk = _files(fake_data.cache_dir)
    assert set(fake_data.files) <= on_disk and not set(EXTRAS) <= on_disk  # listed files there, extras half
    assert list(fake_data.cache.glob(f".{fake_data.name}.*.staging"))  # the killed fetch's scratch folder
    fetch(fake_data.name)  # notices the missing extras from the record and installs the archive again
    assert _files(fake_data.cache_dir) == {*fake_data.files, *EXTRAS, RECORD}
    assert not list(fake_data.cache.glob(f".{fake_data.name}.*.staging"))
    fake_data.assert_cached()


def test_an_incomplete_install_that_cannot_be_repaired_says_so(fake_data, monkeypatch, tmp_path, repo_root):
    archive, source = _full_archive(fake_data, tmp_path)
    _register(fake_data, monkeypatch, source)
    _kill_an_install(fake_data, tmp_path, repo_root, source, after=len(fake_data.files) + 1)
    archive.unlink()  # offline now
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert "is incomplete" in msg and "interrupted" in msg and str(fake_data.cache_dir / RECORD) in msg
    assert f"delete {fake_data.cache_dir}" in msg


def test_files_deleted_from_the_full_dataset_are_fetched_again(fake_data, monkeypatch, tmp_path):
    _, source = _full_archive(fake_data, tmp_path)
    _register(fake_data, monkeypatch, source)
    fetch(fake_data.name)
    for rel in ("sub/extra0.csv", "sub/extra4.csv"):
        (fake_data.cache_dir / rel).unlink()
    fetch(fake_data.name)
    assert (fake_data.cache_dir / "sub/extra4.csv").read_bytes() == EXTRAS["sub/extra4.csv"]


def test_a_scratch_folder_left_after_a_complete_install_is_removed(fake_data):
    fake_data.write_files(fake_data.cache_dir)
    left = fake_data.cache / f".{fake_data.name}.crashed.staging"
    (left / "download-1").mkdir(parents=True)
    (left / "download-1" / "big.zip").write_bytes(b"x" * 1000)
    assert fetch(fake_data.name, allow_download=False) == fake_data.cache_dir
    assert not left.exists()


# --- a cache that cannot be written ---------------------------------------------------------------------

def _read_only_locks(monkeypatch) -> None:
    """Creating a lock file fails as in a read-only folder (the tests may run as root, whom modes do not bind)."""
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(download.os, "open", read_only)


def test_a_read_only_cache_names_the_path_and_the_fix(fake_data, monkeypatch):
    fake_data.cache.mkdir()
    _read_only_locks(monkeypatch)
    with pytest.raises(DatasetError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert str(fake_data.cache / f".{fake_data.name}.lock") in msg and "Permission denied" in msg
    assert "COURSE_DATA_DIR" in msg and f"Make {fake_data.cache} writable" in msg


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file modes bind only ordinary users")
def test_a_read_only_cache_folder_for_real(fake_data):
    fake_data.cache.mkdir()
    fake_data.cache.chmod(0o555)
    try:
        with pytest.raises(DatasetError, match="COURSE_DATA_DIR"):
            fetch(fake_data.name)
    finally:
        fake_data.cache.chmod(0o755)


def test_a_complete_read_only_cache_is_used_as_it_is(fake_data, monkeypatch):
    fake_data.write_files(fake_data.cache_dir)
    (fake_data.cache / f".{fake_data.name}.old.staging").mkdir()  # left behind, and cannot be cleaned here
    _read_only_locks(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fetch(fake_data.name) == fake_data.cache_dir


# --- an archive that uses one path as a file and as a folder -------------------------------------------

@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize("order", [["pkg/sub", "pkg/sub/b.csv"], ["pkg/sub/b.csv", "pkg/sub"]])
def test_a_path_that_is_both_file_and_folder_is_refused(fake_data, monkeypatch, tmp_path, kind, order):
    members = {"pkg/a.txt": fake_data.files["a.txt"], order[0]: b"one", order[1]: b"two"}
    archive = tmp_path / "clash" / f"fake-archive.{kind}"
    archive.parent.mkdir()
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        archive.write_bytes(buf.getvalue())
    else:
        archive.write_bytes(_tar_gz(members))
    ds = registry.Dataset(name=fake_data.name, title="clash", mirror_dir=fake_data.mirror_dir, homepage="https://e.org/",
                          licence="test", sources=(registry.Source(archive.as_uri(), kind=kind, root="pkg"),))
    monkeypatch.setitem(registry.DATASETS, fake_data.name, ds)
    with pytest.raises(ArchiveError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert "'sub' both as a file and as a folder" in msg and archive.as_uri() in msg
    assert ".staging" not in msg and not fake_data.cache_dir.exists()


def test_the_cache_module_is_where_fetch_lives():
    assert cache.fetch is fetch and cache.RECORD == RECORD
