"""The instructor's LMS round trip, through the real command line.

Each fixture is one class as an LMS hands it over (a Canvas zip, a Moodle
folder, a Blackboard folder, a zip of student folders), graded once by
``python -m autograder grade``; the tests read what it wrote: grades.csv,
the LMS's grade file parsed the way the LMS's importer reads it, the
receipts, changes.csv after a regrade, report.html and similarity.csv. The
last test runs plain nbgrader on a fresh copy of the course.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from tests.helpers import (
    ROOT,
    autograded_max,
    pending_status,
    release_notebook,
    review,
    run_cli,
    solution_answers,
    solution_notebook,
    submission,
    written_questions,
)

ASSIGNMENT = "corr2d"
GRADE_ARGS = ("--timeout", "10", "--notebook-timeout", "60", "--memory", "1G", "--jobs", "2")
DUE = "2025-03-01T23:59"
ESCAPE = f"lms-test-escape-{uuid.uuid4().hex}.txt"
EVIL = '# </pre><script>alert("pwned")</script>'


# the written question's answer in every good() notebook: the reviews below give it every point
WRITTEN = "A pixel at the border lies in fewer windows than one inside, so $Y$ has $h - k_h + 1$ rows."
TOTAL = autograded_max(ASSIGNMENT) + sum(written_questions(ASSIGNMENT).values())


def good() -> bytes:
    answers = {**solution_answers(ASSIGNMENT), **dict.fromkeys(written_questions(ASSIGNMENT), WRITTEN)}
    return nbformat.writes(submission(ASSIGNMENT, answers)).encode()


def untouched() -> bytes:
    return nbformat.writes(release_notebook(ASSIGNMENT)).encode()


def evil() -> bytes:
    answers = solution_answers(ASSIGNMENT)
    answers[ASSIGNMENT] = answers[ASSIGNMENT].rstrip("\n") + f"\n    {EVIL}\n"
    return nbformat.writes(submission(ASSIGNMENT, answers)).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


SOURCE_SHA = sha((ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes())


@dataclass
class Run:
    """One graded class: the command's output and the files it wrote."""

    out: Path
    proc: subprocess.CompletedProcess
    files: dict[str, bytes]  # submitted file name -> bytes, for the receipts
    unreviewed: Path | None = None  # a copy of ``out`` as grading left it, before the review (see reviewed())

    def rows(self, name: str = "grades.csv") -> dict[str, dict[str, str]]:
        with open(self.out / name, newline="", encoding="utf-8") as f:
            return {r["student_id"]: r for r in csv.DictReader(f)}

    @property
    def grades(self) -> dict[str, dict[str, str]]:
        return self.rows()

    @property
    def top(self) -> float:
        return max(float(r["max_score"]) for r in self.grades.values())


def grade(tmp: Path, source: Path, *args: str, out: Path | None = None, files: dict[str, bytes] | None = None) -> Run:
    out = out or tmp / "graded"
    proc = run_cli("grade", ASSIGNMENT, str(source), "--out", str(out), *GRADE_ARGS, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Run(out, proc, files or {})


def written_points(row: dict[str, str]) -> float:
    """The reviewer's points: every point for the good() notebooks' answer, none for anything else."""
    return float(row["max_points"]) if row["answer"].strip() == WRITTEN else 0.0


def reviewed(run: Run) -> Run:
    """``run`` after the instructor grades every written answer through ``review DIR --import-scores``.

    The LMS files leave a notebook graded but not reviewed blank; after the review they carry its grade.
    The folder as grading left it is kept in ``run.unreviewed``.
    """
    unreviewed = run.out.parent / f"{run.out.name}-unreviewed"
    shutil.copytree(run.out, unreviewed)
    assert review(run.out, written_points) > 0
    return Run(run.out, run.proc, run.files, unreviewed)


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    """An LMS download as files below ``root``: relative name -> content."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


# --- Canvas: a zip as "Download Submissions" makes it, the gradebook export as roster -----------------

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "corr2d (12345)", "Current Score"]
CANVAS_POINTS = 20.0  # the Canvas assignment is worth more than the notebook: grades are scaled


def canvas_roster(path: Path) -> Path:
    people = [
        ("Smith, Bob", "340934", "bsmith"),
        ("Doe, Jane", "340935", "jdoe"),
        ("Lee, Ann", "340936", "alee"),
        ("Bomb, Bo", "340938", "bbomb"),
        ("Zipper, Zoe", "340939", "zzip"),
        ("Evil, Eve", "340941", "eevil"),
        ("Missing, Max", "340937", "mmissing"),
    ]
    rows = [
        CANVAS_HEADER,
        ["", "", "", "", "", "Manual Posting", ""],
        ["    Points Possible", "", "", "", "", "20", "(read only)"],
    ]
    rows += [[name, uid, f"S{uid}", f"{login}@uni.edu", "Section A", "", ""] for name, uid, login in people]
    return write_csv(path, rows)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def canvas(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("canvas")
    files = {
        "smithbob_340934_208490284_corr2d.ipynb": good(),
        "doejane_LATE_340935_208490285_corr2d.ipynb": untouched(),
        "doejane_LATE_340935_208490286_corr2d-1.ipynb": good(),
        "leeann_LATE_340936_208490287_corr2d.ipynb": good(),
        "strangerx_340999_208490288_corr2d.ipynb": good(),
        "bombbo_340938_208490289_corr2d.ipynb": b"\0" * (40 * 2**20),
        "zipperzoe_340939_208490290_corr2d.zip": zip_of({"corr2d.ipynb": untouched()}),
        "evileve_340941_208490291_corr2d.ipynb": evil(),
        "README.txt": b"notes of the download",
        f"../../{ESCAPE}": b"must never be written",
    }
    archive = tmp / "submissions.zip"
    archive.write_bytes(zip_of(files))
    extensions = write_csv(tmp / "extensions.csv", [["student", "due"], ["alee@uni.edu", "2025-03-10T23:59"]])
    run = grade(
        tmp,
        archive,
        "--roster",
        str(canvas_roster(tmp / "gradebook.csv")),
        "--due",
        DUE,
        "--late-penalty",
        "0.1",
        "--extensions",
        str(extensions),
        files=files,
    )
    return reviewed(run)


def parse_canvas_import(path: Path) -> tuple[dict[str, float | None], float, list[str], str]:
    """Read a grades CSV as Canvas's gradebook import does.

    The first row is the header; columns named ``name (id)`` are assignments
    (a name without an id would create a new assignment); a row whose Student
    reads ``Points Possible`` gives the maximum; students are matched by ID;
    an empty cell changes nothing.
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assignments = [h for h in header if re.fullmatch(r".+ \(\d+\)", h)]
    assert len(assignments) == 1, header
    column = header.index(assignments[0])
    points, scores = None, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = float(row[column])
            continue
        value = row[column].strip()
        scores[row[header.index("ID")]] = float(value) if value else None
    assert points is not None, "no Points Possible row"
    return scores, points, header[:column], assignments[0]


def test_canvas_layout_is_detected_and_printed(canvas: Run) -> None:
    """The Canvas download is recognised without --layout, and the command says so."""
    assert "layout: canvas (detected)" in canvas.proc.stderr


def test_canvas_every_roster_student_and_every_file_has_a_row(canvas: Run) -> None:
    """Roster students, the student not on the roster and the two files nobody owns all get a row."""
    rows = canvas.grades
    students = {"340934", "340935", "340936", "340937", "340938", "340939", "340941", "340999"}
    assert students <= set(rows)
    unplaced = {sid: r for sid, r in rows.items() if sid.startswith("unplaced:")}
    assert len(rows) == len(students) + len(unplaced) == len(students) + 2
    readme = unplaced["unplaced:README.txt"]["status"]
    assert "could not tell whose file" in readme and "Canvas" in readme
    escape = next(r for sid, r in unplaced.items() if ESCAPE in sid)["status"]
    assert "not extracted" in escape and "outside" in escape


def test_canvas_zip_never_writes_outside_its_folder(canvas: Run) -> None:
    """The ../../ member of the download was refused: no such file anywhere near the temp folders."""
    for folder in {Path("/tmp"), Path(os.environ.get("TMPDIR", "/tmp")), canvas.out.parent, canvas.out.parent.parent}:
        assert not (folder / ESCAPE).exists()


def test_canvas_roster_names_missing_and_unknown_students(canvas: Run) -> None:
    """Names come from the roster; who sent nothing scores 0 'not submitted'; who is not on it is flagged."""
    rows = canvas.grades
    assert (rows["340934"]["first_name"], rows["340934"]["last_name"]) == ("Bob", "Smith")
    assert rows["340934"]["email"] == "bsmith@uni.edu"
    assert rows["340934"]["status"] == "graded"
    missing = rows["340937"]
    assert missing["status"] == "not submitted" and float(missing["score"]) == 0
    assert (missing["first_name"], missing["last_name"]) == ("Max", "Missing")
    stranger = rows["340999"]
    assert "not on the roster" in stranger["status"] and float(stranger["score"]) == canvas.top


def test_canvas_csv_leaves_notebooks_awaiting_review_blank(canvas: Run) -> None:
    """Graded, not yet reviewed: the status says which points are pending, canvas.csv leaves the student blank."""
    assert canvas.unreviewed is not None
    rows = Run(canvas.unreviewed, canvas.proc, {}).grades
    bob = rows["340934"]
    assert bob["status"] == pending_status(ASSIGNMENT)
    assert (float(bob["score"]), float(bob["max_score"])) == (autograded_max(ASSIGNMENT), TOTAL)
    scores, points, _, _ = parse_canvas_import(canvas.unreviewed / "canvas.csv")
    assert points == CANVAS_POINTS
    for sid in ("340934", "340935", "340936", "340939", "340941"):
        assert rows[sid]["status"].startswith(pending_status(ASSIGNMENT)), rows[sid]["status"]
        assert scores[sid] is None, sid  # Canvas keeps what it has until a person grades the written answer
    assert scores["340937"] == 0 and scores["340938"] is None  # not submitted, refused: as without reviews
    assert set(scores) == {"340934", "340935", "340936", "340937", "340938", "340939", "340941"}


def test_the_review_draws_the_report_and_histogram_again(canvas: Run) -> None:
    """After the review, report.html and scores.png show the reviewed scores; the run's facts and pairs are kept."""
    assert canvas.unreviewed is not None
    before = (canvas.unreviewed / "report.html").read_text(encoding="utf-8")
    after = (canvas.out / "report.html").read_text(encoding="utf-8")
    waiting = "needs manual grading"
    assert before.count(waiting) >= 5 and after.count(waiting) == 0
    assert "Written answers reviewed " in after and "Written answers reviewed " not in before
    assert re.search(r"Graded [\d-]+ [\d:]+ in [\d.]+ s", before).group(0) in after  # the run's own time and mode
    assert (canvas.out / "scores.png").read_bytes() != (canvas.unreviewed / "scores.png").read_bytes()
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', after)
    assert embedded and base64.b64decode(embedded.group(1)) == (canvas.out / "scores.png").read_bytes()
    similar = after.split("<h2>Similar answers</h2>")[1]
    assert similar == before.split("<h2>Similar answers</h2>")[1] and "<mark>" in similar  # the pairs, as graded
    manifest = json.loads((canvas.out / "manifest.json").read_text(encoding="utf-8"))["files"]
    for name in ("report.html", "scores.png", "report.json"):
        assert manifest[name] == hashlib.sha256((canvas.out / name).read_bytes()).hexdigest(), name


def test_canvas_late_marker_resubmission_and_extension(canvas: Run) -> None:
    """_LATE costs the penalty once (no time is known); an extension waives it; the latest -N file counts."""
    jane, ann = canvas.grades["340935"], canvas.grades["340936"]
    assert float(jane["raw_score"]) == canvas.top  # corr2d-1.ipynb, the solution, not the untouched first upload
    assert float(jane["late_submission_penalty"]) == pytest.approx(0.1 * canvas.top)
    assert float(jane["score"]) == pytest.approx(canvas.top - 0.1 * canvas.top)
    assert "marked late by the LMS" in jane["status"] and "once" in jane["status"]
    assert "resubmitted: corr2d-1.ipynb graded" in jane["status"]
    assert jane["duedate"].startswith(DUE)
    assert float(ann["late_submission_penalty"]) == 0 and float(ann["score"]) == canvas.top
    assert "extension" in ann["status"] and ann["duedate"].startswith("2025-03-10T23:59")


def test_canvas_refused_member_and_zipped_notebook(canvas: Run) -> None:
    """The zip bomb's owner gets a row saying why; the notebook a student zipped is graded from the zip."""
    bomb = canvas.grades["340938"]
    assert bomb["status"].startswith(
        "refused: bombbo_340938_208490289_corr2d.ipynb was not extracted: its compression ratio"
    )
    zipped = canvas.grades["340939"]
    assert zipped["status"].startswith("graded") and float(zipped["score"]) == 0


def test_canvas_receipts(canvas: Run) -> None:
    """Each row carries the SHA-256 of the file as submitted and of the source notebook graded against."""
    rows = canvas.grades
    assert rows["340934"]["submission_sha256"] == sha(canvas.files["smithbob_340934_208490284_corr2d.ipynb"])
    assert rows["340935"]["submission_sha256"] == sha(canvas.files["doejane_LATE_340935_208490286_corr2d-1.ipynb"])
    assert rows["340939"]["submission_sha256"] == sha(canvas.files["zipperzoe_340939_208490290_corr2d.zip"])
    assert rows["340937"]["submission_sha256"] == ""
    assert {r["source_sha256"] for r in rows.values()} == {SOURCE_SHA}


def test_canvas_csv_imports_the_way_canvas_reads_it(canvas: Run) -> None:
    """canvas.csv: the roster's identity columns, 'corr2d (12345)', Points Possible, scores scaled to 20."""
    scores, points, identity, column = parse_canvas_import(canvas.out / "canvas.csv")
    assert identity == CANVAS_HEADER[:5]
    assert column == "corr2d (12345)"
    assert points == CANVAS_POINTS
    scale = CANVAS_POINTS / canvas.top
    rows = canvas.grades
    assert scores["340934"] == pytest.approx(canvas.top * scale)
    assert scores["340935"] == pytest.approx(float(rows["340935"]["score"]) * scale, abs=0.01)
    assert scores["340937"] == 0  # not submitted
    assert scores["340938"] is None  # refused: left for the instructor
    assert "340999" not in scores  # not on the roster: Canvas could not place the row
    assert set(scores) == {"340934", "340935", "340936", "340937", "340938", "340939", "340941"}


def parse_moodle_grade_import(path: Path, column: str) -> dict[str, tuple[str, str, str, str]]:
    """Read a file as Moodle's Grades > Import > CSV does: a user column mapped to the user, a grade column."""
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert table and column in table[0] and f"Feedback: {column}" in table[0]
    return {r["ID number"]: (r["Username"], r["Email address"], r[column], r[f"Feedback: {column}"]) for r in table}


def test_canvas_report_is_offline_escaped_and_complete(canvas: Run) -> None:
    """report.html: every section, figures inline, links into the book, nothing a student wrote unescaped."""
    page = (canvas.out / "report.html").read_text(encoding="utf-8")
    for heading in (
        "Scores",
        "Pass rate per test cell",
        "Misconceptions",
        "Pass rate per concept",
        "Slowest submissions",
        "Not graded, or waiting for you",
        "Similar answers",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert page.count('src="data:image/png;base64,') == 1  # the histogram, scores.png
    assert page.count("<svg ") == 2  # the pass rates, per test cell and per concept
    assert not re.search(r'(src|href)="(https?:)?//', page), "the report must work offline"
    assert "<script" not in page
    assert "&lt;script&gt;alert(" in page  # the evil comment, shown as text in the side-by-side view
    link = re.search(r'href="([^"]*_build/html/book/images\.html)#[\w-]+"', page)
    assert link, "no link into the book"
    target = os.path.normpath(canvas.out.resolve() / link.group(1))  # relative to where the report ends up
    assert target == str(ROOT / "_build" / "html" / "book" / "images.html")
    assert "A heuristic, not a verdict" in page
    assert "340938" in page.split("<h2>Not graded, or waiting for you</h2>")[1].split("<h2>")[0]


def test_canvas_similarity_csv(canvas: Run) -> None:
    """similarity.csv: pairs most similar first; copies of the reference answer are identical pairs."""
    with open(canvas.out / "similarity.csv", newline="") as f:
        pairs = list(csv.DictReader(f))
    assert list(pairs[0]) == ["student_a", "student_b", "similarity", "similarity_a", "similarity_b", "shared_tokens"]
    values = [float(p["similarity"]) for p in pairs]
    assert values == sorted(values, reverse=True)
    first = {(p["student_a"], p["student_b"]): float(p["similarity"]) for p in pairs}
    assert first[("340934", "340935")] == pytest.approx(1.0)
    assert not any("340939" in pair for pair in first)  # only the template: nothing to compare


@pytest.fixture(scope="module")
def regraded(canvas: Run, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, dict[str, str]]]:
    """The Canvas class after Zoe resubmits the solution: --only regrades her (and Max, by login) into a copy."""
    tmp = tmp_path_factory.mktemp("regrade")
    out = tmp / "graded"
    shutil.copytree(canvas.out, out)
    before = Run(out, canvas.proc, {}).grades
    files = dict(canvas.files)
    files["zipperzoe_340939_208490290_corr2d.zip"] = zip_of({"corr2d.ipynb": good()})
    archive = tmp / "submissions.zip"
    archive.write_bytes(zip_of(files))
    run = grade(
        tmp,
        archive,
        "--roster",
        str(canvas_roster(tmp / "gradebook.csv")),
        "--due",
        DUE,
        "--late-penalty",
        "0.1",
        "--only",
        "340939,mmissing@uni.edu",
        out=out,
        files=files,
    )
    return run, before


def test_regrade_merges_and_writes_changes(regraded: tuple[Run, dict[str, dict[str, str]]]) -> None:
    """--only: the named students are regraded, everyone else's row is kept as it was, changes.csv says what moved.

    Zoe's new written answer is not the one reviewed: it awaits review again (blank in canvas.csv) until the
    instructor grades it; everyone else keeps their review.
    """
    run, before = regraded
    after = run.grades
    assert set(after) == set(before)
    for sid in set(before) - {"340939", "340937"}:
        assert after[sid] == before[sid], sid
    zoe_row = after["340939"]
    assert float(zoe_row["score"]) == autograded_max(ASSIGNMENT)
    assert zoe_row["status"].startswith(pending_status(ASSIGNMENT))
    assert "written answer written_border changed since it was reviewed" in zoe_row["status"]
    assert zoe_row["submission_sha256"] == sha(run.files["zipperzoe_340939_208490290_corr2d.zip"])
    changes = run.rows("changes.csv")
    assert set(changes) == {"340939", "340937"}
    zoe = changes["340939"]
    assert (float(zoe["before"]), float(zoe["after"])) == (0, autograded_max(ASSIGNMENT))
    assert re.search(r"test_\w+ 0->[1-9]", zoe["cells"])
    assert changes["340937"]["cells"] == "" and changes["340937"]["status_after"] == "not submitted"
    scores, _, _, _ = parse_canvas_import(run.out / "canvas.csv")
    assert scores["340939"] is None and scores["340934"] == pytest.approx(CANVAS_POINTS)
    assert (run.out / "feedback" / "340934" / f"{ASSIGNMENT}.html").is_file()  # others' feedback kept
    assert "2 regraded of" in run.proc.stderr
    review(run.out, written_points)  # the instructor grades Zoe's new answer
    zoe_row = run.grades["340939"]
    assert float(zoe_row["score"]) == run.top == TOTAL and zoe_row["status"] == "graded"
    scores, _, _, _ = parse_canvas_import(run.out / "canvas.csv")
    assert scores["340939"] == pytest.approx(CANVAS_POINTS)


def test_regrade_of_an_unknown_student_is_refused(canvas: Run, tmp_path: Path) -> None:
    """--only with an id that is neither submitted nor on the roster exits 2 with one line."""
    out = tmp_path / "graded"
    shutil.copytree(canvas.out, out)
    archive = tmp_path / "submissions.zip"
    archive.write_bytes(zip_of({"smithbob_340934_208490284_corr2d.ipynb": good()}))
    proc = run_cli("grade", ASSIGNMENT, str(archive), "--out", str(out), "--only", "nobody", "--quiet")
    assert proc.returncode == 2
    assert "--only: no submission from nobody" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# --- Moodle: participant folders, the grading worksheet as roster, submission times from it ---------

MOODLE_HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]
HOSTILE_NAME = "Katherine <b onmouseover=alert(1)>Johnson</b>"


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("moodle")
    root = tmp / "Course-corr2d-42"
    files = {
        "Ada Lovelace_1001_assignsubmission_file_/corr2d.ipynb": good(),
        "Ada Lovelace_1001_assignsubmission_onlinetext_/onlinetext.html": b"<p>see the notebook</p>",
        "Alan Turing_1002_assignsubmission_file_/corr2d.ipynb": good(),
        "Grace Hopper_1003_assignsubmission_file_/corr2d.ipynb": good(),
        "Mallory Bad_1009_assignsubmission_file_/corr2d.ipynb": untouched(),
    }
    write_files(root, files)

    def row(pid: str, name: str, status: str, submitted: str) -> list[str]:
        return [f"Participant {pid}", name, f"{pid}@uni.edu", status, "", "100.00", "Yes", submitted, "-", ""]

    worksheet = write_csv(
        tmp / "worksheet.csv",
        [
            MOODLE_HEADER,
            row("1001", "Ada Lovelace", "Submitted for grading", "Saturday, 1 March 2025, 10:00 PM"),
            row("1002", "Alan Turing", "Submitted for grading", "Sunday, 2 March 2025, 12:29 AM"),
            row("1003", "Grace Hopper", "Submitted for grading", "Tuesday, 4 March 2025, 1:00 AM"),
            row("1004", HOSTILE_NAME, "No submission", "-"),
        ],
    )
    return reviewed(grade(tmp, root, "--roster", str(worksheet), "--due", DUE, "--late-penalty", "0.1", files=files))


def parse_moodle_import(path: Path) -> dict[str, tuple[float | None, int | None, str]]:
    """Read a worksheet as Moodle's offline grading import does (assignfeedback_offline_grade_importer).

    Columns are found by their exact headers; Identifier, Grade and Last
    modified (grade) must all be there or the import fails; the id is the
    Identifier without 'Participant '; an empty grade is skipped.
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        assert required in header, f"Moodle refuses a worksheet without {required!r}"
    ident, grade_at, modified_at = (header.index(h) for h in ("Identifier", "Grade", "Last modified (grade)"))
    feedback_at = header.index("Feedback comments")
    parsed = {}
    for row in rows[1:]:
        pid = row[ident].removeprefix("Participant ")
        value = row[grade_at].strip()
        stamp = row[modified_at].strip()
        when = int(datetime.fromisoformat(stamp).timestamp()) if stamp and stamp != "-" else None  # PHP strtotime
        parsed[pid] = (float(value) if value else None, when, row[feedback_at])
    return parsed


def test_moodle_layout_roster_and_unknown_participant(moodle: Run) -> None:
    """Participant folders are found, names come from the worksheet, who is not on it is flagged."""
    assert "layout: moodle (detected)" in moodle.proc.stderr
    rows = moodle.grades
    assert set(rows) == {"1001", "1002", "1003", "1004", "1009"}
    assert (rows["1001"]["first_name"], rows["1001"]["last_name"], rows["1001"]["email"]) == (
        "Ada",
        "Lovelace",
        "1001@uni.edu",
    )
    assert rows["1001"]["status"] == "graded"
    assert rows["1004"]["status"] == "not submitted" and float(rows["1004"]["score"]) == 0
    assert "not on the roster" in rows["1009"]["status"]


def test_moodle_late_penalty_per_started_day_from_the_worksheet_times(moodle: Run) -> None:
    """30 minutes late costs one day's penalty, 2 days and an hour three; the times land in grades.csv."""
    rows, top = moodle.grades, moodle.top
    assert float(rows["1001"]["late_submission_penalty"]) == 0
    assert rows["1002"]["timestamp"] == "2025-03-02T00:29:00"
    assert float(rows["1002"]["late_submission_penalty"]) == pytest.approx(0.1 * top)
    assert "late by 30 min" in rows["1002"]["status"] and "1 started day" in rows["1002"]["status"]
    assert float(rows["1003"]["late_submission_penalty"]) == pytest.approx(0.3 * top)
    assert float(rows["1003"]["score"]) == pytest.approx(0.7 * top)
    assert "late by 2 days 1 h" in rows["1003"]["status"]


def test_moodle_csv_imports_the_way_moodle_reads_it(moodle: Run) -> None:
    """moodle.csv: the worksheet with grades out of Moodle's 100, a fresh 'Last modified (grade)', feedback."""
    parsed = parse_moodle_import(moodle.out / "moodle.csv")
    assert set(parsed) == {"1001", "1002", "1003", "1004"}  # the participant Moodle does not know is left out
    grades = moodle.grades
    for pid in ("1001", "1002", "1003"):
        value, when, feedback = parsed[pid]
        assert value == pytest.approx(float(grades[pid]["score"]) * 100 / moodle.top, abs=0.01)
        assert value is not None and 0 <= value <= 100  # Moodle skips grades above the maximum
        assert when is not None and abs(when - datetime.now(UTC).timestamp()) < 3600  # not stale
        assert feedback.startswith(f"{ASSIGNMENT}: ")
    assert parsed["1004"][0] == 0
    assert "late" in parsed["1003"][2]
    assert moodle.unreviewed is not None  # as grading left it: the written answers await review, Moodle keeps its grade
    pending = parse_moodle_import(moodle.unreviewed / "moodle.csv")
    assert {pid: pending[pid][0] for pid in ("1001", "1002", "1003", "1004")} == dict.fromkeys(
        ("1001", "1002", "1003"), None
    ) | {"1004": 0}


def test_moodle_report_escapes_names(moodle: Run) -> None:
    """A name with markup in the roster is shown as text in the report."""
    page = (moodle.out / "report.html").read_text(encoding="utf-8")
    assert "<b onmouseover" not in page
    assert "Katherine &lt;b onmouseover=alert(1)&gt;Johnson&lt;/b&gt;" in page


# --- Moodle: the gradebook export (Grades > Export) as roster: no participant ids, no maximum ----------

MOODLE_GRADEBOOK_HEADER = [
    "First name",
    "Last name",
    "ID number",
    "Institution",
    "Department",
    "Email address",
    f"Assignment: {ASSIGNMENT} (Real)",
    "Quiz: Week 1 (Real)",
    "Last downloaded from this course",
]


@pytest.fixture(scope="module")
def moodle_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("moodle_gradebook")
    root = tmp / "Course-corr2d-42"
    files = {
        "Ada Lovelace_2001_assignsubmission_file_/corr2d.ipynb": good(),
        "alan  TURING_2002_assignsubmission_file_/corr2d.ipynb": untouched(),
        "Sam Smith_2003_assignsubmission_file_/corr2d.ipynb": good(),  # two Sam Smiths: no guess
        "Eve Unknown_2009_assignsubmission_file_/corr2d.ipynb": good(),
    }
    write_files(root, files)

    def row(first: str, last: str, number: str, email: str) -> list[str]:
        return [first, last, number, "Uni", "CS", email, "-", "7.00", "1740000000"]

    export = write_csv(
        tmp / "export.csv",
        [
            MOODLE_GRADEBOOK_HEADER,
            row("Ada", "Lovelace", "s1", "ada@uni.edu"),
            row("Alan", "Turing", "s2", "alan@uni.edu"),
            row("Sam", "Smith", "s3", "sam1@uni.edu"),
            row("Sam", "Smith", "s4", "sam2@uni.edu"),
            row("Grace", "Hopper", "s5", "grace@uni.edu"),
        ],
    )
    return reviewed(grade(tmp, root, "--roster", str(export), "--no-similarity", files=files))


def test_moodle_gradebook_export_matches_folders_by_full_name(moodle_gradebook: Run) -> None:
    """Participant folders are matched by full name; an ambiguous or unknown name is flagged, not guessed."""
    rows = moodle_gradebook.grades
    assert rows["ada@uni.edu"]["status"] == "graded" and float(rows["ada@uni.edu"]["score"]) == moodle_gradebook.top
    assert (rows["ada@uni.edu"]["first_name"], rows["ada@uni.edu"]["last_name"]) == ("Ada", "Lovelace")
    assert rows["alan@uni.edu"]["status"] == "graded" and float(rows["alan@uni.edu"]["score"]) < moodle_gradebook.top
    assert "not on the roster" in rows["2009"]["status"]
    sam = rows["collision:2003"]
    assert sam["status"].startswith("collision: its name 'Sam Smith' fits 2 roster students")
    assert "sam1@uni.edu" in sam["status"] and "sam2@uni.edu" in sam["status"]
    for twin in ("sam1@uni.edu", "sam2@uni.edu"):
        assert rows[twin]["status"].startswith("ambiguous: the submissions collision:2003 may be this student's")
    # Eve's folder matches no one, so it may be Grace's under another name: blank, never a 0
    assert rows["grace@uni.edu"]["status"].startswith("ambiguous: the submissions 2009 may be this student's")


def test_moodle_gradebook_import_file(moodle_gradebook: Run) -> None:
    """moodle.csv for Grades > Import: the export's user columns, the assignment's column in points, feedback."""
    with open(moodle_gradebook.out / "moodle.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    column = f"Assignment: {ASSIGNMENT} (Real)"
    assert list(table[0]) == [
        "First name",
        "Last name",
        "ID number",
        "Institution",
        "Department",
        "Email address",
        column,
        f"Feedback: {column}",
    ]
    by_email = {r["Email address"]: r for r in table}
    assert set(by_email) == {"ada@uni.edu", "alan@uni.edu", "sam1@uni.edu", "sam2@uni.edu", "grace@uni.edu"}
    grades = moodle_gradebook.grades
    for email in ("ada@uni.edu", "alan@uni.edu"):
        assert float(by_email[email][column]) == pytest.approx(float(grades[email]["score"]))
    for email in ("sam1@uni.edu", "sam2@uni.edu", "grace@uni.edu"):
        assert by_email[email][column] == "", email  # the LMS keeps what it has
    assert moodle_gradebook.unreviewed is not None  # before the review: blank too, for whoever awaits it
    with open(moodle_gradebook.unreviewed / "moodle.csv", newline="", encoding="utf-8") as f:
        pending = {r["Email address"]: r[column] for r in csv.DictReader(f)}
    assert pending == dict.fromkeys(by_email, "")
    assert by_email["ada@uni.edu"][f"Feedback: {column}"].startswith(f"{ASSIGNMENT}: ")
    assert not (moodle_gradebook.out / "canvas.csv").exists()  # only the roster's own LMS gets a file


# --- Blackboard: attempts with timestamps and receipts; extensions; no roster ---------------------------


def receipt(user: str, name: str, when: str, stored: str, original: str) -> bytes:
    return (
        f"Name: {name} ({user})\nAssignment: Corr2d\nDate Submitted: {when}\nCurrent Grade: Needs Grading\n\n"
        "Submission Field:\nThere is no student submission text data for this assignment.\n\n"
        "Comments:\nThere are no student comments for this assignment.\n\n"
        f"Files:\n\tOriginal filename: {original}\n\tFilename: {stored}\n"
    ).encode()


@pytest.fixture(scope="module")
def blackboard(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("blackboard")
    root = tmp / "gradebook_corr2d"
    root.mkdir()
    first, latest = "2025-03-01-10-00-00", "2025-03-02-09-30-00"
    files = {
        f"Corr2d_bsmith_attempt_{first}_corr2d.ipynb": untouched(),
        f"Corr2d_bsmith_attempt_{first}.txt": receipt(
            "bsmith", "Bob Smith", "1 March", f"Corr2d_bsmith_attempt_{first}_corr2d.ipynb", "corr2d.ipynb"
        ),
        f"Corr2d_bsmith_attempt_{latest}_corr2d.ipynb": good(),
        f"Corr2d_bsmith_attempt_{latest}.txt": receipt(
            "bsmith", "Bob Smith", "2 March", f"Corr2d_bsmith_attempt_{latest}_corr2d.ipynb", "corr2d.ipynb"
        ),
        "Corr2d_jdoe_attempt_2025-03-03-12-00-00_my_work.ipynb": good(),
        "Corr2d_jdoe_attempt_2025-03-03-12-00-00.txt": receipt(
            "jdoe", "Jane Doe", "3 March", "Corr2d_jdoe_attempt_2025-03-03-12-00-00_my_work.ipynb", "corr2d.ipynb"
        ),
        "Corr2d_akim_attempt_2025-02-28-08-00-00_corr2d.ipynb": good(),
    }
    write_files(root, files)
    extensions = write_csv(tmp / "extensions.csv", [["jdoe", "2025-03-05T12:00"]])
    args = ("--due", DUE, "--late-penalty", "0.25", "--extensions", str(extensions))
    return reviewed(grade(tmp, root, *args, files=files))


def test_blackboard_attempts_timestamps_and_extensions(blackboard: Run) -> None:
    """The latest attempt counts and its time decides lateness; an extension moves the due date."""
    assert "layout: blackboard (detected)" in blackboard.proc.stderr
    rows, top = blackboard.grades, blackboard.top
    assert set(rows) == {"bsmith", "jdoe", "akim"}
    bob = rows["bsmith"]
    assert (bob["first_name"], bob["last_name"]) == ("Bob", "Smith")  # from the receipt
    assert float(bob["raw_score"]) == top and "1 earlier ignored" in bob["status"]
    assert bob["timestamp"] == "2025-03-02T09:30:00"
    assert float(bob["late_submission_penalty"]) == pytest.approx(0.25 * top)
    assert "late by 9 h 31 min" in bob["status"]
    assert bob["submission_sha256"] == sha(blackboard.files["Corr2d_bsmith_attempt_2025-03-02-09-30-00_corr2d.ipynb"])
    jane = rows["jdoe"]
    assert float(jane["late_submission_penalty"]) == 0 and float(jane["score"]) == top
    assert jane["duedate"].startswith("2025-03-05T12:00")
    assert "my_work" not in jane["status"]  # graded under the original file name the receipt gives
    assert float(rows["akim"]["score"]) == top and rows["akim"]["status"] == "graded"
    assert not (blackboard.out / "canvas.csv").exists() and not (blackboard.out / "moodle.csv").exists()


# --- student folders in a wrapped zip, matched to a Canvas roster by login and SIS id -------------------

HOSTILE_FOLDER = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("folders")
    files = {
        "export/bsmith@uni.edu/corr2d.ipynb": good(),
        "export/S340935/corr2d (1).ipynb": untouched(),
        f"export/{HOSTILE_FOLDER}/corr2d.ipynb": b"",
    }
    archive = tmp / "class.zip"
    archive.write_bytes(zip_of(files))
    roster = write_csv(
        tmp / "roster.csv",
        [
            CANVAS_HEADER,
            ["    Points Possible", "", "", "", "", "12", ""],
            ["Smith, Bob", "340934", "S340934", "bsmith@uni.edu", "A", "", ""],
            ["Doe, Jane", "340935", "S340935", "jdoe@uni.edu", "A", "", ""],
        ],
    )
    return reviewed(grade(tmp, archive, "--roster", str(roster), "--no-similarity", files=files))


def test_folders_matched_to_roster_by_alias(folders: Run) -> None:
    """Folders named by login or SIS id become the students' Canvas ids; the stranger folder is flagged."""
    assert "layout: folders (detected)" in folders.proc.stderr
    rows = folders.grades
    assert {"340934", "340935", HOSTILE_FOLDER} == set(rows)
    assert rows["340934"]["status"] == "graded" and rows["340934"]["last_name"] == "Smith"
    assert "corr2d (1).ipynb" in rows["340935"]["status"]
    assert (
        rows[HOSTILE_FOLDER]["status"].startswith("not graded")
        and "not on the roster" in rows[HOSTILE_FOLDER]["status"]
    )
    page = (folders.out / "report.html").read_text(encoding="utf-8")
    assert HOSTILE_FOLDER not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# --- the command line itself --------------------------------------------------------------------------


def test_help_lists_every_command_and_option_with_examples() -> None:
    """`python -m autograder --help` shows each command, each of its options and examples."""
    from autograder.cli import build_parser

    proc = run_cli("--help")
    assert proc.returncode == 0
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        assert f"python -m autograder {name}" in proc.stdout
        for action in sub._actions:
            for option in action.option_strings:
                assert option in proc.stdout, f"{name} {option} missing from --help"
    assert proc.stdout.count("examples:") == len(subparsers.choices)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--roster", "no-such-roster.csv"), "cannot read the roster"),
        (("--due", "next friday"), "ISO 8601"),
        (("--late-penalty", "5"), "not a fraction"),
    ],
)
def test_bad_lms_options_exit_2_with_one_line(args: tuple[str, ...], words: str, tmp_path: Path) -> None:
    """A roster, date or penalty the grader cannot use stops it before grading, with one line."""
    folder = tmp_path / "subs" / "alice"
    folder.mkdir(parents=True)
    (folder / "corr2d.ipynb").write_bytes(good())
    proc = run_cli("grade", ASSIGNMENT, str(tmp_path / "subs"), "--out", str(tmp_path / "out"), *args)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 or "usage:" in proc.stderr


# --- plain nbgrader on a fresh copy of the course ---------------------------------------------------------


def fresh_copy(target: Path) -> Path:
    """The course as a fresh clone has it: the files git tracks (and new ones it does not ignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_plain_nbgrader_works_on_a_fresh_copy(tmp_path: Path) -> None:
    """After make, nbgrader generate_assignment, autograde and export work with only the venv's bin on PATH."""
    course = fresh_copy(tmp_path / "course")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home)}
    installed = subprocess.run(
        [sys.executable, "-c", "import autograder.checks"], cwd=home, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, "the course package is not installed in the venv: run make\n" + installed.stderr

    def nbgrader(*args: str) -> None:
        proc = subprocess.run(["nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"

    nbgrader("generate_assignment", ASSIGNMENT, "--force")
    assert (course / "gradebook.db").is_file() and not (course / "_build").exists()
    ignored = subprocess.run(["git", "check-ignore", "-q", "gradebook.db"], cwd=ROOT)
    assert ignored.returncode == 0, "gradebook.db at the course root must be git-ignored"
    for student, nb in (("alice", solution_notebook(ASSIGNMENT)), ("bob", release_notebook(ASSIGNMENT))):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    nbgrader("autograde", ASSIGNMENT)
    nbgrader("export")
    with open(course / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    # nbgrader, too, leaves the written answer to a person: the autograded points until then
    assert float(rows["alice"]["score"]) == autograded_max(ASSIGNMENT) > 0
    assert float(rows["alice"]["max_score"]) == TOTAL
    assert float(rows["bob"]["score"]) == 0
