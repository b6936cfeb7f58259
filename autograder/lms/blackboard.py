"""Blackboard Learn: "Assignment File Download", and the Grade Center's offline upload for grades and feedback.

Assignment File Download
    ``Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS_originalname`` plus a receipt
    ``Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS.txt`` (``Name: First Last
    (username)``, ``Original filename: ...``, ``Filename: ...``), the layout
    vangef/BBGradebookOrganiser (utils/organiser.py) splits on ``_attempt_``.
    The LMS writes the name up to the first ``_attempt_<date>``; what follows is
    the student's own file name, which may hold anything, another student's
    attempt marker included. Usernames may contain ``_`` (Blackboard's "Create
    Users" help: ``_ - . @`` are permitted), so the username is the receipt's
    ``(username)`` when there is one, and otherwise what follows the assignment
    name all the class's files share. The latest attempt counts.
Feedback
    Blackboard has no bulk upload of feedback files per student. Its Grade
    Center takes grades and feedback text from "Work Offline > Upload"
    (help.blackboard.com, "Upload and download grades"): students keyed by
    ``Username``; ``feedback-blackboard.csv`` carries each student's score and
    ``Feedback to Learner`` (the summary of the feedback page) with ``Feedback
    Format`` ``PLAIN_TEXT`` (the summary quotes file names a student chose:
    never rendered as HTML). Its grade column header has no column id, so the
    upload creates a column; to fill an existing column instead, replace the
    header with the one of the Grade Center's download (``... |<column id>``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..archive import Entry, Listing
from ..csvio import write_csv
from ..results import StudentResult
from ..submission import FileRef, Found
from .base import LMS
from .common import feedback_text, scaled

_FIRST = re.compile(r"_attempt_(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?=_|\.txt$)")
_RECEIPT_USER = re.compile(r"^Name:.*\((?P<user>[^()\s]+)\)\s*$", re.M)


def _split(name: str) -> tuple[str, str, str | None] | None:
    """(head, when, file) at the FIRST attempt marker: head is ``Assignment_username``; file None for a receipt."""
    match = _FIRST.search(name)
    if not match or match.start() == 0:
        return None
    rest = name[match.end() :]
    if rest == ".txt":
        return name[: match.start()], match.group(1), None
    if not rest.startswith("_") or len(rest) < 2:
        return None
    return name[: match.start()], match.group(1), rest[1:]


def recognises(name: str, is_dir: bool) -> bool:
    split = None if is_dir else _split(name)
    return split is not None and "_" in split[0]


def _receipt(path: Path | None) -> tuple[str, str, dict[str, str]]:
    """The student's name, username and the map stored file name -> original file name of a receipt."""
    if path is None:
        return "", "", {}
    text = path.read_text(encoding="utf-8", errors="replace")
    name = re.search(r"^Name:\s*(.*?)\s*(?:\([^()]*\))?\s*$", text, re.M)
    user = _RECEIPT_USER.search(text)
    originals = {
        stored.strip(): original.strip()
        for original, stored in re.findall(r"Original filename:\s*(.+)\n\s*Filename:\s*(.+)", text)
    }
    return (name.group(1) if name else ""), (user["user"] if user else ""), originals


def _assignment(heads: list[str], users: dict[str, str]) -> str:
    """The assignment name every file starts with: from a receipt's username, else the heads' common prefix."""
    for head, user in users.items():
        if user and head.endswith("_" + user):
            return head[: -len(user) - 1]
    distinct = sorted(set(heads))
    if len(distinct) > 1:
        common = os.path.commonprefix(distinct)
        if "_" in common:
            return common[: common.rindex("_")]
    return distinct[0].rsplit("_", 1)[0] if distinct else ""


def parse(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    """One :class:`Found` per username, from its latest attempt; other names are left unplaced."""
    split: list[tuple[Entry, str, str, str | None]] = []
    unplaced = []
    for entry in listing.files:
        parts = _split(entry.name) if len(entry.parts) == 1 else None
        if parts is None or "_" not in parts[0]:
            unplaced.append(entry)
            continue
        split.append((entry, *parts))
    receipts_user = {head: _receipt(e.path)[1] for e, head, _, file in split if file is None}
    assignment = _assignment([head for _, head, _, _ in split], receipts_user)
    attempts: dict[str, dict[datetime, list[tuple[Entry, str | None]]]] = {}
    for entry, head, when, file in split:
        user = head[len(assignment) + 1 :] if assignment and head.startswith(assignment + "_") else ""
        if not user or user in (".", ".."):
            unplaced.append(entry)
            continue
        try:
            stamp = datetime.strptime(when, "%Y-%m-%d-%H-%M-%S")
        except ValueError:  # no such date (2025-02-30): not a name Blackboard wrote
            unplaced.append(entry)
            continue
        attempts.setdefault(user, {}).setdefault(stamp, []).append((entry, file))
    found: dict[str, Found] = {}
    for user, by_time in attempts.items():
        student = found[user] = Found(user)
        latest = max(by_time)
        if len(by_time) > 1:
            student.notes.append(f"attempt of {latest:%Y-%m-%d %H:%M:%S} graded ({len(by_time) - 1} earlier ignored)")
        receipt = next((e for e, file in by_time[latest] if file is None), None)
        student.name, _, originals = _receipt(receipt.path if receipt else None)
        prefix = f"{assignment}_{user}_attempt_{latest:%Y-%m-%d-%H-%M-%S}"
        for entry, file in by_time[latest]:
            if file is not None:
                logical = originals.get(entry.name, file)
                student.files.append(FileRef(logical, entry, timestamp=latest, lms_name=prefix))
    return found, unplaced


def pack_feedback(
    results: list[StudentResult], out: Path, page_of: Callable[[StudentResult], Path | None], notebook: str
) -> list[Path]:
    """``feedback-blackboard.csv`` for the Grade Center's Work Offline > Upload: score and feedback text."""
    rows = [r for r in results if r.lms_name and not r.student_id.startswith(("unplaced:", "collision:"))]
    if not rows:
        return []
    top = max(r.max_score for r in rows)
    column = f"{rows[0].assignment} [Total Pts: {top:g} Score]"
    header = ["Last Name", "First Name", "Username", column, "Feedback to Learner", "Feedback Format"]
    body = [
        [r.last_name, r.first_name, r.student_id, scaled(r, None), feedback_text(r), "PLAIN_TEXT"]
        for r in sorted(rows, key=lambda r: r.student_id)
    ]
    return [write_csv(out / "feedback-blackboard.csv", header, body)]


RECORD = LMS(
    name="blackboard",
    describe="its name does not follow Blackboard's Assignment_username_attempt_date_file",
    recognises=recognises,
    parse=parse,
    pack_feedback=pack_feedback,
)
