"""One student's entry in a class: what an LMS layout found, and the notebook chosen to grade."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .archive import Entry


@dataclass(frozen=True)
class Submission:
    """One student's entry: the notebook to grade, or why there is none.

    ``student_id``, ``notebook`` and ``problem`` are what the grader needs;
    the other fields come from the layout and end up in ``grades.csv``.
    """

    student_id: str
    notebook: Path | None
    problem: str = ""
    name: str = ""  # display name the layout carries (Moodle's full name, Blackboard's receipt)
    timestamp: datetime | None = None  # submission time the layout carries (Blackboard)
    late: bool = False  # the LMS marked the file late (Canvas ``_LATE``)
    submitted: Path | None = None  # the file as submitted (the notebook, or the zip it came in)
    sha256: str = ""  # receipt: SHA-256 of ``submitted``
    notes: tuple[str, ...] = ()  # remarks of collection (resubmissions, refused archive members)
    refused: bool = False  # the notebook itself was refused by the zip caps
    unplaced: bool = False  # a file the layout could not assign to a student
    collision: str = ""  # why this entry may belong to another student too: graded, never sent to the LMS
    claimed: tuple[str, ...] = ()  # the roster students a collision may belong to
    lms_name: str = ""  # the name the LMS gave the graded file or the student's folder (for feedback uploads)
    label: str = ""  # the id the layout read, before a roster renamed it (a folder named by login or SIS id)


@dataclass
class FileRef:
    """A file of one student: its logical name (the name the student gave it) and what the LMS added."""

    name: str
    entry: Entry
    late: bool = False
    timestamp: datetime | None = None
    origin: Path | None = None  # the file as submitted when this one came out of a student's zip
    lms_name: str = ""  # the name as the LMS wrote it (file, or participant folder)


@dataclass
class Found:
    """Everything a layout found for one student."""

    student_id: str
    files: list[FileRef] = field(default_factory=list)
    name: str = ""
    notes: list[str] = field(default_factory=list)
    collision: str = ""  # set when the names found for this id disagree on who the student is
