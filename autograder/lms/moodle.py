"""Moodle: "Download all submissions", the grading worksheet, the gradebook export, feedback files in a zip.

Download all submissions (mod/assign/locallib.php, ``download_submissions``)
    One folder per participant, ``Full Name_participantid_assignsubmission_file`` (``_`` at the end before 4.1)
    (or, without "Download submissions in folders", flat files
    ``Full Name_participantid_assignsubmission_file_corr2d.ipynb``). Moodle builds
    the name part as ``clean_filename(str_replace('_', ' ', fullname))``: it holds
    no underscore, so the first ``_`` ends it and the marker
    ``_<id>_assignsubmission_<plugin>_`` follows at once; in a folder name nothing
    may follow the marker. ``clean_filename`` (PARAM_FILE) also drops control
    characters and ``& < > " ` | ' : \\ /``: "O'Brien" becomes "OBrien". The id
    is the participant id that the grading worksheet calls ``Participant <id>``.
Grading worksheet ("Download grading worksheet" / "Upload grading worksheet")
    Columns (mod/assign/gradingtable.php) ``Identifier, Full name, Email address, Status, Grade, Maximum Grade,
    Grade can be changed, Last modified (submission), Last modified (grade),
    Feedback comments``, in the language of the user who downloaded it. The
    upload (mod/assign/feedback/offline/importgradeslib.php) finds its columns by
    these header strings in the uploader's language, strips the ``Participant ``
    prefix to get the id, skips empty grades, grades above the maximum, and grades
    changed in Moodle after the row's ``Last modified (grade)``. ``moodle.csv``
    keeps the worksheet's own headers, so it uploads in the language it came in.
Gradebook export (Grades > Export > Plain text file) and import (Grades > Import > CSV file)
    ``First name, Last name, [ID number, Institution, Department, Username,]
    Email address``, one column per grade item ``<Module>: <item> (<display
    type>)``. It carries no participant id and no maximum: a participant folder
    is matched by its full name, normalised as Moodle normalises folder names,
    in the one name order (first last, or last first as a site may set) that
    matches the class; a name two students share matches neither.
Feedback ("Upload multiple feedback files in a zip", mod/assign/feedback/file/importziplib.php)
    Each path part is split on ``_`` into at most five fields,
    ``fullname_id_plugintype_pluginname_filename``: the participant folders of
    the download, as Moodle named them, carry the files back.
    ``feedback-moodle.zip`` holds ``<participant folder>/<notebook>-feedback.html`` (a new name: the
    importer skips a file whose name and content equal the submission's).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..archive import Entry, Listing
from ..csvio import Table, write_csv
from ..results import StudentResult
from ..submission import FileRef, Found, Submission
from .base import LMS, Matched, Roster, RosterError, RosterStudent
from .common import feedback_text, norm, number, scaled, zip_pages
from .late import parse_datetime

log = logging.getLogger(__name__)

NAME = re.compile(r"^(?P<name>[^_]*)_(?P<pid>\d+)_(?P<plugin>assignsubmission_[a-z]+|onlinetext)(?:_(?P<file>.*))?$")

# The worksheet's columns by role, in the languages whose strings are known (mod/assign/lang/<lang>/assign.php).
# The upload reads them in the uploader's language: moodle.csv keeps the headers it was given.
# English, German, French, Spanish (Moodle 4.5 language packs; ``maxgrade`` is defined twice in English).
WORKSHEET = {
    "identifier": ("Identifier", "ID", "Identifiant", "Identificador"),
    "fullname": ("Full name", "Vollständiger Name", "Nom complet", "Nombre completo"),
    "email": ("Email address", "E-Mail-Adresse", "Adresse de courriel", "Dirección de correo"),
    "grade": ("Grade", "Bewertung", "Note", "Calificación"),
    "maxgrade": ("Maximum Grade", "Maximum grade", "Bestwertung", "Note maximale", "Calificación máxima"),
    "modified_submission": (
        "Last modified (submission)",
        "Zuletzt geändert (Abgabe)",
        "Dernière modification (travail remis)",
        "Última modificación (entrega)",
    ),
    "modified_grade": (
        "Last modified (grade)",
        "Zuletzt geändert (Bewertung)",
        "Dernière modification (note)",
        "Última modificación (calificación)",
    ),
    "feedback": (
        "Feedback comments",
        "Feedback als Kommentar",
        "Feedback par commentaires",
        "Comentarios de retroalimentación",
    ),
}
PARTICIPANT = re.compile(r"^\s*\S.*?\s(?P<id>\d+)\s*$")  # "Participant 1001", "Teilnehmer/in 1001", ...
GRADEBOOK_IDENTITY = ("First name", "Last name", "ID number", "Institution", "Department", "Username", "Email address")
_ITEM = re.compile(r"^(?:[^:]+):\s*(?P<item>.*?)\s*\((?:Real|Percentage|Letter)[^()]*\)$")
_PARAM_FILE = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")


def recognises(name: str, is_dir: bool) -> bool:
    match = NAME.match(name)
    return bool(match) and (bool(match["file"]) != is_dir)  # a folder ends at the marker, a file goes on


def folder_name(full_name: str) -> str:
    """A full name as Moodle writes it into a download's names (``_`` to space, PARAM_FILE's characters dropped)."""
    return _PARAM_FILE.sub("", full_name.replace("_", " "))


def _name_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def parse(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    """One :class:`Found` per participant id; a name that does not follow Moodle's pattern is left unplaced."""
    found: dict[str, Found] = {}
    names: dict[str, set[str]] = {}

    def place(pid: str, name: str) -> Found:
        names.setdefault(pid, set()).add(name)
        return found.setdefault(pid, Found(pid, name=name))

    for folder in listing.top_dirs:  # an empty participant folder still gets its row
        if recognises(folder, True):
            match = NAME.match(folder)
            assert match is not None
            place(match["pid"], match["name"])
    unplaced = []
    for entry in listing.files:
        top = entry.parts[0]
        is_dir = len(entry.parts) > 1
        if not recognises(top, is_dir):
            unplaced.append(entry)
            continue
        match = NAME.match(top)
        assert match is not None
        student = place(match["pid"], match["name"])
        logical = entry.name if is_dir else match["file"]
        prefix = top if is_dir else top[: match.start("file")].rstrip("_")
        student.files.append(FileRef(logical, entry, lms_name=prefix))
    for pid, seen in names.items():
        if len(seen) > 1:
            found[pid].collision = (
                f"folders of participant {pid} carry different names ({', '.join(sorted(seen))}): "
                "Moodle writes one name per participant"
            )
    return found, unplaced


def _columns(header: list[str]) -> dict[str, str]:
    return {role: h for role, names in WORKSHEET.items() for h in header if h in names}


def read_roster(table: Table, assignment: str) -> Roster | None:
    """A grading worksheet or a gradebook export, or None when the table is neither."""
    header = table.header
    columns = _columns(header)
    if "identifier" in columns and "grade" in columns:
        return _worksheet(table, columns)
    if {"First name", "Last name", "Email address"} <= set(header):
        return _gradebook_export(table, assignment)
    first = [row[0] for row in table.rows if row]
    if first and sum(bool(PARTICIPANT.match(v)) for v in first) >= max(1, len(first) // 2):
        raise RosterError(
            f"{table.path} looks like a Moodle grading worksheet whose column names are in a language the grader "
            f"does not know ({', '.join(header[:3])}, ...): download it again with Moodle's language set to English "
            "(the upload reads the headers in the uploader's language), or rename the columns to Identifier, "
            "Full name, Grade, Maximum Grade, Last modified (submission), Last modified (grade)"
        )
    return None


def _worksheet(table: Table, columns: dict[str, str]) -> Roster:
    index = {h: i for i, h in enumerate(table.header)}
    points: float | None = None
    students = []
    for raw in table.rows:
        row = {h: (raw[i].strip() if i < len(raw) else "") for h, i in index.items()}
        match = PARTICIPANT.match(row[columns["identifier"]])
        pid = match["id"] if match else row[columns["identifier"]].strip()
        if not pid:
            continue
        points = number(row.get(columns.get("maxgrade", ""), "")) or points
        full = row.get(columns.get("fullname", ""), "")
        first, _, last = full.partition(" ")
        stamp = row.get(columns.get("modified_submission", ""), "")
        timestamp, unread = None, ""
        if stamp and stamp != "-":
            try:
                timestamp = parse_datetime(stamp, what="Last modified (submission)")
            except RosterError:
                unread = stamp
        email = row.get(columns.get("email", ""), "")
        aliases = (email, row.get("ID number", ""), row.get("Username", ""))
        students.append(
            RosterStudent(
                pid,
                full,
                first_name=first,
                last_name=last,
                email=email,
                aliases=tuple(a for a in aliases if a),
                timestamp=timestamp,
                unread_time=unread,
                row=row,
            )
        )
    return Roster("moodle", "worksheet", table, students, columns["grade"], points, columns=columns)


def _item_column(header: list[str], assignment: str) -> str:
    """The gradebook export's column of the assignment (``Assignment: corr2d (Real)``), else a new one."""
    wanted = norm(assignment)
    items = {h: m["item"] for h in header if (m := _ITEM.match(h))}
    exact = [h for h, item in items.items() if norm(item) == wanted]
    if exact:
        return exact[0]
    loose = [h for h, item in items.items() if wanted and wanted in norm(item)]
    return loose[0] if len(loose) == 1 else f"Assignment: {assignment} (Real)"


def _gradebook_export(table: Table, assignment: str) -> Roster:
    index = {h: i for i, h in enumerate(table.header)}
    column = _item_column(table.header, assignment)
    if column not in table.header:
        log.warning(
            "the roster %s has no column for %s: moodle.csv writes it as %r", table.path.name, assignment, column
        )
    students = []
    for raw in table.rows:
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
    identity = [h for h in table.header if h in GRADEBOOK_IDENTITY]
    return Roster("moodle", "gradebook-export", table, students, column, None, identity)


def match_names(submissions: list[Submission], roster: Roster) -> Matched:
    """Participant folders matched to a gradebook export's students by full name, as Moodle writes it.

    The name order (first last, or last first) is the one that matches more of
    the class, for everyone alike. A folder name that two roster students share
    is ambiguous: it matches neither, and both are named.
    """
    if roster.kind != "gradebook-export":
        return Matched({})
    orders = {
        "first last": lambda s: f"{s.first_name} {s.last_name}",
        "last first": lambda s: f"{s.last_name} {s.first_name}",
    }
    best: Matched | None = None
    for order, full in orders.items():
        by_name: dict[str, list[RosterStudent]] = {}
        for student in roster.students:
            by_name.setdefault(_name_key(folder_name(full(student))), []).append(student)
        matched = Matched({})
        for sub in submissions:
            if sub.unplaced or not sub.name:
                continue
            hits = by_name.get(_name_key(sub.name), [])
            if len(hits) == 1:
                matched.student[sub.student_id] = hits[0]
            elif len(hits) > 1:
                matched.ambiguous[sub.student_id] = hits
        if best is None or len(matched.student) + len(matched.ambiguous) > len(best.student) + len(best.ambiguous):
            best = matched
            log.debug("Moodle names matched in the order %s", order)
    assert best is not None
    return best


def write_grades(roster: Roster, results: list[StudentResult], out: Path) -> list[Path]:
    """``moodle.csv``: the worksheet with its grade, time and comments filled in; or a gradebook import file."""
    if roster.kind == "gradebook-export":
        return [_write_gradebook_import(roster, results, out / "moodle.csv")]
    return [_write_worksheet(roster, results, out / "moodle.csv")]


def _write_worksheet(roster: Roster, results: list[StudentResult], path: Path, *, now: datetime | None = None) -> Path:
    by_id = {r.student_id: r for r in results}
    grade = roster.columns["grade"]
    modified = roster.columns.get("modified_grade", WORKSHEET["modified_grade"][0])
    comments = roster.columns.get("feedback", WORKSHEET["feedback"][0])
    header = list(roster.table.header)
    for column in (grade, modified, comments):
        if column not in header:
            header.append(column)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    rows = []
    for student in roster.students:
        row = dict(student.row)
        result = by_id.get(student.student_id)
        if result is not None:
            row[grade] = scaled(result, roster.points_possible)
            row[modified] = stamp  # Moodle keeps grades changed after this time
            row[comments] = feedback_text(result)
        rows.append([row.get(h, "") for h in header])
    return write_csv(path, header, rows)


def _write_gradebook_import(roster: Roster, results: list[StudentResult], path: Path) -> Path:
    """For Grades > Import > CSV file: the export's user columns, the grade item in the course's points, feedback.

    The export carries no maximum, so grades are the course's points: the
    grade item's maximum must be the assignment's maximum.
    """
    by_id = {r.student_id: r for r in results}
    feedback = f"Feedback: {roster.assignment_column}"
    header = roster.identity_columns + [roster.assignment_column, feedback]
    rows = []
    for student in roster.students:
        result = by_id.get(student.student_id)
        identity = [student.row.get(h, "") for h in roster.identity_columns]
        rows.append(identity + [scaled(result, None) if result else "", feedback_text(result) if result else ""])
    return write_csv(path, header, rows)


def pack_feedback(
    results: list[StudentResult], out: Path, page_of: Callable[[StudentResult], Path | None], notebook: str
) -> list[Path]:
    """``feedback-moodle.zip``: each page in its participant's folder, as the download named it."""
    pages = [
        (f"{r.lms_name.rstrip('_')}/{Path(notebook).stem}-feedback.html", page)
        for r in sorted(results, key=lambda r: r.student_id)
        if NAME.match(r.lms_name or "") and (page := page_of(r)) is not None
    ]
    return zip_pages(out / "feedback-moodle.zip", pages)


RECORD = LMS(
    name="moodle",
    describe="its name does not follow Moodle's Full Name_participantid_assignsubmission_file_",
    recognises=recognises,
    parse=parse,
    read_roster=read_roster,
    write_grades=write_grades,
    pack_feedback=pack_feedback,
    match_names=match_names,
)
