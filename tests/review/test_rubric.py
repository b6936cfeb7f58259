"""Every assignment has written questions with rubrics in its source notebook, and none in its release."""

from __future__ import annotations

import json

import pytest

from autograder.review.rubric import RubricError, parse_items, read_questions
from tests.helpers import ASSIGNMENTS, ROOT


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_has_written_questions_with_rubrics(assignment: str) -> None:
    """Each question's rubric items are lettered and add up to the question's points."""
    questions = read_questions(ROOT / "solutions" / assignment / f"{assignment}.ipynb", assignment)
    assert questions.questions, f"{assignment} has no written question"
    for q in questions.questions:
        assert q.items and q.prompt.strip() and q.model_answer
        assert sum(i.points for i in q.items) == q.max_points, q.grade_id
        assert all(i.description and i.feedback for i in q.items)


def test_six_questions_in_all() -> None:
    count = sum(len(read_questions(ROOT / "solutions" / a / f"{a}.ipynb", a).questions) for a in ASSIGNMENTS)
    assert count >= 6


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_carries_no_rubric(assignment: str) -> None:
    """No rubric item, feedback or model answer is in the released notebook: only the prompt and the stub."""
    questions = read_questions(ROOT / "solutions" / assignment / f"{assignment}.ipynb", assignment)
    released = json.dumps(json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text()))
    assert "rubric:" not in released
    for q in questions.questions:
        assert q.model_answer[:60] not in released
        for item in q.items:
            assert json.dumps(item.description)[1:-1] not in released
            assert json.dumps(item.feedback)[1:-1] not in released


def test_malformed_rubric_is_refused() -> None:
    with pytest.raises(RubricError, match="key"):
        parse_items("rubric:\n  - {key: A, points: 1, description: d, feedback: f}\n", "q", 2)
    with pytest.raises(RubricError, match="points"):
        parse_items("rubric:\n  - {key: a, points: 3, description: d, feedback: f}\n", "q", 2)
