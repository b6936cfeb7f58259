"""The user's cache (autograder.cache) and the assignment set-up kept in it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from autograder import cache, grader
from autograder.gradebook import install
from autograder.grader import AssignmentError, setup_assignment
from autograder.layout import COURSE_ROOT

ASSIGNMENT = "corr2d"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(cache.VARIABLE, str(path))
    return path


def _course(tmp_path: Path) -> Path:
    """A course of one assignment, copied so that a test may change it."""
    root = tmp_path / "course"
    shutil.copytree(COURSE_ROOT / "solutions" / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    return root


def _rows(db: Path) -> dict[str, list[tuple]]:
    """Every table of a gradebook, rows sorted, without the ids SQLAlchemy makes up."""
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for table in tables:
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] != "id" and "_id" not in r[1]]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}") if columns else []
            out[table] = sorted(map(repr, rows))
        return out


def test_an_entry_is_built_once_and_then_found(cache_dir: Path) -> None:
    built: list[Path] = []

    def build(folder: Path) -> None:
        built.append(folder)
        (folder / "data").write_text("made")

    first = cache.entry("things", "k1", build)
    second = cache.entry("things", "k1", build)
    assert first == second == cache_dir / "things" / "k1"
    assert (first / "data").read_text() == "made"
    assert len(built) == 1
    assert sorted(p.name for p in (cache_dir / "things").iterdir()) == ["k1"]  # no temporary folder left
    assert (cache_dir.stat().st_mode & 0o777) == 0o700


def test_a_failed_build_keeps_nothing(cache_dir: Path) -> None:
    def build(folder: Path) -> None:
        (folder / "half").write_text("x")
        raise ValueError("broken source")

    with pytest.raises(ValueError, match="broken source"):
        cache.entry("things", "k2", build)
    assert list((cache_dir / "things").iterdir()) == []


def test_two_builders_at_once_both_get_the_entry(cache_dir: Path) -> None:
    both_building = threading.Barrier(2)
    results: list[Path | None] = []

    def build(folder: Path) -> None:
        both_building.wait(timeout=10)
        (folder / "data").write_text(folder.name)

    threads = [threading.Thread(target=lambda: results.append(cache.entry("things", "k3", build))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1] == cache_dir / "things" / "k3"
    assert sorted(p.name for p in (cache_dir / "things").iterdir()) == ["k3"]


def test_a_folder_open_to_others_is_not_a_cache(cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o777)
    os.chmod(cache_dir, 0o777)
    assert cache.root() is None
    assert cache.entry("things", "k4", lambda folder: None) is None


def test_a_symlink_is_not_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "link"))
    assert cache.root() is None


def test_the_digest_covers_every_file_and_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.ipynb").write_text("1")
    (folder / "sub" / "data.csv").write_text("2")
    before = cache.digest_folder(folder, "salt")
    assert cache.digest_folder(folder, "salt") == before
    assert cache.digest_folder(folder, "other salt") != before
    (folder / "sub" / "data.csv").write_text("3")
    assert cache.digest_folder(folder, "salt") != before
    (folder / "sub" / "data.csv").write_text("2")
    (folder / "sub" / "data.csv").rename(folder / "sub" / "data2.csv")
    assert cache.digest_folder(folder, "salt") != before


def test_setup_from_the_cache_is_what_nbgrader_generates(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install()
    course = _course(tmp_path)
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "unwritable" / "cache"))
    os.chmod(tmp_path, 0o700)
    (tmp_path / "unwritable").mkdir(mode=0o500)  # no cache can be made: generated for the run alone
    fresh = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "fresh")
    monkeypatch.setenv(cache.VARIABLE, str(cache_dir))
    first = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "first")

    def no_generating(*args: object) -> None:
        raise AssertionError("generated again although the source did not change")

    monkeypatch.setattr(grader, "_generate", no_generating)
    second = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "second")
    for got in (first, second):
        assert got.max_score == fresh.max_score
        assert got.originals == fresh.originals
        assert got.release == fresh.release
        assert got.trusted_names == fresh.trusted_names
        assert _rows(Path(got.db_url.removeprefix("sqlite:///"))) == _rows(tmp_path / "fresh" / "gradebook.db")
    assert (tmp_path / "second" / "gradebook.db").is_file()


def test_a_changed_source_is_generated_again(tmp_path: Path, cache_dir: Path) -> None:
    install()
    course = _course(tmp_path)
    before = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "before")
    source = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = source.read_text()
    assert '"points": 1' in text
    source.write_text(text.replace('"points": 1', '"points": 2', 1))
    after = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "after")
    assert after.max_score == before.max_score + 1
    assert len(list((cache_dir / "assignments").iterdir())) == 2


def test_a_damaged_entry_is_built_again(tmp_path: Path, cache_dir: Path) -> None:
    install()
    course = _course(tmp_path)
    good = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "good")
    (entry,) = (cache_dir / "assignments").iterdir()
    (entry / "gradebook.db").write_bytes(b"not a database")
    again = setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "again")
    assert again.max_score == good.max_score
    assert _rows(tmp_path / "again" / "gradebook.db") == _rows(tmp_path / "good" / "gradebook.db")
    (entry,) = (cache_dir / "assignments").iterdir()
    (entry / "release.ipynb").unlink()
    assert setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "third").release == good.release
    (entry,) = (cache_dir / "assignments").iterdir()
    with sqlite3.connect(entry / "gradebook.db") as con:  # still a gradebook, but not the one generated
        con.execute("UPDATE grade_cells SET max_score = max_score + 5")
    assert setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "fourth").max_score == good.max_score
    assert _rows(tmp_path / "fourth" / "gradebook.db") == _rows(tmp_path / "good" / "gradebook.db")
    (entry,) = (cache_dir / "assignments").iterdir()
    (entry / "setup.json").write_text("{")
    assert setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "fifth").originals == good.originals


def test_a_source_nbgrader_refuses_is_refused_and_not_cached(tmp_path: Path, cache_dir: Path) -> None:
    install()
    course = _course(tmp_path)
    source = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = source.read_text()
    source.write_text(text.replace('"grade": true', '"grade": "yes"', 1))
    with pytest.raises(AssignmentError, match="nbgrader could not generate"):
        setup_assignment(ASSIGNMENT, course_root=course, out=tmp_path / "out")
    assert list((cache_dir / "assignments").iterdir()) == []
