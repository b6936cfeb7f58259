"""The spreadsheet path: ``review DIR --export-scores FILE.csv`` and ``--import-scores FILE.csv``.

One row per student and written question: ``student_id, name, question,
points, max_points, items, comment, answer_sha256, answer``. ``items`` are the
rubric keys given (``a c``); blank ``points`` means not graded (the row changes
nothing). An import checks every row before it applies any: the student and
the question must be the class's, the points within 0 and the maximum, the
items the rubric's, and the answer the one exported (its hash): a student
whose answer changed since the export (a regrade) must be graded again.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..csvio import write_csv
from .carry import Class
from .store import Review, answer_sha256

COLUMNS = ["student_id", "name", "question", "points", "max_points", "items", "comment", "answer_sha256", "answer"]
MAX_IMPORT = 32 * 2**20  # bytes of a scores file


class ScoresError(ValueError):
    """A scores file cannot be imported; the message names the first bad row and counts the others."""


def export_scores(klass: Class, path: Path) -> int:
    """Write every student's answer to every written question, with its review if any; return the rows."""
    rows = []
    for question in klass.questions.questions:
        for result, answer in klass.answers(question.grade_id):
            review = klass.reviews.current(result.student_id, question.grade_id, answer)
            rows.append(
                [
                    result.student_id,
                    result.name or " ".join(p for p in (result.first_name, result.last_name) if p),
                    question.grade_id,
                    f"{review.points:g}" if review else "",
                    f"{question.max_points:g}",
                    " ".join(review.items) if review else "",
                    review.comment if review else "",
                    answer_sha256(answer),
                    answer,
                ]
            )
    write_csv(Path(path), COLUMNS, rows)
    return len(rows)


def _unquote(cell: str) -> str:
    """A cell as written before the export made it formula-safe (``'=x`` back to ``=x``)."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r" else cell


def _read(path: Path) -> list[dict[str, str]]:
    try:
        if Path(path).stat().st_size > MAX_IMPORT:
            raise ScoresError(f"{path} is larger than {MAX_IMPORT // 2**20} MB: is it a scores file?")
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScoresError(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("student_id", "question", "points", "items", "comment", "answer_sha256") if c not in header]
    if missing:
        raise ScoresError(f"{path} has no column {', '.join(missing)}: import a file written by --export-scores")
    try:
        return list(reader)
    except csv.Error as exc:
        raise ScoresError(f"{path} is not a CSV file ({exc})") from exc


def import_scores(klass: Class, path: Path) -> int:
    """Check every row of ``path``, then apply them all in one commit; return the reviews set.

    Raises:
        ScoresError: a row names an unknown student or question, points out of range, unknown
            rubric items, a changed answer, or a student and question twice. Nothing is applied.
    """
    rows = _read(path)
    problems: list[str] = []
    accepted: list[tuple[str, str, Review]] = []
    seen: set[tuple[str, str]] = set()
    answers = {q.grade_id: {r.student_id: a for r, a in klass.answers(q.grade_id)} for q in klass.questions.questions}
    for n, row in enumerate(rows, 2):  # row 1 is the header
        sid, gid = (row.get("student_id") or "").strip(), (row.get("question") or "").strip()
        where = f"row {n} ({sid or 'no student'}, {gid or 'no question'})"
        question = klass.question(gid)
        if question is None:
            problems.append(f"{where}: unknown question {gid!r} (questions: {', '.join(klass.questions.ids)})")
            continue
        if sid not in answers[gid]:
            problems.append(f"{where}: unknown student {sid!r}, or no graded answer of theirs to {gid}")
            continue
        if (sid, gid) in seen:
            problems.append(f"{where}: this student and question come twice")
            continue
        seen.add((sid, gid))
        if (row.get("answer_sha256") or "").strip() != answer_sha256(answers[gid][sid]):
            problems.append(f"{where}: the answer changed since the export (regraded?): export again and grade it")
            continue
        points_text = (row.get("points") or "").strip()
        items = (row.get("items") or "").split()
        comment = _unquote(row.get("comment") or "")
        if not points_text:
            if items or comment.strip():
                problems.append(f"{where}: rubric items or a comment without points")
            continue
        try:
            points = float(points_text.replace(",", "."))
        except ValueError:
            problems.append(f"{where}: points {points_text!r} is not a number")
            continue
        if not 0 <= points <= question.max_points or points != points:
            problems.append(f"{where}: points {points_text} out of range 0 to {question.max_points:g}")
            continue
        unknown = [k for k in items if question.item(k) is None]
        if unknown:
            keys = " ".join(i.key for i in question.items)
            problems.append(f"{where}: rubric item(s) {' '.join(unknown)} not in the rubric ({keys})")
            continue
        accepted.append((sid, gid, Review(points, items, comment, answer_sha256(answers[gid][sid]))))
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' * (len(problems) > 2)})" if len(problems) > 1 else ""
        raise ScoresError(f"{Path(path).name} {problems[0]}{more}; nothing was imported")
    for sid, gid, review in accepted:
        klass.reviews.put(sid, gid, review)
    klass.publish()
    return len(accepted)
