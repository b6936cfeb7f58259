"""The learning-management systems: one module per LMS, listed once in :data:`REGISTRY`.

Each module holds one :class:`~autograder.lms.base.LMS` record: how its
download names files (pattern and parser), how its gradebook export reads,
how its grade import and its bulk feedback upload are written. A new LMS is
one module plus one line here. The order is the order of detection: a
Blackboard or Moodle name also reads as a Canvas name to a loose eye, and any
folder is a student's folder, so ties go to the earlier record.

This module applies a roster to a class: who is who (:func:`match_roster`),
what the LMS and the layout say about each row (:func:`complete`), the rows
of students who sent nothing (:func:`missing`), and the checks that turn an
instructor's slip into one clear error rather than quiet zeros.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..csvio import CsvError, read_table
from ..results import State, StudentResult
from ..submission import Submission
from . import blackboard, canvas, folders, moodle
from .base import LMS, Matched, Roster, RosterError, RosterStudent
from .common import feedback_text, scaled
from .late import Lateness, LatePolicy, apply_lateness, lateness, parse_datetime, read_extensions

log = logging.getLogger(__name__)

REGISTRY: tuple[LMS, ...] = (blackboard.RECORD, moodle.RECORD, canvas.RECORD, folders.RECORD)
BY_NAME = {record.name: record for record in REGISTRY}
LAYOUTS = ("auto", *BY_NAME)

__all__ = [
    "BY_NAME",
    "LAYOUTS",
    "LMS",
    "REGISTRY",
    "LatePolicy",
    "Lateness",
    "Roster",
    "RosterError",
    "RosterStudent",
    "apply_lateness",
    "check_extensions",
    "check_times",
    "check_roster_fits",
    "complete",
    "feedback_text",
    "lateness",
    "match_roster",
    "missing",
    "pack_feedback",
    "parse_datetime",
    "read_extensions",
    "read_roster",
    "scaled",
    "write_exports",
]


def read_roster(path: Path, assignment: str) -> Roster:
    """The gradebook export of whichever LMS wrote it, as downloaded or re-saved by a spreadsheet.

    Raises:
        RosterError: unreadable, or no LMS's export.
    """
    try:
        table = read_table(path, what="roster")
    except CsvError as exc:
        raise RosterError(str(exc)) from exc
    for record in REGISTRY:
        if record.read_roster is not None and (roster := record.read_roster(table, assignment)) is not None:
            return roster
    shown = ", ".join(table.header[:6]) + (", ..." if len(table.header) > 6 else "")
    raise RosterError(
        f"{path} is no gradebook export the grader knows: its columns are {shown}; expected a Canvas gradebook "
        "export (Student, ID, SIS User ID, ...), a Moodle grading worksheet (Identifier, Full name, ..., Grade) "
        "or a Moodle gradebook export (First name, Last name, Email address, ...)"
    )


def fill_from_roster(result: StudentResult, student: RosterStudent) -> None:
    """Names and e-mail from the roster into ``result``."""
    result.first_name = student.first_name
    result.last_name = student.last_name
    result.email = student.email
    result.name = student.name


def _who(student: RosterStudent) -> str:
    extra = student.email or ", ".join(student.aliases[:1])
    return f"{student.name or student.student_id} ({student.student_id}{', ' + extra if extra and extra != student.student_id else ''})"


def match_roster(submissions: list[Submission], roster: Roster | None, layout: str) -> list[Submission]:
    """Submissions renamed to their roster student's LMS id; the rest keep theirs, with a note saying why.

    An id the roster's own LMS wrote (a Canvas user id in a Canvas download)
    is matched to that id alone, never to another student's SIS id or login;
    a Moodle participant folder is matched to a gradebook export by its full
    name alone (the export has no participant ids); a plain folder named after
    a login, SIS id or e-mail address is matched through the roster's aliases. Two submissions that belong to one roster student are
    a collision: both are graded under ``collision:<their own name>``, neither
    reaches the LMS, and :func:`missing` gives the student a row naming them.
    A folder whose name fits two roster students is ambiguous the same way.
    """
    if roster is None:
        return submissions
    record = BY_NAME[roster.lms]
    by_name = record.match_names(submissions, roster) if record.match_names else Matched({})
    names_only = layout == roster.lms and roster.kind == "gradebook-export"
    ids_only = layout == roster.lms and not names_only

    def lookup(sub: Submission) -> RosterStudent | None:
        if names_only:
            return by_name.student.get(sub.student_id)
        if ids_only:
            return roster.by_id(sub.student_id)
        return roster.find(sub.student_id) or by_name.student.get(sub.student_id)

    claims: dict[str, list[Submission]] = {}
    owner: dict[str, RosterStudent] = {}
    out: list[Submission] = []
    for sub in submissions:
        if sub.unplaced:
            continue
        student = lookup(sub)
        if student is not None:
            claims.setdefault(student.student_id, []).append(sub)
            owner[sub.student_id] = student
    for sub in submissions:
        if sub.unplaced:
            out.append(sub)
            continue
        student = owner.get(sub.student_id)
        if sub.student_id in by_name.ambiguous and (names_only or not ids_only):
            names = "; ".join(_who(s) for s in by_name.ambiguous[sub.student_id])
            note = f"its name {sub.name!r} fits {len(by_name.ambiguous[sub.student_id])} roster students: {names}"
            claimed = tuple(s.student_id for s in by_name.ambiguous[sub.student_id])
            out.append(
                replace(
                    sub, student_id=f"collision:{sub.student_id}", collision=note, claimed=claimed, label=sub.student_id
                )
            )
        elif student is None:
            out.append(replace(sub, notes=(*sub.notes, f"not on the roster {roster.path.name}"), label=sub.student_id))
        elif len(claims[student.student_id]) > 1:
            others = ", ".join(s.student_id for s in claims[student.student_id] if s is not sub)
            note = f"this submission and {others} all belong to roster student {_who(student)}: grade one by hand"
            out.append(
                replace(
                    sub,
                    student_id=f"collision:{sub.student_id}",
                    collision=note,
                    claimed=(student.student_id,),
                    label=sub.student_id,
                )
            )
        else:
            out.append(replace(sub, student_id=student.student_id, name=sub.name or student.name, label=sub.student_id))
    return out


def _off_roster(sub: Submission) -> bool:
    return not sub.unplaced and any(n.startswith("not on the roster") for n in sub.notes)


def check_roster_fits(submissions: list[Submission], matched: list[Submission], roster: Roster, layout: str) -> None:
    """Refuse a roster that matches none, or clearly too few, of the class's submissions.

    Raises:
        RosterError: fewer than half of at least four submissions, or none at all, are on the roster.
    """
    placed = [s for s in submissions if not s.unplaced]
    on = sum(1 for s in matched if not s.unplaced and not _off_roster(s))
    if not placed or (on > 0 and (len(placed) < 4 or on * 2 >= len(placed))):
        return
    raise RosterError(
        f"the roster {roster.path.name} ({roster.lms} {roster.kind}) matches {on} of the {len(placed)} submissions "
        f"(a {layout} download): is it the gradebook of another course, assignment or LMS? "
        f"Download the gradebook of the course the submissions came from"
    )


def check_times(policy: LatePolicy, roster: Roster | None) -> None:
    """Refuse late penalties that would rest on submission times the roster gives in a form the grader cannot read.

    Raises:
        RosterError: a due date is set and a roster time cannot be read.
    """
    if policy.due is None or roster is None:
        return
    unread = [s for s in roster.students if s.unread_time]
    if unread:
        first = unread[0]
        raise RosterError(
            f"{roster.path.name} gives {len(unread)} submission time(s) the grader cannot read, such as "
            f"{first.unread_time!r} ({first.name or first.student_id}); Moodle writes them in the downloading user's "
            "language: download the worksheet with Moodle set to English, or grade without --due"
        )


def check_extensions(policy: LatePolicy, submissions: list[Submission], roster: Roster | None) -> None:
    """Refuse extension rows that name no student of this class (a typo gives no extension silently).

    Raises:
        RosterError: some rows match no submission and no roster student.
    """
    known: set[str] = set()
    for sub in submissions:
        known |= {sub.student_id.lower(), sub.label.lower()}
    for student in roster.students if roster else []:
        known |= {student.student_id.lower(), *(a.lower() for a in student.aliases)}
    unknown = sorted(key for key in policy.extensions if key.lower() not in known)
    if unknown:
        raise RosterError(
            f"--extensions names {len(unknown)} student(s) not in this class: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
            + " (use the LMS user id, or a login, SIS id or e-mail on the roster)"
        )


def complete(
    result: StudentResult,
    sub: Submission,
    *,
    roster: Roster | None,
    policy: LatePolicy,
    source_sha256: str,
) -> StudentResult:
    """Fill a grader's result with what the LMS and the layout say: names, receipts, timestamp, lateness, state."""
    student = roster.by_id(result.student_id) if roster else None
    if student is not None and not sub.unplaced:
        fill_from_roster(result, student)
    elif sub.name:  # no roster row: the name the layout carries (Moodle's folder, Blackboard's receipt)
        result.name = sub.name
        result.first_name, _, result.last_name = sub.name.partition(" ")
    if sub.refused:
        result.state = State.REFUSED
    elif sub.collision and result.graded:
        result.state = State.COLLISION
        result.notes.insert(0, sub.collision)
    result.notes.extend(n for n in sub.notes if n not in result.notes)
    result.submission_sha256 = sub.sha256
    result.source_sha256 = source_sha256
    result.lms_name = sub.lms_name
    timestamp = sub.timestamp or (student.timestamp if student else None)
    if timestamp is not None:
        result.timestamp = timestamp.isoformat(timespec="seconds")
    extension = policy.extension_for(result.student_id, roster, label=sub.label)
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
    results: Iterable[StudentResult],
    submissions: Iterable[Submission],
    *,
    among: set[str] | None = None,
    assignment: str,
    max_score: float,
    policy: LatePolicy,
    source_sha256: str,
) -> list[StudentResult]:
    """Rows for the roster students (of ``among``, default all) without a row of their own.

    ``not submitted`` (score 0) when nothing of theirs was found;
    ``ambiguous`` (no grade for the LMS) when a submission that collided or
    fit several students may be theirs: the status names those submissions.
    """
    seen = {r.student_id for r in results}
    claims: dict[str, list[str]] = {}
    for sub in submissions:
        for sid in sub.claimed:
            claims.setdefault(sid, []).append(sub.student_id)
    # matched by name alone (a gradebook export): a folder on no one may be any unmatched student's
    strays = [s.student_id for s in submissions if roster.kind == "gradebook-export" and _off_roster(s)]
    rows = []
    for student in roster.students:
        if student.student_id in seen or (among is not None and student.student_id not in among):
            continue
        applies = policy.extension_for(student.student_id, roster) or policy.due
        maybe = claims.get(student.student_id) or strays
        if maybe:
            row = StudentResult(student.student_id, assignment, 0.0, max_score, State.AMBIGUOUS)
            how = "" if student.student_id in claims else " (no folder carries this student's name)"
            row.notes.append(
                f"the submissions {', '.join(maybe[:5])}{' ...' if len(maybe) > 5 else ''} may be this student's"
                f"{how}: grade by hand (the LMS files leave this student blank)"
            )
        else:
            row = StudentResult(student.student_id, assignment, 0.0, max_score, State.NOT_SUBMITTED)
        fill_from_roster(row, student)
        row.raw_score = 0.0
        row.source_sha256 = source_sha256
        row.duedate = applies.isoformat(timespec="minutes") if applies else ""
        rows.append(row)
    return rows


def write_exports(roster: Roster, results: list[StudentResult], out: Path) -> list[Path]:
    """The roster's own LMS's grade-import file in ``out``, keyed by that LMS's ids."""
    record = BY_NAME[roster.lms]
    return record.write_grades(roster, results, out) if record.write_grades else []


def pack_feedback(
    layout: str, results: list[StudentResult], out: Path, notebook: str, *, pages_in: tuple[Path, ...]
) -> list[Path]:
    """The bulk feedback upload of the LMS the download came from (nothing for plain folders).

    A result's page (its ``feedback``, a path relative to the run's folder) is
    taken from the first folder of ``pages_in`` that has it (the staging folder,
    then the run's: a regrade keeps the pages of the students it did not regrade).
    """
    record = BY_NAME.get(layout)
    if record is None or record.pack_feedback is None:
        return []

    def page_of(result: StudentResult) -> Path | None:
        if result.feedback is None:
            return None
        return next((f / result.feedback for f in pages_in if (f / result.feedback).is_file()), None)

    return record.pack_feedback(results, out, page_of, notebook)
