"""The nbgrader round trip through the real grading command.

Every solution notebook, submitted as a student's, scores full marks; every
released notebook, submitted untouched, scores 0 without crashing the grader;
the demo class made by `make demo` gets its expected scores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ASSIGNMENTS, ROOT, grade_class, read_results, release_notebook, run_cli, solution_notebook

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_and_release_zero(assignment: str, tmp_path: Path) -> None:
    """The solution notebook scores max_score; the untouched release scores 0 and is still graded."""
    result = grade_class(
        tmp_path,
        assignment,
        {"solution": solution_notebook(assignment), "untouched": release_notebook(assignment)},
    )
    assert result.max_score("solution") > 0
    assert result.score("solution") == result.max_score("solution"), (
        f"solution lost points in {result.lost('solution')}: "
        + "; ".join(result.message("solution", c) for c in result.lost("solution"))
    )
    assert result.score("untouched") == 0
    assert result.status("untouched").startswith("graded"), result.status("untouched")
    for cell in result.cells["untouched"].values():
        assert "NotImplementedError" in cell["message"], cell


def test_demo_class_scores(tmp_path: Path) -> None:
    """`make demo`: alice gets full marks, bob (flipped kernel) part of them, carol (crash) none; all rows present."""
    demo = tmp_path / "demo"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_class.py"), str(demo)], check=True, cwd=ROOT)
    out = tmp_path / "graded"
    proc = run_cli("grade", "corr2d", str(demo), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = read_results(out, proc)
    assert sorted(result.rows) == ["alice", "bob", "carol"]
    assert result.score("alice") == result.max_score("alice")
    assert 0 < result.score("bob") < result.max_score("bob")
    assert any("expected" in result.message("bob", c) for c in result.lost("bob"))
    assert result.score("carol") == 0
    assert "exited with status 1" in result.status("carol")
    for student in result.rows:
        assert (out / "feedback" / student / "corr2d.html").is_file()
