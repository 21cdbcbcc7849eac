"""The course's datasets: where each comes from and how it is fetched, verified and loaded.

* :mod:`~utils.data.registry`: every dataset's sources, licence and the SHA-256 of each file it yields;
* :mod:`~utils.data.cache`: :func:`fetch`, the verified cache (cache, then mirror, then download);
* :mod:`~utils.data.download`: atomic downloads, safe archive extraction, the inter-process lock;
* :mod:`~utils.data.loaders`: one loader per dataset, returning what a notebook uses.
"""

from .cache import cache_root, fetch, mirror_root
from .download import ArchiveError, ChecksumError, DatasetError, DatasetNotAvailableError

__all__ = ["ArchiveError", "ChecksumError", "DatasetError", "DatasetNotAvailableError", "cache_root", "fetch",
           "mirror_root"]
