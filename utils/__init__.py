"""What the course's notebooks import: small, tested helpers, one idea each.

* ``record`` (headline metrics, :mod:`utils.results`), ``set_seed`` and ``fast_mode``
  (:mod:`utils.reproducibility`), ``import_keras`` (:mod:`utils.startup`, used by every setup cell);
* ``utils.data``: the datasets: sources and checksums (``registry``), verified fetching into the
  cache (``cache``), downloads and archives (``download``) and one loader per dataset (``loaders``);
* lesson helpers: ``plots``, ``training`` (compact epoch logs), ``backend`` (gradients outside
  ``fit`` on every backend), ``devices`` (several devices), ``rnn_speed`` (per-backend speed settings
  for small recurrent models), ``sequences``, ``images``, ``movielens``, ``lstm_cells``.

``utils.datasets`` and ``utils.download`` re-export ``utils.data.loaders`` and ``utils.data.download``
for notebooks written before the data layer became a package. The maintainers' tooling (runner,
benchmark, stored-output checks, setup-cell generator, results tables) is the ``tools`` package,
which imports from here and never the other way round.
"""

from .reproducibility import fast_mode, set_seed
from .results import record

__all__ = ["fast_mode", "record", "set_seed"]
