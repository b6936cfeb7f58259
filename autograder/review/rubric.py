"""The written questions of an assignment and their rubrics, read from its source notebook.

A written question is an nbgrader manually graded answer cell (markdown,
``grade: true, solution: true``, with points). Its rubric sits inside the
cell's solution region, which ``nbgrader generate_assignment`` replaces by
``YOUR ANSWER HERE`` in the released notebook: a fenced YAML block::

    ### BEGIN SOLUTION
    **Model answer.** ...
    ```yaml
    rubric:
      - key: a
        points: 1
        description: what the answer must do to earn the item (the reviewer reads it)
        feedback: what the student reads when the item is given
    ```
    ### END SOLUTION

The question's prompt is the markdown cell just before the answer cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbgrader import utils

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
_YAML = re.compile(r"```ya?ml[ \t]*\n(.*?)```", re.S)
_KEY = re.compile(r"^[a-z]$")


class RubricError(ValueError):
    """A source notebook's rubric cannot be read; the message says which question and what to fix."""


@dataclass(frozen=True)
class Item:
    """One rubric item: points given when it applies, what the reviewer checks, what the student reads."""

    key: str
    points: float
    description: str
    feedback: str


@dataclass(frozen=True)
class Question:
    """One written question: its answer cell's grade id, its prompt, its points and rubric."""

    grade_id: str
    title: str
    prompt: str
    max_points: float
    items: tuple[Item, ...] = ()
    model_answer: str = ""

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)

    def points_of(self, keys: list[str]) -> float:
        """The points of the items ``keys``, kept within 0 and the question's maximum."""
        total = sum(i.points for i in self.items if i.key in keys)
        return min(max(total, 0.0), self.max_points)

    def feedback_of(self, keys: list[str], comment: str) -> str:
        """What the student reads: the feedback of each item given, then the comment."""
        lines = [i.feedback for i in self.items if i.key in keys]
        if comment.strip():
            lines.append(comment.strip())
        return "\n".join(lines)


@dataclass
class Questions:
    """The written questions of one assignment, in notebook order."""

    assignment: str
    questions: list[Question] = field(default_factory=list)

    def get(self, grade_id: str) -> Question | None:
        return next((q for q in self.questions if q.grade_id == grade_id), None)

    @property
    def ids(self) -> list[str]:
        return [q.grade_id for q in self.questions]


def _region(source: str) -> str:
    lines = source.splitlines()
    inside, kept = False, []
    for line in lines:
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            kept.append(line)
    return "\n".join(kept)


def _title(prompt: str, grade_id: str) -> str:
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    title = re.sub(r"^#+\s*", "", first).strip()
    return re.sub(r"\s*\([^)]*points?[^)]*\)\s*$", "", title) or grade_id


def parse_items(block: str, grade_id: str, max_points: float) -> tuple[Item, ...]:
    """The items of one rubric's YAML text.

    Raises:
        RubricError: not YAML, not a list of items with a letter key, points, description and feedback.
    """
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise RubricError(f"the rubric of {grade_id} is not valid YAML ({exc})") from exc
    rows = data.get("rubric") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise RubricError(f"the rubric of {grade_id} has no items: write 'rubric:' and a list of items")
    items = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or set(row) != {"key", "points", "description", "feedback"}:
            raise RubricError(f"item {n} of the rubric of {grade_id} needs exactly key, points, description, feedback")
        key, points = str(row["key"]), row["points"]
        if not _KEY.match(key) or any(i.key == key for i in items):
            raise RubricError(f"item {n} of the rubric of {grade_id}: key {key!r} is not a new lower-case letter")
        if isinstance(points, bool) or not isinstance(points, int | float) or not 0 < points <= max_points:
            raise RubricError(f"item {key} of the rubric of {grade_id}: points {points!r} not in (0, {max_points:g}]")
        items.append(Item(key, float(points), str(row["description"]).strip(), str(row["feedback"]).strip()))
    return tuple(items)


def read_questions(source: Path, assignment: str) -> Questions:
    """The written questions of the source notebook ``source`` (solutions/<a>/<a>.ipynb).

    Raises:
        RubricError: the notebook cannot be read, or a question's rubric is malformed.
    """
    try:
        nb = nbformat.read(source, as_version=4)
    except (OSError, ValueError) as exc:
        raise RubricError(f"cannot read the source notebook {source}: {exc}") from exc
    found = Questions(assignment)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or not (utils.is_grade(cell) and utils.is_solution(cell)):
            continue
        gid = cell.metadata.nbgrader["grade_id"]
        max_points = float(cell.metadata.nbgrader.get("points", 0))
        before = nb.cells[index - 1] if index else None
        prompt = before.source if before is not None and before.cell_type == "markdown" else ""
        region = _region(cell.source)
        match = _YAML.search(region)
        items = parse_items(match.group(1), gid, max_points) if match else ()
        model = region[: match.start()] if match else region
        model = re.sub(r"<!--.*?-->", "", model, flags=re.S).strip()
        found.questions.append(Question(gid, _title(prompt, gid), prompt, max_points, items, model))
    return found
