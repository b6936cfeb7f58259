"""The LMS path through the real command line: whose notebook it is, loud slips, nothing lost, feedback back.

Each test grades a tiny class (two or three notebooks) the way an instructor
would, including the attacks a student can make through names and the slips
an instructor makes, and reads what the grader wrote.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ROOT, autograded_max, pending_status, run_cli
from tests.test_lms import (
    ASSIGNMENT,
    DUE,
    GRADE_ARGS,
    TOTAL,
    WRITTEN,
    Run,
    canvas_roster,
    good,
    grade,
    parse_canvas_import,
    reviewed,
    untouched,
    write_csv,
    write_files,
    zip_of,
)

QUICK = ("--no-similarity",)
FULL = autograded_max(ASSIGNMENT)  # a correct notebook's score until its written answer is reviewed


def refused(tmp: Path, source: Path, *args: str) -> str:
    """Run a grade that must be refused: exit 2 and one line on stderr; return that line."""
    proc = run_cli("grade", ASSIGNMENT, str(source), "--out", str(tmp / "graded"), *GRADE_ARGS, *QUICK, *args)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# --- whose notebook is it ----------------------------------------------------------------------------


def test_blackboard_a_crafted_file_name_cannot_become_another_students_attempt(tmp_path: Path) -> None:
    """Mallory uploads 'x_alice_attempt_2099-..._corr2d.ipynb': it stays Mallory's; Alice keeps full marks, no penalty."""
    stamp = "2025-03-01-10-00-00"
    files = {
        f"Corr2d_alice_attempt_{stamp}_corr2d.ipynb": good(),
        f"Corr2d_mallory_attempt_{stamp}_x_alice_attempt_2099-12-31-23-59-59_corr2d.ipynb": untouched(),
    }
    run = grade(tmp_path, write_files(tmp_path / "dl", files), "--due", DUE, "--late-penalty", "0.5", *QUICK)
    rows = run.grades
    assert set(rows) == {"alice", "mallory"}
    assert float(rows["alice"]["score"]) == FULL and rows["alice"]["late_submission_penalty"] == "0"
    assert rows["alice"]["timestamp"].startswith("2025-03-01")
    assert float(rows["mallory"]["score"]) < FULL


def test_moodle_a_folder_carrying_another_participants_marker_grades_no_one_else(tmp_path: Path) -> None:
    """A folder name holding a second '_<id>_assignsubmission_file_' is placed nowhere; the victim keeps 12/12.

    (12 autograded points; the written answer awaits review, as anyone's.)
    """
    files = {
        "Vic Tim_1001_assignsubmission_file/corr2d.ipynb": good(),
        "Mal X_1002_assignsubmission_file__1001_assignsubmission_file_/corr2d-9.ipynb": untouched(),
        "Ann Other_1003_assignsubmission_file_/corr2d.ipynb": good(),
    }
    run = grade(tmp_path, write_files(tmp_path / "dl", files), *QUICK)
    rows = run.grades
    assert float(rows["1001"]["score"]) == FULL and rows["1001"]["status"] == pending_status(ASSIGNMENT)
    [stray] = [r for sid, r in rows.items() if sid.startswith("unplaced:")]
    assert "could not tell whose file" in stray["status"] and "Mal X_1002" in stray["student_id"]


@pytest.fixture(scope="module")
def collided(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("collided")
    files = {
        "S340934/corr2d.ipynb": untouched(),
        "340934/corr2d.ipynb": good(),
        "jdoe@uni.edu/corr2d.ipynb": good(),
    }
    root = write_files(tmp / "dl", files)
    return reviewed(grade(tmp, root, "--roster", str(canvas_roster(tmp / "gradebook.csv")), *QUICK, files=files))


def test_two_submissions_of_one_student_are_both_graded_and_flagged(collided: Run) -> None:
    """A folder named by SIS id and one by Canvas id: two rows, both graded, the student left blank in canvas.csv.

    Blank even once the written answers are reviewed (the review leaves a collision as it is).
    """
    assert collided.unreviewed is not None
    graded = Run(collided.unreviewed, collided.proc, {}).grades  # as grading left it
    a, b = graded["collision:340934"], graded["collision:S340934"]
    assert a["status"].startswith("collision: this submission and S340934 all belong to roster student Smith, Bob")
    assert float(a["score"]) == FULL and float(b["score"]) < FULL  # each graded as it is
    assert graded["340935"]["status"] == pending_status(ASSIGNMENT)
    rows = collided.grades  # reviewed
    assert rows["collision:340934"] == a and rows["collision:S340934"] == b
    assert rows["340934"]["status"].startswith("ambiguous: the submissions collision:340934, collision:S340934")
    assert rows["340935"]["status"] == "graded"  # a folder named by e-mail is matched to the Canvas id
    assert float(rows["340935"]["score"]) == TOTAL
    assert "layout: folders (detected), 3 student(s)" in collided.proc.stderr
    scores, _, _, _ = parse_canvas_import(collided.out / "canvas.csv")
    assert scores["340934"] is None and scores["340935"] == pytest.approx(20.0)


def test_canvas_student_called_points_possible_does_not_rescale_the_class(tmp_path: Path) -> None:
    files = {"possiblepoints_340950_1_corr2d.ipynb": good(), "smithbob_340934_2_corr2d.ipynb": good()}
    roster = canvas_roster(tmp_path / "gradebook.csv")
    with open(roster, "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["Points Possible, Mal", "340950", "S340950", "mal@uni.edu", "Section A", "", ""])
    run = reviewed(grade(tmp_path, write_files(tmp_path / "dl", files), "--roster", str(roster), *QUICK))
    scores, points, _, _ = parse_canvas_import(run.out / "canvas.csv")
    assert points == 20.0 and scores["340950"] == pytest.approx(20.0) and scores["340934"] == pytest.approx(20.0)


# --- loud, never silent --------------------------------------------------------------------------------


def moodle_download(tmp: Path) -> Path:
    return write_files(
        tmp / "dl",
        {f"Student {n}_{1000 + n}_assignsubmission_file/corr2d.ipynb": good() for n in range(4)},
    )


def test_the_other_lms_roster_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, moodle_download(tmp_path), "--roster", str(canvas_roster(tmp_path / "gradebook.csv")))
    assert "matches 0 of the 4 submissions (a moodle download)" in line and "another course" in line
    assert not (tmp_path / "graded" / "grades.csv").exists()


def test_notebooks_of_another_assignment_are_refused_or_named(tmp_path: Path) -> None:
    from autograder.samples import release_notebook

    other = nbformat.writes(release_notebook("kernels")).encode()
    all_other = write_files(tmp_path / "all", {"ann/kernels.ipynb": other, "bob/kernels.ipynb": other})
    line = refused(tmp_path, all_other)
    assert "2 of the 2 notebooks are the assignment kernels's, not corr2d's" in line
    one = write_files(tmp_path / "one", {"ann/corr2d.ipynb": good(), "bob/corr2d.ipynb": good(), "cy/k.ipynb": other})
    run = grade(tmp_path, one, *QUICK, out=tmp_path / "g1")
    assert run.grades["cy"]["status"].startswith("not graded: this is the notebook of the assignment kernels")


def test_extensions_naming_nobody_are_refused(tmp_path: Path) -> None:
    extensions = write_csv(tmp_path / "ext.csv", [["student", "due"], ["1001", "2025-03-09"], ["nobody", "2025-03-09"]])
    line = refused(tmp_path, moodle_download(tmp_path), "--extensions", str(extensions))
    assert "--extensions names 1 student(s) not in this class: nobody" in line


# --- --only and what it merges into -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def late_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("late")
    files = {"smithbob_LATE_340934_1_corr2d.ipynb": good(), "doejane_340935_2_corr2d.ipynb": untouched()}
    source = tmp / "dl.zip"
    source.write_bytes(zip_of(files))
    roster = canvas_roster(tmp / "gradebook.csv")
    reviewed(grade(tmp, source, "--roster", str(roster), "--due", DUE, "--late-penalty", "0.25", *QUICK))
    return tmp, source, roster


def test_only_reuses_the_runs_options(late_class: tuple[Path, Path, Path], tmp_path: Path) -> None:
    tmp, source, _ = late_class
    out = tmp_path / "graded"
    shutil.copytree(tmp / "graded", out)
    before = Run(out, None, {}).grades  # type: ignore[arg-type]
    run = grade(tmp_path, source, "--only", "340934", *QUICK, out=out)
    after = run.grades
    assert after == before  # same penalty, due date, names, the same answer's review; nothing else moved
    assert after["340934"]["status"].startswith("graded")
    assert after["340934"]["late_submission_penalty"] == f"{0.25 * TOTAL:g}"
    assert after["340934"]["duedate"].startswith("2025-03-01")
    assert after["340934"]["first_name"] == "Bob"
    scores, _, _, _ = parse_canvas_import(out / "canvas.csv")
    assert scores["340934"] == pytest.approx(15.0)


@pytest.mark.parametrize(
    "args, words",
    [
        (("--due", "2025-03-02T23:59"), "--due 2025-03-02T23:59 differs from the run --only merges into"),
        (("--late-penalty", "0.5"), "--late-penalty 0.5 differs from the run --only merges into (0.25)"),
    ],
)
def test_only_refuses_conflicting_options(
    late_class: tuple[Path, Path, Path], tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    tmp, source, _ = late_class
    shutil.copytree(tmp / "graded", tmp_path / "graded")
    assert words in refused(tmp_path, source, "--only", "340934", *args)


def test_only_refuses_a_folder_that_is_not_one_complete_run(
    late_class: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    tmp, source, _ = late_class
    out = tmp_path / "graded"
    shutil.copytree(tmp / "graded", out)
    data = (out / "results.json").read_bytes()
    (out / "results.json").write_bytes(data[: len(data) // 2])  # truncated
    assert "results.json changed since the run that wrote it" in refused(tmp_path, source, "--only", "340934")
    (out / "manifest.json").unlink()
    assert "holds no complete grading run" in refused(tmp_path, source, "--only", "340934")


def test_a_new_run_keeps_the_instructors_files_and_drops_its_own_stale_ones(
    late_class: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    tmp, source, _ = late_class
    out = tmp_path / "graded"
    shutil.copytree(tmp / "graded", out)
    assert (out / "canvas.csv").exists()
    (out / "feedback" / "340934" / "comments.txt").write_text("the instructor's note")
    (out / "my-notes.md").write_text("mine")
    grade(tmp_path, source, *QUICK, out=out)  # no roster this time
    assert not (out / "canvas.csv").exists()
    assert (out / "feedback" / "340934" / "comments.txt").read_text() == "the instructor's note"
    assert (out / "my-notes.md").exists()


# --- killed runs ----------------------------------------------------------------------------------------------


def start_grading(source: Path, out: Path, tmpdir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(source), "--out", str(out), *GRADE_ARGS, *QUICK],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("point", ["collecting", "grading", "staged"])
def test_sigkill_at_any_point_leaves_one_complete_set(
    late_class: tuple[Path, Path, Path], tmp_path: Path, point: str
) -> None:
    """SIGKILL while collecting, while grading, with the set staged: DIR keeps the previous complete run.

    (A kill after the commit point, while files move, is tests/unit/test_outputs.py's: the window is too
    short to hit from outside.)
    """
    tmp, source, _ = late_class
    out = tmp_path / "graded"
    shutil.copytree(tmp / "graded", out)
    before = (out / "manifest.json").read_bytes()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = start_grading(source, out, scratch)
    conditions = {
        "collecting": lambda: any(out.glob(".scratch-*/archive")),
        "grading": lambda: any(out.glob(".staging-*/gradebook.db")),
        "staged": lambda: any(out.glob(".staging-*/scores.png")),
    }
    reached = wait_for(conditions[point], proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reached, f"the run ended before {point!r}"
    assert (out / "manifest.json").read_bytes() == before  # the previous set, untouched
    run = grade(tmp_path, source, "--only", "340935", *QUICK, out=out)  # recovers, verifies, merges
    assert set(run.grades) >= {"340934", "340935"}
    assert not list(out.glob(".staging-*")) and not (out / ".commit").exists()
    assert not [p for p in scratch.iterdir() if not p.name.startswith("autograder-mpl-")]  # no temporary left behind


# --- spreadsheets and feedback back through the LMS ----------------------------------------------------------------


def test_every_csv_is_formula_safe(tmp_path: Path) -> None:
    files = {"=HYPERLINK(1)/corr2d.ipynb": good(), "@SUM(A1)/corr2d.ipynb": untouched(), "+cmd/corr2d.ipynb": good()}
    run = grade(tmp_path, write_files(tmp_path / "dl", files), *QUICK)
    for name in ("grades.csv", "cells.csv", "similarity.csv"):
        with open(run.out / name, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert not cell.startswith(("=", "@", "+")) or cell.lstrip("+").replace(".", "").isdigit(), (
                        name,
                        cell,
                    )
    assert set(run.grades) == {"'=HYPERLINK(1)", "'@SUM(A1)", "'+cmd"}


def test_moodle_feedback_zip_reads_as_moodles_importer_reads_it(tmp_path: Path) -> None:
    """importziplib.php: each path part split on '_' into at most 5 fields; field 1 is the participant id."""
    run = grade(tmp_path, moodle_download(tmp_path), *QUICK)
    with zipfile.ZipFile(run.out / "feedback-moodle.zip") as zf:
        names = zf.namelist()
        ids = set()
        for name in names:
            first = name.split("/")[0].split("_", 4)
            assert len(first) >= 4 and first[2:4] == ["assignsubmission", "file"], name
            ids.add(first[1])
            assert name.endswith("/corr2d-feedback.html")
            assert b"<html" in zf.read(name)[:2000].lower()
    assert ids == {"1000", "1001", "1002", "1003"}


def test_canvas_feedback_zip_reads_as_canvas_reads_it(tmp_path: Path) -> None:
    """Canvas's re-upload: the first two all-digit tokens of the file name are the user and the attachment."""
    files = {"smithbob_LATE_340934_208490284_corr2d.ipynb": good(), "doejane_340935_208490285_corr2d-2.ipynb": good()}
    run = grade(tmp_path, write_files(tmp_path / "dl", files), *QUICK)
    with zipfile.ZipFile(run.out / "feedback-canvas.zip") as zf:
        pairs = set()
        for name in zf.namelist():
            digits = [t for t in name.split("_") if t != "LATE" and t.isdigit()]
            pairs.add(tuple(digits[:2]))
    assert pairs == {("340934", "208490284"), ("340935", "208490285")}


def test_blackboard_feedback_csv_for_the_grade_center(tmp_path: Path) -> None:
    stamp = "2025-03-01-10-00-00"
    files = {
        f"Corr2d_alice_attempt_{stamp}_corr2d.ipynb": good(),
        f"Corr2d_bob_attempt_{stamp}_corr2d.ipynb": untouched(),
    }
    run = reviewed(grade(tmp_path, write_files(tmp_path / "dl", files), *QUICK))
    with open(run.out / "feedback-blackboard.csv", newline="", encoding="utf-8") as f:
        rows = {r["Username"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"alice", "bob"}
    column = f"{ASSIGNMENT} [Total Pts: {run.top:g} Score]"
    assert float(rows["alice"][column]) == run.top and rows["alice"]["Feedback Format"] == "PLAIN_TEXT"
    assert rows["bob"]["Feedback to Learner"].startswith(f"{ASSIGNMENT}: ")


# --- manually graded cells ------------------------------------------------------------------------------------------


def test_a_manually_graded_cell_is_never_a_silent_zero(tmp_path: Path) -> None:
    """The written answer awaits a person: the status says so, canvas.csv leaves the student blank, until the review.

    Graded with ``--course`` (a copy of the course's source notebook, its written question included).
    """
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    files = {"smithbob_340934_1_corr2d.ipynb": good()}
    roster = canvas_roster(tmp_path / "gradebook.csv")
    proc = run_cli(
        "grade",
        ASSIGNMENT,
        str(write_files(tmp_path / "dl", files)),
        "--course",
        str(course),
        "--out",
        str(tmp_path / "graded"),
        "--roster",
        str(roster),
        *GRADE_ARGS,
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = Run(tmp_path / "graded", proc, files)
    bob = run.grades["340934"]
    assert bob["status"] == "needs manual grading: written_border (3 points not yet given)"
    assert (float(bob["score"]), float(bob["max_score"])) == (FULL, TOTAL)
    assert "needs manual grading" in proc.stderr
    scores, _, _, _ = parse_canvas_import(run.out / "canvas.csv")
    assert scores["340934"] is None  # blank: the LMS keeps what it has until a person grades it
    stored = json.loads((run.out / "results.json").read_text())
    assert [r["manual"] for r in stored["results"] if r["student_id"] == "340934"] == [["written_border"]]
    run = reviewed(run)
    assert run.grades["340934"]["status"] == "graded" and float(run.grades["340934"]["score"]) == TOTAL
    scores, _, _, _ = parse_canvas_import(run.out / "canvas.csv")
    assert scores["340934"] == pytest.approx(20.0)


def test_the_late_penalty_capped_at_the_autograded_points_is_charged_in_full_after_the_review(tmp_path: Path) -> None:
    """Late, 0 autograded points: the penalty (10% of 15) is capped at 0; the 3 reviewed points then pay it: 1.5.

    (Found with this test: the review kept the cap of the grading run, and the late student kept all 3 points.)
    """
    notebook = nbformat.reads(untouched().decode(), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "written_border":
            cell.source = WRITTEN
    files = {"smithbob_LATE_340934_1_corr2d.ipynb": nbformat.writes(notebook).encode()}
    roster = canvas_roster(tmp_path / "gradebook.csv")
    args = ("--roster", str(roster), "--due", DUE, "--late-penalty", "0.1", *QUICK)
    run = grade(tmp_path, write_files(tmp_path / "dl", files), *args)
    bob = run.grades["340934"]
    assert (bob["raw_score"], bob["late_submission_penalty"], bob["score"]) == ("0", "0", "0")
    assert f"-{0.1 * TOTAL:g} points, once" in bob["status"]
    bob = reviewed(run).grades["340934"]
    assert bob["status"].startswith("graded")
    assert (float(bob["raw_score"]), float(bob["late_submission_penalty"])) == (3, pytest.approx(0.1 * TOTAL))
    assert float(bob["score"]) == pytest.approx(3 - 0.1 * TOTAL)
