"""The learning-management system's side of a grading run: rosters in, grade files out, late work.

Formats, as the LMS writes and reads them:

Canvas gradebook export and import (Grades > Export / Import)
    A header ``Student, ID, SIS User ID, SIS Login ID, [Integration ID,] Section,
    <assignment> (<assignment id>), ...``, then a ``Points Possible`` row, then
    one row per student; ``Student`` is "Last, First" and ``ID`` the Canvas user
    id. The import matches students by these identity columns and assignments by
    the column header with its id; a column without an id creates a new
    assignment. Sources: Canvas Instructor Guide "How do I import grades in the
    Gradebook?" (community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-
    in-the-Gradebook/ta-p/807), Ohio State's "Import CSV File for Carmen Grades"
    (teaching.resources.osu.edu, the required columns), nemogb's "Detailed Canvas
    Export Info" (nemogb-dev.github.io, ``Quiz 1 (87568490)`` columns and
    "Last, First" names), VCU's "Gradebook Action Menu" (a posting-policy row can
    sit above ``Points Possible``).
Moodle assignment grading worksheet (offline grading: "Download grading worksheet" / "Upload grading worksheet")
    Columns ``Identifier, Full name, Email address, Status, Grade, Maximum Grade,
    Grade can be changed, Last modified (submission), Last modified (grade),
    Feedback comments``; ``Identifier`` is ``Participant <id>``. The upload finds
    its columns by these exact headers (``Identifier``, ``Grade`` and ``Last
    modified (grade)`` are required, ``Feedback comments`` is the comments
    plugin's), strips ``Participant `` to get the id, skips empty grades, grades
    above the maximum, and grades changed in Moodle more than a minute after the
    row's ``Last modified (grade)``. Sources: moodle/moodle
    mod/assign/feedback/offline/importgradeslib.php and locallib.php
    (``process_import_grades``), mod/assign/lang/en/assign.php (``recordid``,
    ``hiddenuser``, ``lastmodifiedgrade``, ``lastmodifiedsubmission``, ``maxgrade``).

Moodle gradebook export and import (Grades > Export > Plain text file; Grades > Import > CSV file)
    Columns ``First name, Last name, [ID number, Institution, Department,
    Username,] Email address``, one column per grade item named
    ``<Module>: <item name> (<display type>)`` such as ``Assignment: corr2d
    (Real)``, then ``Last downloaded from this course``. It carries no
    participant id and no maximum: students are matched to their submission
    folders by e-mail or full name, and the grade is written in the course's
    points. The import maps a user column (``Email address``) to the user and
    the grade column to the grade item in its form. Sources: moodle/moodle
    grade/export/lib.php (``get_export_params``, the headers with
    ``get_string('firstname')``...), grade/import/csv/classes/load_data.php
    (``map user`` by email, idnumber, username or userid).

Late work: ``late_penalty`` is a fraction of the maximum score, charged per
started day after the due date when the submission time is known, and once
when the LMS only marked the file late (Canvas's ``_LATE``). A student's
extension replaces the due date.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .collect import Submission
from .results import State, StudentResult

log = logging.getLogger(__name__)


class RosterError(ValueError):
    """A roster, extensions file or date cannot be used; the message says how to fix it."""


# --- dates --------------------------------------------------------------------------------------

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


# --- rosters -------------------------------------------------------------------------------------


@dataclass
class RosterStudent:
    """One student of the LMS's gradebook export."""

    student_id: str  # the LMS user id: Canvas ID, Moodle participant id
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    aliases: tuple[str, ...] = ()  # other names the student's files may carry (SIS login, email, username)
    timestamp: datetime | None = None  # submission time the export carries (Moodle)
    row: dict[str, str] = field(default_factory=dict)  # the row as exported


@dataclass
class Roster:
    """The gradebook export of one LMS, as downloaded."""

    lms: str  # "canvas", "moodle" (grading worksheet) or "moodle-gradebook" (gradebook export)
    path: Path
    header: list[str]
    students: list[RosterStudent]
    assignment_column: str  # Canvas: "corr2d (12345)"; Moodle: "Grade"
    points_possible: float | None  # the LMS's maximum for the assignment, when the export says
    identity_columns: list[str] = field(default_factory=list)

    def find(self, key: str) -> RosterStudent | None:
        """The student whose id, or failing that one of whose aliases, is ``key`` (case-insensitive)."""
        for student in self.students:
            if student.student_id == key:
                return student
        lowered = key.strip().lower()
        for student in self.students:
            if lowered in (a.lower() for a in student.aliases if a):
                return student
        return None

    def find_by_name(self, name: str) -> RosterStudent | None:
        """The one student whose full name is ``name`` (either order, case and spacing ignored); None if not one."""

        def key(text: str) -> str:
            return " ".join(text.split()).casefold()

        wanted = key(name)
        if not wanted:
            return None
        hits = [
            s
            for s in self.students
            if wanted in {key(s.name), key(f"{s.first_name} {s.last_name}"), key(f"{s.last_name} {s.first_name}")}
        ]
        return hits[0] if len(hits) == 1 else None


CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
MOODLE_PREFIX = "Participant "  # Moodle's string 'hiddenuser'
MOODLE_GRADE, MOODLE_MODIFIED, MOODLE_FEEDBACK = "Grade", "Last modified (grade)", "Feedback comments"
# the user columns of Moodle's gradebook export (grade/export/lib.php), whichever the site shows
MOODLE_GRADEBOOK_IDENTITY = (
    "First name",
    "Last name",
    "ID number",
    "Institution",
    "Department",
    "Username",
    "Email address",
)
_MOODLE_ITEM = re.compile(r"^(?:[^:]+):\s*(?P<item>.*?)\s*\((?:Real|Percentage|Letter)[^()]*\)$")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except (ValueError, AttributeError):
        return None


def _read_rows(path: Path) -> list[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from exc


def read_roster(path: Path, assignment: str) -> Roster:
    """Read a Canvas gradebook export or a Moodle grading worksheet, as downloaded.

    Raises:
        RosterError: unreadable, or neither format.
    """
    rows = _read_rows(path)
    if not rows:
        raise RosterError(f"the roster {path} is empty")
    header = [h.strip() for h in rows[0]]
    if "Identifier" in header and MOODLE_GRADE in header:
        return _moodle_roster(path, header, rows[1:])
    if "Student" in header and "ID" in header:
        return _canvas_roster(path, header, rows[1:], assignment)
    if {"First name", "Last name", "Email address"} <= set(header):
        return _moodle_gradebook_roster(path, header, rows[1:], assignment)
    raise RosterError(
        f"{path} is neither a Canvas gradebook export (columns Student, ID, SIS User ID, SIS Login ID, Section, ...)"
        " nor a Moodle grading worksheet (columns Identifier, Full name, ..., Grade, ...)"
        " nor a Moodle gradebook export (columns First name, Last name, ..., Email address, ...):"
        " download it from the LMS"
    )


def _canvas_assignment_column(header: list[str], assignment: str) -> str:
    """The header of the assignment's column: same name as the assignment, else the one column naming it."""
    with_id = [h for h in header if re.search(r"\(\d+\)$", h)]
    wanted = _norm(assignment)
    exact = [h for h in header if _norm(re.sub(r"\s*\(\d+\)$", "", h)) == wanted]
    if exact:
        return exact[0]
    loose = [h for h in with_id if wanted and wanted in _norm(h)]
    if len(loose) == 1:
        return loose[0]
    return assignment  # not in the gradebook yet: Canvas creates the assignment on import


def _canvas_roster(path: Path, header: list[str], rows: list[list[str]], assignment: str) -> Roster:
    index = {h: i for i, h in enumerate(header)}
    identity = [h for h in header if h in CANVAS_IDENTITY]
    column = _canvas_assignment_column(header, assignment)
    if column not in header:
        log.warning(
            "the roster %s has no column for %s: canvas.csv's column %r will create a new assignment on import",
            path.name,
            assignment,
            column,
        )
    points: float | None = None
    students = []
    for raw in rows:
        row = {h: (raw[i].strip() if i < len(raw) else "") for h, i in index.items()}
        if row["Student"].strip().startswith("Points Possible"):
            points = _float(row.get(column, ""))
            continue
        if not row["ID"]:  # e.g. the "Manual Posting" row above Points Possible
            continue
        last, _, first = row["Student"].partition(", ")
        login = row.get("SIS Login ID", "")
        students.append(
            RosterStudent(
                row["ID"],
                row["Student"],
                first_name=first.strip(),
                last_name=last.strip(),
                email=login if "@" in login else "",
                aliases=tuple(a for a in (login, row.get("SIS User ID", ""), row.get("Integration ID", "")) if a),
                row=row,
            )
        )
    return Roster("canvas", path, header, students, column, points, identity)


def _moodle_roster(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    index = {h: i for i, h in enumerate(header)}
    points: float | None = None
    students = []
    for raw in rows:
        row = {h: (raw[i].strip() if i < len(raw) else "") for h, i in index.items()}
        identifier = row["Identifier"]
        pid = identifier[len(MOODLE_PREFIX) :] if identifier.startswith(MOODLE_PREFIX) else identifier
        if not pid:
            continue
        points = _float(row.get("Maximum Grade", "")) or points
        first, _, last = row.get("Full name", "").partition(" ")
        stamp = row.get("Last modified (submission)", "")
        timestamp = None
        if stamp and stamp != "-":
            try:
                timestamp = parse_datetime(stamp, what="Last modified (submission)")
            except RosterError:
                timestamp = None
        email = row.get("Email address", "")
        aliases = (email, row.get("ID number", ""), row.get("Username", ""))
        students.append(
            RosterStudent(
                pid,
                row.get("Full name", ""),
                first_name=first,
                last_name=last,
                email=email,
                aliases=tuple(a for a in aliases if a),
                timestamp=timestamp,
                row=row,
            )
        )
    return Roster("moodle", path, header, students, MOODLE_GRADE, points)


def _moodle_item_column(header: list[str], assignment: str) -> str:
    """The gradebook export's column of the assignment (``Assignment: corr2d (Real)``), else a new one."""
    wanted = _norm(assignment)
    items = {h: m["item"] for h in header if (m := _MOODLE_ITEM.match(h))}
    exact = [h for h, item in items.items() if _norm(item) == wanted]
    if exact:
        return exact[0]
    loose = [h for h, item in items.items() if wanted and wanted in _norm(item)]
    return loose[0] if len(loose) == 1 else f"Assignment: {assignment} (Real)"


def _moodle_gradebook_roster(path: Path, header: list[str], rows: list[list[str]], assignment: str) -> Roster:
    index = {h: i for i, h in enumerate(header)}
    column = _moodle_item_column(header, assignment)
    if column not in header:
        log.warning("the roster %s has no column for %s: moodle.csv writes it as %r", path.name, assignment, column)
    students = []
    for raw in rows:
        row = {h: (raw[i].strip() if i < len(raw) else "") for h, i in index.items()}
        email = row["Email address"]
        key = email or row.get("ID number", "") or row.get("Username", "")
        if not key:
            continue
        first, last = row["First name"], row["Last name"]
        aliases = (email, row.get("ID number", ""), row.get("Username", ""))
        students.append(
            RosterStudent(
                key,
                f"{first} {last}".strip(),
                first_name=first,
                last_name=last,
                email=email,
                aliases=tuple(a for a in aliases if a),
                row=row,
            )
        )
    identity = [h for h in header if h in MOODLE_GRADEBOOK_IDENTITY]
    return Roster("moodle-gradebook", path, header, students, column, None, identity)


def read_extensions(path: Path) -> dict[str, datetime]:
    """Per-student due dates from a CSV of ``student id, new due date`` rows (a header row is optional).

    Raises:
        RosterError: unreadable, or a row whose date is not a date.
    """
    rows = _read_rows(path)
    extensions: dict[str, datetime] = {}
    for number, row in enumerate(rows, start=1):
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


# --- applying the roster and the late policy to a run's results ------------------------------------


def fill_from_roster(result: StudentResult, student: RosterStudent) -> None:
    """Names and e-mail from the roster into ``result``."""
    result.first_name = student.first_name
    result.last_name = student.last_name
    result.email = student.email
    result.name = student.name


def not_submitted(student: RosterStudent, assignment: str, max_score: float) -> StudentResult:
    """The row of a roster student who sent nothing: score 0."""
    result = StudentResult(student.student_id, assignment, 0.0, max_score, State.NOT_SUBMITTED)
    fill_from_roster(result, student)
    result.raw_score = 0.0
    return result


def apply_lateness(result: StudentResult, late: Lateness) -> None:
    """Charge ``late`` to a graded result: raw score kept, penalty capped at it, the status says how late."""
    if late.due is not None:
        result.duedate = late.due.isoformat(timespec="minutes")
    if result.raw_score is None:
        result.raw_score = result.score
    if not result.graded:
        return
    charged = min(late.penalty, result.raw_score)
    result.late_penalty = charged
    result.score = result.raw_score - charged
    if late.note:
        result.notes.append(late.note)


# --- grade files for the LMS ------------------------------------------------------------------------


def _scaled(result: StudentResult, points: float | None) -> str:
    """The score as the LMS should store it (scaled to its points possible), or blank when not graded."""
    if result.state in (State.NOT_GRADED, State.REFUSED):
        return ""  # an empty cell leaves the LMS's grade alone: the instructor decides
    top = points if points and points > 0 else result.max_score
    value = result.score * top / result.max_score if result.max_score else 0.0
    return f"{round(value, 2):g}"


def feedback_text(result: StudentResult, *, limit: int = 240) -> str:
    """A plain-text summary for the LMS's feedback field: score, remarks, cells that lost points."""
    if not result.graded:
        return f"{result.assignment}: {result.status}"
    parts = [f"{result.assignment}: {result.score:g} / {result.max_score:g}"]
    if result.late_penalty:
        parts.append(f"late penalty -{result.late_penalty:g}")
    parts += result.notes
    for cell in result.cells:
        if cell.points < cell.max_points:
            message = cell.message.strip().splitlines()[0][:limit] if cell.message.strip() else ""
            parts.append(f"{cell.grade_id} {cell.points:g}/{cell.max_points:g}" + (f": {message}" if message else ""))
    return "; ".join(parts)


def write_canvas(roster: Roster, results: Iterable[StudentResult], path: Path, *, max_score: float) -> Path:
    """``canvas.csv``: the roster's identity columns, the assignment column, a Points Possible row."""
    by_id = {r.student_id: r for r in results}
    header = roster.identity_columns + [roster.assignment_column]
    points = roster.points_possible
    top = points if points and points > 0 else max_score
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerow(["    Points Possible"] + [""] * (len(header) - 2) + [f"{top:g}"])
        for student in roster.students:
            result = by_id.get(student.student_id)
            identity = [student.row.get(h, "") for h in roster.identity_columns]
            writer.writerow(identity + [_scaled(result, points) if result else ""])
    return path


def write_moodle(roster: Roster, results: Iterable[StudentResult], path: Path, *, now: datetime | None = None) -> Path:
    """``moodle.csv``: the grading worksheet with Grade, Last modified (grade) and Feedback comments filled in."""
    by_id = {r.student_id: r for r in results}
    header = list(roster.header)
    for column in (MOODLE_GRADE, MOODLE_MODIFIED, MOODLE_FEEDBACK):
        if column not in header:
            header.append(column)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for student in roster.students:
            row = dict(student.row)
            result = by_id.get(student.student_id)
            if result is not None:
                row[MOODLE_GRADE] = _scaled(result, roster.points_possible)
                row[MOODLE_MODIFIED] = stamp  # Moodle keeps grades changed after this time
                row[MOODLE_FEEDBACK] = feedback_text(result)
            writer.writerow([row.get(h, "") for h in header])
    return path


def write_moodle_gradebook(roster: Roster, results: Iterable[StudentResult], path: Path) -> Path:
    """``moodle.csv`` for Grades > Import > CSV file: the export's user columns, the grade item, feedback.

    The export carries no maximum, so grades are the course's points: the
    grade item's maximum must be the assignment's maximum.
    """
    by_id = {r.student_id: r for r in results}
    feedback = f"Feedback: {roster.assignment_column}"
    header = roster.identity_columns + [roster.assignment_column, feedback]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for student in roster.students:
            result = by_id.get(student.student_id)
            identity = [student.row.get(h, "") for h in roster.identity_columns]
            grade = _scaled(result, None) if result else ""
            writer.writerow(identity + [grade, feedback_text(result) if result else ""])
    return path


@dataclass(frozen=True)
class _Campus:
    """What identifies a student across a university's systems, read from one LMS's roster row."""

    first: str
    last: str
    sis_id: str  # Canvas SIS User ID = Moodle ID number
    login: str  # Canvas SIS Login ID = Moodle username
    email: str


def _campus(roster: Roster, student: RosterStudent) -> _Campus:
    row = student.row
    if roster.lms == "canvas":
        login = row.get("SIS Login ID", "")
        return _Campus(student.first_name, student.last_name, row.get("SIS User ID", ""), login, student.email)
    return _Campus(
        student.first_name, student.last_name, row.get("ID number", ""), row.get("Username", ""), student.email
    )


def _cross_rows(roster: Roster, target: str) -> list[tuple[RosterStudent, _Campus]]:
    """Roster students the other LMS can identify (by SIS id, login or e-mail, never by this LMS's ids)."""
    rows = [(s, c) for s in roster.students if (c := _campus(roster, s)).sis_id or c.login or c.email]
    if len(rows) < len(roster.students):
        log.warning(
            "%s: %d of %d roster students have no SIS id, login or e-mail in %s and are left out",
            target,
            len(roster.students) - len(rows),
            len(roster.students),
            roster.path.name,
        )
    return rows


def write_canvas_from_moodle(
    roster: Roster, results: Iterable[StudentResult], path: Path, *, assignment: str, max_score: float
) -> Path:
    """``canvas.csv`` from a Moodle roster: students named by SIS User ID and SIS Login ID, ``ID`` left blank.

    The identity columns are the ones Canvas's import requires (Canvas
    Instructor Guide, above); with ``ID`` blank, SIS User ID and SIS Login ID
    are what it has to place a row, and it lists on import the rows it could
    not place. A column without ``(<id>)`` creates the assignment. Moodle's
    participant ids mean nothing to Canvas, so they are never written here;
    with a Canvas roster, ``canvas.csv`` is keyed by Canvas's own ids instead.
    """
    by_id = {r.student_id: r for r in results}
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerow(["    Points Possible", "", "", "", "", f"{max_score:g}"])
        for student, campus in _cross_rows(roster, path.name):
            result = by_id.get(student.student_id)
            name = f"{campus.last}, {campus.first}" if campus.last else student.name
            login = campus.login or campus.email
            writer.writerow([name, "", campus.sis_id, login, "", _scaled(result, None) if result else ""])
    return path


def write_moodle_from_canvas(roster: Roster, results: Iterable[StudentResult], path: Path, *, assignment: str) -> Path:
    """``moodle.csv`` from a Canvas roster, for Moodle's Grades > Import > CSV file, in the course's points.

    Students are named by ``ID number`` (Canvas's SIS User ID), ``Username``
    (SIS Login ID) and ``Email address``, the user fields Moodle's import can
    map (grade/import/csv/classes/load_data.php); Canvas's user ids are never written.
    """
    by_id = {r.student_id: r for r in results}
    column = f"Assignment: {assignment} (Real)"
    header = ["First name", "Last name", "ID number", "Username", "Email address", column, f"Feedback: {column}"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for student, campus in _cross_rows(roster, path.name):
            result = by_id.get(student.student_id)
            grade = _scaled(result, None) if result else ""
            identity = [campus.first, campus.last, campus.sis_id, campus.login, campus.email]
            writer.writerow(identity + [grade, feedback_text(result) if result else ""])
    return path


def write_exports(
    roster: Roster, results: list[StudentResult], out: Path, *, assignment: str, max_score: float
) -> list[Path]:
    """``canvas.csv`` and ``moodle.csv`` in ``out``, ready for each LMS's grade import.

    The roster's own LMS gets its import file keyed by its own ids (Canvas
    user ids, Moodle participant ids or the gradebook's e-mails). The other
    LMS's file names students only by what a university shares across systems
    (SIS id, login, e-mail): another LMS's internal ids would put grades on
    the wrong students.
    """
    canvas, moodle = out / "canvas.csv", out / "moodle.csv"
    if roster.lms == "canvas":
        return [
            write_canvas(roster, results, canvas, max_score=max_score),
            write_moodle_from_canvas(roster, results, moodle, assignment=assignment),
        ]
    own = (
        write_moodle_gradebook(roster, results, moodle)
        if roster.lms == "moodle-gradebook"
        else write_moodle(roster, results, moodle)
    )
    return [own, write_canvas_from_moodle(roster, results, canvas, assignment=assignment, max_score=max_score)]


# --- from a collected submission and a grader's result to a row of grades.csv ----------------------


@dataclass(frozen=True)
class LatePolicy:
    """``--due``, ``--late-penalty`` and ``--extensions`` of one run."""

    due: datetime | None = None
    fraction: float = 0.0
    extensions: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise RosterError(f"--late-penalty {self.fraction:g} is not a fraction of the maximum: give 0 to 1")

    def extension_for(self, student_id: str, roster: Roster | None) -> datetime | None:
        """The extension given to ``student_id`` under its LMS id or any of its roster aliases."""
        if student_id in self.extensions:
            return self.extensions[student_id]
        student = roster.find(student_id) if roster else None
        keys = {a.lower() for a in (student.aliases if student else ())}
        return next((when for key, when in self.extensions.items() if key.lower() in keys), None)


def match_roster(submissions: list[Submission], roster: Roster | None) -> list[Submission]:
    """Submissions renamed to their roster student's LMS id; those not on the roster keep theirs, with a note.

    A folder named after a login or e-mail address is matched through the
    roster's aliases, so that ``student_id`` is always the LMS user id.
    """
    if roster is None:
        return submissions
    taken: dict[str, str] = {}
    out = []
    for sub in submissions:
        if sub.unplaced:
            out.append(sub)
            continue
        student = roster.find(sub.student_id)
        if student is None and sub.name and roster.lms == "moodle-gradebook":
            student = roster.find_by_name(sub.name)  # a participant folder: its name is all it shares
        if student is None:
            out.append(replace(sub, notes=(*sub.notes, f"not on the roster {roster.path.name}")))
        elif student.student_id in taken and taken[student.student_id] != sub.student_id:
            note = f"also matches roster student {student.student_id}, whose submission is {taken[student.student_id]}"
            out.append(replace(sub, notes=(*sub.notes, note)))
        else:
            taken[student.student_id] = sub.student_id
            out.append(replace(sub, student_id=student.student_id, name=sub.name or student.name))
    return out


def complete(
    result: StudentResult,
    sub: Submission,
    *,
    roster: Roster | None,
    policy: LatePolicy,
    source_sha256: str,
) -> StudentResult:
    """Fill a grader's result with what the LMS and the layout say: names, receipts, timestamp, lateness."""
    student = roster.find(result.student_id) if roster else None
    if student is not None and not sub.unplaced and student.student_id == result.student_id:
        fill_from_roster(result, student)
    elif sub.name:  # no roster row: the name the layout carries (Moodle's folder, Blackboard's receipt)
        result.name = sub.name
        result.first_name, _, result.last_name = sub.name.partition(" ")
    if sub.refused:
        result.state = State.REFUSED
    result.notes.extend(n for n in sub.notes if n not in result.notes)
    result.submission_sha256 = sub.sha256
    result.source_sha256 = source_sha256
    timestamp = sub.timestamp or (student.timestamp if student else None)
    if timestamp is not None:
        result.timestamp = timestamp.isoformat(timespec="seconds")
    extension = policy.extension_for(result.student_id, roster)
    apply_lateness(
        result,
        lateness(
            timestamp=timestamp,
            marked_late=sub.late,
            due=policy.due,
            extension=extension,
            fraction=policy.fraction,
            max_score=result.max_score,
        ),
    )
    return result


def missing(
    roster: Roster,
    present: Iterable[str],
    *,
    among: set[str] | None = None,
    assignment: str,
    max_score: float,
    policy: LatePolicy,
    source_sha256: str,
) -> list[StudentResult]:
    """Rows for the roster students (of ``among``, default all) with nothing in ``present``: score 0, ``not submitted``."""
    seen = set(present)
    rows = []
    for student in roster.students:
        if student.student_id in seen or (among is not None and student.student_id not in among):
            continue
        row = not_submitted(student, assignment, max_score)
        row.source_sha256 = source_sha256
        applies = policy.extension_for(student.student_id, roster) or policy.due
        row.duedate = applies.isoformat(timespec="minutes") if applies else ""
        rows.append(row)
    return rows
