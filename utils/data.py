"""Find a dataset's files: verified cache, then a local mirror, then the canonical URL.

* Cache: ``data/<name>/`` in the repository, or ``$COURSE_DATA_DIR/<name>/``.
* Mirror: ``$COURSE_DATA_MIRROR/<mirror_dir>/`` holding either the extracted
  files or the downloaded artifact (a zip, a tarball, a ``.gz``) under its own name.
* URL: the dataset's canonical public address.

Every file is checked against the registry's SHA-256 before it is used.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

from . import registry
from .download import (
    ChecksumError,
    DatasetError,
    DatasetNotAvailableError,
    atomic_path,
    download,
    extract,
    sha256_of,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """The cache folder: ``$COURSE_DATA_DIR`` if set, else ``data/`` in the repository."""
    return Path(os.environ.get("COURSE_DATA_DIR") or REPO_ROOT / "data")


def mirror_root() -> Path | None:
    """The local mirror folder named by ``$COURSE_DATA_MIRROR``, if any."""
    value = os.environ.get("COURSE_DATA_MIRROR")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DatasetNotAvailableError(
            f"COURSE_DATA_MIRROR points at {path}, which is not a folder. "
            "Set it to the folder that holds the course datasets, or unset it."
        )
    return path


def _source_files(ds: registry.Dataset, src: registry.Source) -> list[str]:
    if src.kind in ("file", "gz"):
        return [src.target or src.filename]
    return list(ds.files)


def _check_cache(ds: registry.Dataset, root: Path) -> list[str]:
    """Verify cached files; drop corrupt ones (with a warning) and return what is missing."""
    missing = []
    for rel, digest in ds.files.items():
        path = root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        actual = sha256_of(path)
        if actual != digest:
            warnings.warn(
                f"Cached file {path} is corrupt (sha256 {actual}, expected {digest}); "
                "it was deleted and will be fetched again.",
                stacklevel=3,
            )
            path.unlink()
            missing.append(rel)
    return missing


def _install(src_file: Path, rel: str, digest: str, root: Path) -> None:
    """Copy one verified file into the cache atomically."""
    actual = sha256_of(src_file)
    if actual != digest:
        raise ChecksumError(
            f"Checksum mismatch for {src_file}: expected sha256 {digest}, got {actual}. "
            "The file was not used. Replace it with an intact copy."
        )
    with atomic_path(root / rel) as tmp:
        shutil.copyfile(src_file, tmp)


def _extract_verified(ds: registry.Dataset, src: registry.Source, artifact: Path, root: Path,
                      wanted: set[str]) -> None:
    """Extract an artifact to a scratch folder, verify, then move files into the cache."""
    scratch = root / ".incoming"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        extract(artifact, src.kind, scratch, root=src.root, target=src.target, keep=ds.keep)
        files = ds.files
        for rel in sorted(wanted):
            got = scratch / rel
            if not got.is_file():
                raise ChecksumError(
                    f"{artifact.name} does not contain {rel}, which {ds.name} needs; "
                    "it is not the expected archive."
                )
            _install(got, rel, files[rel], root)
        if ds.allow_extra:  # unlisted extra files (full IMDB) are kept as they are
            for path in scratch.rglob("*"):
                rel = path.relative_to(scratch).as_posix()
                if path.is_file() and rel not in files and not (root / rel).exists():
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, root / rel)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _progress(name: str):
    def report(done: int, total: int | None) -> None:
        mb = done / 2**20
        text = f"{mb:6.1f} MB" + (f" of {total / 2**20:.1f} MB" if total else "")
        print(f"\rDownloading {name}: {text}", end="", file=sys.stderr, flush=True)
    return report


def fetch(name: str, *, allow_download: bool = True) -> Path:
    """Return the cache folder of dataset ``name`` with every file present and verified.

    Raises :class:`DatasetNotAvailableError` when the data cannot be found or
    downloaded, and :class:`ChecksumError` when a mirror or download is corrupt.
    """
    ds = registry.get(name)
    root = cache_root() / ds.name
    missing = _check_cache(ds, root)
    if not missing:
        return root

    files = ds.files
    mirror = mirror_root()
    mirror_dir = mirror / ds.mirror_dir if mirror else None
    if mirror_dir is not None and mirror_dir.is_dir():
        for rel in list(missing):
            if (mirror_dir / rel).is_file():
                _install(mirror_dir / rel, rel, files[rel], root)
                missing.remove(rel)

    errors = []
    for src in ds.sources:
        wanted = set(_source_files(ds, src)) & set(missing)
        if not wanted:
            continue
        # An artifact placed by hand in the cache folder, or found in the mirror.
        candidates = [root / src.filename] + ([mirror_dir / src.filename] if mirror_dir else [])
        artifact = next((p for p in candidates if p.is_file()), None)
        if artifact is not None:
            _extract_verified(ds, src, artifact, root, wanted)
        elif allow_download:
            tmp_artifact = root / ".downloads" / src.filename
            try:
                download(src.url, tmp_artifact, progress=_progress(src.filename))
                print(file=sys.stderr)
                _extract_verified(ds, src, tmp_artifact, root, wanted)
            except DatasetNotAvailableError as exc:
                errors.append((src, exc))
                continue
            finally:
                tmp_artifact.unlink(missing_ok=True)
        else:
            errors.append((src, None))
            continue
        missing = [rel for rel in missing if rel not in wanted]

    if missing:
        raise DatasetNotAvailableError(_not_available_message(ds, root, errors))
    shutil.rmtree(root / ".downloads", ignore_errors=True)
    return root


def _not_available_message(ds: registry.Dataset, root: Path,
                           errors: list[tuple[registry.Source, DatasetError | None]]) -> str:
    lines = [f"Dataset {ds.name!r} ({ds.title}) is not cached and could not be fetched."]
    for src, exc in errors:
        why = f" ({exc})" if exc else " (downloads disabled)"
        lines.append(f"  - {src.url}{why}")
    lines += [
        "To fix, do one of:",
        "  * connect to the internet and run again;",
        f"  * download the file(s) above by hand and put them in {root} "
        "(archives are unpacked and checked automatically);",
        f"  * set COURSE_DATA_MIRROR to a folder that holds {ds.mirror_dir}/ with the extracted files.",
    ]
    return "\n".join(lines)
