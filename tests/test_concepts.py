"""The book section each test cell assesses: every link of the concept table lands on a real section."""

from __future__ import annotations

import pytest

from autograder.concepts import SECTIONS, concepts_of, heading_anchor
from tests.helpers import ASSIGNMENTS, ROOT, autograded_cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_assesses_a_book_page(assignment: str) -> None:
    """Each graded cell maps to a page of book/ (the notebook's chapter, or a section of the table)."""
    concepts = concepts_of(assignment, course_root=ROOT)
    for gid in autograded_cells(assignment):
        concept = concepts.get(gid)
        assert concept is not None, f"{assignment}/{gid} names no book page"
        assert (ROOT / "book" / f"{concept.page}.md").is_file(), f"{assignment}/{gid}: no book/{concept.page}.md"


@pytest.mark.parametrize(
    ("assignment", "gid", "page", "heading"),
    [(a, gid, page, heading) for a, table in SECTIONS.items() for gid, (page, heading) in table.items()],
)
def test_section_table_names_existing_headings(assignment: str, gid: str, page: str, heading: str) -> None:
    """Every cell the table names exists, and its heading exists on its page (the report's link has an anchor)."""
    assert gid in autograded_cells(assignment), f"SECTIONS names {assignment}/{gid}, which is no test cell"
    assert heading_anchor(ROOT / "book", page, heading), f"{assignment}/{gid}: no heading {heading!r} in book/{page}.md"


def test_every_assignment_names_its_chapter() -> None:
    """Each exercise has its chapter in CHAPTERS (its notebook names it in words, without a link)."""
    from autograder.concepts import CHAPTERS

    assert set(ASSIGNMENTS) <= set(CHAPTERS), sorted(set(ASSIGNMENTS) - set(CHAPTERS))
    for page in CHAPTERS.values():
        assert (ROOT / "book" / f"{page}.md").is_file(), page
