"""utils.data.fetch with a fake registry entry: cache, mirror, hand-placed archive, download, errors."""

from __future__ import annotations

import gzip
import hashlib
import io
import warnings
import zipfile

import pytest

from utils.data import cache, cache_root, fetch, mirror_root, registry
from utils.data.download import ChecksumError, DatasetNotAvailableError


def test_fake_manifest_is_read(fake_data):
    assert registry.get(fake_data.name).files == fake_data.digests


def test_cache_root_and_mirror_root_follow_env(fake_data, monkeypatch):
    assert cache_root() == fake_data.cache
    assert mirror_root() is None
    fake_data.use_mirror()
    assert mirror_root() == fake_data.mirror
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert cache_root() == cache.REPO_ROOT / "data"


def test_cache_hit_needs_no_source(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/fake-archive.zip")
    fake_data.write_files(fake_data.cache_dir)
    assert fetch(fake_data.name, allow_download=False) == fake_data.cache_dir
    assert fetch(fake_data.name) == fake_data.cache_dir
    fake_data.assert_cached()


def test_mirror_with_extracted_files(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/fake-archive.zip")
    fake_data.write_files(fake_data.mirror_folder)
    fake_data.use_mirror()
    assert fetch(fake_data.name, allow_download=False) == fake_data.cache_dir
    fake_data.assert_cached()
    # the mirror is left as it was
    assert (fake_data.mirror_folder / "a.txt").read_bytes() == fake_data.files["a.txt"]


def test_mirror_with_archive_under_url_file_name(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.mirror_folder.mkdir(parents=True)
    (fake_data.mirror_folder / fake_data.archive_name).write_bytes(fake_data.archive_bytes)
    fake_data.use_mirror()
    root = fetch(fake_data.name, allow_download=False)
    fake_data.assert_cached()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [".files", "a.txt", "sub/b.csv"]  # keep_prefixes and root applied; no scratch folder left


def test_hand_placed_archive_in_cache_folder(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}")
    fake_data.cache_dir.mkdir(parents=True)
    (fake_data.cache_dir / fake_data.archive_name).write_bytes(fake_data.archive_bytes)
    fetch(fake_data.name, allow_download=False)
    fake_data.assert_cached()
    # the placed archive stays; no scratch folder or lock file is left beside the cache folder
    assert sorted(p.name for p in fake_data.cache.iterdir()) == [fake_data.name]
    assert (fake_data.cache_dir / fake_data.archive_name).is_file()


def test_download_via_file_url(fake_data):
    root = fetch(fake_data.name)
    assert root == fake_data.cache_dir
    fake_data.assert_cached()
    # exactly the manifest's files: no scratch, download or lock left, no unlisted member
    assert sorted(p.relative_to(fake_data.cache).as_posix() for p in fake_data.cache.rglob("*")) == [
        fake_data.name, f"{fake_data.name}/.files", f"{fake_data.name}/a.txt", f"{fake_data.name}/sub",
        f"{fake_data.name}/sub/b.csv"]


def test_download_via_local_http_server(fake_data, http_server):
    base = http_server({f"/{fake_data.archive_name}": fake_data.archive_bytes})
    fake_data.set_url(f"{base}/{fake_data.archive_name}")
    fetch(fake_data.name)
    fake_data.assert_cached()


def test_checksum_mismatch_from_mirror(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/fake-archive.zip")
    bad = b"tampered content\n"
    fake_data.write_files(fake_data.mirror_folder, {"a.txt": bad})
    fake_data.use_mirror()
    with pytest.raises(ChecksumError) as info:
        fetch(fake_data.name, allow_download=False)
    msg = str(info.value)
    assert fake_data.digests["a.txt"] in msg
    assert hashlib.sha256(bad).hexdigest() in msg
    assert not (fake_data.cache_dir / "a.txt").exists()


def test_checksum_mismatch_from_download(fake_data, tmp_path):
    members = {"pkg/a.txt": b"wrong", "pkg/sub/b.csv": fake_data.files["sub/b.csv"]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    bad_zip = tmp_path / "bad" / fake_data.archive_name
    bad_zip.parent.mkdir()
    bad_zip.write_bytes(buf.getvalue())
    fake_data.set_url(bad_zip.as_uri())
    with pytest.raises(ChecksumError, match=fake_data.digests["a.txt"]):
        fetch(fake_data.name)
    assert not (fake_data.cache_dir / "a.txt").exists()
    assert not (fake_data.cache_dir / ".downloads" / fake_data.archive_name).exists()


def test_archive_missing_a_file_is_refused(fake_data, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/a.txt", fake_data.files["a.txt"])
    partial = tmp_path / "partial" / fake_data.archive_name
    partial.parent.mkdir()
    partial.write_bytes(buf.getvalue())
    fake_data.set_url(partial.as_uri())
    with pytest.raises(ChecksumError, match="sub/b.csv"):
        fetch(fake_data.name)


def test_corrupted_cache_file_is_removed_and_refetched(fake_data):
    fake_data.write_files(fake_data.cache_dir, {"sub/b.csv": b"corrupted"})
    with pytest.warns(UserWarning, match="corrupt"):
        fetch(fake_data.name)
    fake_data.assert_cached()


def test_corrupted_cache_file_removed_even_when_refetch_fails(fake_data, closed_port):
    fake_data.set_url(f"http://127.0.0.1:{closed_port}/fake-archive.zip")
    fake_data.write_files(fake_data.cache_dir, {"a.txt": b"corrupted"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DatasetNotAvailableError):
            fetch(fake_data.name, allow_download=False)
    assert any("corrupt" in str(w.message) for w in caught)
    assert not (fake_data.cache_dir / "a.txt").exists()
    assert (fake_data.cache_dir / "sub/b.csv").read_bytes() == fake_data.files["sub/b.csv"]


def test_offline_without_cache_or_mirror(fake_data, closed_port):
    url = f"http://127.0.0.1:{closed_port}/{fake_data.archive_name}"
    fake_data.set_url(url)
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(fake_data.name)
    msg = str(info.value)
    assert url in msg
    assert str(fake_data.cache_dir) in msg
    assert "COURSE_DATA_MIRROR" in msg
    assert fake_data.mirror_dir in msg
    assert not (fake_data.cache_dir / "a.txt").exists()
    assert not (fake_data.cache_dir / ".downloads").exists() or not any((fake_data.cache_dir / ".downloads").iterdir())


def test_interrupted_download_in_fetch(fake_data, http_server):
    base = http_server({f"/{fake_data.archive_name}": (fake_data.archive_bytes[:100], len(fake_data.archive_bytes))})
    fake_data.set_url(f"{base}/{fake_data.archive_name}")
    with pytest.raises(DatasetNotAvailableError, match="interrupted|failed"):
        fetch(fake_data.name)
    assert not (fake_data.cache_dir / "a.txt").exists()
    downloads = fake_data.cache_dir / ".downloads"
    assert not downloads.exists() or list(downloads.iterdir()) == []


def test_mirror_not_a_folder(fake_data, monkeypatch, tmp_path):
    not_a_dir = tmp_path / "mirror.txt"
    not_a_dir.write_text("oops")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(not_a_dir))
    with pytest.raises(DatasetNotAvailableError, match="not a folder") as info:
        fetch(fake_data.name)
    assert str(not_a_dir) in str(info.value)
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "missing"))
    with pytest.raises(DatasetNotAvailableError, match="COURSE_DATA_MIRROR"):
        mirror_root()


def test_allow_download_false(fake_data):
    # The file:// source would work, but downloads are disabled.
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(fake_data.name, allow_download=False)
    msg = str(info.value)
    assert "downloads disabled" in msg and fake_data.url in msg
    assert not (fake_data.cache_dir / "a.txt").exists()
    # ... and then it succeeds once allowed
    fetch(fake_data.name)
    fake_data.assert_cached()


def test_unknown_dataset_name(fake_data):
    with pytest.raises(KeyError, match=fake_data.name):
        fetch("no_such_dataset")


def test_file_and_gz_sources_with_one_unreachable(fake_data, monkeypatch, tmp_path, closed_port):
    """Per-file sources: the failing one is named in the error, and nothing is installed until both work."""
    origin = tmp_path / "per_file"
    origin.mkdir()
    (origin / "a.txt").write_bytes(fake_data.files["a.txt"])
    (origin / "b.csv.gz").write_bytes(gzip.compress(fake_data.files["sub/b.csv"]))
    bad_url = f"http://127.0.0.1:{closed_port}/b.csv.gz"

    def register(gz_url):
        ds = registry.Dataset(
            name=fake_data.name, title="per-file fake", mirror_dir=fake_data.mirror_dir,
            homepage="https://example.org/", licence="test",
            sources=(registry.Source((origin / "a.txt").as_uri(), target="a.txt"),
                     registry.Source(gz_url, kind="gz", target="sub/b.csv")),
        )
        monkeypatch.setitem(registry.DATASETS, fake_data.name, ds)

    register(bad_url)
    with pytest.raises(DatasetNotAvailableError) as info:
        fetch(fake_data.name)
    assert bad_url in str(info.value)
    assert (origin / "a.txt").as_uri() not in str(info.value)  # that one worked
    assert not fake_data.cache_dir.exists()  # ... but a dataset is installed whole or not at all

    register((origin / "b.csv.gz").as_uri())
    assert fetch(fake_data.name) == fake_data.cache_dir
    fake_data.assert_cached()
    assert not (fake_data.cache_dir / ".downloads").exists()


def test_mirror_fills_some_files_and_download_the_rest(fake_data):
    fake_data.mirror_folder.mkdir(parents=True)
    (fake_data.mirror_folder / "a.txt").write_bytes(fake_data.files["a.txt"])
    fake_data.use_mirror()
    fetch(fake_data.name)  # sub/b.csv comes from the file:// zip
    fake_data.assert_cached()
