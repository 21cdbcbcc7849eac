"""Find a dataset's files: verified cache, then a local mirror, then the canonical URL.

* Cache: ``data/<name>/`` in the repository, or ``$COURSE_DATA_DIR/<name>/``.
* Mirror: ``$COURSE_DATA_MIRROR/<mirror_dir>/`` holding either the extracted
  files or the downloaded artifact (a zip, a tarball, a ``.gz``) under its own name.
* URL: the dataset's canonical public address.

Every file is checked against the registry's SHA-256 before it is used. A
dataset is filled whole or not at all: everything missing is staged and
verified in a private scratch folder beside the cache, then moved in, all
under an inter-process lock, so notebooks and tests may fetch the same
dataset at the same time.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
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


def _source_files(ds: registry.Dataset, src: registry.Source) -> list[str]:
    if src.kind in ("file", "gz"):
        return [src.target or src.filename]
    return list(ds.files)


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
        for rel in sorted(wanted):
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

    def install(self, root: Path) -> None:
        """Move every staged file into ``root``; on failure undo, leaving the cache as it was."""
        made: list[Path] = []
        moved: list[Path] = []
        try:
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
            if (mirror_dir / rel).is_file():
                stage.add_mirror_file(mirror_dir / rel, rel)

    errors: list[tuple[registry.Source, DatasetError | None]] = []
    for src in ds.sources:
        wanted = set(_source_files(ds, src)) & (set(missing) - set(stage.files))
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


def _remove_abandoned_stages(cache: Path, name: str) -> None:
    # Called under the dataset's lock: no live fetch owns these, a killed one left them.
    for folder in cache.glob(f".{name}.*.staging"):
        shutil.rmtree(folder, ignore_errors=True)


def _cache_is_writable(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            f"Cannot create the dataset cache {cache} ({exc}). Set COURSE_DATA_DIR to a writable folder."
        ) from exc


def fetch(name: str, *, allow_download: bool = True) -> Path:
    """Return the cache folder of dataset ``name`` with every file present and verified.

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
    if _scan_cache(ds, root) == ([], []):  # the common case needs no lock
        return root
    _cache_is_writable(cache)
    with file_lock(cache / f".{ds.name}.lock", what=f"dataset {ds.name!r}"):
        missing, corrupt = _scan_cache(ds, root)  # another process may have filled it meanwhile
        _drop_corrupt(ds, root, corrupt)
        missing += [rel for rel, _ in corrupt]
        if not missing:
            return root
        _remove_abandoned_stages(cache, ds.name)
        stage = _Stage(ds, cache)
        try:
            errors = _stage_missing(ds, root, missing, stage, allow_download)
            lacking = sorted(set(missing) - set(stage.files))
            if lacking:
                raise DatasetNotAvailableError(_not_available_message(ds, root, lacking, errors))
            stage.install(root)
        finally:
            stage.remove()
    return root


def _not_available_message(ds: registry.Dataset, root: Path, lacking: list[str],
                           errors: list[tuple[registry.Source, DatasetError | None]]) -> str:
    shown = ", ".join(lacking[:3]) + (f" and {len(lacking) - 3} more" if len(lacking) > 3 else "")
    lines = [f"Dataset {ds.name!r} ({ds.title}) is not cached and could not be fetched "
             f"(missing: {shown}); nothing was added to the cache."]
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
    return "\n".join(lines)
