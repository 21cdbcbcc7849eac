"""Movie reviews as text and as token ids, for the transformer notebook.

* :func:`read_reviews` reads an ``aclImdb``-style folder (``neg/*.txt``, ``pos/*.txt``) into texts and labels.
* :func:`clean_review` lower-cases a review and keeps letters, digits and apostrophes, so a whitespace split
  gives its words.
* :func:`head_and_tail` cuts a row of token ids to a fixed length, keeping the beginning and the end of the review.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

LABELS = ("neg", "pos")  # folder names; the label is the index (neg = 0, pos = 1)
_NOT_WORD = re.compile(r"[^a-z0-9' ]")


def read_reviews(folder: Path, per_class: int | None, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """The reviews under ``folder/{neg,pos}/*.txt`` in random order, with labels (neg = 0, pos = 1).

    ``per_class`` keeps at most that many reviews of each class, drawn at random (``None`` keeps all).
    """
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be a positive number of reviews or None, got {per_class!r}")
    texts, labels = [], []
    for label, name in enumerate(LABELS):
        files = sorted((Path(folder) / name).glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no review files in {Path(folder) / name}: expected the aclImdb layout "
                                    f"{{train,test}}/{{neg,pos}}/*.txt (use utils.data.loaders.imdb_dir() for the folder)")
        if per_class is not None and len(files) > per_class:
            files = [files[i] for i in np.sort(rng.choice(len(files), per_class, replace=False))]
        texts += [f.read_text(encoding="utf-8") for f in files]
        labels += [label] * len(files)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], np.array(labels, dtype="int32")[order]


def clean_review(text: str) -> str:
    """Lower case, HTML line breaks removed, every character but letters, digits and apostrophes a space."""
    return _NOT_WORD.sub(" ", text.lower().replace("<br />", " "))


def head_and_tail(ids: np.ndarray, length: int, head: int) -> np.ndarray:
    """A review's token ids (zeros are padding) cut to ``length``: its first ``head`` ids and its last
    ``length - head`` ids if it is longer, zero-padded at the end if it is shorter."""
    if not 0 <= head <= length:
        raise ValueError(f"head must be between 0 and length ({length}), got {head}")
    ids = np.asarray(ids)
    ids = ids[ids != 0]
    if len(ids) > length:
        ids = np.concatenate([ids[:head], ids[len(ids) - (length - head):]])
    return np.pad(ids, (0, length - len(ids)))
