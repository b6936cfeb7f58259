"""Finding students in LMS downloads, and extracting zips safely: in-process, no grading.

Each test builds a small download the way the LMS names its files, calls
:func:`autograder.collect.collect` and checks who was found and with what.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from autograder.collect import Submission, SubmissionsError, ZipLimits, collect, detect_layout, extract_zip
from autograder.lms import RosterError, lateness, parse_datetime

NB = "corr2d.ipynb"
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def touch(root: Path, *names: str, content: bytes = NOTEBOOK) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def found(tmp_path: Path, source: Path, layout: str = "auto") -> tuple[str, dict[str, Submission]]:
    collection = collect(source, NB, workdir=tmp_path / "work", layout=layout)
    return collection.layout, {s.student_id: s for s in collection.submissions}


def test_canvas_names_late_marker_and_latest_resubmission(tmp_path: Path) -> None:
    """Canvas: the user id is the student, _LATE is the late marker, the highest -N suffix counts."""
    root = touch(
        tmp_path / "dl",
        "smithbob_340934_208490284_corr2d.ipynb",
        "doejane_LATE_340935_208490285_corr2d.ipynb",
        "doejane_LATE_340935_208490286_corr2d-1.ipynb",
        "doejane_LATE_340935_208490287_corr2d-2.ipynb",
    )
    (root / "doejane_LATE_340935_208490287_corr2d-2.ipynb").write_bytes(NOTEBOOK + b" ")
    layout, subs = found(tmp_path, root)
    assert layout == "canvas"
    assert sorted(subs) == ["340934", "340935"]
    jane = subs["340935"]
    assert jane.late and not subs["340934"].late
    assert jane.submitted is not None and jane.submitted.name.endswith("corr2d-2.ipynb")
    assert jane.notebook is not None and jane.notebook.name == NB  # staged under the student's own name
    assert jane.notebook.read_bytes() == NOTEBOOK + b" "
    assert any("corr2d-2.ipynb graded" in n and "corr2d-1.ipynb" in n for n in jane.notes)


def test_notebook_named_in_another_case_or_downloaded_twice_is_found(tmp_path: Path) -> None:
    """``Corr2D.ipynb`` is the notebook, ``corr2d (2).ipynb`` beats ``corr2d (1).ipynb``; scratch notebooks are ignored."""
    root = touch(
        tmp_path / "dl",
        "ann/Corr2D.ipynb",
        "ann/scratch.ipynb",
        "ben/corr2d (1).ipynb",
        "ben/corr2d (2).ipynb",
        "ben/Untitled.ipynb",
        "cem/corr2d-Copy1.ipynb",
        "cem/notes.ipynb",
    )
    (root / "ben/corr2d (2).ipynb").write_bytes(NOTEBOOK + b"  ")
    _, subs = found(tmp_path, root)
    assert not subs["ann"].problem and subs["ann"].submitted is not None
    assert subs["ann"].submitted.name == "Corr2D.ipynb" and subs["ann"].notebook.name == NB
    assert subs["ben"].notebook is not None and subs["ben"].notebook.read_bytes() == NOTEBOOK + b"  "
    assert any("corr2d (2).ipynb graded" in n for n in subs["ben"].notes)
    # a copy is not the notebook: with two candidates the student is told to rename one
    assert subs["cem"].notebook is None and "several notebooks" in (subs["cem"].problem or "")


def test_canvas_name_with_underscore_and_a_file_named_like_another_student(tmp_path: Path) -> None:
    """The first user id counts: a file named after another student's Canvas name stays the uploader's."""
    root = touch(
        tmp_path / "dl",
        "obrien_pat_340950_208490290_corr2d.ipynb",
        "evil_340999_208490291_smithbob_340934_208490284_corr2d.ipynb",
        "smithbob_340934_208490284_corr2d.ipynb",
    )
    (root / "evil_340999_208490291_smithbob_340934_208490284_corr2d.ipynb").write_bytes(NOTEBOOK + b"   ")
    layout, subs = found(tmp_path, root)
    assert layout == "canvas" and sorted(subs) == ["340934", "340950", "340999"]
    assert subs["340934"].notebook is not None and subs["340934"].notebook.read_bytes() == NOTEBOOK
    assert subs["340999"].submitted is not None and subs["340999"].submitted.name.startswith("evil_")


def test_moodle_folders_and_flat_files(tmp_path: Path) -> None:
    """Moodle: 'Full Name_participantid_assignsubmission_file_' folders (or flat files) name the participant."""
    root = touch(
        tmp_path / "dl",
        "Ada Lovelace_1001_assignsubmission_file_/corr2d.ipynb",
        "Alan Turing_1002_assignsubmission_file_corr2d.ipynb",
    )
    (root / "Grace Hopper_1003_assignsubmission_file_").mkdir()
    layout, subs = found(tmp_path, root)
    assert layout == "moodle"
    assert sorted(subs) == ["1001", "1002", "1003"]
    assert subs["1001"].name == "Ada Lovelace" and subs["1001"].notebook is not None
    assert subs["1002"].notebook is not None
    assert subs["1003"].notebook is None and "no files" in subs["1003"].problem


def test_blackboard_latest_attempt_receipt_and_timestamp(tmp_path: Path) -> None:
    """Blackboard: the username is the student, the latest attempt counts, the receipt gives name and file name."""
    root = touch(
        tmp_path / "dl",
        "Corr2d_bsmith_attempt_2025-03-01-10-00-00_corr2d.ipynb",
        "Corr2d_bsmith_attempt_2025-03-02-09-30-00_corr2d.ipynb",
    )
    (root / "Corr2d_bsmith_attempt_2025-03-02-09-30-00.txt").write_text(
        "Name: Bob Smith (bsmith)\nAssignment: Corr2d\nDate Submitted: Sunday, 2 March 2025 09:30:00\n\n"
        "Files:\n\tOriginal filename: corr2d.ipynb\n\tFilename: Corr2d_bsmith_attempt_2025-03-02-09-30-00_corr2d.ipynb\n"
    )
    layout, subs = found(tmp_path, root)
    assert layout == "blackboard"
    bob = subs["bsmith"]
    assert bob.name == "Bob Smith"
    assert bob.timestamp == datetime(2025, 3, 2, 9, 30)
    assert bob.submitted is not None and "2025-03-02" in bob.submitted.name
    assert any("1 earlier ignored" in n for n in bob.notes)


def test_layout_override_and_unplaced_files(tmp_path: Path) -> None:
    """--layout overrides detection; a file the layout cannot place becomes its own row."""
    root = touch(tmp_path / "dl", "smithbob_340934_208490284_corr2d.ipynb", "notes.txt")
    layout, subs = found(tmp_path, root)
    assert layout == "canvas"
    assert subs["unplaced:notes.txt"].unplaced and "Canvas" in subs["unplaced:notes.txt"].problem
    layout, subs = found(tmp_path / "again", root, layout="folders")
    assert layout == "folders"
    assert all(s.unplaced for s in subs.values()) and len(subs) == 2
    with pytest.raises(SubmissionsError, match="unknown layout"):
        found(tmp_path, root, layout="sakai")


def test_folders_win_over_a_stray_lms_name(tmp_path: Path) -> None:
    """A class of student folders stays a class of folders even if one stray file looks like Canvas's."""
    root = touch(tmp_path / "dl", "alice/corr2d.ipynb", "bob/corr2d.ipynb", "x_1_2_y.txt")
    layout, subs = found(tmp_path, root)
    assert layout == "folders"
    assert {"alice", "bob"} <= set(subs)


def zip_bytes(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0x20
            zf.writestr(info, target)
    return buffer.getvalue()


def test_zip_refuses_escapes_links_and_bombs_but_extracts_the_rest(tmp_path: Path) -> None:
    """Members that would escape, links and zip bombs are refused with a reason; nothing lands outside."""
    archive = tmp_path / "class.zip"
    archive.write_bytes(
        zip_bytes(
            {
                "alice/corr2d.ipynb": NOTEBOOK,
                "../../escaped.txt": b"x",
                "/tmp/absolute-escape.txt": b"x",
                "bob/corr2d.ipynb": b"\0" * (40 * 2**20),
            },
            links={"carol/corr2d.ipynb": "/etc/passwd"},
        )
    )
    into = tmp_path / "deep" / "into"
    listing = extract_zip(archive, into)
    refused = {"/".join(e.parts): e.refused for e in listing.files if e.refused}
    assert "compression ratio" in refused["bob/corr2d.ipynb"]
    assert "symbolic link" in refused["carol/corr2d.ipynb"]
    assert sum("outside" in why for why in refused.values()) == 2
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["class.zip", os.path.join("deep", "into", "alice", "corr2d.ipynb")]
    assert not Path("/tmp/absolute-escape.txt").exists()


def test_a_corrupt_member_is_refused_alone(tmp_path: Path) -> None:
    """A member whose data fails its checksum is refused; the archive's other members are extracted."""
    data = zip_bytes({"alice/corr2d.ipynb": NOTEBOOK, "bob/corr2d.ipynb": b"bob's notebook " * 100})
    start = data.index(b"bob/corr2d.ipynb") + len(b"bob/corr2d.ipynb")  # bob's data follows his local header
    corrupt = data[: start + 5] + bytes([data[start + 5] ^ 0xFF]) + data[start + 6 :]
    archive = tmp_path / "class.zip"
    archive.write_bytes(corrupt)
    listing = extract_zip(archive, tmp_path / "into")
    by_name = {"/".join(e.parts): e for e in listing.files}
    assert by_name["alice/corr2d.ipynb"].path is not None
    assert by_name["bob/corr2d.ipynb"].path is None and "corrupt" in by_name["bob/corr2d.ipynb"].refused
    assert not (tmp_path / "into" / "bob" / "corr2d.ipynb").exists()


def test_refused_notebook_is_named_in_the_students_row(tmp_path: Path) -> None:
    """The student whose notebook was refused gets a row saying why; the others are graded."""
    archive = tmp_path / "class.zip"
    archive.write_bytes(zip_bytes({"export/alice/corr2d.ipynb": NOTEBOOK, "export/bob/corr2d.ipynb": b"\0" * 2**23}))
    _, subs = found(tmp_path, archive)
    assert subs["alice"].notebook is not None
    assert subs["bob"].refused and subs["bob"].notebook is None
    assert subs["bob"].problem.startswith("bob/corr2d.ipynb was not extracted: its compression ratio")


def test_zip_member_count_and_total_size_caps(tmp_path: Path) -> None:
    """Past the member-count or total-size cap, members are refused with the cap named."""
    archive = tmp_path / "many.zip"
    archive.write_bytes(zip_bytes({f"s{i}/corr2d.ipynb": NOTEBOOK for i in range(5)}))
    listing = extract_zip(archive, tmp_path / "a", ZipLimits(max_members=3))
    assert [bool(e.refused) for e in listing.files] == [False] * 3 + [True] * 2
    assert "more than 3 members" in listing.files[-1].refused
    listing = extract_zip(archive, tmp_path / "b", ZipLimits(max_total=2 * len(NOTEBOOK)))
    assert sum(bool(e.refused) for e in listing.files) == 3
    assert "unpacks to more than" in next(e.refused for e in listing.files if e.refused)


def test_a_students_own_zip_is_opened(tmp_path: Path) -> None:
    """A student who zipped the notebook is graded from inside the zip; the receipt is the zip's."""
    root = tmp_path / "dl"
    root.mkdir()
    (root / "zipper_340939_1_corr2d.zip").write_bytes(zip_bytes({"work/corr2d.ipynb": NOTEBOOK}))
    _, subs = found(tmp_path, root)
    sub = subs["340939"]
    assert sub.notebook is not None and sub.notebook.read_bytes() == NOTEBOOK
    assert sub.submitted == root / "zipper_340939_1_corr2d.zip"


def test_detect_layout_needs_a_match() -> None:
    """Without any recognised name the layout is plain folders."""
    from autograder.collect import Listing

    assert detect_layout(Listing([], {("alice",), ("bob",)})) == "folders"


def test_dates_and_lateness() -> None:
    """Per started day with a timestamp, once with only a marker, nothing with an extension covering it."""
    due = parse_datetime("2025-03-01T23:00")
    assert parse_datetime("2025-03-01") == datetime(2025, 3, 1, 23, 59, 59)
    assert parse_datetime("Saturday, 1 March 2025, 11:30 PM") == datetime(2025, 3, 1, 23, 30)
    with pytest.raises(RosterError, match="ISO 8601"):
        parse_datetime("next friday")
    common = {"due": due, "fraction": 0.1, "max_score": 10.0}
    late = lateness(timestamp=due + timedelta(minutes=30), marked_late=False, extension=None, **common)
    assert late.penalty == pytest.approx(1.0) and "late by 30 min" in late.note and "1 started day" in late.note
    late = lateness(timestamp=due + timedelta(days=2, hours=1), marked_late=False, extension=None, **common)
    assert late.penalty == pytest.approx(3.0) and "late by 2 days 1 h" in late.note
    late = lateness(timestamp=None, marked_late=True, extension=None, **common)
    assert late.penalty == pytest.approx(1.0) and "once" in late.note
    extended = due + timedelta(days=3)
    late = lateness(timestamp=due + timedelta(days=2), marked_late=True, extension=extended, **common)
    assert late.penalty == 0 and "extension" in late.note
    late = lateness(timestamp=None, marked_late=True, extension=extended, **common)
    assert late.penalty == 0 and "no penalty" in late.note
    assert lateness(timestamp=due - timedelta(hours=1), marked_late=False, extension=None, **common).penalty == 0
