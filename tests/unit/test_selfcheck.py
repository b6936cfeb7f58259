"""Which file a notebook's self-check cell checks (``autograder.selfcheck.notebook_to_check``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.selfcheck import notebook_to_check


def _touch(path: Path, mtime: float) -> Path:
    path.write_text("{}")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A student's download folder: an old blank kernels.ipynb and the re-download being worked on."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    _touch(tmp_path / "kernels.ipynb", 1_000_000)
    _touch(tmp_path / "kernels (1).ipynb", 2_000_000)
    _touch(tmp_path / "corr2d.ipynb", 3_000_000)
    return tmp_path


def test_the_notebook_the_kernel_runs_is_checked(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", str(folder / "kernels.ipynb"))
    assert notebook_to_check("kernels.ipynb") == ((folder / "kernels.ipynb").resolve(), [])


def test_a_session_path_relative_to_the_server_root_is_found_in_the_kernels_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "course/week3/kernels (1).ipynb")
    assert notebook_to_check("kernels.ipynb")[0] == (folder / "kernels (1).ipynb").resolve()


def test_without_a_front_end_the_newest_copy_is_checked_and_named(folder: Path) -> None:
    path, notes = notebook_to_check("kernels.ipynb")
    assert path.name == "kernels (1).ipynb"
    assert len(notes) == 1 and "kernels (1).ipynb" in notes[0] and "kernels.ipynb" in notes[0]
    assert "corr2d" not in notes[0]


def test_no_copy_at_all_says_to_save(folder: Path) -> None:
    with pytest.raises(FileNotFoundError, match="save the notebook"):
        notebook_to_check("one_by_one.ipynb")
