"""Reports of a grading run: grades.csv, cells.csv, the summary, the histogram."""

from __future__ import annotations

import csv
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .results import GradingRun

log = logging.getLogger(__name__)

GRADES_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "status",
]
CELLS_COLUMNS = ["student_id", "assignment", "grade_id", "points", "max_points", "message", "tags"]


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_grades(run: GradingRun) -> None:
    """Write ``grades.csv`` (nbgrader export columns plus ``status``) and ``cells.csv``."""
    results = run.results
    run.out.mkdir(parents=True, exist_ok=True)
    with open(run.out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, GRADES_COLUMNS)
        writer.writeheader()
        for r in sorted(results, key=lambda r: r.student_id):
            writer.writerow(
                {
                    "assignment": r.assignment,
                    "duedate": "",
                    "timestamp": "",
                    "student_id": r.student_id,
                    "last_name": "",
                    "first_name": "",
                    "email": "",
                    "raw_score": _fmt(r.score),
                    "late_submission_penalty": "0",
                    "score": _fmt(r.score),
                    "max_score": _fmt(r.max_score),
                    "status": r.status,
                }
            )
    with open(run.out / "cells.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, CELLS_COLUMNS)
        writer.writeheader()
        for r in sorted(results, key=lambda r: r.student_id):
            for c in r.cells:
                writer.writerow(
                    {
                        "student_id": r.student_id,
                        "assignment": r.assignment,
                        "grade_id": c.grade_id,
                        "points": _fmt(c.points),
                        "max_points": _fmt(c.max_points),
                        "message": c.message,
                        "tags": " ".join(c.tags),
                    }
                )


def write_histogram(run: GradingRun) -> Path:
    """Histogram of scores as ``scores.png`` in the output folder."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = [r.score for r in run.results if r.graded]
    top = max([r.max_score for r in run.results] + [1.0])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#1f4e79", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{run.assignment}: {len(scores)} graded, {len(run.results) - len(scores)} not graded")
    fig.tight_layout()
    path = run.out / "scores.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def summary(run: GradingRun) -> str:
    """A short table: graded / not graded, score distribution, time."""
    graded = [r for r in run.results if r.graded]
    problems = [r for r in run.results if not r.graded]
    repaired = [r for r in graded if r.status != "graded"]
    lines = [
        f"{run.assignment}: {len(run.results)} submissions in {run.seconds:.1f} s"
        + ("" if run.sandboxed else "  (NOT SANDBOXED)"),
        f"  graded            {len(graded):>5}",
        f"    with remarks    {len(repaired):>5}",
        f"  not graded        {len(problems):>5}",
    ]
    if graded:
        top = max(r.max_score for r in graded) or 1.0
        buckets: Counter[str] = Counter()
        for r in graded:
            fraction = r.score / top
            if fraction >= 1:
                buckets["full marks"] += 1
            elif fraction >= 0.5:
                buckets[">= half"] += 1
            elif fraction > 0:
                buckets["< half"] += 1
            else:
                buckets["zero"] += 1
        for label in ("full marks", ">= half", "< half", "zero"):
            lines.append(f"    {label:<14}{buckets[label]:>5}")
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(f"  mean score        {mean:>5.1f} / {top:g}")
    for r in problems:
        lines.append(f"  {r.student_id}: {r.status}")
    lines.append(f"  grades: {run.out / 'grades.csv'}")
    return "\n".join(lines)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, *, enabled: bool) -> Any:
    """A tqdm progress bar on stderr, or a silent stand-in."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="nb", file=sys.stderr, desc="grading", leave=False)
