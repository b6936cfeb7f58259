"""Reading submitted notebooks defensively, and restoring them with nbgrader."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.prepare import UnreadableSubmission, read_notebook
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
