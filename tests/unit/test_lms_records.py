"""Each LMS record in isolation: names parsed from the parts the LMS writes, rosters read as exported."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autograder import lms
from autograder.archive import Entry, Listing
from autograder.csvio import read_table
from autograder.lms import blackboard, canvas, moodle
from autograder.lms.base import RosterError
from autograder.submission import Submission


def listing(tmp_path: Path, *names: str, receipts: dict[str, str] | None = None) -> Listing:
    files = []
    for name in names:
        path = tmp_path / name.replace("/", "__")
        path.write_text((receipts or {}).get(name, "{}"))
        files.append(Entry(tuple(name.split("/")), path))
    dirs = {tuple(n.split("/")[:1]) for n in names if "/" in n}
    return Listing(files, dirs)


def test_registry_lists_each_lms_once_in_detection_order() -> None:
    assert [r.name for r in lms.REGISTRY] == ["blackboard", "moodle", "canvas", "folders"]
    assert lms.LAYOUTS == ("auto", "blackboard", "moodle", "canvas", "folders")


# --- Blackboard ----------------------------------------------------------------------------------


def test_blackboard_a_file_named_like_another_students_attempt_stays_the_uploaders(tmp_path: Path) -> None:
    """The LMS writes up to the FIRST _attempt_<date>; the rest is the student's own file name."""
    found, unplaced = blackboard.parse(
        listing(
            tmp_path,
            "Corr2d_alice_attempt_2025-03-01-10-00-00_corr2d.ipynb",
            "Corr2d_mallory_attempt_2025-03-01-11-00-00_x_alice_attempt_2099-12-31-23-59-59_corr2d.ipynb",
        )
    )
    assert sorted(found) == ["alice", "mallory"] and not unplaced
    assert [f.name for f in found["alice"].files] == ["corr2d.ipynb"]
    assert found["alice"].files[0].timestamp.year == 2025
    assert found["mallory"].files[0].name == "x_alice_attempt_2099-12-31-23-59-59_corr2d.ipynb"


def test_blackboard_usernames_with_underscores(tmp_path: Path) -> None:
    """Blackboard allows _ in usernames: the receipt's (username) or the class's common prefix finds them."""
    stamp = "2025-03-01-10-00-00"
    receipt = f"Name: Bo Smith (b_smith)\nFiles:\n\tOriginal filename: corr2d.ipynb\n\tFilename: A_b_smith_attempt_{stamp}_corr2d.ipynb\n"
    found, _ = blackboard.parse(
        listing(
            tmp_path,
            f"My_Course_Work_b_smith_attempt_{stamp}_corr2d.ipynb",
            f"My_Course_Work_b_smith_attempt_{stamp}.txt",
            f"My_Course_Work_jdoe_attempt_{stamp}_corr2d.ipynb",
            receipts={f"My_Course_Work_b_smith_attempt_{stamp}.txt": receipt},
        )
    )
    assert sorted(found) == ["b_smith", "jdoe"]
    assert found["b_smith"].name == "Bo Smith"
    assert found["b_smith"].files[0].lms_name == f"My_Course_Work_b_smith_attempt_{stamp}"


# --- Moodle ---------------------------------------------------------------------------------------


def test_moodle_a_name_holding_another_participants_marker_is_not_a_participant_folder(tmp_path: Path) -> None:
    """Moodle's name part has no underscore (it writes _ as a space): a folder carrying a second marker is no one's."""
    found, unplaced = moodle.parse(
        listing(
            tmp_path,
            "Vic Tim_1001_assignsubmission_file/corr2d.ipynb",
            "Mal X_1002_assignsubmission_file__1001_assignsubmission_file_/corr2d-9.ipynb",
            "Old Style_1003_assignsubmission_file_/corr2d.ipynb",
            "Flat File_1004_assignsubmission_file_corr2d.ipynb",
        )
    )
    assert sorted(found) == ["1001", "1003", "1004"]
    assert [f.name for f in found["1001"].files] == ["corr2d.ipynb"]
    assert [e.parts[0] for e in unplaced] == ["Mal X_1002_assignsubmission_file__1001_assignsubmission_file_"]
    assert found["1004"].files[0].lms_name == "Flat File_1004_assignsubmission_file"


def test_moodle_one_id_under_two_names_is_a_collision(tmp_path: Path) -> None:
    found, _ = moodle.parse(
        listing(tmp_path, "Ann A_1001_assignsubmission_file/corr2d.ipynb", "Bea B_1001_assignsubmission_file/x.ipynb")
    )
    assert "different names" in found["1001"].collision


@pytest.mark.parametrize(
    "full, folder",
    [("Pat O'Brien", "Pat OBrien"), ("Ann_Marie Li", "Ann Marie Li"), ('Al "Bo" <b> & c|d:e/f\\g', "Al Bo b  cdefg")],
)
def test_moodle_folder_names_as_moodle_writes_them(full: str, folder: str) -> None:
    assert moodle.folder_name(full) == folder


def gradebook_export(tmp_path: Path, people: list[tuple[str, str, str]]) -> lms.Roster:
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["First name", "Last name", "Email address", "Assignment: corr2d (Real)"])
        writer.writerows([first, last, email, "-"] for first, last, email in people)
    return lms.read_roster(path, "corr2d")


def folder_subs(*names: str) -> list[Submission]:
    return [Submission(str(1000 + i), None, name=name) for i, name in enumerate(names)]


def test_moodle_gradebook_names_in_the_one_order_the_class_uses(tmp_path: Path) -> None:
    """First-last or last-first, whichever the site writes, the same for everyone; O'Brien meets OBrien."""
    roster = gradebook_export(
        tmp_path, [("Pat", "O'Brien", "pat@u"), ("Bob", "Smith", "bob@u"), ("Smith", "Bob", "other@u")]
    )
    first_last = moodle.match_names(folder_subs("Pat OBrien", "Bob Smith"), roster)
    assert {k: s.email for k, s in first_last.student.items()} == {"1000": "pat@u", "1001": "bob@u"}
    last_first = moodle.match_names(folder_subs("OBrien Pat", "Smith Bob", "Hopper Grace"), roster)
    assert last_first.student["1000"].email == "pat@u" and last_first.student["1001"].email == "bob@u"


def test_moodle_gradebook_a_shared_name_matches_no_one(tmp_path: Path) -> None:
    roster = gradebook_export(tmp_path, [("Sam", "Smith", "s1@u"), ("Sam", "Smith", "s2@u")])
    matched = moodle.match_names(folder_subs("Sam Smith"), roster)
    assert not matched.student and [s.email for s in matched.ambiguous["1000"]] == ["s1@u", "s2@u"]


WORKSHEET_DE = (
    "ID;Vollständiger Name;E-Mail-Adresse;Status;Bewertung;Bestwertung;Bewertung kann geändert werden;"
    "Zuletzt geändert (Abgabe);Zuletzt geändert (Bewertung);Feedback als Kommentar\n"
    "Teilnehmer/in 1001;Ada Lovelace;ada@u;Abgegeben;;10,00;Ja;-;-;\n"
)


def test_moodle_worksheet_in_german_resaved_with_semicolons_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bewertungen.csv"
    path.write_bytes("\ufeff".encode() + WORKSHEET_DE.encode())
    roster = lms.read_roster(path, "corr2d")
    assert (roster.lms, roster.kind, roster.points_possible) == ("moodle", "worksheet", 10.0)
    assert roster.students[0].student_id == "1001" and roster.assignment_column == "Bewertung"
    out = tmp_path / "out"
    out.mkdir()
    [written] = lms.write_exports(roster, [], out)
    assert read_table(written).header[:2] == ["ID", "Vollständiger Name"]  # uploads in the language it came in


def test_moodle_worksheet_in_an_unknown_language_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "arkusz.csv"
    path.write_text("Identyfikator,Imię i nazwisko,Ocena\nUczestnik 1001,Ada,\nUczestnik 1002,Bob,\n")
    with pytest.raises(RosterError, match="language the grader does not know"):
        lms.read_roster(path, "corr2d")


# --- Canvas ---------------------------------------------------------------------------------------


def canvas_export(tmp_path: Path, rows: list[list[str]]) -> lms.Roster:
    path = tmp_path / "gradebook.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "corr2d (12345)"])
        writer.writerows(rows)
    return lms.read_roster(path, "corr2d")


def test_canvas_points_row_only_where_canvas_writes_it(tmp_path: Path) -> None:
    """Only an id-less row above the students is the points row: a student called 'Points Possible' is a student."""
    roster = canvas_export(
        tmp_path,
        [
            ["", "", "", "", "", "Manual Posting"],
            ["    Points Possible", "", "", "", "", "20.00"],
            ["Points Possible, Mal", "340999", "S9", "mal@u", "A", "1"],
            ["Smith, Bob", "340934", "S1", "bob@u", "A", ""],
            ['="=cmd|calc"', "340935", "S2", "eve@u", "A", ""],
            ["    Points Possible", "", "", "", "", "1"],
        ],
    )
    assert roster.points_possible == 20.0
    assert [s.student_id for s in roster.students] == ["340999", "340934", "340935"]
    assert roster.students[2].name == "=cmd|calc"


def test_canvas_one_user_id_under_two_names_is_a_collision(tmp_path: Path) -> None:
    found, _ = canvas.parse(
        listing(tmp_path, "smithbob_340934_1_corr2d.ipynb", "mallory_340934_2_corr2d.ipynb", "doejane_340935_3_c.ipynb")
    )
    assert "different names" in found["340934"].collision and not found["340935"].collision


# --- applying a roster ------------------------------------------------------------------------------


def test_two_submissions_of_one_roster_student_are_a_collision_never_a_drop(tmp_path: Path) -> None:
    """A folder named by SIS id and one by Canvas id: both graded under their own names, the student flagged."""
    roster = canvas_export(tmp_path, [["Smith, Bob", "340934", "S1", "bob@u", "A", ""]])
    subs = [Submission("340934", None, label="340934"), Submission("S1", None, label="S1")]
    matched = lms.match_roster(subs, roster, "folders")
    assert [s.student_id for s in matched] == ["collision:340934", "collision:S1"]
    assert all(s.claimed == ("340934",) and "Smith, Bob" in s.collision for s in matched)
    rows = lms.missing(
        roster, [], matched, assignment="corr2d", max_score=12, policy=lms.LatePolicy(), source_sha256=""
    )
    assert [(r.student_id, r.state.value) for r in rows] == [("340934", "ambiguous")]
    assert "collision:340934, collision:S1" in rows[0].status


def test_a_roster_of_another_class_or_lms_is_refused(tmp_path: Path) -> None:
    roster = canvas_export(tmp_path, [["Smith, Bob", "340934", "S1", "bob@u", "A", ""]])
    subs = [Submission(f"{1000 + i}", None) for i in range(5)]
    with pytest.raises(RosterError, match="matches 0 of the 5 submissions"):
        lms.check_roster_fits(subs, lms.match_roster(subs, roster, "moodle"), roster, "moodle")


def test_extensions_naming_nobody_are_refused(tmp_path: Path) -> None:
    roster = canvas_export(tmp_path, [["Smith, Bob", "340934", "S1", "bob@u", "A", ""]])
    policy = lms.LatePolicy(
        extensions={"bob@u": lms.parse_datetime("2025-03-05"), "bobb@u": lms.parse_datetime("2025-03-05")}
    )
    with pytest.raises(RosterError, match="1 student.*bobb@u"):
        lms.check_extensions(policy, [Submission("340934", None)], roster)
    lms.check_extensions(lms.LatePolicy(extensions={"S1": lms.parse_datetime("2025-03-05")}), [], roster)
