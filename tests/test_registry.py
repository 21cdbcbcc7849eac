"""utils.data.registry: every dataset's sources and checksum manifest are well formed."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from utils.data import registry

NAMES = sorted(registry.DATASETS)
SHA256 = re.compile(r"[0-9a-f]{64}")


def test_expected_datasets_are_registered():
    assert set(NAMES) >= {
        "churn", "credit_card_applications", "google_stock", "movielens_100k", "airline_passengers",
        "sms_spam", "cats_and_dogs", "fashion_mnist", "imdb",
    }
    for name, ds in registry.DATASETS.items():
        assert ds.name == name


@pytest.mark.parametrize("name", NAMES)
def test_manifest_exists_and_is_well_formed(name):
    ds = registry.get(name)
    path = registry.CHECKSUM_DIR / f"{ds.name}.sha256"
    assert path.is_file(), path
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, f"{path.name} is empty"
    rels = []
    for line in lines:
        digest, sep, rel = line.partition("  ")
        assert sep, f"{path.name}: not in sha256sum format: {line!r}"
        assert SHA256.fullmatch(digest), f"{path.name}: bad digest {digest!r}"
        posix = PurePosixPath(rel)
        assert rel and rel == rel.strip(), f"{path.name}: bad path {rel!r}"
        assert not posix.is_absolute() and ".." not in posix.parts and "\\" not in rel, rel
        rels.append(rel)
    assert len(rels) == len(set(rels)), f"{path.name} lists a file twice"
    files = ds.files
    assert len(files) == len(lines)
    assert all(SHA256.fullmatch(d) for d in files.values())


@pytest.mark.parametrize("name", NAMES)
def test_sources_are_https_and_consistent(name):
    ds = registry.get(name)
    assert ds.sources, name
    assert ds.homepage.startswith("https://")
    assert ds.licence and ds.title and ds.mirror_dir
    assert not PurePosixPath(ds.mirror_dir).is_absolute() and ".." not in PurePosixPath(ds.mirror_dir).parts
    for src in ds.sources:
        assert src.url.startswith("https://"), src.url
        assert src.kind in {"file", "gz", "zip", "tar.gz"}
        assert src.filename and "/" not in src.filename
        if src.kind in {"file", "gz"}:
            assert src.target in ds.files, f"{name}: {src.target} not in its manifest"


@pytest.mark.parametrize("name", NAMES)
def test_keep_filter_keeps_every_manifest_file(name):
    ds = registry.get(name)
    assert all(ds.keep(rel) for rel in ds.files)


def test_keep_prefixes():
    ds = registry.get("sms_spam")
    assert ds.keep("SMSSpamCollection") and ds.keep("readme")
    assert not ds.keep("other.txt")
    assert registry.get("churn").keep("anything")  # no prefixes: keep all


def test_source_filename():
    assert registry.Source("https://example.org/a/b/file.tar.gz", kind="tar.gz").filename == "file.tar.gz"


def test_unknown_name_lists_known_names():
    with pytest.raises(KeyError) as info:
        registry.get("no_such_data")
    msg = str(info.value)
    assert "no_such_data" in msg
    for name in NAMES:
        assert name in msg
