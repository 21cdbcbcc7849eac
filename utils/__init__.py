"""What the course's notebooks import: small, tested helpers, one idea each.

* ``record`` (headline metrics, :mod:`utils.results`), ``set_seed`` and ``fast_mode``
  (:mod:`utils.reproducibility`), ``import_keras`` (:mod:`utils.startup`, used by every setup cell);
* ``utils.data``: the datasets: sources and checksums (``registry``), verified fetching into the
  cache (``cache``), downloads and archives (``download``) and one loader per dataset (``loaders``);
* ``exercises``: the self-checks of the notebooks' exercises (one module per topic);
* ``reference``: the NumPy references the lessons check Keras layers against;
* lesson helpers: ``plots``, ``training`` (compact epoch logs), ``backend`` (gradients outside
  ``fit`` on every backend), ``devices`` and ``multiworker`` (several devices and processes),
  ``rnn_speed`` (per-backend speed settings for small recurrent models), ``sequences``, ``images``,
  ``movielens``, ``lstm_cells``, ``forecasting``, ``adding_problem``, ``paired_tests``, ``pca``,
  ``generative``, ``gan``, ``text``, ``selection``, ``cnn_training``, ``transfer``.

The maintainers' tooling (runner,
benchmark, stored-output checks, setup-cell generator, results tables) is the ``tools`` package,
which imports from here and never the other way round.
"""

from .reproducibility import fast_mode, set_seed
from .results import record

__all__ = ["fast_mode", "record", "set_seed"]
