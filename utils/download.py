"""Atomic, verified downloads and safe archive extraction.

Nothing here imports TensorFlow: fetching data must work (and be testable)
without the deep-learning stack.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

CHUNK = 1 << 20


class DatasetError(RuntimeError):
    """Base class for every data problem the course reports."""


class DatasetNotAvailableError(DatasetError):
    """The data is not cached, not mirrored and could not be downloaded."""


class ChecksumError(DatasetError):
    """A file's SHA-256 differs from the registry's."""


class ArchiveError(DatasetError):
    """An archive is corrupt, truncated, or has unsafe member paths."""


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str, *, what: str | None = None) -> None:
    """Raise :class:`ChecksumError` if ``path`` does not hash to ``expected``."""
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"Checksum mismatch for {what or path.name}: expected sha256 {expected}, "
            f"got {actual}. The file is corrupt or a different version; it was not used. "
            "Delete it and fetch the dataset again."
        )


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; move it into place only on success.

    The temporary file lives in the same folder so the final ``os.replace`` is
    atomic: readers see either no file or the complete one, never a partial one.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


def download(url: str, dest: Path, *, timeout: float = 60.0,
             progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically.

    A connection that closes before ``Content-Length`` bytes arrived raises
    :class:`DatasetNotAvailableError` and leaves nothing at ``dest``.
    """
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                length = resp.headers.get("Content-Length")
                total = int(length) if length else None
                done = 0
                while block := resp.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            raise DatasetNotAvailableError(f"Download of {url} failed: {exc}") from exc
        if total is not None and done != total:
            raise DatasetNotAvailableError(
                f"Download of {url} was interrupted: got {done} of {total} bytes. "
                "Nothing was cached; run again to retry."
            )
    return dest


def _safe_member(name: str, root: str) -> str | None:
    """Map an archive member name to a relative path under ``root``.

    Returns ``None`` for members outside ``root``; raises for unsafe paths
    (absolute, or climbing out with ``..``) so a hostile archive cannot write
    anywhere but the cache.
    """
    # Backslashes are separators on Windows: treat them as such so "..\\x" is caught too.
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise ArchiveError(f"Refusing unsafe archive member path {name!r}.")
    rel = posix.as_posix()
    if rel in ("", "."):  # the archive's own top folder entry
        return None
    if root:
        prefix = root.rstrip("/") + "/"
        if not rel.startswith(prefix):
            return None
        rel = rel[len(prefix):]
    return rel or None


def extract(archive: Path, kind: str, dest_dir: Path, *, root: str = "",
            target: str | None = None,
            keep: Callable[[str], bool] = lambda rel: True) -> list[str]:
    """Extract ``archive`` into ``dest_dir`` and return the relative paths written.

    ``kind`` is ``"zip"``, ``"tar.gz"``, ``"gz"`` (one file, saved as ``target``)
    or ``"file"`` (copied as ``target``). Only members under ``root`` that pass
    ``keep`` are written, with ``root`` stripped. Links and special files are refused.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    try:
        if kind in ("file", "gz"):
            if not target:
                raise ValueError(f"kind={kind!r} needs a target file name")
            opener = gzip.open if kind == "gz" else open
            with opener(archive, "rb") as src, atomic_path(dest_dir / target) as tmp, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            written.append(target)
        elif kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    rel = _safe_member(info.filename, root)
                    if rel is None or info.is_dir() or not keep(rel):
                        continue
                    with zf.open(info) as src, atomic_path(dest_dir / rel) as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
                    written.append(rel)
        elif kind == "tar.gz":
            with tarfile.open(archive, "r:gz") as tf:
                for member in tf:
                    rel = _safe_member(member.name, root)
                    if rel is None or member.isdir() or not keep(rel):
                        continue
                    if not member.isfile():
                        raise ArchiveError(f"Refusing archive member {member.name!r}: links and devices are not extracted.")
                    src = tf.extractfile(member)
                    assert src is not None
                    with src, atomic_path(dest_dir / rel) as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
                    written.append(rel)
        else:
            raise ValueError(f"Unknown archive kind {kind!r}")
    except (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(
            f"{archive.name} is not a valid {kind} archive ({exc}); it may be truncated. "
            "Delete it and fetch it again."
        ) from exc
    return written

