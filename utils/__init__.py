"""Shared helpers for the deep-learning course notebooks.

Submodules: ``data`` (verified fetching), ``registry`` (dataset sources and
checksums), ``datasets`` (one loader per dataset), ``reproducibility``
(``set_seed``, ``fast_mode``), ``results`` (headline metrics), ``plots``,
``training`` (compact logging), ``runner`` (execute the course) and
``course`` (repository address, notebook list).
"""

from .reproducibility import fast_mode, set_seed
from .results import record

__all__ = ["fast_mode", "record", "set_seed"]
