"""The reviews of a class's written answers, kept in ``DIR/reviews.json``.

A review is one person's grade of one student's answer to one question: the
rubric items given, the points, a free comment, and the SHA-256 of the answer
it graded. A review applies only to the answer it was made for: when a
student's answer changes (a regrade with ``--only``), the review stays on
file but is flagged, and the question counts as not yet graded for them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FILE = "reviews.json"
FORMAT = 1


class StoreError(ValueError):
    """``DIR/reviews.json`` is not a review file of this grader."""


def answer_sha256(text: str) -> str:
    """The hash a review is tied to: of the answer's text as submitted."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Review:
    """One student's answer to one question, graded."""

    points: float
    items: list[str] = field(default_factory=list)
    comment: str = ""
    answer_sha256: str = ""
    at: str = ""  # ISO time of the last change

    @classmethod
    def from_dict(cls, data: dict) -> Review:
        if not isinstance(data, dict) or not isinstance(data.get("points"), int | float):
            raise StoreError(f"not a review: {data!r:.80}")
        items = data.get("items", [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise StoreError(f"not a list of rubric items: {items!r:.80}")
        return cls(
            float(data["points"]),
            list(items),
            str(data.get("comment", "")),
            str(data.get("answer_sha256", "")),
            str(data.get("at", "")),
        )


@dataclass
class Reviews:
    """Every review of one assignment: student id -> question (grade id) -> review."""

    assignment: str
    by_student: dict[str, dict[str, Review]] = field(default_factory=dict)

    def get(self, student_id: str, grade_id: str) -> Review | None:
        return self.by_student.get(student_id, {}).get(grade_id)

    def put(self, student_id: str, grade_id: str, review: Review) -> None:
        review.at = datetime.now(UTC).isoformat(timespec="seconds")
        self.by_student.setdefault(student_id, {})[grade_id] = review

    def drop(self, student_id: str, grade_id: str) -> None:
        self.by_student.get(student_id, {}).pop(grade_id, None)
        if student_id in self.by_student and not self.by_student[student_id]:
            del self.by_student[student_id]

    def current(self, student_id: str, grade_id: str, answer: str) -> Review | None:
        """The review of this very answer (None when there is none, or it graded another answer)."""
        review = self.get(student_id, grade_id)
        return review if review is not None and review.answer_sha256 == answer_sha256(answer) else None

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "assignment": self.assignment,
            "reviews": {
                sid: {gid: asdict(r) for gid, r in sorted(qs.items())} for sid, qs in sorted(self.by_student.items())
            },
        }
        return json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def read(cls, out: Path, assignment: str) -> Reviews:
        """The reviews kept in ``out`` (none yet: an empty set).

        Raises:
            StoreError: the file is not a review file, or of another assignment.
        """
        path = Path(out) / FILE
        if not path.exists():
            return cls(assignment)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or not isinstance(data.get("reviews"), dict):
                raise StoreError("unknown format")
            if data.get("assignment") != assignment:
                raise StoreError(f"reviews of {data.get('assignment')!r}, not of {assignment!r}")
            by_student = {
                str(sid): {str(gid): Review.from_dict(r) for gid, r in qs.items()}
                for sid, qs in data["reviews"].items()
            }
        except (OSError, ValueError, AttributeError) as exc:
            raise StoreError(f"{path} is not a review file of this grader ({exc})") from exc
        return cls(assignment, by_student)
