"""Command-line parsing: every command and option, defaults taken from the library."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.cli import build_parser, main
from autograder.limits import Limits


def test_grade_defaults_come_from_limits() -> None:
    args = build_parser().parse_args(["grade", "corr2d", "subs"])
    assert args.timeout == Limits().cell_timeout and args.memory == Limits().memory
    assert args.submissions == Path("subs") and not args.unsandboxed


def test_memory_units() -> None:
    assert build_parser().parse_args(["grade", "a", "b", "--memory", "2G"]).memory == 2 * 2**30
    assert build_parser().parse_args(["grade", "a", "b", "--memory", "512m"]).memory == 512 * 2**20


def test_check_and_bench_parse() -> None:
    assert build_parser().parse_args(["check", "corr2d.ipynb"]).notebook == Path("corr2d.ipynb")
    assert build_parser().parse_args(["bench", "-n", "16"]).n == 16


def test_unknown_assignment_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "no_such_assignment", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown assignment" in err[0]


def test_check_of_a_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent/corr2d.ipynb"]) == 2
    assert "does not exist" in capsys.readouterr().err
