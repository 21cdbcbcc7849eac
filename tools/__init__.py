"""The maintainers' tooling: run the course, time it, check stored outputs, generate setup cells and tables.

* :mod:`tools.course`: topics, default backends, the generated setup cell (``python -m tools.course sync``);
* :mod:`tools.runner`: executes notebooks, collects their metrics (``make course``, ``make fast``);
* :mod:`tools.benchmark`: every notebook on every backend (``make benchmark``);
* :mod:`tools.nbcheck`: checks on the committed notebooks' stored outputs;
* :mod:`tools.tables`: every results table, README's topic table included;
* :mod:`tools.editions`: the student editions of the notebooks (solutions cleared);
* :mod:`tools.latest`: the notebooks on the newest releases of Keras and its backends (``make test-latest``).

Notebooks never import this package; it imports ``utils`` (the notebooks' package), never the other way round.
"""
