"""Reading submitted notebooks defensively, and restoring them with nbgrader."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.prepare import UnreadableSubmission, bound_names, read_notebook
from autograder.samples import release_notebook


def write(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2]", "not a Jupyter notebook"),
        (b'{"cells": 3}', "not a Jupyter notebook"),
        (json.dumps({"cells": [{"cell_type": "markdown", "source": "x"}] * 3001}), "3001 cells"),
        (json.dumps({"cells": [{"cell_type": "code", "source": "x" * 1_000_001}]}), "1000001 characters"),
        ('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}", "cannot be read as JSON"),
        (json.dumps({"cells": [], "nbformat": 4}), "not a valid Jupyter notebook"),
    ],
)
def test_unreadable_files_are_refused_in_words(tmp_path: Path, content: bytes | str, words: str) -> None:
    with pytest.raises(UnreadableSubmission, match=words):
        read_notebook(write(tmp_path, content))


def test_caps_are_checked_before_nbformat_parses(tmp_path: Path) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "x"}] * 50
    path = write(tmp_path, json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(UnreadableSubmission, match="50 cells; at most 10"):
        read_notebook(path, max_cells=10)


def test_a_released_notebook_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "corr2d.ipynb"
    nbformat.write(release_notebook("corr2d"), path)
    assert read_notebook(path).cells


def test_bound_names_are_the_names_a_cell_gives_the_notebook() -> None:
    source = """
import torch
from torch.nn import functional as F
import a.b as c, d.e
X, (Y, Z) = 1, (2, 3)
for seed in range(3):
    pass
with open("f") as handle:
    pass
def check(net):
    global trained
    inner = 1
class Watch:
    attribute = 2
squares = [w * w for w in range(3) if (last := w)]
"""
    assert bound_names(source) == {
        "torch", "F", "c", "d", "X", "Y", "Z", "seed", "handle", "check", "trained", "Watch", "squares", "last",
    }  # fmt: skip
    assert bound_names("def (") == set()


def test_lone_surrogates_in_a_notebook_become_question_marks(tmp_path: Path) -> None:
    nb = release_notebook("corr2d")
    nb.cells[0].source = "a \ud800 b \U0001f600"
    path = write(tmp_path, json.dumps(nb))  # "\\ud800": valid JSON, but no page or CSV can hold it
    assert read_notebook(path).cells[0].source == "a ? b \U0001f600"


def test_how_a_cell_runs_is_decided_by_the_release_not_by_its_metadata() -> None:
    from autograder.grader import Assignment, Grader

    release = release_notebook("corr2d")
    cells = {c.metadata.nbgrader["grade_id"]: c for c in release.cells if "nbgrader" in c.metadata}
    assignment = Assignment(
        "corr2d", "corr2d", release, cells, "sqlite://", 12.0, {g: c.source for g, c in cells.items()}
    )
    grader = Grader(assignment, out=Path("unused"), jobs=1, sandbox=None)  # type: ignore[arg-type]
    nb = release_notebook("corr2d")
    forged = nbformat.v4.new_code_cell("print('trusted?')")
    forged.metadata["nbgrader"] = {"grade": True, "locked": True, "solution": False, "grade_id": "mine", "points": 0}
    unlabeled = nbformat.v4.new_code_cell("print('locked?')")
    unlabeled.metadata["nbgrader"] = {"locked": True, "solution": False, "grade": False}
    nb.cells[1:1] = [forged, unlabeled]
    kinds = {job["source"]: job["kind"] for _, job in grader._cells_to_run(nb)}
    assert kinds["print('trusted?')"] == kinds["print('locked?')"] == "student"
    assert kinds[cells["setup"].source] == "locked" and kinds[cells["test_textbook"].source] == "test"


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory):
    from autograder.gradebook import install
    from autograder.grader import setup_assignment
    from autograder.layout import COURSE_ROOT

    install()
    return setup_assignment("corr2d", course_root=COURSE_ROOT, out=tmp_path_factory.mktemp("gradebook"))


@pytest.mark.parametrize(
    "meta",
    [
        {"locked": True},
        {"grade": True, "points": 1},
        {"solution": True},
        "x",
        None,
        {"locked": True, "grade_id": ["a"]},
    ],
)
def test_metadata_nbgrader_would_crash_on_is_removed(assignment, meta: object) -> None:
    # each of these made nbgrader raise (KeyError, AttributeError, TypeError): an "internal grader error" row
    from autograder.prepare import prepare
    from autograder.samples import submission

    nb = submission("corr2d", {})
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = meta
    nb.cells.insert(2, cell)
    resources = {
        "nbgrader": {"notebook": "corr2d", "assignment": "corr2d", "student": "s", "db_url": assignment.db_url}
    }
    prepared = prepare(
        nb,
        release=assignment.release,
        release_cells=assignment.release_cells,
        originals=assignment.originals,
        resources=resources,
    )
    assert "nbgrader metadata without a grade id removed from 1 cell(s)" in prepared.notes
    assert any(c.source == "x = 1" and "nbgrader" not in c.metadata for c in prepared.nb.cells)


def _tampered(kind: str) -> nbformat.NotebookNode:
    """The corr2d release, changed as students change notebooks."""
    from autograder.samples import submission

    nb = submission("corr2d", {})
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    locked = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked")]
    if kind == "deleted test cells":
        nb.cells = [c for c in nb.cells if c not in graded[:2]]
    elif kind == "edited locked cell":
        locked[0].source += "\nprint('mine')"
    elif kind == "points raised":
        graded[0].metadata.nbgrader["points"] = 100
    elif kind == "cell type changed":
        locked[0].cell_type = "markdown" if locked[0].cell_type == "code" else "code"
        locked[0].pop("outputs", None), locked[0].pop("execution_count", None)
        if locked[0].cell_type == "code":
            locked[0].outputs, locked[0].execution_count = [], None
    elif kind == "unknown grade id":
        graded[-1].metadata.nbgrader["grade_id"] = "not_in_the_source"
    elif kind == "order broken":
        nb.cells.reverse()
    elif kind == "unlocked":
        locked[0].metadata.nbgrader["locked"] = False
    return nb


@pytest.mark.parametrize(
    "kind",
    [
        "as released",
        "deleted test cells",
        "edited locked cell",
        "points raised",
        "cell type changed",
        "unknown grade id",
        "order broken",
        "unlocked",
    ],
)
def test_the_source_book_restores_as_nbgraders_gradebook_does(assignment, kind: str) -> None:
    """nbgrader's lookups answered from memory (SourceBook) give the same notebook and notes as the gradebook."""
    from autograder.prepare import SourceBook, prepare

    resources = {
        "nbgrader": {"notebook": "corr2d", "assignment": "corr2d", "student": "s", "db_url": assignment.db_url}
    }
    common = {"release": assignment.release, "release_cells": assignment.release_cells, "resources": resources}
    by_gradebook = prepare(_tampered(kind), originals=assignment.originals, **common)
    # read from the gradebook, and as the set-up keeps it (setup.json, through its wire form)
    assert assignment.book is not None
    for book in (SourceBook.read(assignment.db_url, "corr2d", "corr2d"), assignment.book):
        by_book = prepare(_tampered(kind), originals=assignment.originals, book=book, **common)
        assert by_book.notes == by_gradebook.notes
        assert _without_ids(by_book.nb) == _without_ids(by_gradebook.nb)
    if kind != "as released":  # the tampering was seen and undone
        assert by_book.notes or _without_ids(by_book.nb) != _without_ids(_tampered(kind))


def _without_ids(nb: nbformat.NotebookNode) -> str:
    """The notebook as JSON, without the cell ids (a restored cell gets a new random one)."""
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data, sort_keys=True)
