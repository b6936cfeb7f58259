"""exercises/ is exactly what `nbgrader generate_assignment` makes from solutions/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ASSIGNMENTS, ROOT

HIDDEN_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh nbgrader release of every assignment, in a scratch course."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "_build").mkdir()
    nbgrader = Path(sys.executable).parent / "nbgrader"
    for assignment in ASSIGNMENTS:
        proc = subprocess.run(
            [str(nbgrader), "generate_assignment", assignment, "--force"],
            cwd=course,
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    return course / "exercises"


def _comparable(nb: nbformat.NotebookNode) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, dict(c.metadata.get("nbgrader", {}))) for c in nb.cells]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_match_a_fresh_release(assignment: str, regenerated: Path) -> None:
    """Cell by cell, the committed release equals a fresh nbgrader release (sources and nbgrader metadata)."""
    committed = ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `make exercises`"
    ours = nbformat.read(committed, as_version=4)
    fresh = nbformat.read(regenerated / assignment / f"{assignment}.ipynb", as_version=4)
    a, b = _comparable(ours), _comparable(fresh)
    assert len(a) == len(b), (
        f"{assignment}: {len(a)} cells committed, {len(b)} in a fresh release: run `make exercises`"
    )
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"{assignment}: cell {i} differs from a fresh release: run `make exercises`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solution_or_hidden_test(assignment: str) -> None:
    """No solution and no hidden-test line of the source notebook appears in the release."""
    released = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    release = "\n".join(c.source for c in released.cells)
    for marker in HIDDEN_MARKERS:
        assert marker not in release, f"{assignment}: {marker!r} found in the released notebook"
    source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = True
                continue
            if stripped in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = False
                continue
            if inside and len(stripped) >= 25 and stripped not in release_lines(assignment):
                assert stripped not in release, f"{assignment}: hidden line leaked into the release: {stripped!r}"


def release_lines(assignment: str) -> set[str]:
    """Lines of the release's visible cells (a hidden line may repeat a visible one)."""
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    return {line.strip() for c in nb.cells for line in c.source.splitlines()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_links_work_outside_the_book(assignment: str) -> None:
    """A downloaded notebook has no relative link (``../../book/images.md`` is dead outside the book)."""
    released = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    for i, cell in enumerate(released.cells):
        for target in re.findall(r"\]\(([^)\s]+)\)", cell.source):
            assert re.match(r"https?://|#", target), f"{assignment}: cell {i} links to {target!r}"
