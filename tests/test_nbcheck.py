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
        new_code_cell("acc = 0.9\nrecord(NB, 'acc', acc, 0.8)\nassert acc >= 0.8",
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


def test_plain_text_fallback_of_an_html_output_is_not_read():
    rich = new_output("display_data", data={"text/html": "<pre>Model</pre>", "text/plain": "\x1b[1mModel\x1b[0m"})
    assert _problems(new_code_cell("model.summary()", outputs=[rich])) == []


def test_a_recorded_goal_needs_an_assert():
    no_assert = new_code_cell("record(NB, 'acc', acc, 0.8, fast=FAST)")
    assert any("no assert" in p for p in _problems(no_assert))
    assert_before = new_code_cell("assert acc > 0\nrecord(NB, 'acc', acc, goal=0.8)")
    assert any("no assert" in p for p in _problems(assert_before))
    next_cell = new_code_cell("assert acc >= (0.6 if FAST else 0.8)")
    assert _problems(no_assert, next_cell) == []
    no_goal = new_code_cell("record(NB, 'baseline', b, None)\nrecord(NB, 'time', t)")
    assert _problems(no_goal) == []


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


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_notebook_outputs_are_clean(path):
    problems = nbcheck.check_file(path)
    assert not problems, f"{path.name}:\n" + "\n".join(map(str, problems))
