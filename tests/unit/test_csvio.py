"""CSV in and out: exports re-saved by a spreadsheet are read; nothing written can run as a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autograder.csvio import CsvError, read_table, safe_cell, write_csv


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign, which some spreadsheets accept
        ("-0.5", "-0.5"),  # plain numbers stay numbers
        ("+3", "+3"),
        ("12.5", "12.5"),
        ("Smith, Bob", "Smith, Bob"),
        ("", ""),
    ],
)
def test_safe_cell(value: str, expected: str) -> None:
    """Every cell a spreadsheet would evaluate gets an apostrophe; ordinary text and numbers are unchanged."""
    assert safe_cell(value) == expected


def test_write_csv_neutralises_header_and_cells_and_is_readable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "out.csv", ["id", "=name"], [["=1+1", "@x"], ["7", "Bob"]])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [["id", "'=name"], ["'=1+1", "'@x"], ["7", "Bob"]]
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place


@pytest.mark.parametrize(
    "data, delimiter",
    [
        ('\ufeffStudent,ID\r\n"Smith, Bob",1\r\n'.encode(), ","),  # a BOM, as Excel writes UTF-8
        (b'Student;ID\n"Smith; Bob";1\n', ";"),  # a locale whose list separator is ;
        (b"Student\tID\nSmith, Bob\t1\n", "\t"),
        ("Student;ID\nMüller, Bob;1\n".encode("cp1252"), ";"),  # Windows-1252
        ("Student,ID\nSmith, Bob,1\n".encode("utf-16"), ","),  # "Unicode text"
    ],
)
def test_read_table_accepts_spreadsheet_resaves(tmp_path: Path, data: bytes, delimiter: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    table = read_table(path)
    assert table.header == ["Student", "ID"] and table.delimiter == delimiter
    assert table.rows[0][-1] == "1"
    assert table.rows[0][0] in ("Smith, Bob", "Smith; Bob", "Müller, Bob") or delimiter == ","


def test_read_table_refuses_what_is_not_csv(tmp_path: Path) -> None:
    binary = tmp_path / "gradebook.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(CsvError, match="binary data"):
        read_table(binary, what="roster")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(CsvError, match="empty"):
        read_table(empty)
    with pytest.raises(CsvError, match="cannot read"):
        read_table(tmp_path / "missing.csv")
