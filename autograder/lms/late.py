"""Late work: due dates, extensions, and what a late submission costs.

``late_penalty`` is a fraction of the maximum score, charged per started day
after the due date when the submission time is known, and once when the LMS
only marked the file late (Canvas's ``_LATE``). A student's extension replaces
the due date.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..csvio import CsvError, read_table
from ..results import StudentResult
from .base import Roster, RosterError

# Moodle prints dates with its strftimedatetime format, "%A, %d %B %Y, %I:%M %p" in English
_DATE_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%Y-%m-%d %H:%M")


def parse_datetime(text: str, *, what: str = "date") -> datetime:
    """An ISO 8601 date-time (``2025-03-01T23:59``, ``2025-03-01 23:59+01:00``) or Moodle's printed form.

    A date alone means the end of that day. Times without a zone are read as
    this machine's local time when compared.

    Raises:
        RosterError: the text is no date the grader knows.
    """
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            value = value.replace(hour=23, minute=59, second=59)
        return value
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise RosterError(f"{what} {text!r} is not a date: write it as ISO 8601, e.g. 2025-03-01T23:59")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.astimezone()


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    return " ".join(parts) or "less than a minute"


def _points(x: float) -> str:
    return f"{x:g} point{'s' * (x != 1)}"


@dataclass(frozen=True)
class Lateness:
    """How late one submission is, and what that costs."""

    penalty: float  # points deducted (before capping at the raw score)
    note: str  # words for the status; empty when on time or unknown
    due: datetime | None  # the due date that applied (the extension's, if any)


def lateness(
    *,
    timestamp: datetime | None,
    marked_late: bool,
    due: datetime | None,
    extension: datetime | None,
    fraction: float,
    max_score: float,
) -> Lateness:
    """Late penalty of one submission: per started day with a timestamp, once with only a late marker."""
    applies = extension or due
    if timestamp is not None and applies is not None:
        over = _aware(timestamp) - _aware(applies)
        if over <= timedelta(0):
            if marked_late and extension is not None:
                return Lateness(0.0, f"on time with the extension to {applies:%Y-%m-%d %H:%M}", applies)
            return Lateness(0.0, "", applies)
        days = math.ceil(over / timedelta(days=1))
        points = fraction * max_score * days
        cost = f": -{_points(points)} ({days} started day{'s' * (days != 1)})" if points else ""
        extended = " (after the extension)" if extension is not None else ""
        return Lateness(points, f"late by {_span(over)}{extended}{cost}", applies)
    if marked_late:
        if extension is not None:
            return Lateness(
                0.0,
                f"marked late by the LMS, but has an extension to {extension:%Y-%m-%d %H:%M} and no submission "
                "time is known: no penalty",
                applies,
            )
        points = fraction * max_score
        cost = f": -{_points(points)}, once (no submission time known)" if points else ""
        return Lateness(points, f"marked late by the LMS{cost}", applies)
    return Lateness(0.0, "", applies)


def apply_lateness(result: StudentResult, late: Lateness) -> None:
    """Charge ``late`` to a scored result: raw score kept, penalty capped at it, the status says how late."""
    if late.due is not None:
        result.duedate = late.due.isoformat(timespec="minutes")
    if result.raw_score is None:
        result.raw_score = result.score
    if not result.graded:
        return
    charged = min(late.penalty, result.raw_score)
    result.late_charge = late.penalty
    result.late_penalty = charged
    result.score = result.raw_score - charged
    if late.note:
        result.notes.append(late.note)


@dataclass(frozen=True)
class LatePolicy:
    """``--due``, ``--late-penalty`` and ``--extensions`` of one run."""

    due: datetime | None = None
    fraction: float = 0.0
    extensions: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise RosterError(f"--late-penalty {self.fraction:g} is not a fraction of the maximum: give 0 to 1")

    def extension_for(self, student_id: str, roster: Roster | None, *, label: str = "") -> datetime | None:
        """The extension given to ``student_id`` (an LMS id) under that id, the layout's own name for the
        student, or one of the student's roster aliases; names compare without regard to case."""
        student = roster.by_id(student_id) if roster else None
        keys = {k.casefold() for k in (student_id, label, *(student.aliases if student else ())) if k}
        return next((when for key, when in self.extensions.items() if key.casefold() in keys), None)


def read_extensions(path: Path) -> dict[str, datetime]:
    """Per-student due dates from a CSV of ``student id, new due date`` rows (a header row is optional).

    Raises:
        RosterError: unreadable, or a row whose date is not a date.
    """
    try:
        table = read_table(path, what="extensions file")
    except CsvError as exc:
        raise RosterError(str(exc)) from exc
    extensions: dict[str, datetime] = {}
    for number, row in enumerate([table.header, *table.rows], start=1):
        if len(row) < 2:
            raise RosterError(f"{path}, line {number}: expected 'student id, new due date', got {','.join(row)!r}")
        key, when = row[0].strip(), row[1].strip()
        try:
            extensions[key] = parse_datetime(when, what=f"{path}, line {number}: the date")
        except RosterError:
            if number == 1:  # a header row
                continue
            raise
    return extensions
