"""Character-level data for the LSTM-cells notebook: Python source code as a corpus, and exact per-character labels.

* :func:`load_corpus` reads a fixed list of pure-Python standard-library modules from the running interpreter
  (nothing is downloaded), split by module into train / validation / test (:data:`STDLIB_SPLITS`).
* :class:`CharVocab` maps characters to integer ids (unknown characters share one id).
* :func:`string_mask`, :func:`comment_mask`, :func:`indent_depth` and :func:`column` label every character of a
  source text: inside a string literal or a comment (from the ``tokenize`` module's token spans), leading-whitespace
  depth of its line, position in its line. :func:`char_features` returns the labels of :data:`FEATURES`.
* :func:`bracket_depth` and :func:`continuation_mask` tell lines inside open brackets (continuation lines) from
  lines of plain indented blocks.
* :func:`ngram_log_probs` and :func:`bits_per_char` give the unigram and smoothed bigram baselines.
* :func:`correlations` (Pearson r of every unit with a label) and :func:`plot_cell_text` (the coloured-text figure)
  serve the analysis.
"""

from __future__ import annotations

import io
import sys
import sysconfig
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Pure-Python modules that exist, as source files, on CPython 3.10 to 3.12 (and later); split by module so that no
# test module's text (or a near copy of it) is seen in training.
STDLIB_SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("argparse", "calendar", "configparser", "contextlib", "csv", "dataclasses", "difflib", "fractions",
              "functools", "gettext", "heapq", "pprint", "shlex", "statistics", "string", "textwrap", "tokenize"),
    "validation": ("bisect", "colorsys", "copy", "fnmatch", "glob", "numbers", "queue", "sched"),
    "test": ("random", "selectors", "tempfile", "weakref"),
}


class ModuleSourceError(FileNotFoundError):
    """A standard-library module's source file cannot be read from this Python installation."""


def stdlib_dir() -> Path:
    """The folder of the running interpreter's pure-Python standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def module_source(name: str, stdlib: Path | None = None) -> str:
    """The source text of one standard-library module (``name.py`` or package ``name/__init__.py``).

    Raises :class:`ModuleSourceError`, naming the module and the fix, where the file is missing or unreadable.
    """
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"{name!r} is not a module name")
    root = Path(stdlib) if stdlib is not None else stdlib_dir()
    base = root.joinpath(*name.split("."))
    candidates = (base.with_suffix(".py"), base / "__init__.py")
    for path in candidates:
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise ModuleSourceError(
                    f"cannot read the source of standard-library module {name!r} ({err}); remove it from the module "
                    "list or repair this Python installation") from err
    raise ModuleSourceError(
        f"standard-library module {name!r} has no source file in this Python {sys.version_info.major}."
        f"{sys.version_info.minor} installation (looked for {candidates[0].name} and {name}/__init__.py under the "
        "stdlib folder). Some distributions ship only compiled files: install the standard-library sources (e.g. "
        f"the python{sys.version_info.major}.{sys.version_info.minor} or libpython-stdlib package), or replace "
        f"{name!r} with another pure-Python module in the list.")


@dataclass(frozen=True)
class Corpus:
    """Module sources per split: ``texts[split]`` is a list of ``(module, source)`` pairs, in list order."""

    texts: dict[str, list[tuple[str, str]]]

    def text(self, split: str) -> str:
        """All modules of one split, concatenated (each source ends with a newline)."""
        return "".join(src for _, src in self.texts[split])

    def modules(self, split: str) -> list[str]:
        return [name for name, _ in self.texts[split]]

    def sizes(self) -> dict[str, int]:
        """Characters per split."""
        return {split: sum(len(src) for _, src in pairs) for split, pairs in self.texts.items()}


def load_corpus(splits: dict[str, tuple[str, ...]] | None = None, stdlib: Path | None = None) -> Corpus:
    """Read every module of every split (default :data:`STDLIB_SPLITS`); a module may belong to one split only."""
    splits = STDLIB_SPLITS if splits is None else splits
    seen: dict[str, str] = {}
    for split, names in splits.items():
        if not names:
            raise ValueError(f"split {split!r} has no modules")
        for name in names:
            if name in seen:
                raise ValueError(f"module {name!r} is in both {seen[name]!r} and {split!r}: split by module")
            seen[name] = split
    texts = {}
    for split, names in splits.items():
        pairs = []
        for name in names:
            src = module_source(name, stdlib)
            pairs.append((name, src if src.endswith("\n") else src + "\n"))
        texts[split] = pairs
    return Corpus(texts)


class CharVocab:
    """Characters seen in a training text, each with an integer id; id 0 stands for any other character."""

    UNKNOWN = "\ufffd"

    def __init__(self, chars: list[str]):
        if len(set(chars)) != len(chars) or self.UNKNOWN in chars:
            raise ValueError("characters must be distinct and must not include the unknown marker")
        self.chars = [self.UNKNOWN, *chars]
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str, min_count: int = 1) -> CharVocab:
        """Every character that occurs at least ``min_count`` times in ``text``, in code-point order."""
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        counts = Counter(text)
        return cls(sorted(ch for ch, n in counts.items() if n >= min_count and ch != cls.UNKNOWN))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text`` (int32); unknown characters get id 0."""
        return np.fromiter((self.index.get(ch, 0) for ch in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        """Text of a sequence of ids (id 0 becomes the replacement character)."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"ids must lie in [0, {len(self.chars)})")
        return "".join(self.chars[i] for i in ids.ravel())


def _line_starts(source: str) -> np.ndarray:
    """Offset of the first character of each line (lines end at '\\n', as tokenize reads them)."""
    return np.concatenate([[0], np.flatnonzero(np.frombuffer(source.encode("utf-32-le"), dtype=np.uint32) == 10) + 1])


def _token_spans(source: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """``[start, end)`` character offsets of every string literal and every comment, in one ``tokenize`` pass."""
    starts = _line_starts(source)
    opening = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)}
    closing = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}

    def offset(pos: tuple[int, int]) -> int:
        row, col = pos
        return int(starts[row - 1]) + col

    strings, comments, depth, open_at = [], [], 0, 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in opening:
                if depth == 0:
                    open_at = offset(tok.start)
                depth += 1
            elif tok.type in closing:
                depth -= 1
                if depth == 0:
                    strings.append((open_at, offset(tok.end)))
            elif tok.type == tokenize.STRING and depth == 0:
                strings.append((offset(tok.start), offset(tok.end)))
            elif tok.type == tokenize.COMMENT:
                comments.append((offset(tok.start), offset(tok.end)))
    except (tokenize.TokenError, SyntaxError) as err:
        raise ValueError(f"cannot tokenize the source: {err}") from err
    return strings, comments


def string_spans(source: str) -> list[tuple[int, int]]:
    """``[start, end)`` character offsets of every string literal, found by ``tokenize``.

    Counts STRING tokens and, on Python 3.12 and later, where f-strings are split into FSTRING_START ... FSTRING_END
    tokens, the whole f-string from its start to its matching end (as one STRING token on earlier versions).
    Raises ``ValueError`` if the source cannot be tokenized.
    """
    return _token_spans(source)[0]


def comment_spans(source: str) -> list[tuple[int, int]]:
    """``[start, end)`` character offsets of every comment (``#`` to the end of its line), found by ``tokenize``."""
    return _token_spans(source)[1]


def _mask(length: int, spans: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    for start, end in spans:
        mask[start:end] = True
    return mask


def string_mask(source: str) -> np.ndarray:
    """Per character: True inside a string literal (prefix and quotes included), from :func:`string_spans`."""
    return _mask(len(source), string_spans(source))


def comment_mask(source: str) -> np.ndarray:
    """Per character: True inside a comment, from :func:`comment_spans`."""
    return _mask(len(source), comment_spans(source))


def column(source: str) -> np.ndarray:
    """Per character: its 0-based position in its line (a line's closing '\\n' gets the line's length)."""
    starts = _line_starts(source)
    line = np.searchsorted(starts, np.arange(len(source)), side="right") - 1
    return (np.arange(len(source)) - starts[line]).astype(np.int32)


def indent_depth(source: str, unit: int = 4, *, known_only: bool = True) -> np.ndarray:
    """Per character: the leading whitespace of its line, in indentation units of ``unit`` spaces (float32).

    Tabs advance to the next multiple of 8 columns, as in Python's tokenizer. With ``known_only`` (the default) the
    value is defined from the first non-blank character of a line to its end ('\\n' included) and is NaN inside the
    leading whitespace, where a reader has not yet seen how deep the line goes, and on lines of blanks only; with
    ``known_only=False`` every character of a line gets the line's value (0 on blank lines).
    """
    if unit < 1:
        raise ValueError(f"unit must be >= 1, got {unit}")
    out = np.zeros(len(source), dtype=np.float32)
    pos = 0
    for line in source.split("\n"):
        width, lead = 0, 0
        for ch in line:
            if ch == " ":
                width += 1
            elif ch == "\t":
                width = (width // 8 + 1) * 8
            elif ch == "\x0c":  # form feed resets the count, as in the tokenizer
                width = 0
            else:
                break
            lead += 1
        blank = lead == len(line)
        end = min(pos + len(line) + 1, len(source))
        out[pos:end] = 0.0 if blank else width / unit
        if known_only:
            out[pos:end if blank else pos + lead] = np.nan
        pos = end
    return out


def bracket_depth(source: str) -> np.ndarray:
    """Per character: how many brackets ``(``, ``[``, ``{`` are open there (int32), from ``tokenize``'s OP tokens.

    Brackets inside strings and comments do not count. An opening bracket counts from its own position on, a
    closing one from just after it. Raises ``ValueError`` if the source cannot be tokenized.
    """
    starts = _line_starts(source)
    change = np.zeros(len(source) + 1, dtype=np.int32)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string in ("(", "[", "{", ")", "]", "}"):
                at = int(starts[tok.start[0] - 1]) + tok.start[1]
                if tok.string in "([{":
                    change[at] += 1
                else:
                    change[at + 1] -= 1
    except (tokenize.TokenError, SyntaxError) as err:
        raise ValueError(f"cannot tokenize the source: {err}") from err
    return np.cumsum(change[:-1], dtype=np.int32)


def continuation_mask(source: str) -> np.ndarray:
    """Per character: True on lines that begin inside open brackets (continuation lines of a call, list, ...).

    Such a line's leading whitespace is alignment inside an expression, not a block of code.
    """
    depth = bracket_depth(source)
    starts = _line_starts(source)
    starts = starts[starts < len(source)]
    line = np.searchsorted(starts, np.arange(len(source)), side="right") - 1
    return depth[starts][line] > 0


FEATURES = ("inside string", "string or comment", "indent depth", "column")


def char_features(source: str, unit: int = 4) -> dict[str, np.ndarray]:
    """The labels of :data:`FEATURES` for every character of ``source`` (float32 arrays of equal length).

    "string or comment" is 1 inside a string literal or a comment: in Python code, the characters that are English text.
    "indent depth" is NaN where it is not yet known (see :func:`indent_depth`).
    """
    strings, comments = _token_spans(source)
    in_string = _mask(len(source), strings)
    return {"inside string": in_string.astype(np.float32),
            "string or comment": (in_string | _mask(len(source), comments)).astype(np.float32),
            "indent depth": indent_depth(source, unit),
            "column": column(source).astype(np.float32)}


def corpus_features(pairs: list[tuple[str, str]], unit: int = 4) -> dict[str, np.ndarray]:
    """:func:`char_features` module by module (each is tokenized on its own), concatenated in order."""
    if not pairs:
        raise ValueError("no modules given")
    per_module = []
    for name, src in pairs:
        try:
            per_module.append(char_features(src, unit))
        except ValueError as err:
            raise ValueError(f"module {name!r}: {err}") from err
    return {k: np.concatenate([f[k] for f in per_module]) for k in FEATURES}


def windows(ids: np.ndarray, length: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``ids[s:s+length]`` and next-character targets ``ids[s+1:s+length+1]`` for ``s = 0, stride, ...``.

    With the default ``stride = length`` every character after the first is a target exactly once.
    """
    ids = np.asarray(ids)
    stride = length if stride is None else stride
    if ids.ndim != 1 or length < 1 or stride < 1:
        raise ValueError("ids must be 1-D; length and stride must be >= 1")
    n = (len(ids) - 1 - length) // stride + 1
    if n < 1:
        raise ValueError(f"{len(ids)} ids are too few for one window of {length} (plus one target)")
    starts = np.arange(n) * stride
    idx = starts[:, None] + np.arange(length)[None, :]
    return ids[idx].astype(np.int32), ids[idx + 1].astype(np.int32)


def ngram_log_probs(ids: np.ndarray, vocab_size: int, order: int, alpha: float = 1.0) -> np.ndarray:
    """Add-``alpha`` smoothed log2-probabilities fitted on ``ids``: shape ``(V,)`` for order 1, ``(V, V)`` for order 2.

    For order 2, row ``a`` holds ``log2 p(next | previous = a)``.
    """
    ids = np.asarray(ids)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order}")
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if ids.size < order or ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"ids must hold at least {order} values in [0, {vocab_size})")
    if order == 1:
        counts = np.bincount(ids, minlength=vocab_size) + alpha
        return np.log2(counts / counts.sum())
    counts = np.bincount(ids[:-1] * vocab_size + ids[1:], minlength=vocab_size * vocab_size)
    counts = counts.reshape(vocab_size, vocab_size) + alpha
    return np.log2(counts / counts.sum(axis=1, keepdims=True))


def bits_per_char(log_probs: np.ndarray, ids: np.ndarray) -> float:
    """Mean ``-log2 p`` of ``ids[1:]`` (each character after the first) under an n-gram table from
    :func:`ngram_log_probs`."""
    ids = np.asarray(ids)
    if ids.size < 2:
        raise ValueError("need at least two ids")
    if log_probs.ndim == 1:
        return float(-log_probs[ids[1:]].mean())
    return float(-log_probs[ids[:-1], ids[1:]].mean())


def correlations(acts: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``acts`` ``(n, units)`` with each feature: ``(n,)`` gives ``(units,)``,
    ``(n, k)`` gives ``(units, k)``.

    Rows where a feature is NaN (undefined there) are left out of that feature's correlations. A constant column or
    feature gets r = 0. Works through the rows in blocks, in the precision of ``acts`` (float32 or float64) with the
    sums over blocks in float64, so a long float32 ``acts`` needs little extra memory.
    """
    acts = np.asarray(acts)
    if acts.dtype not in (np.float32, np.float64):
        acts = acts.astype(np.float64)
    feats = np.asarray(features, dtype=np.float64)
    if acts.ndim != 2 or feats.ndim not in (1, 2) or feats.shape[0] != acts.shape[0] or acts.shape[0] < 2:
        raise ValueError(f"acts must be (n, units) and features (n,) or (n, k) with n >= 2; "
                         f"got {acts.shape} and {feats.shape}")
    single = feats.ndim == 1
    f = feats.reshape(len(feats), -1)
    m = np.isfinite(f)
    count = m.sum(axis=0).astype(np.float64)
    if (count < 2).any():
        raise ValueError("every feature needs at least two defined (non-NaN) values")
    f = np.where(m, f, 0.0)
    f = np.where(m, f - f.sum(axis=0) / count, 0.0)  # centred on the defined rows, 0 elsewhere
    mask, fc = m.astype(acts.dtype), f.astype(acts.dtype)
    shift = acts.mean(axis=0, dtype=np.float64).astype(acts.dtype)  # keeps the block sums small
    units, k = acts.shape[1], f.shape[1]
    s_a, s_af, s_aa = np.zeros((units, k)), np.zeros((units, k)), np.zeros((units, k))
    for start in range(0, len(acts), 8192):
        block = acts[start:start + 8192] - shift
        rows = slice(start, start + 8192)
        s_a += block.T @ mask[rows]
        s_af += block.T @ fc[rows]
        s_aa += (block * block).T @ mask[rows]
    cov = s_af  # the feature is centred on its rows, so the activations' mean drops out
    var_a = s_aa - s_a ** 2 / count
    var_f = (f ** 2).sum(axis=0)
    denom = np.sqrt(np.clip(var_a, 0, None) * var_f)
    r = np.clip(np.divide(cov, denom, out=np.zeros_like(cov), where=denom > 1e-12 * (1 + np.abs(s_aa))), -1.0, 1.0)
    return r[:, 0] if single else r


def plot_cell_text(ax, text: str, values: np.ndarray, *, cmap: str = "RdBu_r", vmax: float | None = None,
                   title: str | None = None, fontsize: float = 8.0):
    """Draw ``text`` on a grid of one cell per character, each cell coloured by ``values`` (red high, blue low).

    Lines are rows; a line's '\\n' colours the cell after its last character. The characters are drawn as glyph
    outlines of a monospace font, one collection per distinct character (fast for thousands of characters), sized in
    points and placed in data coordinates, so they stay on their cells whatever the figure's layout.
    Returns the image artist (for a colour bar).
    """
    from matplotlib.collections import PathCollection
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    values = np.asarray(values, dtype=float)
    if values.shape != (len(text),):
        raise ValueError(f"{len(text)} characters but {values.shape} values")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1] or [""]
    width = max(len(line) + 1 for line in lines)
    grid = np.full((len(lines), width), np.nan)
    where: dict[str, list[tuple[int, int]]] = {}
    pos = 0
    for row, line in enumerate(lines):
        n = min(len(line) + 1, len(text) - pos)
        grid[row, :n] = values[pos:pos + n]
        for col, ch in enumerate(line):
            if not ch.isspace():
                where.setdefault(ch, []).append((col, row))
        pos += n
    vmax = float(np.nanmax(np.abs(values))) if vmax is None and values.size else (vmax or 1.0)
    vmax = vmax if vmax > 0 else 1.0
    image = ax.imshow(grid, cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto", interpolation="nearest")
    prop = FontProperties(family="DejaVu Sans Mono")  # bundled with matplotlib: the same glyphs everywhere
    points = Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans  # glyph outlines are in points
    centre = Affine2D().translate(-0.301 * fontsize, -0.28 * fontsize)  # centre the glyph box on the cell
    for ch, xy in where.items():
        glyph = TextPath((0, 0), ch, size=fontsize, prop=prop).transformed(centre)
        glyphs = PathCollection([glyph], offsets=np.array(xy, dtype=float), offset_transform=ax.transData,
                                facecolors="black", edgecolors="black", linewidths=0.25)  # keeps thin strokes visible
        glyphs.set_transform(points)
        ax.add_collection(glyphs, autolim=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return image
