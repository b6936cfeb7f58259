"""The self-check cell of a notebook, run for real (the sandbox, the visible tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_a_re_download_checks_itself_not_the_old_copy_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The self-check cell of a re-download saved as ``corr2d (1).ipynb``, beside an old blank ``corr2d.ipynb``."""
    import nbformat

    from autograder.layout import COURSE_ROOT
    from autograder.samples import release_notebook, solution_answers, submission
    from autograder.selfcheck import check, notebook_to_check

    folder = tmp_path
    monkeypatch.chdir(folder)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nbformat.write(release_notebook("corr2d"), folder / "corr2d.ipynb")
    os.utime(folder / "corr2d.ipynb", (1_000_000, 1_000_000))
    nbformat.write(submission("corr2d", solution_answers("corr2d")), folder / "corr2d (1).ipynb")
    path, notes = notebook_to_check("corr2d.ipynb")
    report = check(path, course_root=COURSE_ROOT, assignment="corr2d")
    assert report.file == "corr2d (1).ipynb" and notes
    assert report.tests and all(test.passed for test in report.tests)
    assert report.problems == ["the file is named 'corr2d (1).ipynb': submit it as corr2d.ipynb"]


def test_a_grading_run_skips_the_self_check_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain ``nbgrader autograde`` with AUTOGRADER_NO_SELF_CHECK set: the cell checks nothing and says why."""
    import nbformat

    from autograder.samples import release_notebook
    from autograder.selfcheck import SKIP_VARIABLE, run_check

    monkeypatch.chdir(tmp_path)
    nbformat.write(release_notebook("corr2d"), tmp_path / "corr2d.ipynb")
    monkeypatch.setenv(SKIP_VARIABLE, "1")
    assert run_check("corr2d.ipynb") is True
    assert capsys.readouterr().out == f"self-check skipped: {SKIP_VARIABLE} is set (a grading run)\n"
    monkeypatch.delenv(SKIP_VARIABLE)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert run_check("corr2d.ipynb") is False  # without it, the blank notebook is checked: its tests fail
    assert "corr2d" in capsys.readouterr().out
