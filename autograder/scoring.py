"""Scoring a notebook that ran, as nbgrader scores it, apart from writing the gradebook.

nbgrader's ``SaveAutoGrades`` scores each grade cell with
:func:`nbgrader.utils.determine_grade` and stores it in the gradebook, one
commit per cell; its ``GetGrades`` reads the scores back for the feedback page.
Here the scoring is the same function on the same cells, but kept as plain
data (:class:`Marks`) that a cluster's worker can compute and send back; the
run's gradebook gets every student's marks at the end of the run, in one
session (:func:`record`), as ``SaveAutoGrades`` would have stored them: the
automatic score of each grade cell, ``needs_manual_grade`` where there is none,
and the automatic comment ("No response." for an answer left as released).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook

from .results import CellResult

MANUAL_MESSAGE = "awaits manual grading"


def failure_message(cell: NotebookNode) -> str:
    """What a failed test cell says: its error, or what it wrote to stderr; '' if neither."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}" if output.evalue else output.ename
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            return "the test wrote to stderr: " + output.text.strip()[:500]
    return ""


@dataclass
class Marks:
    """One notebook's marks: plain data, the same wherever they were computed.

    ``auto`` is nbgrader's automatic score of each grade cell (None: a person
    grades it), ``comments`` nbgrader's automatic comment of each answer and
    task cell; ``cells`` are the rows of ``cells.csv`` and ``manual`` the grade
    ids a person grades; ``score`` is the notebook's score before any manual
    grade, as the gradebook sums it.
    """

    score: float
    cells: list[CellResult] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    auto: dict[str, float | None] = field(default_factory=dict)
    comments: dict[str, str | None] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Marks:
        return cls(
            score=float(data["score"]),
            cells=[CellResult(**c) for c in data["cells"]],
            manual=list(data["manual"]),
            auto=dict(data["auto"]),
            comments=dict(data["comments"]),
        )


def mark(nb: NotebookNode, *, max_answer_chars: int) -> Marks:
    """Score the grade cells of ``nb`` (its outputs filled in) as ``SaveAutoGrades`` does.

    A manually graded cell (an nbgrader answer cell with points, or a task)
    gets no points here and keeps its answer (at most ``max_answer_chars``
    characters) for the person who grades it.
    """
    marks = Marks(score=0.0)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if utils.is_solution(cell) or utils.is_task(cell):
            checksum = meta.get("checksum")
            unchanged = checksum is not None and checksum == utils.compute_checksum(cell)
            marks.comments[gid] = "No response." if unchanged and not utils.is_task(cell) else None
        if not (utils.is_grade(cell) or utils.is_task(cell)):
            continue
        points, max_points = utils.determine_grade(cell) if utils.is_grade(cell) else (None, _points(cell))
        if utils.is_grade(cell):
            marks.auto[gid] = None if points is None else float(points)
            marks.score += float(points or 0)
        if utils.is_solution(cell) or utils.is_task(cell):  # nbgrader's manually graded answers and tasks
            marks.manual.append(gid)
            answer = cell.source[:max_answer_chars]
            marks.cells.append(CellResult(gid, 0.0, float(max_points), MANUAL_MESSAGE, answer=answer))
            continue
        marks.cells.append(CellResult(gid, float(points or 0), float(max_points), failure_message(cell)))
    return marks


def _points(cell: NotebookNode) -> float:
    return float(cell.metadata.get("nbgrader", {}).get("points", 0) or 0)


def annotate(nb: NotebookNode, marks: Marks) -> None:
    """Put the marks where nbgrader's feedback template reads them (what ``GetGrades`` does from a gradebook)."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if utils.is_solution(cell) or utils.is_task(cell):
            meta["comment"] = marks.comments.get(gid)
        if utils.is_grade(cell) or utils.is_task(cell):
            meta["score"] = marks.auto.get(gid)
            meta["points"] = _points(cell)


def record(db_url: str, assignment: str, notebook: str, students: Iterable[tuple[str, Marks]]) -> None:
    """Store each student's marks in the gradebook at ``db_url``, as ``SaveAutoGrades`` stores them.

    A new student's submission is built as nbgrader's ``add_submission``
    builds it (a grade row per grade and task cell, a comment row per answer
    and task cell), the marks set on it, and the whole class committed at
    once; a student the gradebook already has goes through nbgrader's own
    ``update_or_create_submission``.
    """
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    with Gradebook(db_url) as gb:
        target = gb.find_assignment(assignment)
        known = {s.id for s in gb.students}
        for sid, marks in students:
            if sid in known:
                submission = gb.update_or_create_submission(assignment, sid)
                scored = next(n for n in submission.notebooks if n.name == notebook)
                grades, comments = list(scored.grades), list(scored.comments)
            else:
                known.add(sid)
                submission = SubmittedAssignment(assignment=target, student=Student(id=sid))
                grades, comments = [], []
                for source in target.notebooks:
                    nb = SubmittedNotebook(notebook=source, assignment=submission)
                    if source.name != notebook:
                        continue
                    grades += [Grade(cell=c, notebook=nb) for c in [*source.grade_cells, *source.task_cells]]
                    comments += [Comment(cell=c, notebook=nb) for c in [*source.solution_cells, *source.task_cells]]
                gb.db.add(submission)
            for grade in grades:
                if grade.cell.name in marks.auto:
                    grade.auto_score = marks.auto[grade.cell.name]
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            for comment in comments:
                if comment.cell.name in marks.comments:
                    comment.auto_comment = marks.comments[comment.cell.name]
        gb.db.commit()
