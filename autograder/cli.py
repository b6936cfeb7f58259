"""Command line: ``python -m autograder grade ASSIGNMENT SUBMISSIONS [options]``.

Exit status 0 when every submission got its row in grades.csv, whatever the
students' code did; 2 when the grader itself could not run (unknown
assignment, unreadable submissions), with one line saying what to fix.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import report
from .bench import BENCH_SIZE
from .collect import SubmissionsError
from .grading import AssignmentError, grade
from .sandbox import Limits, SandboxError


def _memory(text: str) -> int:
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    text = text.strip().lower().rstrip("ib")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder (or .zip) of student submissions")
    g.add_argument("assignment", help="assignment name, e.g. corr2d")
    g.add_argument("submissions", type=Path, help="folder with one sub-folder per student, or a .zip of it")
    g.add_argument("--out", type=Path, default=None, help="output folder (default: graded/ASSIGNMENT)")
    g.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    defaults = Limits()
    g.add_argument(
        "--timeout", type=float, default=defaults.cell_timeout, help="seconds per cell (default: %(default)s)"
    )
    g.add_argument(
        "--wall-timeout", type=float, default=None, help="seconds per notebook (default: 10 cells' worth, >= 60)"
    )
    g.add_argument(
        "--memory", type=_memory, default=defaults.memory, help="memory per submission, e.g. 2G (default: 4G)"
    )
    g.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where student code cannot be sandboxed (only for code you trust)",
    )
    g.add_argument("--course", type=Path, default=None, help="course root holding solutions/ (default: this course)")
    g.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    c = sub.add_parser(
        "check",
        help="check a notebook before submitting it (visible tests only)",
        description="Run NOTEBOOK as the grader would, with the visible tests only; exit 1 if anything is wrong.",
    )
    c.add_argument("notebook", type=Path, help="the notebook to check, e.g. corr2d.ipynb")
    c.add_argument("--course", type=Path, default=None, help="course root holding exercises/ (default: this course)")
    b = sub.add_parser("bench", help="compare this grader's throughput with stock nbgrader autograde")
    b.add_argument("-n", type=int, default=BENCH_SIZE, help="number of submissions (default: %(default)s)")
    b.add_argument("--jobs", type=int, default=None)
    b.add_argument("--keep", type=Path, default=None, help="keep the benchmark's files in this folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    if args.command == "check":
        from .grading import COURSE_ROOT
        from .selfcheck import check

        try:
            outcome = check(args.notebook, course_root=(args.course or COURSE_ROOT).resolve())
        except (FileNotFoundError, SandboxError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(outcome.format())
        return 0 if outcome.ok else 1
    if args.command == "bench":
        from .bench import run_bench

        return run_bench(n=args.n, jobs=args.jobs, keep=args.keep)
    kwargs = {}
    if args.course is not None:
        kwargs["course_root"] = args.course.resolve()
    try:
        run = grade(
            assignment=args.assignment,
            submissions=args.submissions,
            out=args.out,
            jobs=args.jobs,
            limits=Limits(cell_timeout=args.timeout, notebook_timeout=args.wall_timeout, memory=args.memory),
            unsandboxed=args.unsandboxed,
            progress=not args.quiet and sys.stderr.isatty(),
            **kwargs,
        )
    except (AssignmentError, SubmissionsError, SandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.summary(run), file=sys.stderr)
    return 0
