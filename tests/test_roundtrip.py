"""The nbgrader round trip through the real grading command.

Every solution notebook, submitted as a student's, scores full marks on the
autograded cells, and full marks once its written answers are reviewed; every
released notebook, submitted untouched, scores 0 without crashing the grader;
the demo class made by `make demo` gets its expected scores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    ASSIGNMENTS,
    ROOT,
    autograded_max,
    grade_class,
    pending_status,
    read_results,
    release_notebook,
    review,
    run_cli,
    solution_notebook,
    written_questions,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_and_release_zero(assignment: str, tmp_path: Path) -> None:
    """The solution notebook scores max_score once reviewed; the untouched release scores 0 and is still graded."""
    result = grade_class(
        tmp_path,
        assignment,
        {"solution": solution_notebook(assignment), "untouched": release_notebook(assignment)},
    )
    written = written_questions(assignment)
    assert result.max_score("solution") == autograded_max(assignment) + sum(written.values()) > 0
    assert result.score("solution") == autograded_max(assignment), (
        f"solution lost points in {result.lost('solution')}: "
        + "; ".join(result.message("solution", c) for c in result.lost("solution"))
    )
    assert result.status("solution") == pending_status(assignment)
    assert result.score("untouched") == 0
    assert result.status("untouched").startswith(pending_status(assignment)), result.status("untouched")
    for gid, cell in result.cells["untouched"].items():
        if gid in written:
            assert cell["message"] == "awaits manual grading", cell
        else:
            assert "NotImplementedError" in cell["message"], cell
    # the model answer earns every written point, the untouched "YOUR ANSWER HERE" none
    review(result.out, lambda row: float(row["max_points"]) if row["student_id"] == "solution" else 0.0)
    reviewed = result.reread()
    assert reviewed.status("solution") == "graded"
    assert reviewed.score("solution") == reviewed.max_score("solution") == result.max_score("solution")
    assert reviewed.score("untouched") == 0 and reviewed.status("untouched").startswith("graded")


def test_demo_class_scores(tmp_path: Path) -> None:
    """`make demo`: alice gets full marks, bob (flipped kernel) part of them, carol (crash) none; all rows present.

    Graded, the three written answers await review: the autograded points are the score until then.
    """
    demo = tmp_path / "demo"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_class.py"), str(demo)], check=True, cwd=ROOT)
    out = tmp_path / "graded"
    proc = run_cli("grade", "corr2d", str(demo), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = read_results(out, proc)
    assert sorted(result.rows) == ["alice", "bob", "carol"]
    assert result.score("alice") == autograded_max("corr2d") < result.max_score("alice")
    assert result.status("alice") == pending_status("corr2d") and result.lost("alice") == []
    assert 0 < result.score("bob") < autograded_max("corr2d")
    assert result.status("bob") == pending_status("corr2d")
    assert any("expected" in result.message("bob", c) for c in result.lost("bob"))
    assert result.score("carol") == 0
    assert "exited with status 1" in result.status("carol")
    for student in result.rows:
        assert (out / "feedback" / student / "corr2d.html").is_file()
