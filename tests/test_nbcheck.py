"""tools.nbcheck on small synthetic notebooks, and on every committed notebook's stored outputs."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import nbcheck
from tools.course import notebook_paths

PNG = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}


def _nb(*cells):
    return new_notebook(cells=[new_markdown_cell("# t"), *cells])


def _problems(*cells):
    return [p.what for p in nbcheck.check_notebook(_nb(*cells))]


def test_a_clean_notebook_passes():
    cells = [
        new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
                      outputs=[new_output("display_data", data=PNG)]),
        new_code_cell("acc = 0.9\nrecord('acc', acc, 0.8)\nassert acc >= 0.8",
                      outputs=[new_output("stream", name="stdout", text="nb · acc = 0.9 (goal ≥ 0.8: met)\n")]),
        new_code_cell("def helper():\n    plt.plot([1])\n"),  # defines, does not draw
    ]
    assert _problems(*cells) == []


def test_a_plotting_cell_without_image_fails():
    cell = new_code_cell("fig = plot_history(h)\nplt.show()", outputs=[])
    assert any("stores 0 image" in p for p in _problems(cell))


def test_two_shows_need_two_images():
    cell = new_code_cell("plt.plot([1])\nplt.show()\nplt.plot([2])\nplt.show()",
                         outputs=[new_output("display_data", data=PNG)])
    assert any("draws 2 figure(s) but stores 1" in p for p in _problems(cell))


def test_a_notebook_defined_plotting_helper_counts():
    define = new_code_cell("def draw_map(x):\n    fig, ax = plt.subplots()\n    ax.plot(x)\n    return fig")
    call = new_code_cell("draw_map([1, 2])", outputs=[])
    assert any("stores 0 image" in p for p in _problems(define, call))
    call_ok = new_code_cell("draw_map([1, 2])", outputs=[new_output("display_data", data=PNG)])
    assert _problems(define, call_ok) == []


def test_magics_do_not_hide_a_plot():
    cell = new_code_cell("%matplotlib inline\nplt.imshow(img)\nplt.show()", outputs=[])
    assert any("stores 0 image" in p for p in _problems(cell))


@pytest.mark.parametrize(("output", "expected"), [
    (new_output("error", ename="ValueError", evalue="bad", traceback=["Traceback ...", "ValueError: bad"]),
     "stores an error"),
    (new_output("stream", name="stderr", text="Traceback (most recent call last):\n  File ...\nKeyError: 'x'\n"),
     "traceback"),
    (new_output("stream", name="stdout", text="Transfer learning not run: the pretrained weights are not available "
                "here (Download of https://x/w.h5 failed: <urlopen error [Errno -3] Temporary failure>).\n"),
     "error message"),
    (new_output("stream", name="stdout", text="could not open it: [Errno 2] No such file or directory: 'x'\n"),
     "error message"),
    (new_output("stream", name="stdout", text="skipped (ValueError: shapes (3,) and (4,) not aligned)\n"),
     "error message"),
    (new_output("stream", name="stdout", text="Error: the model did not converge\n"), "error message"),
    (new_output("stream", name="stdout", text="\x1b[1mModel\x1b[0m\n"), "ANSI"),
    (new_output("stream", name="stdout", text="32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1\n"), "progress bar"),
    (new_output("stream", name="stdout", text="epoch 1\repoch 2\r"), "progress bar"),
    (new_output("stream", name="stderr", text=" 40%|████      | 4/10 [00:01<00:02]\n"), "progress bar"),
    (new_output("execute_result", data={"text/plain": "Result(notebook='nb', metric='m', value=1.0)"},
                execution_count=1), "repr of a record"),
    (new_output("stream", name="stdout", text="line\n" * (nbcheck.MAX_LOG_LINES + 1)), "lines of log"),
    (new_output("stream", name="stderr", text="/home/me/site-packages/keras/functional.py:259: UserWarning: The "
                "structure of `inputs` doesn't match\n  warnings.warn(msg)\n"), "Python warning"),
    (new_output("stream", name="stderr", text="/tmp/ipykernel_1/3891.py:7: DeprecationWarning: x\n"), "Python warning"),
    (new_output("stream", name="stdout", text="WARNING:tensorflow:5 out of the last 17 calls triggered retracing\n"),
     "Python warning"),
    (new_output("stream", name="stderr", text="W0000 00:00:1712.5 123 cpu_feature_guard.cc:1] ...\n"), "Python warning"),
])
def test_noise_in_outputs_fails(output, expected):
    problems = _problems(new_code_cell("x = 1", outputs=[output]))
    assert any(expected in p for p in problems), problems


def test_the_word_warning_in_a_printed_sentence_is_not_a_python_warning():
    text = "Warning: the classic recipe: 3 epochs is too few\nnote: UserWarning: is a class name\n"
    assert _problems(new_code_cell("print(x)", outputs=[new_output("stream", name="stdout", text=text)])) == []


@pytest.mark.parametrize("kind", ["execute_result", "display_data"])
@pytest.mark.parametrize(("data", "expected"), [
    # model.summary(): Jupyter shows the HTML, but the plain-text form is what a terminal, an exported script or
    # a reader without HTML shows, and it held ANSI codes
    ({"text/html": "<pre>Model</pre>", "text/plain": "\x1b[1mModel: \"sequential\"\x1b[0m"}, "ANSI"),
    ({"text/html": "<pre>\x1b[1mModel\x1b[0m</pre>", "text/plain": "Model"}, "ANSI"),
    ({"text/plain": "\x1b[31mred\x1b[0m"}, "ANSI"),
    ({"text/plain": "'<urlopen error [Errno 111] Connection refused>'"}, "error message"),
    ({"text/html": "<p>Traceback (most recent call last):</p>", "text/plain": "<IPython.core.display.HTML>"},
     "error message"),
    ({"text/plain": "HTTPError: HTTP Error 404: Not Found"}, "error message"),
    ({"text/markdown": "**Error: no data**", "text/plain": "<Markdown>"}, None),
    ({"text/plain": "1.5"}, None),
])
def test_every_text_form_of_a_result_or_display_is_checked(kind, data, expected):
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    problems = _problems(new_code_cell("x", outputs=[new_output(kind, data=data, **extra)]))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_the_error_message_is_quoted_without_its_colours():
    out = new_output("stream", name="stdout", text="ok\nfailed: \x1b[31mOSError: [Errno 28] No space\x1b[0m\nmore\n")
    problems = _problems(new_code_cell("x", outputs=[out]))
    assert any("'failed: OSError: [Errno 28] No space'" in p for p in problems), problems


@pytest.mark.parametrize("text", [
    "Mean Squared Error: 0.0123\n", "mean_squared_error: 0.1\n", "error rate 3.2 %\n", "ErrorAnalysis done\n",
    "the network's error is lower than the baseline's\n",
])
def test_printed_words_about_errors_are_not_error_messages(text):
    assert _problems(new_code_cell("print(x)", outputs=[new_output("stream", name="stdout", text=text)])) == []


def test_a_recorded_goal_needs_an_assert():
    no_assert = new_code_cell("record('acc', acc, 0.8)")
    assert any("no assert" in p for p in _problems(no_assert))
    assert_before = new_code_cell("assert acc > 0\nrecord('acc', acc, goal=0.8)")
    assert any("no assert" in p for p in _problems(assert_before))
    next_cell = new_code_cell("assert acc >= (0.6 if FAST else 0.8)")
    assert _problems(no_assert, next_cell) == []
    no_goal = new_code_cell("record('baseline', b, None)\nrecord('time', t)")
    assert _problems(no_goal) == []


def test_cell_length_is_checked_when_asked():
    long = new_code_cell("\n".join(f"x{i} = {i}" for i in range(41)) + "\n\n")
    exact = new_code_cell("\n".join(f"x{i} = {i}" for i in range(40)))
    setup = new_code_cell("\n".join(["pass"] * 60), metadata={"tags": ["setup"]})  # generated: exempt
    nb = _nb(long, exact, setup)
    assert [p.what for p in nbcheck.check_notebook(nb)] == []
    problems = nbcheck.check_notebook(nb, max_cell_lines=40)
    assert [(p.cell, p.what.split(";")[0]) for p in problems] == [(1, "has 41 lines of code (at most 40)")]


def test_main_lists_long_cells_only_with_the_flag(tmp_path, capsys):
    path = tmp_path / "long.ipynb"
    nbformat.write(_nb(new_code_cell("\n".join(["x = 1"] * 45))), path)
    assert nbcheck.main([str(path)]) == 0
    assert nbcheck.main([str(path), "--max-cell-lines", "40"]) == 1
    assert "long.ipynb: cell 1: has 45 lines of code" in capsys.readouterr().out


def test_size_limit():
    problems = nbcheck.check_notebook(_nb(), size=nbcheck.MAX_BYTES + 1)
    assert problems and "MB" in problems[0].what


def test_check_file_and_main(tmp_path, capsys):
    path = tmp_path / "bad.ipynb"
    nbformat.write(_nb(new_code_cell("plt.show()", outputs=[])), path)
    assert nbcheck.check_file(path)
    assert nbcheck.main([str(path)]) == 1
    assert "bad.ipynb: cell 1" in capsys.readouterr().out
    good = tmp_path / "good.ipynb"
    nbformat.write(_nb(new_code_cell("x = 1")), good)
    assert nbcheck.main([str(good)]) == 0


# Switch on once every notebook's code cells are short (`python -m tools.nbcheck --max-cell-lines 40` lists them).
ENFORCE_CELL_LINES = False


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_notebook_outputs_are_clean(path):
    problems = nbcheck.check_file(path, max_cell_lines=nbcheck.MAX_CELL_LINES if ENFORCE_CELL_LINES else None)
    assert not problems, f"{path.name}:\n" + "\n".join(map(str, problems))
