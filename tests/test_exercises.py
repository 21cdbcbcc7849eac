"""Self-checking exercises: the check mechanism, the student edition, and the wiring of checks to notebooks."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat
import pytest

from tools import editions
from utils import exercises
from utils.exercises import NotYet, check, exercise

ROOT = Path(__file__).resolve().parents[1]
CHECK_ID = re.compile(r"""^\s*check\(\s*["'](\d\d\.\d+)["']""", re.MULTILINE)
MIN_CHECKED_EXERCISES = 3


# --- the mechanism ---------------------------------------------------------------------------------------

@exercise("01.99", "a test exercise: double a number")
def _double(answer, **_):
    exercises.close(exercises.call(answer, 21), 42, abs_=1e-9, what="double(21)", hint="multiply by two")


@pytest.fixture(autouse=True)
def _learn_mode(monkeypatch):
    monkeypatch.delenv(exercises.MODE_ENV, raising=False)


def _stub(*args):
    raise NotImplementedError()


def test_verdicts_pass_not_yet_and_not_attempted(capsys):
    assert check("01.99", lambda x: 2 * x).passed
    wrong = check("01.99", lambda x: x + 2)
    assert (wrong.status, "multiply by two" in wrong.hint) == ("not yet", True)
    assert check("01.99", _stub).status == "not attempted"
    assert check("01.99", ...).status == "not attempted"
    assert check("01.99", lambda x: None).status == "not attempted"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ exercise 01.99: pass" and all(line.startswith("✗ exercise 01.99") for line in out[1:])


def test_an_answer_that_crashes_is_not_yet_and_does_not_stop_the_notebook():
    verdict = check("01.99", lambda x: x / 0)
    assert verdict.status == "not yet" and "ZeroDivisionError" in verdict.hint
    assert check("01.99", "forty-two").status == "not yet"


def test_the_hint_does_not_give_the_answer_away():
    assert "42" not in check("01.99", lambda x: x).hint


@pytest.mark.parametrize(("mode", "answer", "raises"), [
    ("solutions", lambda x: 2 * x, False), ("solutions", lambda x: x, True), ("solutions", _stub, True),
    ("stubs", _stub, False), ("stubs", lambda x: 2 * x, True), ("stubs", lambda x: x, True),
])
def test_modes_turn_unexpected_verdicts_into_failures(monkeypatch, mode, answer, raises):
    monkeypatch.setenv(exercises.MODE_ENV, mode)
    if raises:
        with pytest.raises(AssertionError, match="01.99"):
            check("01.99", answer)
    else:
        check("01.99", answer)


def test_bad_mode_and_ids_are_explained(monkeypatch):
    monkeypatch.setenv(exercises.MODE_ENV, "strict")
    with pytest.raises(ValueError, match="COURSE_CHECKS='strict'"):
        check("01.99", lambda x: 2 * x)
    monkeypatch.delenv(exercises.MODE_ENV)
    with pytest.raises(ValueError, match="form 'NN.k'"):
        check("6.1", lambda x: x)
    with pytest.raises(KeyError, match=r"utils/exercises/som\.py"):
        check("06.999", lambda x: x)
    with pytest.raises(ValueError, match="registered twice"):
        exercise("01.99", "again")(lambda answer: None)


def test_close_refuses_non_numbers_and_non_finite_values():
    for value in ("x", float("nan"), float("inf"), [1, 2]):
        with pytest.raises(NotYet):
            exercises.close(value, 1.0, abs_=1.0)
    exercises.close(1.5, 1.0, abs_=0.5)


# --- every registered check rejects a wrong answer (injected by the topic's test module) -------------------

def _wrong_answer_cases():
    cases = []
    for path in sorted((ROOT / "tests").glob("test_exercises_*.py")):
        module = importlib.import_module(f"tests.{path.stem}" if (ROOT / "tests" / "__init__.py").exists()
                                         else path.stem)
        cases += [(exercise_id, case) for exercise_id, case in module.WRONG.items()]
    return cases


@pytest.mark.parametrize(("exercise_id", "case"), [pytest.param(i, c, id=i) for i, c in _wrong_answer_cases()])
def test_each_wrong_answer_is_not_yet_and_a_stub_is_not_attempted(exercise_id, case, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    context, wrong = case
    assert check(exercise_id, wrong, **context()).status == "not yet"

    def stub(*args, **kwargs):
        raise NotImplementedError()

    assert check(exercise_id, stub, **context()).status == "not attempted"


def test_every_registered_exercise_has_an_injected_wrong_answer():
    registered = {i for i in exercises.all_exercises() if not i.endswith(".99")}
    injected = {exercise_id for exercise_id, _ in _wrong_answer_cases()}
    assert registered - injected == set(), "add a wrong answer to tests/test_exercises_<topic>.py for each"


# --- the notebooks and their student edition --------------------------------------------------------------

def _check_ids(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [m for c in nb.cells if c.cell_type == "code" for m in CHECK_ID.findall(c.source)]


def test_each_check_in_a_notebook_is_registered_once_and_belongs_to_that_notebook():
    seen: dict[str, str] = {}
    for path in editions.topic_notebooks():
        for exercise_id in _check_ids(path):
            assert exercise_id[:2] == path.name[:2], f"{path.name} checks exercise {exercise_id} of another notebook"
            assert exercise_id not in seen, f"exercise {exercise_id} is checked in {seen[exercise_id]} and {path.name}"
            seen[exercise_id] = path.name
            exercises.registered(exercise_id)
    unused = {i for i in exercises.all_exercises() if not i.endswith(".99")} - set(seen)
    assert not unused, f"registered checks that no notebook runs: {sorted(unused)}"


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_student_edition_replaces_solutions_and_clears_their_outputs():
    code = nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n",
                                     outputs=[nbformat.v4.new_output("stream", text="solution output")])
    checked = nbformat.v4.new_code_cell('check("06.1", f)', outputs=[nbformat.v4.new_output("stream", text="✓")])
    answer = nbformat.v4.new_markdown_cell("The model answer.", metadata={"nbgrader": {"solution": True}})
    other = nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")])
    title = nbformat.v4.new_markdown_cell("# Title\n\n[badge](https://x/blob/main/notebooks/06_x.ipynb)")
    source = _notebook(title, code, checked, answer, other)
    student = editions.student_edition(source, "06_x")
    assert "return 2 * x" not in student.cells[1].source and "raise NotImplementedError()" in student.cells[1].source
    assert student.cells[1].outputs == [] and student.cells[2].outputs == []
    assert student.cells[3].source == "YOUR ANSWER HERE"
    assert student.cells[4] == other  # everything else identical
    assert "notebooks/student/06_x.ipynb" in student.cells[0].source and "Student edition" in student.cells[0].source
    assert "return 2 * x" in source.cells[1].source  # the instructor edition is not changed


@pytest.mark.parametrize(("cell", "message"), [
    (nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "top level"),
    (nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"), "nested"),
    (nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n"), "without"),
    (nbformat.v4.new_code_cell("def f():\n    return 1\n    ### END SOLUTION\n"), "without"),
    (nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True}}), "whole code cell"),
    (nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\ntext\n### END SOLUTION"), "markdown"),
])
def test_markers_the_student_edition_cannot_use_are_refused_with_the_fix(cell, message):
    with pytest.raises(editions.EditionError, match=message):
        editions.student_edition(_notebook(cell), "06_x")


def test_check_mode_reports_stale_and_orphaned_student_notebooks(tmp_path):
    source = _notebook(nbformat.v4.new_markdown_cell("# T"))
    nbformat.write(source, tmp_path / "06_x.ipynb")
    assert [p.name for p in editions.build(tmp_path, check=True)] == ["06_x.ipynb"]
    assert editions.build(tmp_path) and editions.build(tmp_path, check=True) == []
    (tmp_path / "student" / "05_gone.ipynb").write_text("{}")
    assert [p.name for p in editions.build(tmp_path, check=True)] == ["05_gone.ipynb"]
    editions.build(tmp_path)
    assert not (tmp_path / "student" / "05_gone.ipynb").exists()


# --- the committed editions ------------------------------------------------------------------------------

CHECK_ID = re.compile(r'^\s*check\(\s*"(\d\d\.\d+)"', re.MULTILINE)


def test_committed_student_edition_is_up_to_date():
    stale = editions.build(check=True)
    assert not stale, f"out of date: {[p.name for p in stale]}; run `make student` and commit notebooks/student/"
    student = sorted(p.name for p in (editions.NOTEBOOKS / editions.STUDENT_DIR).glob("*.ipynb"))
    assert student == [p.name for p in editions.topic_notebooks()] and len(student) == 12


@pytest.mark.parametrize("path", editions.topic_notebooks(), ids=lambda p: p.stem)
def test_each_notebook_has_at_least_three_self_checking_exercises(path):
    nb = nbformat.read(path, as_version=4)
    ids = {m for c in nb.cells if c.cell_type == "code" for m in CHECK_ID.findall(c.source)}
    assert len(ids) >= 3, f"{path.name}: self-checking exercises {sorted(ids)}; the course asks for at least three"
    assert all(i.startswith(path.stem[:2] + ".") for i in ids), f"{path.name}: check ids {sorted(ids)}"
    student = nbformat.read(path.parent / editions.STUDENT_DIR / path.name, as_version=4)
    stubbed = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert stubbed.count("raise NotImplementedError()") >= len(ids), f"{path.name}: a solution was not replaced"


def test_finite_array_says_what_is_wrong():
    from utils.exercises import finite_array

    assert finite_array([[1, 2]], (1, 2), "x").dtype == "float64"
    for value, message in [("abc", "array of numbers"), ([1, 2, 3], r"shape \(1, 2\)"), ([[1, float("nan")]], "NaN")]:
        with pytest.raises(NotYet, match=message):
            finite_array(value, (1, 2), "x")


def test_converted_returns_the_value_or_says_what_to_return():
    from utils.exercises import converted

    assert converted("2.5", float, "return a number") == 2.5
    with pytest.raises(NotYet, match="^return the margin as one number, got list$"):
        converted([1, 2], float, "return the margin as one number")
    with pytest.raises(NotYet, match="got str"):
        converted("x", int, "return a count")
