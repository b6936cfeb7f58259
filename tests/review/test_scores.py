"""The spreadsheet path through the command line: export, import, and files refused whole."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.helpers import run_cli
from tests.review.conftest import QUESTION


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _grades(out: Path) -> dict[str, dict[str, str]]:
    return {r["student_id"]: r for r in _rows(out / "grades.csv")}


def test_export_import_round_trip(small_class: Path, tmp_path: Path) -> None:
    """Exported rows, graded in a spreadsheet and imported, reach grades.csv, results.json and reviews.json."""
    exported = tmp_path / "written.csv"
    proc = run_cli("review", str(small_class), "--export-scores", str(exported))
    assert proc.returncode == 0, proc.stderr
    rows = _rows(exported)
    assert [r["student_id"] for r in rows] == ["s00", "s01", "s02"]
    assert {r["question"] for r in rows} == {QUESTION} and {r["max_points"] for r in rows} == {"3"}
    rows[0].update(points="3", items="a b c", comment="=clear and worked out")
    rows[2].update(points="1", items="a", comment="")
    proc = run_cli("review", str(small_class), "--import-scores", str(_write(tmp_path / "graded.csv", rows)))
    assert proc.returncode == 0, proc.stderr
    grades = _grades(small_class)
    assert grades["s00"]["score"] == "4" and grades["s00"]["status"] == "graded"
    assert grades["s02"]["score"] == "2" and grades["s02"]["status"] == "graded"
    assert grades["s01"]["status"].startswith("needs manual grading")
    again = (
        _rows(tmp_path / "again.csv")
        if run_cli("review", str(small_class), "--export-scores", str(tmp_path / "again.csv")).returncode == 0
        else []
    )
    assert again[0]["points"] == "3" and again[0]["items"] == "a b c"
    assert again[0]["comment"].lstrip("'") == "=clear and worked out"
    cells = {(r["student_id"], r["grade_id"]): r for r in _rows(small_class / "cells.csv")}
    assert "clear and worked out" in cells[("s00", QUESTION)]["message"]
    assert "border pixels are covered by fewer windows" in cells[("s00", QUESTION)]["message"]


def _refused(small_class: Path, tmp_path: Path, edit: dict[str, str], words: str, *, extra: bool = False) -> None:
    exported = tmp_path / "written.csv"
    assert run_cli("review", str(small_class), "--export-scores", str(exported)).returncode == 0
    rows = _rows(exported)
    rows[0].update(points="2", items="a b")  # a valid row: applied only if every row is valid
    rows[1].update(edit)
    if extra:
        rows.append(dict(rows[2]))
    before = (small_class / "grades.csv").read_bytes()
    proc = run_cli("review", str(small_class), "--import-scores", str(_write(tmp_path / "bad.csv", rows)))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "nothing was imported" in lines[0], proc.stderr
    assert (small_class / "grades.csv").read_bytes() == before
    assert not (small_class / "reviews.json").exists()


def test_unknown_student_is_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"student_id": "mallory", "points": "1"}, "unknown student 'mallory'")


def test_unknown_question_is_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"question": "written_nothing", "points": "1"}, "unknown question")


def test_points_out_of_range_are_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"points": "4"}, "out of range 0 to 3")


def test_changed_answer_is_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"points": "1", "answer_sha256": "0" * 64}, "answer changed since the export")


def test_unknown_rubric_item_is_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"points": "1", "items": "z"}, "rubric item(s) z")


def test_a_row_twice_is_refused(small_class: Path, tmp_path: Path) -> None:
    _refused(small_class, tmp_path, {"points": "1"}, "twice", extra=True)
