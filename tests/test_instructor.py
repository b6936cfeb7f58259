"""Solutions and hidden tests reach the instructor edition and never the student book.

Every non-trivial line of a solution region or a hidden-test region of
`solutions/*/*.ipynb` is looked for, as a whole line, in every file of the
student build `_build/html` (pages, downloadable notebooks, `_sources`, the
search index) and of the instructor build (`make instructor`). The instructor
build must show each of them: that also proves the search would see a leak.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import (
    REPO,
    assignments,
    build_instructor_book,
    find_lines,
    secret_lines,
)


@pytest.fixture(scope="module")
def student_html(built_book: Path) -> Path:
    """The student edition's HTML folder (built once per session by tests/conftest.py)."""
    return built_book


@pytest.fixture(scope="module")
def instructor_html() -> Path:
    """The instructor edition's HTML folder, brought up to date by scripts/build_instructor.py."""
    return build_instructor_book()


def _secrets(assignment: str) -> dict[str, set[str]]:
    source = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    assert source.is_file(), f"_toc.yml lists exercises/{assignment}/{assignment} but {source} is missing"
    secrets = secret_lines(source)
    assert secrets["solution"], f"{source.name}: no solution line long enough to look for"
    return secrets


@pytest.mark.parametrize("assignment", assignments())
def test_student_book_contains_no_solution_or_hidden_test(student_html: Path, assignment: str) -> None:
    """No line of a solution or of a hidden test appears in any file of `_build/html`."""
    secrets = _secrets(assignment)
    leaks = [
        f"{kind} line {line!r} in {', '.join(files)}"
        for kind, lines in secrets.items()
        for line, files in sorted(find_lines(student_html, lines).items())
    ]
    assert not leaks, f"the student book reveals solutions/{assignment}:\n  " + "\n  ".join(leaks)


@pytest.mark.parametrize("assignment", assignments())
def test_instructor_book_shows_solutions_and_hidden_tests(instructor_html: Path, assignment: str) -> None:
    """Every solution line and hidden-test line is on the instructor edition's exercise page."""
    page = instructor_html / "exercises" / assignment / f"{assignment}.html"
    assert page.is_file(), f"the instructor build has no page {page.relative_to(instructor_html)}"
    secrets = _secrets(assignment)
    for kind, lines in secrets.items():
        shown = find_lines(page.parent, lines)
        missing = sorted(line for line in lines if not any(f == page.name for f in shown.get(line, [])))
        assert not missing, f"{kind} lines missing from the instructor page {page.name}:\n  " + "\n  ".join(missing)


def test_instructor_book_is_kept_apart_from_the_student_book(student_html: Path, instructor_html: Path) -> None:
    """The two editions live in separate folders, and the instructor one says which it is."""
    assert not instructor_html.resolve().is_relative_to(student_html.resolve())
    index = (instructor_html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "instructor edition" in index, "the instructor edition's pages do not say they are the instructor edition"
