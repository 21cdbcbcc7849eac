"""Find a dataset's files: verified cache, then a local mirror, then the canonical URL.

* Cache: ``data/<name>/`` in the repository, or ``$COURSE_DATA_DIR/<name>/``.
* Mirror: ``$COURSE_DATA_MIRROR/<mirror_dir>/`` holding either the extracted
  files or the downloaded artifact (a zip, a tarball, a ``.gz``) under its own name.
* URL: the dataset's canonical public address.

Every file is checked against the registry's SHA-256 before it is used, and the
dataset folder's file list against its record (:data:`RECORD`), so a file that
was added by hand or lost in an interrupted install is noticed. A dataset is
filled whole or not at all: everything missing is staged and verified in a
private scratch folder beside the cache, then moved in, all under an
inter-process lock, so notebooks and tests may fetch the same dataset at the
same time.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import registry
from .download import (
    ChecksumError,
    DatasetError,
    DatasetNotAvailableError,
    atomic_path,
    download,
    extract,
    file_lock,
    sha256_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# Inside each dataset folder: every file the folder must hold, one relative path a line, written before an
# install moves files in. Files a manifest lists are hashed on every fetch; the others (IMDB's full archive)
# are trusted from the archive they came from, and the record says which must be there.
RECORD = ".files"
_CLUTTER = {".DS_Store", "Thumbs.db", "desktop.ini"}  # what file managers leave behind; never read as data


class UnlistedFilesError(DatasetError):
    """A dataset folder holds files that neither its manifest nor its record lists."""


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


@dataclass(frozen=True)
class _Origin:
    """Where a file or artifact came from, and the fix that applies to that place."""

    label: str
    fix: str


def _mirror_origin(path: Path) -> _Origin:
    return _Origin(f"mirror file {path}",
                   f"Fix the mirror: replace {path} with an intact copy, or unset COURSE_DATA_MIRROR "
                   "to download the dataset instead.")


def _placed_origin(path: Path, url: str) -> _Origin:
    return _Origin(f"{path} (placed in the cache folder)",
                   f"Delete {path}, then fetch again or download {url} again by hand.")


def _download_origin(url: str, root: Path) -> _Origin:
    return _Origin(f"the download of {url}",
                   "The download was deleted. Fetch again; if it fails the same way, check the network or "
                   "proxy (a proxy or captive portal can answer with a different file), or download the file "
                   f"by hand on another connection and put it in {root}.")


def _provides(ds: registry.Dataset, src: registry.Source, needed: set[str]) -> set[str]:
    """The needed files this source can yield: unlisted files only from an archive with a recorded digest."""
    if src.kind in ("file", "gz"):
        return {src.target or src.filename} & needed
    own = set(ds.files) & needed
    if ds.allow_extra and src.sha256:
        own |= needed - set(ds.files)
    return own


def _files_under(folder: Path) -> set[str]:
    """Relative POSIX paths of the files under ``folder`` (none if it does not exist), clutter left out."""
    found = set()
    for dirpath, _, names in os.walk(folder):
        rel_dir = Path(dirpath).relative_to(folder).as_posix()
        found.update(name if rel_dir == "." else f"{rel_dir}/{name}" for name in names if name not in _CLUTTER)
    return found


def _read_record(root: Path) -> set[str] | None:
    try:
        text = (root / RECORD).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    return {line for line in text.splitlines() if line}


def _write_record(root: Path, files: set[str]) -> None:
    with atomic_path(root / RECORD) as tmp:
        tmp.write_text("".join(f"{rel}\n" for rel in sorted(files)), encoding="utf-8")


@dataclass
class _State:
    """What a dataset folder holds, compared with its manifest and its record."""

    missing: list[str]  # manifest files absent
    corrupt: list[tuple[str, str]]  # manifest files with another hash: (rel, actual sha256)
    lost: list[str]  # files the record lists beyond the manifest, absent
    unlisted: list[str]  # files neither lists (hand-placed archives under their own name excepted)
    record: set[str] | None

    @classmethod
    def of(cls, ds: registry.Dataset, root: Path) -> _State:
        missing, corrupt = _scan_cache(ds, root)
        record = _read_record(root)
        listed = set(ds.files) | (record or set())
        on_disk = _files_under(root) - {RECORD}
        placed = {src.filename for src in ds.sources}
        return cls(missing, corrupt, sorted((record or set()) - set(ds.files) - on_disk),
                   sorted(on_disk - listed - placed), record)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.lost or self.unlisted)

    @property
    def needed(self) -> list[str]:
        return self.missing + [rel for rel, _ in self.corrupt] + self.lost


def _scan_cache(ds: registry.Dataset, root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Return (missing, corrupt as (rel, actual sha256)) for the cached files; changes nothing."""
    missing, corrupt = [], []
    for rel, digest in ds.files.items():
        path = root / rel
        try:
            actual = sha256_of(path) if path.is_file() else None
        except FileNotFoundError:  # deleted as corrupt by a fetch in another process just now
            actual = None
        if actual is None:
            missing.append(rel)
        elif actual != digest:
            corrupt.append((rel, actual))
    return missing, corrupt


def _drop_corrupt(ds: registry.Dataset, root: Path, corrupt: list[tuple[str, str]]) -> None:
    """Delete corrupt cached files (with a warning) so they are fetched again."""
    for rel, actual in corrupt:
        path = root / rel
        try:
            path.unlink()
        except OSError as exc:
            raise ChecksumError(
                f"Cached file {path} is corrupt (sha256 {actual}, expected {ds.files[rel]}) and could "
                f"not be deleted ({exc}). Delete it, or clear {root}, and run again."
            ) from exc
        warnings.warn(
            f"Cached file {path} is corrupt (sha256 {actual}, expected {ds.files[rel]}); "
            "it was deleted and will be fetched again.",
            stacklevel=3,
        )


def _check_staged(path: Path, rel: str, digest: str, origin: _Origin) -> None:
    """Refuse a staged file whose hash is not the manifest's, naming where it came from."""
    actual = sha256_of(path)
    if actual != digest:
        raise ChecksumError(
            f"Checksum mismatch for {rel} from {origin.label}: expected sha256 {digest}, got {actual}. "
            f"Nothing was cached. {origin.fix}"
        )


class _Stage:
    """A private scratch folder where one fetch gathers and verifies files before installing them."""

    def __init__(self, ds: registry.Dataset, cache: Path):
        self.ds = ds
        # Beside the cache folder, on the same filesystem, so installing is a rename.
        self.dir = Path(tempfile.mkdtemp(prefix=f".{ds.name}.", suffix=".staging", dir=cache))
        self.ready = self.dir / "ready"
        self.files: dict[str, Path] = {}  # relative path -> verified staged file
        self._count = 0

    def new_dir(self, what: str) -> Path:
        self._count += 1
        path = self.dir / f"{what}-{self._count}"
        path.mkdir()
        return path

    def accept(self, path: Path, rel: str) -> None:
        """Move a verified file into the ready area."""
        dest = self.ready / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        self.files[rel] = dest

    def add_mirror_file(self, path: Path, rel: str) -> None:
        # Hash the copy, not the mirror file, so what is installed is what was checked.
        copy = self.ready / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        _check_staged(copy, rel, self.ds.files[rel], _mirror_origin(path))
        self.files[rel] = copy

    def add_artifact(self, src: registry.Source, artifact: Path, origin: _Origin, wanted: set[str]) -> None:
        """Extract an artifact, verify the wanted files and accept them (and trusted extras)."""
        out = self.new_dir("extract")
        written = extract(artifact, src.kind, out, root=src.root, target=src.target, keep=self.ds.keep,
                          origin=origin.label, fix=origin.fix)
        files = self.ds.files
        for rel in sorted(wanted & set(files)):
            if not (out / rel).is_file():
                raise ChecksumError(
                    f"{origin.label} does not contain {rel}, which {self.ds.name} needs; it is not the "
                    f"expected archive. Nothing was cached. {origin.fix}"
                )
            _check_staged(out / rel, rel, files[rel], origin)
            self.accept(out / rel, rel)
        extras = sorted(set(written) - set(files))
        if self.ds.allow_extra and extras:
            self._add_extras(src, artifact, origin, out, extras)

    def _add_extras(self, src: registry.Source, artifact: Path, origin: _Origin, out: Path,
                    extras: list[str]) -> None:
        # Files the manifest does not list are trusted only through the archive's own digest.
        actual = sha256_of(artifact)
        if src.sha256 and actual == src.sha256:
            for rel in extras:
                self.accept(out / rel, rel)
            return
        warnings.warn(
            f"{origin.label} is not the published {src.filename} (sha256 {actual}, expected "
            f"{src.sha256 or 'none recorded'}): its {len(extras)} files that {self.ds.name}'s manifest does "
            "not list were dropped; only the manifest's verified files are cached.",
            stacklevel=5,
        )

    def install(self, root: Path, record: set[str]) -> None:
        """Record ``record`` as the folder's file list, then move every staged file into ``root``.

        The record comes first, so a process killed halfway leaves a folder whose missing files the next
        fetch notices. On failure everything is undone, leaving the cache as it was.
        """
        made: list[Path] = []
        moved: list[Path] = []
        old_record = _read_record(root)
        try:
            made += _make_dirs(root)
            _write_record(root, record)
            for rel, path in sorted(self.files.items()):
                dest = root / rel
                made += _make_dirs(dest.parent)
                existed = dest.exists()
                _move(path, dest)
                if not existed:
                    moved.append(dest)
        except OSError as exc:
            for dest in moved:
                dest.unlink(missing_ok=True)
            try:
                if old_record is None:
                    (root / RECORD).unlink(missing_ok=True)
                else:
                    _write_record(root, old_record)
            except OSError:
                pass
            for folder in reversed(made):
                _rmdir_quietly(folder)
            raise DatasetError(
                f"Could not install {self.ds.name} into {root} ({exc}); the cache was left as it was. "
                f"Free disk space or fix the permissions of {root}, then run again."
            ) from exc

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, outermost first."""
    created = []
    for parent in [*reversed(folder.parents), folder]:
        if not parent.is_dir():
            parent.mkdir()
            created.append(parent)
    return created


def _rmdir_quietly(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _move(src: Path, dest: Path) -> None:
    try:
        os.replace(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # only a cache folder linked to another drive needs a copy
            raise
        with atomic_path(dest) as tmp:
            shutil.copyfile(src, tmp)


def _progress(name: str) -> Callable[[int, int | None], None]:
    def report(done: int, total: int | None) -> None:
        mb = done / 2**20
        text = f"{mb:6.1f} MB" + (f" of {total / 2**20:.1f} MB" if total else "")
        print(f"\rDownloading {name}: {text}", end="", file=sys.stderr, flush=True)
    return report


def _stage_missing(ds: registry.Dataset, root: Path, missing: list[str], stage: _Stage,
                   allow_download: bool) -> list[tuple[registry.Source, DatasetError | None]]:
    """Stage every missing file from the mirror, a placed artifact or a download.

    Returns the sources that could not be had; a corrupt file or archive raises.
    """
    mirror = mirror_root()
    mirror_dir = mirror / ds.mirror_dir if mirror else None
    if mirror_dir is not None and mirror_dir.is_dir():
        for rel in missing:
            if rel in ds.files and (mirror_dir / rel).is_file():
                stage.add_mirror_file(mirror_dir / rel, rel)
        if ds.allow_extra:
            _warn_unlisted_mirror_files(ds, mirror_dir)

    errors: list[tuple[registry.Source, DatasetError | None]] = []
    for src in ds.sources:
        wanted = _provides(ds, src, set(missing) - set(stage.files))
        if not wanted:
            continue
        placed = root / src.filename
        if placed.is_file():
            stage.add_artifact(src, placed, _placed_origin(placed, src.url), wanted)
        elif mirror_dir is not None and (mirror_dir / src.filename).is_file():
            stage.add_artifact(src, mirror_dir / src.filename, _mirror_origin(mirror_dir / src.filename), wanted)
        elif allow_download:
            artifact = stage.new_dir("download") / src.filename
            try:
                download(src.url, artifact, progress=_progress(src.filename))
            except DatasetNotAvailableError as exc:
                errors.append((src, exc))
                continue
            finally:
                print(file=sys.stderr)
            stage.add_artifact(src, artifact, _download_origin(src.url, root), wanted)
        else:
            errors.append((src, None))
    return errors


def _warn_unlisted_mirror_files(ds: registry.Dataset, mirror_dir: Path) -> None:
    unlisted = sorted(rel for rel in _files_under(mirror_dir) if ds.keep(rel) and rel not in ds.files)
    if unlisted:
        warnings.warn(
            f"The mirror folder {mirror_dir} holds {len(unlisted)} file(s) that {ds.name}'s manifest does not list "
            f"({_some(unlisted)}); they were not used. Unlisted files are installed only from the archive whose "
            "SHA-256 utils/data/registry.py records; only the manifest's verified files are cached.",
            stacklevel=4,
        )


def _some(rels: list[str], n: int = 3) -> str:
    return ", ".join(rels[:n]) + (f" and {len(rels) - n} more" if len(rels) > n else "")


def _abandoned_stages(cache: Path, name: str) -> list[Path]:
    return list(cache.glob(f".{name}.*.staging")) if cache.is_dir() else []


def _remove_abandoned_stages(cache: Path, name: str) -> None:
    # Called under the dataset's lock: no live fetch owns these, a killed one left them.
    for folder in _abandoned_stages(cache, name):
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _locked(cache: Path, ds: registry.Dataset) -> Iterator[None]:
    """The dataset's inter-process lock, with a clear error where the cache folder is not writable."""
    lock = cache / f".{ds.name}.lock"
    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(lock, what=f"dataset {ds.name!r}"))
        except OSError as exc:
            raise DatasetError(
                f"Cannot fill the dataset cache: creating the lock file {lock} failed ({exc}). Make {cache} "
                "writable, or set COURSE_DATA_DIR to a writable folder (the datasets are then fetched there)."
            ) from exc
        yield


def _unlisted_message(ds: registry.Dataset, root: Path, state: _State) -> str:
    text = (f"{root} holds {len(state.unlisted)} file(s) that dataset {ds.name!r} does not list "
            f"({_some(state.unlisted)}): a notebook reading that folder would take them for data, so they were "
            f"not used. Delete them, or delete {root} and fetch again. The files {ds.name} may hold are listed in "
            f"utils/data/checksums/{ds.name}.sha256")
    if state.record is not None:
        return text + f" and {root / RECORD}."
    if ds.allow_extra:
        text += (f". If they are the full archive's files from a fetch made before the course recorded file "
                 f"lists, delete {root} and fetch again")
    return text + "."


def _cache_is_writable(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            f"Cannot create the dataset cache {cache} ({exc}). Set COURSE_DATA_DIR to a writable folder."
        ) from exc


def fetch(name: str, *, allow_download: bool = True) -> Path:
    """Return the cache folder of dataset ``name`` with every file present and verified.

    Each call hashes the files the manifest lists and compares the folder's file list with its
    record: a file that neither lists is refused (:class:`UnlistedFilesError`), never deleted; a
    missing or corrupt file is fetched again (a corrupt one is deleted first, with a warning).

    Safe to call from several processes at once: filling the cache is serialised
    by a lock, and a process that waited uses what the first one installed. A
    failed fetch leaves the cache as it was (less any corrupt cached file).

    Raises :class:`DatasetNotAvailableError` when the data cannot be found or
    downloaded, :class:`ChecksumError` when a mirror file, placed file or download
    is corrupt, and :class:`~utils.data.download.ArchiveError` for a broken or unsafe archive.
    """
    ds = registry.get(name)
    cache = cache_root()
    root = cache / ds.name
    if _State.of(ds, root).ok:  # the common case needs no lock
        if _abandoned_stages(cache, ds.name):  # left by a fetch killed after it installed
            try:
                with _locked(cache, ds):
                    _remove_abandoned_stages(cache, ds.name)
            except DatasetError:  # a read-only cache: nothing to clean there
                pass
        return root
    _cache_is_writable(cache)
    with _locked(cache, ds):
        _remove_abandoned_stages(cache, ds.name)
        state = _State.of(ds, root)  # another process may have filled it meanwhile
        if state.unlisted:
            raise UnlistedFilesError(_unlisted_message(ds, root, state))
        _drop_corrupt(ds, root, state.corrupt)
        needed = state.needed
        if not needed:
            return root
        stage = _Stage(ds, cache)
        try:
            errors = _stage_missing(ds, root, needed, stage, allow_download)
            lacking = sorted(set(needed) - set(stage.files))
            if lacking:
                raise DatasetNotAvailableError(_not_available_message(ds, root, lacking, errors, state))
            stage.install(root, set(ds.files) | (state.record or set()) | set(stage.files))
        finally:
            stage.remove()
    return root


def _not_available_message(ds: registry.Dataset, root: Path, lacking: list[str],
                           errors: list[tuple[registry.Source, DatasetError | None]], state: _State) -> str:
    lines = [f"Dataset {ds.name!r} ({ds.title}) is not cached and could not be fetched "
             f"(missing: {_some(lacking)}); nothing was added to the cache."]
    if state.lost:
        lines[0] += (f" {root} is incomplete: {len(state.lost)} file(s) that {root / RECORD} lists beyond the "
                     "manifest are gone (an install that was interrupted, or files deleted by hand); they come only "
                     "from the archive whose SHA-256 utils/data/registry.py records.")
    mirror = mirror_root()
    if mirror is not None:
        lines.append(f"  - mirror folder {mirror / ds.mirror_dir} (COURSE_DATA_MIRROR) does not hold them")
    for src, exc in errors:
        why = f" ({exc})" if exc else " (downloads disabled)"
        lines.append(f"  - {src.url}{why}")
    lines += [
        "To fix, do one of:",
        "  * connect to the internet (check the proxy settings) and run again;",
        f"  * download the file(s) above by hand and put them in {root} "
        "(archives are unpacked and checked automatically);",
        f"  * set COURSE_DATA_MIRROR to a folder that holds {ds.mirror_dir}/ with the extracted files.",
    ]
    if state.lost:
        lines.append(f"  * or delete {root} and fetch again, to keep only the files the manifest lists.")
    return "\n".join(lines)
