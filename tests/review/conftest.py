"""A graded class with written answers, made without running the grader (the review reads only DIR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.outputs import OutputDir
from autograder.report import write_grades
from autograder.results import CellResult, GradingRun, State, StudentResult

QUESTION = "written_border"
SCRIPT = (
    "<script>document.title = 'pwned'; window.pwned = true;</script> I think <img src=x onerror=alert(1)> $h - k_h + 1$"
)


def graded_class(out: Path, n: int) -> Path:
    """``out`` as a run of corr2d leaves it for ``n`` students, each with a written answer awaiting review."""
    results = []
    for i in range(n):
        answer = (
            SCRIPT if i == 1 else f"Student {i}: the border pixels lie in fewer windows, so $Y$ has $h - k_h + 1$ rows."
        )
        cells = [
            CellResult("test_textbook", 1.0, 1.0),
            CellResult(QUESTION, 0.0, 3.0, "awaits manual grading", answer=answer),
        ]
        r = StudentResult(
            f"s{i:02d}", "corr2d", 1.0, 4.0, State.NEEDS_MANUAL, [f"{QUESTION} (3 points not yet given)"], cells
        )
        r.manual, r.raw_score, r.name = [QUESTION], 1.0, f"Student {i:02d}"
        results.append(r)
    with OutputDir(out) as target:
        write_grades(GradingRun("corr2d", target.staging, results, True, 0.0, max_score=4.0))
        target.commit(options={"assignment": "corr2d", "layout": "folders", "roster": None})
    return out


@pytest.fixture
def small_class(tmp_path: Path) -> Path:
    return graded_class(tmp_path / "graded", 3)
