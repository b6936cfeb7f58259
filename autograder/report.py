"""Reports of a grading run: grades.csv, cells.csv, the summary, the histogram."""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .charts import histogram_png
from .csvio import write_atomic, write_csv

if TYPE_CHECKING:
    from .results import GradingRun, StudentResult

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
    "submission_sha256",
    "source_sha256",
]
CELLS_COLUMNS = ["student_id", "assignment", "grade_id", "points", "max_points", "message", "tags"]


def _fmt(x: float) -> str:
    return f"{x:g}"


CHANGES_COLUMNS = ["student_id", "before", "after", "cells", "status_before", "status_after"]


def grades_row(r: StudentResult) -> dict[str, str]:
    """One row of ``grades.csv``: nbgrader's export columns, the status, the receipts."""
    raw = r.score if r.raw_score is None else r.raw_score
    return {
        "assignment": r.assignment,
        "duedate": r.duedate,
        "timestamp": r.timestamp,
        "student_id": r.student_id,
        "last_name": r.last_name,
        "first_name": r.first_name,
        "email": r.email,
        "raw_score": _fmt(raw),
        "late_submission_penalty": _fmt(r.late_penalty),
        "score": _fmt(r.score),
        "max_score": _fmt(r.max_score),
        "status": r.status,
        "submission_sha256": r.submission_sha256,
        "source_sha256": r.source_sha256,
    }


def write_grades(run: GradingRun) -> list[Path]:
    """Write ``grades.csv`` (nbgrader's export columns, status, receipts), ``cells.csv`` and ``results.json``."""
    results = sorted(run.results, key=lambda r: r.student_id)
    run.out.mkdir(parents=True, exist_ok=True)
    grades, cells, stored = run.out / "grades.csv", run.out / "cells.csv", run.out / "results.json"
    write_csv(grades, GRADES_COLUMNS, ([grades_row(r)[c] for c in GRADES_COLUMNS] for r in results))
    write_csv(
        cells,
        CELLS_COLUMNS,
        (
            [r.student_id, r.assignment, c.grade_id, _fmt(c.points), _fmt(c.max_points), c.message, " ".join(c.tags)]
            for r in results
            for c in r.cells
        ),
    )
    data = {"assignment": run.assignment, "max_score": run.max_score, "results": [r.to_dict() for r in results]}
    write_atomic(stored, json.dumps(data, indent=1).encode())
    return [grades, cells, stored]


def read_results(out: Path) -> list[StudentResult]:
    """The results a previous run stored in ``out/results.json`` (for an ``--only`` regrade).

    Raises:
        FileNotFoundError: no previous run in ``out``.
        ValueError: the file is not a stored run.
    """
    from .results import StudentResult

    try:
        data = json.loads((out / "results.json").read_text(encoding="utf-8"))
        return [StudentResult.from_dict(d) for d in data["results"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{out / 'results.json'} is not a stored grading run ({exc})") from exc


def changed_cells(before: StudentResult, after: StudentResult) -> str:
    """``test_a 0->2; test_b 1->0``: the cells whose points changed."""
    old = {c.grade_id: c.points for c in before.cells}
    new = {c.grade_id: c.points for c in after.cells}
    return "; ".join(
        f"{gid} {_fmt(old[gid]) if gid in old else '-'}->{_fmt(new[gid]) if gid in new else '-'}"
        for gid in sorted(set(old) | set(new))
        if old.get(gid) != new.get(gid)
    )


def write_changes(previous: dict[str, StudentResult], regraded: list[StudentResult], path: Path) -> Path:
    """``changes.csv``: for each regraded student, the score before and after and the cells that changed."""
    rows = []
    for r in sorted(regraded, key=lambda r: r.student_id):
        old = previous.get(r.student_id)
        rows.append(
            [
                r.student_id,
                _fmt(old.score) if old else "",
                _fmt(r.score),
                changed_cells(old, r) if old else "(new)",
                old.status if old else "",
                r.status,
            ]
        )
    return write_csv(path, CHANGES_COLUMNS, rows)


def write_histogram(run: GradingRun) -> Path:
    """Histogram of the graded students' scores as ``scores.png`` in the output folder; the y axis counts students."""
    scores = [r.score for r in run.results if r.graded]
    top = max([r.max_score for r in run.results] + [run.max_score, 1.0])
    path = run.out / "scores.png"
    path.write_bytes(
        histogram_png(
            scores,
            top=top,
            bins=min(20, max(5, int(top) + 1)),
            title=f"{run.assignment}: {len(scores)} graded, {len(run.results) - len(scores)} not graded",
            xlabel=f"score (out of {top:g})",
            ylabel="students",
        )
    )
    return path


def summary(run: GradingRun) -> str:
    """A short table: students by state, score distribution, time, the files written."""
    from .results import State

    graded = [r for r in run.results if r.graded]
    problems = [r for r in run.results if not r.graded]
    by_state = Counter(r.state for r in run.results)
    counted = f"{len(run.regraded)} regraded of {len(run.results)}" if run.regraded else f"{len(run.results)}"
    lines = [
        f"{run.assignment}: {counted} students in {run.seconds:.1f} s"
        + (f", layout {run.layout}" if run.layout else "")
        + ("" if run.sandboxed else "  (NOT SANDBOXED)"),
        f"  graded            {by_state[State.GRADED]:>5}",
        f"    with remarks    {sum(r.status != 'graded' for r in graded if r.state is State.GRADED):>5}",
        f"    late penalty    {sum(bool(r.late_penalty) for r in graded):>5}",
    ]
    for state in (State.NEEDS_MANUAL, State.COLLISION, State.AMBIGUOUS):  # shown when they happen
        if by_state[state]:
            lines.append(f"  {state.value:<22}{by_state[state]:>5}")
    for state in (State.NOT_GRADED, State.REFUSED, State.NOT_SUBMITTED):
        lines.append(f"  {state.value:<18}{by_state[state]:>5}")
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
    for r in problems + [r for r in graded if not r.exported]:
        who = f" ({r.name})" if r.name and r.name != r.student_id else ""
        lines.append(f"  {r.student_id}{who}: {r.status}")
    for path in run.written or [run.out / "grades.csv"]:
        lines.append(f"  wrote {path}")
    return "\n".join(lines)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, *, enabled: bool, desc: str = "grading", unit: str = "nb") -> Any:
    """A tqdm progress bar on stderr, or a silent stand-in."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, desc=desc, leave=False)
