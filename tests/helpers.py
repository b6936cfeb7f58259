"""Shared test helpers: build submissions from released notebooks, grade them for real.

``grade_class`` runs the real command line (``python -m autograder grade``) in
a subprocess on a folder of submissions and reads back ``grades.csv`` and
``cells.csv``: tests go through exactly the path an instructor uses.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.layout import assignments
from autograder.samples import grade_id, release_notebook, solution_answers, solution_notebook, submission  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parent.parent
# the assignments are the folders of solutions/ (one source of truth)
ASSIGNMENTS = assignments(ROOT)


@dataclass
class ClassResult:
    """What the grader wrote for a class: rows of grades.csv and cells.csv."""

    out: Path
    rows: dict[str, dict[str, str]]
    cells: dict[str, dict[str, dict[str, str]]]
    stdout: str
    stderr: str
    returncode: int

    def score(self, student: str) -> float:
        return float(self.rows[student]["score"])

    def max_score(self, student: str) -> float:
        return float(self.rows[student]["max_score"])

    def autograded_max(self, student: str) -> float:
        """Full marks of ``student``'s notebook before review: the autograded points of the assignment."""
        return autograded_max(self.rows[student]["assignment"])

    def status(self, student: str) -> str:
        return self.rows[student]["status"]

    def cell_points(self, student: str, cell: str) -> tuple[float, float]:
        row = self.cells[student][cell]
        return float(row["points"]), float(row["max_points"])

    def message(self, student: str, cell: str) -> str:
        return self.cells[student][cell]["message"]

    def lost(self, student: str) -> list[str]:
        """Autograded cells in which ``student`` lost points (written answers are :meth:`pending`'s)."""
        return [
            gid
            for gid, row in self.cells[student].items()
            if float(row["points"]) < float(row["max_points"]) and gid not in written_questions(row["assignment"])
        ]

    def reread(self) -> ClassResult:
        """The files in ``out`` as they are now (after a review, say)."""
        return read_results(self.out, self)  # the run's stdout, stderr and returncode

    def pending(self, student: str) -> list[str]:
        """Written answers of ``student`` that await manual grading (0 points, nbgrader's message)."""
        return [
            gid
            for gid, row in self.cells[student].items()
            if gid in written_questions(row["assignment"])
            and row["message"] == "awaits manual grading"
            and float(row["points"]) == 0
        ]


# --- Written questions: nbgrader's manually graded answer cells, graded with ``autograder review`` ------------


@functools.cache
def written_questions(assignment: str) -> dict[str, float]:
    """grade_id -> points of the manually graded answer cells of ``assignment``, in notebook order."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
        for cell in solution_notebook(assignment).cells
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.metadata["nbgrader"].get("solution")
    }


@functools.cache
def autograded_max(assignment: str) -> float:
    """The points of the autograded (test) cells of ``assignment``: a correct notebook's score before review."""
    return sum(
        float(cell.metadata["nbgrader"].get("points") or 0)
        for cell in solution_notebook(assignment).cells
        if cell.metadata.get("nbgrader", {}).get("grade")
        and not cell.metadata["nbgrader"].get("solution")
        and not cell.metadata["nbgrader"].get("task")
    )


def pending_status(assignment: str) -> str:
    """The status of a notebook graded but not yet reviewed (before any other note)."""
    questions = written_questions(assignment)
    points = sum(questions.values())
    return f"needs manual grading: {', '.join(questions)} ({points:g} point{'s' * (points != 1)} not yet given)"


def review(
    out: Path, points: Callable[[dict[str, str]], float | None] | None = None, *, tmp: Path | None = None
) -> int:
    """Grade the written answers in ``out`` through the real CLI: ``review --export-scores``, then ``--import-scores``.

    ``points(row)`` gives the points of an exported row (None: leave it ungraded); default full marks.
    Returns the number of reviews imported.
    """
    tmp = tmp or out.parent
    exported, graded = tmp / f"{out.name}-written.csv", tmp / f"{out.name}-written-graded.csv"
    proc = run_cli("review", str(out), "--export-scores", str(exported))
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(exported, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = list(reader.fieldnames or []), list(reader)
    given = 0
    for row in rows:
        value = float(row["max_points"]) if points is None else points(row)
        row["points"] = "" if value is None else f"{value:g}"
        given += value is not None
    with open(graded, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    proc = run_cli("review", str(out), "--import-scores", str(graded))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return given


def write_class(folder: Path, assignment: str, notebooks: dict[str, NotebookNode | bytes | str | None]) -> Path:
    """Write a submissions folder: ``folder/<student>/<assignment>.ipynb``.

    A value may be a notebook, raw bytes (written as they are), a string
    (text written as it is) or None (an empty student folder).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for student, content in notebooks.items():
        target = folder / student
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{assignment}.ipynb"
        if content is None:
            continue
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
    return folder


def run_cli(*args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m autograder ARGS`` from the course root (``env``: extra environment variables)."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_results(out: Path, proc: subprocess.CompletedProcess | ClassResult) -> ClassResult:
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    cells: dict[str, dict[str, dict[str, str]]] = {}
    with open(out / "cells.csv", newline="") as f:
        for r in csv.DictReader(f):
            cells.setdefault(r["student_id"], {})[r["grade_id"]] = r
    return ClassResult(out, rows, cells, proc.stdout, proc.stderr, proc.returncode)


def grade_class(
    tmp_path: Path,
    assignment: str,
    notebooks: dict[str, NotebookNode | bytes | str | None],
    *extra_args: str,
) -> ClassResult:
    """Grade ``notebooks`` (student id -> notebook) through the real command line."""
    submissions = write_class(tmp_path / "submissions", assignment, notebooks)
    out = tmp_path / "graded"
    proc = run_cli("grade", assignment, str(submissions), "--out", str(out), *extra_args)
    assert proc.returncode == 0, f"grader exited {proc.returncode}: {proc.stderr[-2000:]}"
    return read_results(out, proc)


# --- Catalogs of student answers: tests/catalog/<assignment>/{correct,wrong}_*.py ---------------

CATALOG = ROOT / "tests" / "catalog"


def catalog_entries(assignment: str) -> tuple[list[str], list[str]]:
    """The names of the ``correct_*`` and of the ``wrong_*`` entries of the catalog of ``assignment``."""
    folder = CATALOG / assignment
    return sorted(p.stem for p in folder.glob("correct_*.py")), sorted(p.stem for p in folder.glob("wrong_*.py"))


def slip_entries(assignment: str) -> list[str]:
    """The names of the ``slip_*`` entries: answers with exactly one slip."""
    return sorted(p.stem for p in (CATALOG / assignment).glob("slip_*.py"))


@dataclass
class EntryHeader:
    """The ``# key: value`` lines before an entry's first cell."""

    catches: list[str]  # wrong_*: cells that must lose points
    loses: list[str]  # slip_*: the only cells that may lose points (at least one must)
    messages: dict[str, list[str]]  # grade_id -> words its message must contain
    tags: dict[str, list[str]]  # grade_id -> misconception tags its message must carry


def entry_header(assignment: str, name: str) -> EntryHeader:
    """Read the header of a catalog entry.

    ``# catches: a, b`` (wrong entries), ``# loses: a, b`` (slip entries),
    ``# message: <grade_id>: <words>`` and ``# tag: <grade_id>: <tag>`` (any
    entry, repeatable).
    """
    header = EntryHeader([], [], {}, {})
    for line in (CATALOG / assignment / f"{name}.py").read_text().splitlines():
        if line.startswith("# cell:"):
            break
        for key in ("catches", "loses"):
            if line.startswith(f"# {key}:"):
                getattr(header, key).extend(c.strip() for c in line.split(":", 1)[1].split(",") if c.strip())
        for key in ("message", "tag"):
            match = re.fullmatch(rf"# {key}: (\w+): (.+?)\s*", line)
            if match:
                table = header.messages if key == "message" else header.tags
                table.setdefault(match.group(1), []).append(match.group(2))
    return header


def parse_entry(assignment: str, name: str) -> tuple[list[str], dict[str, str]]:
    """The cells a catalog entry must lose points in, and its answer cells by grade_id.

    A line ``# cell: <grade_id>`` starts the source of the answer cell with that
    grade_id (the whole cell, ``def``/``class`` line included); a line
    ``# catches: test_a[, test_b]`` before the first cell names the graded cells
    that must lose points.
    """
    catches: list[str] = []
    cells: dict[str, list[str]] = {}
    current = None
    for line in (CATALOG / assignment / f"{name}.py").read_text().splitlines():
        marker = re.fullmatch(r"# cell: (\w+)\s*", line)
        if marker:
            current = marker.group(1)
            cells[current] = []
        elif current is not None:
            cells[current].append(line)
        elif line.startswith("# catches:"):
            catches = [cell.strip() for cell in line.removeprefix("# catches:").split(",") if cell.strip()]
    return catches, {gid: "\n".join(lines).strip("\n") + "\n" for gid, lines in cells.items()}


def graded_cells(assignment: str) -> list[str]:
    """The grade_ids of the graded cells of ``assignment``: test cells and written questions."""
    return [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in solution_notebook(assignment).cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    ]


def autograded_cells(assignment: str) -> list[str]:
    """The grade_ids of the autograded (test) cells of ``assignment``: its graded cells but the written questions."""
    return [gid for gid in graded_cells(assignment) if gid not in written_questions(assignment)]


def grade_catalog(tmp_path: Path, assignment: str) -> ClassResult:
    """Grade the solution (student ``solution``) and every catalog entry in one call of the grading CLI.

    Answer cells that an entry does not mention keep the solution's code.
    """
    solution = solution_answers(assignment)
    notebooks: dict[str, NotebookNode | bytes | str | None] = {"solution": submission(assignment, solution)}
    correct, wrong = catalog_entries(assignment)
    for name in correct + wrong + slip_entries(assignment):
        notebooks[name] = submission(assignment, {**solution, **parse_entry(assignment, name)[1]})
    return grade_class(tmp_path, assignment, notebooks)
