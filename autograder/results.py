"""What a grading run produces: one :class:`StudentResult` per student, with its cells.

A result's ``state`` says whether the submission was graded; its ``notes`` say,
in words, everything worth telling the instructor (a restored test cell, a cell
that timed out, a late submission). Only :attr:`StudentResult.status` turns the
two into the text of ``grades.csv``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

_TAG = re.compile(r"\[misconception: ([a-z0-9-]+)\]")


class State(StrEnum):
    """Where a submission got to."""

    GRADED = "graded"
    NOT_GRADED = "not graded"  # the notebook could not be graded: the notes say why
    NOT_SUBMITTED = "not submitted"  # on the roster, nothing in the submissions
    REFUSED = "refused"  # the submission broke a rule of the sandbox (notes say which)
    NEEDS_MANUAL = "needs manual grading"  # graded, but cells await a person: the LMS gets no grade yet
    COLLISION = "collision"  # graded, but it may be another student's too: the LMS gets no grade
    AMBIGUOUS = "ambiguous"  # a roster student whose submission cannot be told apart: no grade


# states whose score is the student's grade and goes to the LMS as is
EXPORTED = frozenset({State.GRADED, State.NOT_SUBMITTED})
# states of a notebook that was run and scored
SCORED = frozenset({State.GRADED, State.NEEDS_MANUAL, State.COLLISION})


@dataclass
class CellResult:
    """Points of one graded cell and the message the student sees."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""
    answer: str = ""  # a manually graded cell's answer as submitted (the review shows it and hashes it)

    @property
    def tags(self) -> list[str]:
        """Misconception tags found in the message (``[misconception: flipped-kernel]``)."""
        return _TAG.findall(self.message)


@dataclass
class StudentResult:
    """One row of ``grades.csv``."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    state: State
    notes: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    seconds: float = 0.0
    feedback: Path | None = None
    # filled from the LMS download and the roster, when they say
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    name: str = ""  # display name, as the LMS shows it
    timestamp: str = ""  # ISO 8601 time of submission
    duedate: str = ""  # ISO 8601 due date that applied (an extension's, if any)
    raw_score: float | None = None  # before the late penalty
    late_penalty: float = 0.0  # charged: the penalty capped at the raw score
    late_charge: float = 0.0  # the penalty before that cap (a review that adds points charges more of it)
    submission_sha256: str = ""  # receipt: the file as submitted
    source_sha256: str = ""  # receipt: the source notebook it was graded against
    lms_name: str = ""  # the name the LMS gave the student's file or folder (feedback uploads use it)
    manual: list[str] = field(default_factory=list)  # grade ids of cells that a person grades

    @property
    def graded(self) -> bool:
        """The notebook was run and scored (the LMS may still get no grade: see :attr:`exported`)."""
        return self.state in SCORED

    @property
    def exported(self) -> bool:
        """The score is the student's grade as it stands: the LMS files carry it (others are left blank)."""
        return self.state in EXPORTED

    @property
    def status(self) -> str:
        """``state`` and ``notes`` as one line of text (``graded: a; b``)."""
        return self.state.value + (": " + "; ".join(self.notes) if self.notes else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``results.json`` (what a later ``--only`` regrade merges into)."""
        data = asdict(self)
        data["state"] = self.state.value
        data["feedback"] = str(self.feedback) if self.feedback else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentResult:
        """The inverse of :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the data is not a stored result.
        """
        fields_ = dict(data)
        fields_["state"] = State(fields_["state"])
        fields_["cells"] = [CellResult(**c) for c in fields_.get("cells", [])]
        fields_["feedback"] = Path(fields_["feedback"]) if fields_.get("feedback") else None
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(fields_) - known
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        return cls(**fields_)


@dataclass
class GradingRun:
    """Everything one ``grade`` call produced."""

    assignment: str
    out: Path
    results: list[StudentResult]
    sandboxed: bool
    seconds: float
    layout: str = ""  # how the submissions were laid out (folders, canvas, moodle, blackboard)
    max_score: float = 0.0
    lms: str = ""  # the roster's LMS, when a roster was given
    written: list[Path] = field(default_factory=list)  # every file of the run, for the summary
    regraded: list[str] = field(default_factory=list)  # --only: the students regraded this time
    unchanged: list[str] = field(default_factory=list)  # files of an earlier run that stay as they were
