"""Sample submissions built from the course's own notebooks (demo class, benchmark, tests).

A sample is the released notebook of an assignment with some answer cells
replaced: by the solution's code, by a catalog entry, or by any source.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .layout import COURSE_ROOT


def release_notebook(assignment: str, *, course_root: Path = COURSE_ROOT) -> NotebookNode:
    """The released (student) notebook of ``assignment`` from ``exercises/``."""
    return nbformat.read(course_root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_notebook(assignment: str, *, course_root: Path = COURSE_ROOT) -> NotebookNode:
    """The source notebook (solutions and hidden tests) of ``assignment``."""
    return nbformat.read(course_root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_answers(assignment: str, *, course_root: Path = COURSE_ROOT) -> dict[str, str]:
    """The reference answer of every answer cell (solution region included)."""
    return {
        grade_id(c): c.source
        for c in solution_notebook(assignment, course_root=course_root).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }


def submission(assignment: str, answers: dict[str, str], *, course_root: Path = COURSE_ROOT) -> NotebookNode:
    """The released notebook with the answer cells named in ``answers`` replaced.

    Raises:
        KeyError: a name in ``answers`` is not an answer cell of the notebook.
    """
    nb = copy.deepcopy(release_notebook(assignment, course_root=course_root))
    remaining = dict(answers)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in remaining and cell.metadata.nbgrader.get("solution"):
            cell.source = remaining.pop(gid)
    if remaining:
        raise KeyError(f"no answer cell named {sorted(remaining)} in {assignment}")
    return nb
