"""utils.lstm_cells: the standard-library corpus, character ids, exact per-character labels, n-gram baselines,
correlations and the coloured-text figure."""

import matplotlib

matplotlib.use("Agg")

import sys  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.lstm_cells import (  # noqa: E402
    FEATURES,
    STDLIB_SPLITS,
    CharVocab,
    ModuleSourceError,
    bits_per_char,
    bracket_depth,
    char_features,
    column,
    comment_mask,
    comment_spans,
    continuation_mask,
    corpus_features,
    correlations,
    indent_depth,
    load_corpus,
    module_source,
    ngram_log_probs,
    plot_cell_text,
    string_mask,
    string_spans,
    windows,
)


def marks(source: str, mask: np.ndarray) -> str:
    return "".join("s" if m else "." for m in mask)


# ---------------------------------------------------------------- corpus


def test_every_listed_module_has_source_on_this_python():
    corpus = load_corpus()
    assert set(corpus.texts) == {"train", "validation", "test"}
    for split, names in STDLIB_SPLITS.items():
        assert corpus.modules(split) == list(names)
        for name, src in corpus.texts[split]:
            assert src.endswith("\n") and len(src) > 1000, name
    sizes = corpus.sizes()
    assert sizes["train"] > 5 * sizes["test"] > 0 and sizes["validation"] > 0
    assert corpus.text("test") == "".join(src for _, src in corpus.texts["test"])


def test_splits_are_disjoint_by_module():
    names = [n for split in STDLIB_SPLITS.values() for n in split]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="'textwrap' is in both 'a' and 'b'"):
        load_corpus({"a": ("textwrap",), "b": ("textwrap",)})
    with pytest.raises(ValueError, match="split 'a' has no modules"):
        load_corpus({"a": ()})


def test_module_source_reads_modules_and_packages(tmp_path):
    (tmp_path / "plain.py").write_text("x = 1", encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("y = 2\n", encoding="utf-8")
    assert module_source("plain", tmp_path) == "x = 1"
    assert module_source("pkg", tmp_path) == "y = 2\n"
    corpus = load_corpus({"train": ("plain",), "test": ("pkg",)}, stdlib=tmp_path)
    assert corpus.text("train") == "x = 1\n"  # a final newline is added where missing


def test_missing_module_names_the_module_and_the_fix(tmp_path):
    with pytest.raises(ModuleSourceError) as info:
        module_source("textwrap", tmp_path)
    message = str(info.value)
    assert "'textwrap'" in message and f"{sys.version_info.major}.{sys.version_info.minor}" in message
    assert "install the standard-library sources" in message and "replace 'textwrap'" in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ModuleSourceError, match="'nope'"):
        load_corpus({"train": ("nope",)}, stdlib=tmp_path)


def test_unreadable_module_is_refused(tmp_path):
    (tmp_path / "bad.py").write_bytes(b"x = '\xff\xfe'\n")
    with pytest.raises(ModuleSourceError, match="cannot read the source of standard-library module 'bad'"):
        module_source("bad", tmp_path)


@pytest.mark.parametrize("name", ["", "os/path", "1abc", "a..b"])
def test_module_names_are_checked(name):
    with pytest.raises(ValueError, match="not a module name"):
        module_source(name)


# ---------------------------------------------------------------- vocabulary and windows


def test_vocab_round_trip_and_unknown_characters():
    vocab = CharVocab.from_text("abba cab\n", min_count=1)
    assert vocab.chars[0] == CharVocab.UNKNOWN and len(vocab) == 6  # unknown, \n, space, a, b, c
    ids = vocab.encode("cab\nz")
    assert ids.dtype == np.int32 and ids[-1] == 0 and (ids[:-1] > 0).all()
    assert vocab.decode(ids) == "cab\n" + CharVocab.UNKNOWN
    rare = CharVocab.from_text("aaab", min_count=2)
    assert rare.chars == [CharVocab.UNKNOWN, "a"] and rare.encode("b").tolist() == [0]


def test_vocab_errors():
    with pytest.raises(ValueError, match="min_count"):
        CharVocab.from_text("abc", min_count=0)
    with pytest.raises(ValueError, match="distinct"):
        CharVocab(["a", "a"])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        CharVocab(["a", "b"]).decode([0, 3])


def test_windows_shift_targets_by_one():
    X, Y = windows(np.arange(11), 5)
    assert X.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]] and Y.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    X2, Y2 = windows(np.arange(11), 5, stride=2)
    assert len(X2) == 3 and X2[1, 0] == 2 and Y2[-1, -1] == 9
    assert X.dtype == np.int32
    with pytest.raises(ValueError, match="too few"):
        windows(np.arange(5), 5)
    with pytest.raises(ValueError, match="1-D"):
        windows(np.zeros((2, 6), int), 2)


# ---------------------------------------------------------------- labels


def test_strings_come_from_tokenize_not_from_quotes():
    src = 'x = "a#b"  # it\'s a "comment"\ny = 1\n'
    assert marks(src, string_mask(src)) == "....sssss....................." + "......"
    assert string_spans(src) == [(4, 9)]
    assert [src[s:e] for s, e in comment_spans(src)] == ['# it\'s a "comment"']
    assert comment_mask(src).sum() == len('# it\'s a "comment"') and not comment_mask(src)[src.index("a#b")]


def test_prefixes_triple_quotes_and_multiline_strings():
    src = 'a = rb"x"\nb = """one\n  two"""\nc = f"{a!r} {b}"\n'
    spans = string_spans(src)
    assert [src[s:e] for s, e in spans] == ['rb"x"', '"""one\n  two"""', 'f"{a!r} {b}"']
    mask = string_mask(src)
    assert mask[src.index("two")] and not mask[src.index("c =")]


def test_nested_fstring_is_one_span():
    src = "x = f\"a{f'{1}'}b\" + 'c'\n"
    assert [src[s:e] for s, e in string_spans(src)] == ["f\"a{f'{1}'}b\"", "'c'"]


def test_non_ascii_and_crlf_free_offsets():
    src = 's = "é"\n# ü\nt = \'x\'\n'
    assert [src[s:e] for s, e in string_spans(src)] == ['"é"', "'x'"]


def test_untokenizable_source_is_refused():
    with pytest.raises(ValueError, match="cannot tokenize"):
        string_mask('x = """never closed\n')
    with pytest.raises(ValueError, match="module 'broken'"):
        corpus_features([("broken", "x = (\n")])


def test_column_counts_from_zero_and_newline_gets_line_length():
    assert column("ab\ncde\n\nf").tolist() == [0, 1, 2, 0, 1, 2, 3, 0, 0]


def test_indent_depth_in_units_with_tabs_and_blank_lines():
    src = "a\n    b\n        c\n  d\n    \n\te\n"
    lines = src.split("\n")[:-1]
    starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
    plain = indent_depth(src, known_only=False)
    assert [float(plain[s]) for s in starts] == [0.0, 1.0, 2.0, 0.5, 0.0, 2.0]
    known = indent_depth(src)
    first = [s + len(line) - len(line.lstrip()) for s, line in zip(starts, lines)]
    assert [float(known[f]) for f in first if f < len(src) and src[f] != "\n"] == [0.0, 1.0, 2.0, 0.5, 2.0]
    assert np.isnan(known[src.index("    b")]) and known[src.index("b")] == 1.0 and known[src.index("b") + 1] == 1.0
    blank = src.index("    \n")
    assert np.isnan(known[blank:blank + 5]).all()  # a line of blanks: no indentation to know
    assert indent_depth("  x\n", unit=2, known_only=False).tolist() == [1.0] * 4
    assert np.isnan(indent_depth("  x\n", unit=2)[:2]).all() and indent_depth("  x\n", unit=2)[2:].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="unit"):
        indent_depth("x", unit=0)


def test_char_features_on_a_snippet():
    src = 'def f(x):\n    """Doc."""\n    return x  # "no"\n'
    feats = char_features(src)
    assert tuple(feats) == FEATURES and all(len(v) == len(src) and v.dtype == np.float32 for v in feats.values())
    assert feats["inside string"].sum() == len('"""Doc."""')
    assert feats["string or comment"].sum() == len('"""Doc."""') + len('# "no"')
    assert feats["indent depth"][src.index("return")] == 1.0 and feats["indent depth"][0] == 0.0
    assert np.isnan(feats["indent depth"][src.index("return") - 1])  # still in the leading blanks
    assert feats["column"][src.index("return")] == 4.0


def test_corpus_features_concatenate_modules():
    pairs = [("a", 'x = "s"\n'), ("b", "if x:\n    y = 1\n")]
    feats = corpus_features(pairs)
    assert len(feats["column"]) == sum(len(s) for _, s in pairs)
    assert feats["inside string"].sum() == 3 and np.nanmax(feats["indent depth"]) == 1.0
    with pytest.raises(ValueError, match="no modules"):
        corpus_features([])


# ---------------------------------------------------------------- baselines


def test_ngram_log_probs_normalise_and_score():
    ids = np.array([0, 1, 0, 1, 0, 1, 2])
    uni = ngram_log_probs(ids, 3, order=1, alpha=1.0)
    assert np.isclose(np.exp2(uni).sum(), 1.0)
    assert np.allclose(np.exp2(uni), np.array([4, 4, 2]) / 10)
    bi = ngram_log_probs(ids, 3, order=2, alpha=0.5)
    assert np.allclose(np.exp2(bi).sum(axis=1), 1.0)
    assert np.isclose(np.exp2(bi[0, 1]), (3 + 0.5) / (3 + 1.5))  # 0 is followed by 1 three times
    assert np.isclose(bits_per_char(bi, np.array([0, 1])), -bi[0, 1])
    assert np.isclose(bits_per_char(uni, np.array([2, 0, 1])), -(uni[0] + uni[1]) / 2)


def test_bigram_beats_unigram_on_structured_text():
    vocab = CharVocab.from_text("abcabcabc")
    ids = vocab.encode("abc" * 50)
    uni, bi = ngram_log_probs(ids, len(vocab), 1), ngram_log_probs(ids, len(vocab), 2, alpha=0.01)
    assert bits_per_char(bi, ids) < 0.1 < bits_per_char(uni, ids)


def test_ngram_errors():
    with pytest.raises(ValueError, match="order"):
        ngram_log_probs(np.array([0, 1]), 2, order=3)
    with pytest.raises(ValueError, match="alpha"):
        ngram_log_probs(np.array([0, 1]), 2, order=1, alpha=0)
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        ngram_log_probs(np.array([0, 2]), 2, order=1)
    with pytest.raises(ValueError, match="two ids"):
        bits_per_char(np.zeros(2), np.array([1]))


# ---------------------------------------------------------------- correlations and the figure


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correlations_match_numpy_corrcoef(dtype):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(20_000, 2))
    acts = np.column_stack([3 * feats[:, 0] + 100, -feats[:, 1] + rng.normal(size=20_000), rng.normal(size=20_000),
                            np.full(20_000, 7.0)]).astype(dtype)
    r = correlations(acts, feats)
    assert r.shape == (4, 2)
    expected = [[np.corrcoef(acts[:, j].astype(float), feats[:, k])[0, 1] for k in range(2)] for j in range(3)]
    np.testing.assert_allclose(r[:3], expected, atol=1e-5)
    assert r[0, 0] == pytest.approx(1.0, abs=1e-5) and (r[3] == 0).all()  # a constant cell: r = 0
    single = correlations(acts, feats[:, 1])
    assert single.shape == (4,) and np.allclose(single, r[:, 1])
    assert (correlations(acts, np.ones(20_000)) == 0).all()


def test_correlations_skip_undefined_rows():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(6000, 2))
    acts = np.column_stack([2 * f[:, 0] + 50, rng.normal(size=6000) + 0.5 * f[:, 1]]).astype(np.float32)
    holes = f.copy()
    holes[::3, 1] = np.nan
    r = correlations(acts, holes)
    ok = np.isfinite(holes[:, 1])
    np.testing.assert_allclose(r[:, 1], [np.corrcoef(acts[ok, j], holes[ok, 1])[0, 1] for j in range(2)], atol=1e-5)
    assert r[0, 0] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="two defined"):
        correlations(acts, np.full(6000, np.nan))


def test_correlations_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="acts must be"):
        correlations(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="acts must be"):
        correlations(np.zeros(5), np.zeros(5))


def test_plot_cell_text_draws_one_cell_per_character():
    text = "ab\n c\n"
    fig, ax = plt.subplots()
    image = plot_cell_text(ax, text, np.arange(len(text), dtype=float), title="t")
    grid = image.get_array()
    assert grid.shape == (2, 3)
    assert grid[0].tolist() == [0.0, 1.0, 2.0] and grid[1].tolist() == [3.0, 4.0, 5.0]
    assert len(ax.collections) == 3  # one glyph collection per distinct visible character: a, b, c
    assert ax.get_title(loc="left") == "t"
    fig.canvas.draw()
    plt.close(fig)
    with pytest.raises(ValueError, match="6 characters"):
        plot_cell_text(ax, text, np.zeros(5))


def test_bracket_depth_counts_only_code_brackets():
    src = "f(a, [1, 2])  # (\ns = '(['\n"
    depth = bracket_depth(src)
    assert depth.dtype == np.int32 and depth.shape == (len(src),)
    assert depth[src.index("f")] == 0 and depth[src.index("(")] == 1  # an opening bracket counts from itself
    assert depth[src.index("[")] == 2 and depth[src.index("]")] == 2  # a closing one from just after it
    assert depth[src.index("]") + 1] == 1 and depth[src.index(")") + 1] == 0
    assert not depth[src.index("#"):].any()  # brackets in a comment and in a string do not count


def test_continuation_mask_marks_lines_inside_brackets():
    src = "def f():\n    x = g(1,\n          2)\n    return x\n"
    mask = continuation_mask(src)
    lines = src.split("\n")
    starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
    assert [bool(mask[s]) for s in starts[:4]] == [False, False, True, False]
    assert mask[src.index("2)")] and mask[src.index("2)") + 2]  # the whole continuation line, '\n' included
    with pytest.raises(ValueError, match="tokenize"):
        bracket_depth("x = (1,\n")
