"""Atomic, verified downloads, safe archive extraction and an inter-process lock.

Nothing here imports TensorFlow: fetching data must work (and be testable)
without the deep-learning stack.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # Windows: file_lock falls back to an O_EXCL lock file
    fcntl = None

CHUNK = 1 << 20
_UMASK = os.umask(0o022)  # read once: os.umask can only be read by setting it
os.umask(_UMASK)


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


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; move it into place only on success.

    The temporary file lives in the same folder so the final ``os.replace`` is
    atomic: readers see either no file or the complete one, never a partial one.
    The file gets the permissions a plain ``open(dest, "w")`` would give it (the
    temporary file is private while it is written).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)
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


def _zip_member_is_special(info: zipfile.ZipInfo) -> bool:
    """True for a zip member that is a link or device rather than a file or folder.

    Zip has no link type of its own: Unix tools store the file mode in the high
    16 bits of ``external_attr``, and a symlink's "content" is its target path.
    """
    # Some tools store permission bits only (no type): treat those as plain files.
    kind = stat.S_IFMT(info.external_attr >> 16)
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def _claim(rel: str, name: str, files: set[str], folders: set[str]) -> None:
    """Refuse a member whose path another member uses as a folder, or that lies under another member's file."""
    parents = [p.as_posix() for p in PurePosixPath(rel).parents][:-1]  # without the final "."
    clash = rel if rel in folders else next((p for p in parents if p in files), None)
    if clash is not None:
        raise ArchiveError(f"Refusing archive member {name!r}: the archive uses {clash!r} both as a file and as "
                           "a folder, so it cannot be extracted as it is")
    files.add(rel)
    folders.update(parents)


def _extract_members(archive: Path, kind: str, dest_dir: Path, root: str, target: str | None,
                     keep: Callable[[str], bool]) -> list[str]:
    written: list[str] = []
    files: set[str] = set()
    folders: set[str] = set()
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
                if rel is None or not keep(rel):
                    continue
                if _zip_member_is_special(info):
                    raise ArchiveError(f"Refusing archive member {info.filename!r}: links and devices are not extracted")
                if info.is_dir():
                    continue
                _claim(rel, info.filename, files, folders)
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
                    raise ArchiveError(f"Refusing archive member {member.name!r}: links and devices are not extracted")
                _claim(rel, member.name, files, folders)
                src = tf.extractfile(member)
                assert src is not None
                with src, atomic_path(dest_dir / rel) as tmp, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
                written.append(rel)
    else:
        raise ValueError(f"Unknown archive kind {kind!r}")
    return written


def extract(archive: Path, kind: str, dest_dir: Path, *, root: str = "",
            target: str | None = None,
            keep: Callable[[str], bool] = lambda rel: True,
            origin: str | None = None, fix: str | None = None) -> list[str]:
    """Extract ``archive`` into ``dest_dir`` and return the relative paths written.

    ``kind`` is ``"zip"``, ``"tar.gz"``, ``"gz"`` (one file, saved as ``target``)
    or ``"file"`` (copied as ``target``). Only members under ``root`` that pass
    ``keep`` are written, with ``root`` stripped. Links (symbolic or hard) and
    special files are refused, in zip and tar alike. Errors name ``origin``
    (where the archive came from; default: its path) and end with ``fix``.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    where = origin or str(archive)
    todo = fix or f"Delete {archive} and fetch it again."
    try:
        return _extract_members(archive, kind, dest_dir, root, target, keep)
    except ArchiveError as exc:  # unsafe path or link: a hostile or broken archive
        raise ArchiveError(f"{exc} (in {where}); nothing from it was used. {todo}") from None
    except (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(
            f"{where} is not a valid {kind} archive ({exc}); it may be truncated. "
            f"Nothing from it was used. {todo}"
        ) from exc


# --- inter-process lock -----------------------------------------------------------------------

# The lock-file fallback: a holder touches its file every HEARTBEAT_S seconds, so a
# file left untouched for STALE_S seconds belongs to a process that died.
HEARTBEAT_S = 5.0
STALE_S = 60.0


@contextmanager
def file_lock(path: Path, *, what: str = "") -> Iterator[None]:
    """Hold an exclusive inter-process lock named by ``path`` for the ``with`` block.

    Uses ``fcntl.flock`` where available (released by the OS if the holder dies).
    Elsewhere (Windows) or where the filesystem refuses flock, falls back to an
    ``O_EXCL`` lock file kept fresh by a heartbeat, so one left by a crashed
    process is taken over after :data:`STALE_S` seconds. The file is removed on
    release. ``what`` names the guarded resource in the "waiting" message.
    """
    release = _flock(path, what) if fcntl is not None else None
    if release is None:
        release = _lock_file(path, what)
    try:
        yield
    finally:
        release()


def _say_waiting(path: Path, what: str) -> None:
    print(f"Waiting for another process that is fetching {what or path} (lock {path}) ...",
          file=sys.stderr, flush=True)


def _flock(path: Path, what: str) -> Callable[[], None] | None:
    """Take the lock with flock; ``None`` where the filesystem does not support it."""
    waited = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    _say_waiting(path, what)
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # e.g. ENOLCK on some network filesystems
            os.close(fd)
            return None
        # A holder deletes the file before unlocking it, so the file just locked may
        # no longer be the one at ``path``; then lock the current one instead.
        try:
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)

    def release() -> None:
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return release


def _lock_file(path: Path, what: str) -> Callable[[], None]:
    """Take the lock by creating ``path`` exclusively; wait while another holder keeps it fresh."""
    token = f"{os.getpid()} {os.urandom(8).hex()}\n".encode()
    waited = False
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except (FileExistsError, PermissionError) as exc:
            # Windows answers PermissionError while the previous holder's file is being deleted.
            if isinstance(exc, PermissionError) and os.name != "nt":
                raise
            _remove_if_stale(path)
            if not waited:
                _say_waiting(path, what)
                waited = True
            time.sleep(0.05)
    with os.fdopen(fd, "wb") as f:
        f.write(token)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                os.utime(path)
            except OSError:
                pass
    beat = threading.Thread(target=heartbeat, name=f"lock heartbeat {path.name}", daemon=True)
    beat.start()

    def release() -> None:
        stop.set()
        beat.join()
        try:
            if path.read_bytes() == token:  # never delete a lock taken over from us
                path.unlink()
        except FileNotFoundError:
            pass
    return release


def _remove_if_stale(path: Path) -> None:
    """Delete a lock file whose holder stopped refreshing it (it crashed)."""
    try:
        age = time.time() - path.stat().st_mtime
        if age > STALE_S:
            path.unlink()
    except OSError:  # gone already, or (Windows) still open by its holder
        pass
