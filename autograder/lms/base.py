"""What every LMS module provides (one :class:`LMS` record each) and the roster types they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..archive import Entry, Listing
from ..csvio import Table
from ..results import StudentResult
from ..submission import Found


class RosterError(ValueError):
    """A roster, extensions file or date cannot be used, or does not fit the class; the message says how to fix it."""


@dataclass
class RosterStudent:
    """One student of the LMS's gradebook export."""

    student_id: str  # the LMS user id: Canvas ID, Moodle participant id (the e-mail in a Moodle gradebook export)
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    aliases: tuple[str, ...] = ()  # other names the student's files may carry (SIS login, email, username)
    timestamp: datetime | None = None  # submission time the export carries (Moodle)
    unread_time: str = ""  # a submission time the export carries in a form the grader cannot read
    row: dict[str, str] = field(default_factory=dict)  # the row as exported


@dataclass
class Roster:
    """The gradebook export of one LMS, as downloaded."""

    lms: str  # the name of the LMS record that read it
    kind: str  # which export of that LMS ("gradebook", "worksheet", "gradebook-export")
    table: Table
    students: list[RosterStudent]
    assignment_column: str  # Canvas: "corr2d (12345)"; Moodle: "Grade"
    points_possible: float | None  # the LMS's maximum for the assignment, when the export says
    identity_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # the file's own header for each role (localised exports)

    @property
    def path(self) -> Path:
        return self.table.path

    def by_id(self, key: str) -> RosterStudent | None:
        """The student whose LMS id is ``key`` exactly."""
        return next((s for s in self.students if s.student_id == key), None)

    def find(self, key: str) -> RosterStudent | None:
        """The student whose id, or failing that one of whose aliases, is ``key`` (case-insensitive).

        For names an instructor or a folder gives (``--only``, a folder named
        by login or e-mail); never for an id the LMS wrote, which is matched
        by :meth:`by_id` alone. An alias shared by two students names neither.
        """
        student = self.by_id(key)
        if student is not None:
            return student
        lowered = key.strip().lower()
        hits = [s for s in self.students if lowered in (a.lower() for a in s.aliases if a)]
        return hits[0] if len(hits) == 1 else None


@dataclass
class Matched:
    """How a layout's submissions meet a roster: a student per submission, and what could not be decided."""

    student: dict[str, RosterStudent]  # submission id -> roster student
    ambiguous: dict[str, list[RosterStudent]] = field(default_factory=dict)  # submission id -> candidates


# What one LMS module provides. Each field is optional except the name: a layout
# without a roster (plain folders) leaves the roster fields None.
Parser = Callable[[Listing], tuple[dict[str, Found], list[Entry]]]
RosterReader = Callable[[Table, str], "Roster | None"]
GradeWriter = Callable[[Roster, list[StudentResult], Path], list[Path]]
FeedbackPacker = Callable[[list[StudentResult], Path, Callable[[StudentResult], "Path | None"], str], list[Path]]


@dataclass(frozen=True)
class LMS:
    """One learning-management system: how its downloads are named, read, and answered."""

    name: str
    describe: str  # what its file names look like, for a file that does not fit
    recognises: Callable[[str, bool], bool]  # (a top-level name, is it a folder) -> written by this LMS?
    parse: Parser
    read_roster: RosterReader | None = None  # None when the table is not this LMS's export
    write_grades: GradeWriter | None = None
    pack_feedback: FeedbackPacker | None = None
    match_names: Callable[[dict[str, Found], Roster], Matched] | None = None  # folders named by full name
