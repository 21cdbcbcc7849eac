"""Moved to :mod:`utils.data.download`; this module keeps ``from utils.download import ...`` working (temporary)."""

from .data.download import (  # noqa: F401
    ArchiveError,
    ChecksumError,
    DatasetError,
    DatasetNotAvailableError,
    download,
)
