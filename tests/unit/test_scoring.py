"""Marks are nbgrader's: the same scores, flags and comments in the gradebook as SaveAutoGrades stores.

The grader scores each notebook with nbgrader's ``determine_grade`` as plain
data (a cluster's worker does it) and enters a whole class at once; nbgrader's
own ``SaveAutoGrades`` does it per cell. Both are run here on the same
notebooks, with outputs of every kind a test cell can end with, into two fresh
gradebooks that must then hold the same.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveAutoGrades

from autograder import scoring
from autograder.gradebook import install
from autograder.grader import MAX_CELL_CHARS, setup_assignment
from autograder.layout import COURSE_ROOT
from autograder.samples import solution_answers, submission

ASSIGNMENT = "one_by_one"  # test cells and two written answers


def _graded(kind: str) -> NotebookNode:
    """The notebook after running, its test cells ending as ``kind`` says."""
    answers = solution_answers(ASSIGNMENT) if kind != "untouched" else {}
    nb = submission(ASSIGNMENT, {g: a for g, a in answers.items() if not g.startswith("written")})
    outputs = {
        "passed": [],
        "error": [nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong", traceback=[])],
        "stderr": [nbformat.v4.new_output("stream", name="stderr", text="a warning\n")],
        "partial": [nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)],
        "printed": [nbformat.v4.new_output("stream", name="stdout", text="fine\n")],
    }
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    for i, cell in enumerate(tests):
        if cell.metadata.nbgrader.get("solution"):
            continue
        pick = list(outputs)[i % len(outputs)] if kind == "mixed" else ("passed" if kind != "untouched" else "error")
        cell.outputs = copy.deepcopy(outputs[pick])
    if kind == "mixed":  # a written answer given, the other left as released
        written = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("written"))
        written.source = "Because every pixel's channel vector is mapped by the same matrix."
    return nb


def _dump(db_url: str) -> list[tuple]:
    rows: list[tuple] = []
    with Gradebook(db_url) as gb:
        for s in gb.assignment_submissions(ASSIGNMENT):
            rows.append((s.student_id, s.score, s.max_score, s.needs_manual_grade))
            for n in s.notebooks:
                rows += [(s.student_id, g.name, g.auto_score, g.needs_manual_grade, g.score) for g in n.grades]
                rows += [(s.student_id, c.name, c.auto_comment, c.comment) for c in n.comments]
    return sorted(rows, key=repr)


@pytest.mark.parametrize("kind", ["passed", "untouched", "mixed"])
def test_marks_enter_the_gradebook_as_save_auto_grades_does(tmp_path: Path, kind: str) -> None:
    install()
    ours = setup_assignment(ASSIGNMENT, course_root=COURSE_ROOT, out=tmp_path / "ours")
    theirs = setup_assignment(ASSIGNMENT, course_root=COURSE_ROOT, out=tmp_path / "theirs")
    students = {f"{kind}-{i}": _graded(kind) for i in range(2)}
    marked = []
    for sid, nb in students.items():
        marks = scoring.Marks.from_wire(scoring.mark(nb, max_answer_chars=MAX_CELL_CHARS).to_wire())  # via the wire
        marked.append((sid, marks))
        with Gradebook(theirs.db_url) as gb:
            gb.update_or_create_student(sid)
            gb.update_or_create_submission(ASSIGNMENT, sid)
        resources = {"nbgrader": {"notebook": ASSIGNMENT, "assignment": ASSIGNMENT, "student": sid}}
        SaveAutoGrades().preprocess(copy.deepcopy(nb), {"nbgrader": {**resources["nbgrader"], "db_url": theirs.db_url}})
    scoring.record(ours.db_url, ASSIGNMENT, ASSIGNMENT, marked)
    assert _dump(ours.db_url) == _dump(theirs.db_url)
    with Gradebook(theirs.db_url) as gb:  # the notebook's score is the gradebook's, before any manual grade
        assert [m.score for _, m in marked] == [gb.find_submission(ASSIGNMENT, sid).score for sid, _ in marked]
    if kind == "mixed":
        assert {"No response.", None} <= {c for _, m in marked for c in m.comments.values()}
        assert 0 < marked[0][1].score < ours.max_score
