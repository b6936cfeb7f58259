"""Canvas: "Download Submissions", the gradebook export and import, and re-uploaded feedback.

Download Submissions
    Flat files ``login[_LATE]_userid_submissionid_filename`` (e.g.
    ``studenttest_3143_207797_zipsubmission.zip`` in instructure/canvas-lms issue
    #2406). ``login`` is the student's sortable name stripped of non-word
    characters (it may keep underscores); the first ``_<digits>_<digits>_`` after
    it is Canvas's marker, and everything after the marker is the student's own
    file name, which may hold anything, another student's marker included. A
    re-uploaded file is ``corr2d-1.ipynb``, ``corr2d-2.ipynb``: the highest counts.
    Two files of one user id whose login parts disagree are a collision.
Gradebook export and import (Grades > Export / Import)
    A header ``Student, ID, SIS User ID, SIS Login ID, [Integration ID,] Section,
    <assignment> (<assignment id>), ...``; then, before any student, optional
    rows without an ``ID`` (a posting-policy row) and the ``Points Possible`` row;
    then one row per student; ``Student`` is "Last, First", ``ID`` the Canvas
    user id. Only a row before the first student, with no ``ID``, is read as the
    points row: a student may be called anything. The import matches students by
    the identity columns and the assignment by its header with its id. Sources:
    Canvas Instructor Guide "How do I import grades in the Gradebook?", Ohio
    State's "Import CSV File for Carmen Grades", nemogb's "Detailed Canvas Export
    Info", VCU's "Gradebook Action Menu".
Feedback
    SpeedGrader's bulk "Upload Submissions" (after a bulk download) takes a zip
    whose files keep the downloaded names' ``login_userid_submissionid_`` prefix
    and attaches each file as a comment to that user's submission:
    ``feedback-canvas.zip`` holds ``<prefix><notebook>-feedback.html``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from ..archive import Entry, Listing
from ..csvio import Table, write_csv
from ..results import StudentResult
from ..submission import FileRef, Found
from .base import LMS, Roster, RosterStudent
from .common import norm, number, scaled, zip_pages

log = logging.getLogger(__name__)

NAME = re.compile(r"^(?P<login>.+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?:(?P<subid>\d+)_)?(?P<file>.+)$")
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
POINTS_ROW = "Points Possible"


def recognises(name: str, is_dir: bool) -> bool:
    return not is_dir and bool(NAME.match(name))


def parse(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    """One :class:`Found` per Canvas user id; files without the marker are left unplaced."""
    found: dict[str, Found] = {}
    logins: dict[str, set[str]] = {}
    unplaced = []
    for entry in listing.files:
        match = NAME.match(entry.name) if len(entry.parts) == 1 else None
        if not match:
            unplaced.append(entry)
            continue
        uid = match["uid"]
        prefix = entry.name[: match.start("file")]
        student = found.setdefault(uid, Found(uid))
        student.files.append(FileRef(match["file"], entry, late=bool(match["late"]), lms_name=prefix))
        logins.setdefault(uid, set()).add(match["login"])
    for uid, names in logins.items():
        if len(names) > 1:
            found[uid].collision = (
                f"files of Canvas user {uid} carry different names ({', '.join(sorted(names))}): "
                "Canvas writes one name per user, so some of them are not this student's"
            )
    return found, unplaced


def _assignment_column(header: list[str], assignment: str) -> str:
    """The header of the assignment's column: same name as the assignment, else the one column naming it."""
    with_id = [h for h in header if re.search(r"\(\d+\)$", h)]
    wanted = norm(assignment)
    exact = [h for h in header if norm(re.sub(r"\s*\(\d+\)$", "", h)) == wanted]
    if exact:
        return exact[0]
    loose = [h for h in with_id if wanted and wanted in norm(h)]
    if len(loose) == 1:
        return loose[0]
    return assignment  # not in the gradebook yet: Canvas creates the assignment on import


def _unquote(cell: str) -> str:
    """A cell as Canvas meant it: the export writes a name that starts with ``=`` as ``="..."``."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1]
    return cell


def read_roster(table: Table, assignment: str) -> Roster | None:
    """Canvas's gradebook export, or None when the table is not one."""
    header = table.header
    if not ("Student" in header and "ID" in header):
        return None
    index = {h: i for i, h in enumerate(header)}
    identity = [h for h in header if h in IDENTITY]
    column = _assignment_column(header, assignment)
    if column not in header:
        log.warning(
            "the roster %s has no column for %s: canvas.csv's column %r will create a new assignment on import",
            table.path.name,
            assignment,
            column,
        )
    points: float | None = None
    students: list[RosterStudent] = []
    for raw in table.rows:
        row = {h: _unquote(raw[i].strip()) if i < len(raw) else "" for h, i in index.items()}
        if not row["ID"]:
            # only above the first student does Canvas write rows without an id (posting policy, Points Possible)
            if not students and row["Student"] == POINTS_ROW:
                points = number(row.get(column, ""))
            elif students:
                log.warning("%s: a row without an ID after the students is ignored: %r", table.path.name, raw[:2])
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
    return Roster("canvas", "gradebook", table, students, column, points, identity)


def _importable(column: str, value: str) -> str:
    """An identity cell Canvas's importer cannot mistake: it reads any first cell holding "Points Possible" as
    the points row, so such a student's name is left out (the import matches students by ID)."""
    return "" if column == "Student" and POINTS_ROW.casefold() in value.casefold() else value


def write_grades(roster: Roster, results: list[StudentResult], out: Path) -> list[Path]:
    """``canvas.csv`` for Grades > Import: the roster's identity columns, the assignment, a Points Possible row."""
    by_id = {r.student_id: r for r in results}
    header = roster.identity_columns + [roster.assignment_column]
    points = roster.points_possible
    max_score = max((r.max_score for r in results), default=0.0)
    top = points if points and points > 0 else max_score
    rows = [["    " + POINTS_ROW] + [""] * (len(header) - 2) + [f"{top:g}"]]
    for student in roster.students:
        result = by_id.get(student.student_id)
        identity = [_importable(h, student.row.get(h, "")) for h in roster.identity_columns]
        rows.append(identity + [scaled(result, points) if result else ""])
    return [write_csv(out / "canvas.csv", header, rows)]


def pack_feedback(
    results: list[StudentResult], out: Path, page_of: Callable[[StudentResult], Path | None], notebook: str
) -> list[Path]:
    """``feedback-canvas.zip`` for SpeedGrader's bulk upload: one page per student, under Canvas's own prefix."""
    pages = [
        (f"{r.lms_name}{Path(notebook).stem}-feedback.html", page)
        for r in sorted(results, key=lambda r: r.student_id)
        if r.lms_name and (page := page_of(r)) is not None
    ]
    return zip_pages(out / "feedback-canvas.zip", pages)


RECORD = LMS(
    name="canvas",
    describe="its name does not follow Canvas's name[_LATE]_userid_submissionid_filename",
    recognises=recognises,
    parse=parse,
    read_roster=read_roster,
    write_grades=write_grades,
    pack_feedback=pack_feedback,
)
