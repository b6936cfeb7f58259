"""Red-team review of the LMS path, through the real command line where it can be.

Each test states an attack by a student (through file and folder names, zip
contents, notebook metadata) or an honest slip of an instructor, and what the
grader must do about it. Tests that fail name a finding of the review; the
others are attacks that the grader already handles, kept as regressions.
Classes are tiny (two or three notebooks) so that each run takes seconds.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

from autograder.archive import ZipLimits
from autograder.collect import collect
from tests.helpers import ROOT, autograded_max, pending_status, run_cli, written_questions
from tests.test_lms import (
    CANVAS_HEADER,
    MOODLE_GRADEBOOK_HEADER,
    good,
    receipt,
    untouched,
    write_csv,
    write_files,
    zip_of,
)

ASSIGNMENT = "corr2d"
ARGS = ("--no-similarity", "--jobs", "1", "--timeout", "10", "--memory", "1G", "--quiet")
DUE = "2025-03-01T23:59"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def run(source: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("grade", ASSIGNMENT, str(source), "--out", str(out), *ARGS, *args)


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def top_score(out: Path) -> float:
    """Full marks of a correct notebook as graded: the autograded points (its written answer awaits review)."""
    top = max(float(r["max_score"]) for r in rows_of(out / "grades.csv").values())
    assert top == autograded_max(ASSIGNMENT) + sum(written_questions(ASSIGNMENT).values()), top
    return autograded_max(ASSIGNMENT)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The one line an exit 2 must print (and no traceback)."""
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-2000:]
    return lines[0]


# --- findings: tests that fail today -------------------------------------------------------------------


def test_moodle_participant_id_is_never_matched_to_another_students_id_number(tmp_path: Path) -> None:
    """Slip (honest, and common): a Moodle gradebook export whose ``ID number`` column holds numbers.

    Participant ids of a Moodle download and the institution's ID numbers are
    both small integers. Here Ann Lee's ID number is 1002, Bob Smith's
    participant id; Bob's ID number is 1001, Ann's participant id. The folder
    ``Bob Smith_1002_...`` must be matched to Bob by its full name (the export
    carries no participant id): a participant id is the LMS's own id and must
    never be looked up among the roster's aliases. Today ``Roster.find`` takes
    the alias first: Bob's correct notebook is graded as Ann's (12/12), Ann's
    untouched notebook as Bob's (0), both rows say ``graded``, and moodle.csv
    imports the swapped grades. Expected: each student graded from their own
    folder.
    """
    root = write_files(
        tmp_path / "download",
        {
            "Bob Smith_1002_assignsubmission_file/corr2d.ipynb": good(),
            "Ann Lee_1001_assignsubmission_file/corr2d.ipynb": untouched(),
        },
    )

    def row(first: str, last: str, number: str, email: str) -> list[str]:
        return [first, last, number, "Uni", "CS", email, "-", "7.00", "1740000000"]

    export = write_csv(
        tmp_path / "export.csv",
        [MOODLE_GRADEBOOK_HEADER, row("Ann", "Lee", "1002", "ann@uni.edu"), row("Bob", "Smith", "1001", "bob@uni.edu")],
    )
    out = tmp_path / "graded"
    proc = run(root, out, "--roster", str(export))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows, top = rows_of(out / "grades.csv"), top_score(out)
    assert float(rows["bob@uni.edu"]["score"]) == top, "Bob's correct notebook was graded as someone else's"
    assert float(rows["ann@uni.edu"]["score"]) < top, "Ann got the grade of Bob's notebook"


def test_canvas_user_id_off_the_roster_is_never_matched_to_another_students_sis_id(tmp_path: Path) -> None:
    """Slip: a Canvas download holds a user not on the gradebook (dropped, or a test student), uid 340999.

    Jane Doe, who sent nothing, has the SIS User ID 340999 (SIS ids and Canvas
    ids are both integers). A Canvas file name carries the Canvas user id, so
    ``340999`` must only ever be looked up as an ``ID``. Today the stranger's
    notebook becomes Jane's: her row says ``graded`` (0, the stranger's
    untouched notebook), canvas.csv imports 0 for her, and the stranger's row
    with ``not on the roster`` vanishes. Expected: Jane ``not submitted``,
    340999 its own row flagged ``not on the roster``.
    """
    root = write_files(
        tmp_path / "download",
        {
            "strangerx_340999_208490288_corr2d.ipynb": untouched(),
            "smithbob_340934_208490284_corr2d.ipynb": good(),
        },
    )
    roster = write_csv(
        tmp_path / "gradebook.csv",
        [
            CANVAS_HEADER,
            ["    Points Possible", "", "", "", "", "20", ""],
            ["Smith, Bob", "340934", "S1", "bsmith@uni.edu", "A", "", ""],
            ["Doe, Jane", "340935", "340999", "jdoe@uni.edu", "A", "", ""],
        ],
    )
    out = tmp_path / "graded"
    proc = run(root, out, "--roster", str(roster))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = rows_of(out / "grades.csv")
    assert rows["340935"]["status"] == "not submitted", rows["340935"]
    assert "340999" in rows and "not on the roster" in rows["340999"]["status"]


def test_student_folders_whose_names_sanitise_alike_keep_their_own_notebooks(tmp_path: Path) -> None:
    """Slip (or a crafted folder in a zip of student folders): folders ``bob`` and ``bob.``.

    ``collect._pick`` stages each notebook at ``staged/<_safe_name(id)>/``, and
    ``_safe_name`` strips trailing dots (and maps ``o'brien`` and ``o_brien``
    alike): both students' notebooks are copied to one path, the second
    overwrites the first, and both are graded from it. Today ``bob`` (a correct
    notebook) scores 0 with ``graded`` and the right SHA-256 receipt, silently.
    Expected: each student graded from their own notebook (distinct staging
    folders), or a stated collision.
    """
    root = write_files(tmp_path / "class", {"bob/corr2d.ipynb": good(), "bob./corr2d.ipynb": untouched()})
    out = tmp_path / "graded"
    proc = run(root, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows, top = rows_of(out / "grades.csv"), top_score(out)
    assert float(rows["bob"]["score"]) == top, "bob was graded from bob.'s notebook"
    assert float(rows["bob."]["score"]) < top


GERMAN_WORKSHEET = [
    "ID",
    "Vollständiger Name",
    "E-Mail-Adresse",
    "Status",
    "Bewertung",
    "Bestwertung",
    "Bewertung kann geändert werden",
    "Zuletzt geändert (Abgabe)",
    "Zuletzt geändert (Bewertung)",
    "Feedback als Kommentar",
]


def test_localised_worksheet_submission_times_charge_lateness_or_are_refused(tmp_path: Path) -> None:
    """Slip: a German grading worksheet (read, since its columns are known) with --due and --late-penalty.

    Moodle prints ``Zuletzt geändert (Abgabe)`` in the downloader's language,
    ``Mittwoch, 5. März 2025, 10:00``. ``parse_datetime`` knows only English
    forms and ``moodle._worksheet`` turns the failure into "no time known":
    a submission four days late gets no penalty, no time in grades.csv and
    nothing says so. Expected: the penalty is charged (4 started days), or the
    run stops with one line naming the date it cannot read.
    """
    root = write_files(tmp_path / "download", {"Ada Lovelace_1001_assignsubmission_file/corr2d.ipynb": good()})
    worksheet = write_csv(
        tmp_path / "bewertungen.csv",
        [
            GERMAN_WORKSHEET,
            [
                "Teilnehmer/in 1001",
                "Ada Lovelace",
                "ada@uni.edu",
                "Zur Bewertung abgegeben",
                "",
                "100,00",
                "Ja",
                "Mittwoch, 5. März 2025, 10:00",
                "-",
                "",
            ],
        ],
    )
    out = tmp_path / "graded"
    proc = run(root, out, "--roster", str(worksheet), "--due", DUE, "--late-penalty", "0.1")
    if proc.returncode == 2:
        assert "März" in one_line_error(proc)
        return
    assert proc.returncode == 0, proc.stderr[-2000:]
    ada = rows_of(out / "grades.csv")["1001"]
    assert float(ada["late_submission_penalty"]) > 0, f"4 days late, no penalty, nothing said: {ada['status']!r}"
    assert ada["timestamp"].startswith("2025-03-05")


def blackboard_attempt(user: str, when: str, data: bytes, original: str = "corr2d.ipynb") -> dict[str, bytes]:
    stored = f"Corr2d_{user}_attempt_{when}_{original}"
    return {
        stored: data,
        f"Corr2d_{user}_attempt_{when}.txt": receipt(user, user.title(), when, stored, original),
    }


def test_extension_row_in_another_case_is_applied_or_refused(tmp_path: Path) -> None:
    """Slip: ``--extensions`` names the Blackboard user ``bsmith`` as ``BSmith``.

    ``check_extensions`` compares case-insensitively, so the row passes as
    "names a student"; ``LatePolicy.extension_for`` then compares the id
    exactly (no roster to fall back on), so the extension is never applied:
    bsmith is charged a late day although the extension file lets her submit
    until 5 March, and nothing says the row went unused. Expected: the
    extension applies (ids compared as the check compares them), or exit 2
    naming the row.
    """
    when = "2025-03-02-09-30-00"
    root = write_files(
        tmp_path / "download",
        {**blackboard_attempt("bsmith", when, good()), **blackboard_attempt("jdoe", when, good())},
    )
    extensions = write_csv(tmp_path / "extensions.csv", [["BSmith", "2025-03-05T12:00"]])
    out = tmp_path / "graded"
    proc = run(root, out, "--due", DUE, "--late-penalty", "0.1", "--extensions", str(extensions))
    if proc.returncode == 2:
        assert "BSmith" in one_line_error(proc)
        return
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = rows_of(out / "grades.csv")
    assert float(rows["bsmith"]["late_submission_penalty"]) == 0, rows["bsmith"]["status"]
    assert rows["bsmith"]["duedate"].startswith("2025-03-05T12:00")
    assert float(rows["jdoe"]["late_submission_penalty"]) > 0  # no extension: charged


def test_blackboard_name_with_an_impossible_date_gets_a_row_not_a_traceback(tmp_path: Path) -> None:
    """Slip: a Blackboard folder where one file was renamed by hand, ``..._attempt_2025-02-30-09-30-00_...``.

    ``blackboard._FIRST`` accepts any digits as a date, and ``parse`` calls
    ``datetime.strptime`` unguarded: the whole run dies with a ValueError
    traceback (exit 1) and nobody is graded. Expected: exit 0, the file in a
    row of its own saying why it could not be placed (or graded without a
    time), everyone else graded.
    """
    root = write_files(
        tmp_path / "download",
        {
            **blackboard_attempt("bsmith", "2025-03-01-09-30-00", good()),
            **blackboard_attempt("jdoe", "2025-02-30-09-30-00", good()),
        },
    )
    out = tmp_path / "graded"
    proc = run(root, out)
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = rows_of(out / "grades.csv")
    assert rows["bsmith"]["status"] == pending_status(ASSIGNMENT)
    assert any("2025-02-30" in sid or "2025-02-30" in r["status"] for sid, r in rows.items())


def test_feedback_blackboard_smart_text_carries_no_markup_a_student_chose(tmp_path: Path) -> None:
    """Attack: a student zips two notebooks named ``<img src=x onerror=alert(1)>.ipynb`` and ``b.ipynb``.

    Her row's status lists the names she chose; feedback-blackboard.csv sends
    that status as ``Feedback to Learner`` with ``Feedback Format`` SMART_TEXT,
    which Blackboard's Grade Center renders as HTML (for her and for the
    instructor). Expected: text that is not HTML (escaped, or format
    PLAIN_TEXT).
    """
    when = "2025-03-02-09-30-00"
    hostile = "<img src=x onerror=alert(1)>.ipynb"
    root = write_files(
        tmp_path / "download",
        {
            **blackboard_attempt("bsmith", when, good()),
            **blackboard_attempt("eve", when, zip_of({hostile: untouched(), "b.ipynb": untouched()}), "work.zip"),
        },
    )
    out = tmp_path / "graded"
    proc = run(root, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out / "feedback-blackboard.csv", newline="", encoding="utf-8") as f:
        eve = next(r for r in csv.DictReader(f) if r["Username"] == "eve")
    html = eve["Feedback Format"] != "PLAIN_TEXT"
    assert not (html and "<img" in eve["Feedback to Learner"]), eve


def test_one_student_cannot_spend_the_whole_runs_extraction_budget(tmp_path: Path) -> None:
    """Attack: in a Moodle download (a zip), one participant folder holds many highly compressible .txt files.

    Members at most ``ratio_floor`` bytes are never ratio-checked, and the
    class download's own members draw on the run's budget only (the
    per-student budget covers a student's nested zips, not their files in the
    download). The attacker's files come first in the zip and use up the run's
    budget, so the victim's notebook is refused "more than the 0 bytes left of
    the extraction budget". Expected: each student's files in the download
    draw on that student's budget too (and .txt files, which only Blackboard's
    receipts need, are not extracted from other LMS's downloads), so the
    victim's notebook is extracted and graded. Limits scaled down for speed.
    """
    limits = ZipLimits(max_total=4 * 2**20, max_student=2**20, max_member=2**20, ratio_floor=2**20)
    members = {f"Mallory Bad_1001_assignsubmission_file/notes{i}.txt": b"a" * (512 * 2**10) for i in range(8)}
    members["Victim Good_1002_assignsubmission_file/corr2d.ipynb"] = good()
    archive = tmp_path / "download.zip"
    archive.write_bytes(zip_of(members))
    collection = collect(archive, "corr2d.ipynb", workdir=tmp_path / "work", limits=limits)
    victim = next(s for s in collection.submissions if s.student_id == "1002")
    assert victim.notebook is not None, victim.problem


# --- regressions: attacks the grader handles today -----------------------------------------------------


def all_csv_cells(out: Path) -> list[tuple[str, str]]:
    cells = []
    for path in sorted(out.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            cells += [(path.name, cell) for row in csv.reader(f) for cell in row]
    return cells


def test_blackboard_forged_attempt_marker_formula_names_and_escaping_zip(tmp_path: Path) -> None:
    """Attacks through Blackboard file names, a username that is a formula, and a student's own zip.

    - ``=evil`` uploads a file whose original name is
      ``x_alice_attempt_2099-12-31-23-59-59_corr2d.ipynb``: the first attempt
      marker is Blackboard's, so the file stays ``=evil``'s, and alice's own
      attempt is graded with her own time (no penalty).
    - every CSV the grader writes (grades.csv, cells.csv, similarity.csv,
      feedback-blackboard.csv) neutralises cells that start like a formula.
    - ``zed`` zips his notebook with members ``../../<escape>.ipynb``,
      ``/abs-<escape>.ipynb`` and a symbolic link: they are refused and named in
      his row, nothing is written outside the extraction folder, his
      ``corr2d.ipynb`` is graded.
    """
    escape = f"redteam-escape-{uuid.uuid4().hex}"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("corr2d.ipynb", good())
        zf.writestr(f"../../{escape}.ipynb", b"{}")
        zf.writestr(f"/abs-{escape}.ipynb", b"{}")
        link = zipfile.ZipInfo(f"link-{escape}.ipynb")
        link.external_attr = (0o120777 << 16) | 0
        zf.writestr(link, "/etc/passwd")
    root = write_files(
        tmp_path / "download",
        {
            **blackboard_attempt("alice", "2025-03-01-09-30-00", good()),
            **blackboard_attempt(
                "=evil", "2025-03-01-10-00-00", untouched(), "x_alice_attempt_2099-12-31-23-59-59_corr2d.ipynb"
            ),
            **blackboard_attempt("zed", "2025-03-01-11-00-00", inner.getvalue(), "corr2d.zip"),
        },
    )
    out = tmp_path / "graded"
    proc = run(root, out, "--due", DUE, "--late-penalty", "0.1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows, top = rows_of(out / "grades.csv"), top_score(out)
    alice = rows["alice"]
    assert float(alice["score"]) == top and alice["timestamp"] == "2025-03-01T09:30:00", alice
    evil = rows["'=evil"]
    assert float(evil["score"]) == 0
    zed = rows["zed"]
    assert float(zed["score"]) == top and "not extracted" in zed["status"], zed
    for name, cell in all_csv_cells(out):
        assert not (cell.startswith(FORMULA_START) and not cell.lstrip("+-").replace(".", "", 1).isdigit()), (
            name,
            cell,
        )
    for folder in {tmp_path, tmp_path.parent, Path("/tmp"), Path(os.environ.get("TMPDIR", "/tmp")), ROOT}:
        assert not list(folder.glob(f"*{escape}*"))


def test_killed_run_keeps_the_previous_set_and_instructor_files(tmp_path: Path) -> None:
    """kill -9 of a full regrade mid-run, then --only, then a full run again.

    The killed run leaves the previous complete set (manifest verifies, so
    ``--only`` merges into it); files the instructor put under DIR/feedback/
    survive every run; a results.json damaged afterwards makes ``--only`` exit
    2 with one line, never a traceback.
    """
    root = write_files(tmp_path / "class", {"alice/corr2d.ipynb": good(), "bob/corr2d.ipynb": untouched()})
    out = tmp_path / "graded"
    first = run(root, out)
    assert first.returncode == 0, first.stderr[-2000:]
    before = (out / "grades.csv").read_bytes()
    notes = out / "feedback" / "notes.txt"
    mine = out / "feedback" / "alice" / "instructor-comments.txt"
    notes.write_text("instructor's own")
    mine.write_text("instructor's own too")

    (root / "bob" / "corr2d.ipynb").write_bytes(good())
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(root), "--out", str(out), *ARGS],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob(".staging-*")):
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "grades.csv").read_bytes() == before
    assert notes.read_text() == "instructor's own" and mine.read_text() == "instructor's own too"

    only = run(root, out, "--only", "bob")
    assert only.returncode == 0, only.stderr[-2000:]
    rows, top = rows_of(out / "grades.csv"), top_score(out)
    assert float(rows["bob"]["score"]) == top and float(rows["alice"]["score"]) == top
    assert not list(out.glob(".staging-*")) and not (out / ".commit").exists()

    again = run(root, out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert notes.read_text() == "instructor's own" and mine.read_text() == "instructor's own too"
    manifest = json.loads((out / "manifest.json").read_text())
    assert "feedback/notes.txt" not in manifest["files"]

    (out / "results.json").write_text('{"students": [')
    broken = run(root, out, "--only", "bob")
    assert broken.returncode == 2
    assert "results.json" in one_line_error(broken)
