"""Command line: ``python -m autograder grade ASSIGNMENT SUBMISSIONS [options]``.

Exit status 0 when every submission got its row in grades.csv, whatever the
students' code did; 2 when the grader itself could not run (unknown
assignment, unreadable submissions or roster), with one line saying what to fix.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

import nbformat.warnings

from . import report
from .bench import BENCH_SIZE
from .collect import LAYOUTS, SubmissionsError
from .grader import AssignmentError, ClusterError
from .grading import grade
from .limits import Limits
from .lms import RosterError
from .outputs import OutputError
from .sandbox import SandboxError

DEFAULTS = grade.__kwdefaults__ or {}  # the defaults live once, in the API the command calls

GRADE_EXAMPLES = """examples:
  python -m autograder grade corr2d submissions/
  python -m autograder grade corr2d submissions.zip --roster gradebook.csv --due 2025-03-01T23:59 --late-penalty 0.1
  python -m autograder grade corr2d canvas-download.zip --layout canvas --extensions extensions.csv
  python -m autograder grade corr2d submissions/ --only 340934,340935   # regrade two students into graded/corr2d
  python -m autograder grade corr2d submissions/ --dask local:8               # 8 worker processes on this machine
  python -m autograder grade corr2d submissions/ --dask tcp://10.0.0.5:8786   # a running Dask scheduler

writes DIR/grades.csv, cells.csv, results.json, feedback/<student>/<notebook>.html, scores.png, report.html,
similarity.csv, manifest.json; with --roster the roster's LMS's grade import (DIR/canvas.csv or DIR/moodle.csv);
from an LMS download its bulk feedback upload (feedback-canvas.zip, feedback-moodle.zip, feedback-blackboard.csv);
with --only DIR/changes.csv. --only reuses the roster, due date, penalty and extensions of the run it merges into."""

CHECK_EXAMPLES = """examples:
  python -m autograder check corr2d.ipynb
  # in the notebook's last cell:  import sys; !{sys.executable} -m autograder check corr2d.ipynb"""

REVIEW_EXAMPLES = """examples:
  python -m autograder review graded/corr2d                 # the review page on 127.0.0.1, grade by question
  python -m autograder review graded/corr2d --export-scores written.csv
  python -m autograder review graded/corr2d --import-scores written.csv

the page shows every answer to one written question with its rubric: keys 1-9 give rubric items, j/k move,
x selects, c comments, ? lists the keys. Each grade is written at once into DIR (grades.csv, the LMS files,
the feedback pages and uploads, gradebook.db, reviews.json), as one set. --import-scores applies nothing
unless every row is valid (known student and question, points in range, rubric items, unchanged answer)."""

BENCH_EXAMPLES = """examples:
  python -m autograder bench
  python -m autograder bench -n 60 --jobs 2 --keep /tmp/bench
  python -m autograder bench -n 16 --dask 1,2   # also on LocalClusters of 1 and 2 workers, with an estimate table"""


def _memory(text: str) -> int:
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    text = text.strip().lower().rstrip("ib")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction of the maximum score (0 to 1, e.g. 0.1)")
    return value


def _grade_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser(
        "grade",
        help="grade a class: a folder, a .zip, or an LMS bulk download as it comes",
        description="Grade every submission of ASSIGNMENT; every student gets a row in DIR/grades.csv.",
        epilog=GRADE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("assignment", help="assignment name, e.g. corr2d")
    g.add_argument(
        "submissions",
        type=Path,
        help="folder of student folders, a .zip of one, or a Canvas/Moodle/Blackboard download (folder or .zip)",
    )
    g.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default: graded/ASSIGNMENT)")
    g.add_argument("--jobs", type=int, default=DEFAULTS.get("jobs"), help="parallel workers (default: all cores)")
    limits = Limits()  # the limits' defaults live once, in autograder.limits.Limits
    g.add_argument("--timeout", type=float, default=limits.cell_timeout, help="seconds per cell (default: %(default)s)")
    g.add_argument(
        "--notebook-timeout",
        type=float,
        default=limits.notebook_timeout,
        help="seconds per notebook (default: 10 cells' worth, >= 60)",
    )
    g.add_argument("--memory", type=_memory, default=limits.memory, help="memory per submission, e.g. 2G (default: 4G)")
    g.add_argument(
        "--unsandboxed",
        action="store_true",
        help="grade even where student code cannot be jailed (only for code you trust)",
    )
    g.add_argument("--course", type=Path, default=None, help="course root holding solutions/ (default: this course)")
    g.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=DEFAULTS["layout"],
        help="how SUBMISSIONS is laid out (default: %(default)s, detected and printed)",
    )
    g.add_argument(
        "--roster",
        type=Path,
        default=None,
        metavar="CSV",
        help="the LMS gradebook export as downloaded (Canvas gradebook CSV, Moodle grading worksheet or Moodle gradebook export): "
        "every student on it gets a row, and its LMS's grade-import file is written (DIR/canvas.csv or DIR/moodle.csv)",
    )
    g.add_argument(
        "--due", default=None, metavar="ISO-DATETIME", help="due date, e.g. 2025-03-01T23:59 (local time unless a zone)"
    )
    g.add_argument(
        "--late-penalty",
        type=_fraction,
        default=DEFAULTS["late_penalty"],
        metavar="FRACTION",
        help="fraction of the maximum deducted per started day late (once when only an LMS late marker is known); "
        "default: 0, or with --only the run's",
    )
    g.add_argument(
        "--extensions", type=Path, default=None, metavar="CSV", help="per-student due dates: rows of id, new due date"
    )
    g.add_argument(
        "--only",
        type=_ids,
        default=None,
        metavar="ID,ID,...",
        help="regrade these students into the existing DIR, keep everyone else's rows, write DIR/changes.csv",
    )
    g.add_argument(
        "--dask",
        default=DEFAULTS.get("dask"),
        metavar="local:N | tcp://HOST:PORT",
        help="run the notebooks on a Dask cluster: local:N starts N worker processes here, tcp://HOST:PORT is a "
        "running scheduler whose workers run `dask worker tcp://HOST:PORT --nthreads 1` (same files, same scores)",
    )
    g.add_argument("--no-similarity", action="store_true", help="skip the pairwise similarity of answers")
    g.add_argument("--quiet", action="store_true", help="no progress bars, no layout line, no summary")
    return g


def _check_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    c = sub.add_parser(
        "check",
        help="a student's check of a notebook before submitting it (visible tests only)",
        description="Run NOTEBOOK as the grader would, with the visible tests only; exit 1 if anything is wrong.",
        epilog=CHECK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("notebook", type=Path, help="the notebook to check, e.g. corr2d.ipynb")
    c.add_argument("--course", type=Path, default=None, help="course root holding exercises/ (default: this course)")
    return c


def _bench_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    b = sub.add_parser(
        "bench",
        help="compare this grader's throughput with stock nbgrader autograde",
        description="Grade generated submissions with this grader and with stock nbgrader; compare scores and speed.",
        epilog=BENCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("-n", type=int, default=BENCH_SIZE, help="number of submissions (default: %(default)s)")
    b.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    b.add_argument("--keep", type=Path, default=None, help="keep the benchmark's files in this folder")
    b.add_argument(
        "--dask",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=(),
        metavar="N,N",
        help="also grade the class with --dask local:N for each N, and print an estimate for 10^4 and 10^5 notebooks",
    )
    b.add_argument("--no-nbgrader", action="store_true", help="skip stock nbgrader (the slow part)")
    return b


def _review_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser(
        "review",
        help="grade the written answers of a graded DIR by question, with rubrics (a local web page)",
        description="Grade the written answers in DIR by question: a web page on 127.0.0.1, or a CSV file.",
        epilog=REVIEW_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("dir", type=Path, metavar="DIR", help="the output folder of a grading run, e.g. graded/corr2d")
    what = r.add_mutually_exclusive_group()
    what.add_argument(
        "--export-scores", type=Path, metavar="FILE.csv", help="write every answer and its grade to a CSV"
    )
    what.add_argument("--import-scores", type=Path, metavar="FILE.csv", help="apply a CSV of grades (all rows or none)")
    r.add_argument("--port", type=int, default=0, help="port of the page on 127.0.0.1 (default: a free one)")
    r.add_argument("--course", type=Path, default=None, help="course root holding solutions/ (default: this course)")
    return r


def _review(args: argparse.Namespace) -> int:
    from .review.carry import Class, ReviewError
    from .review.scores import ScoresError, export_scores, import_scores
    from .review.server import serve

    try:
        klass = Class(args.dir, course_root=args.course.resolve() if args.course else None)
        if args.export_scores:
            rows = export_scores(klass, args.export_scores)
            print(f"wrote {rows} answers to {args.export_scores}", file=sys.stderr)
            return 0
        if args.import_scores:
            count = import_scores(klass, args.import_scores)
            print(f"imported {count} grades into {args.dir}", file=sys.stderr)
            return 0
    except (ReviewError, ScoresError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    serve(klass, port=args.port, ready=lambda url: print(f"review page: {url}  (Ctrl+C stops)", flush=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser; its ``--help`` lists every command with all its options and examples."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade a class's notebooks of this course (grade), check one notebook before submitting it "
        "(check), grade written answers by question (review), or compare this grader with nbgrader (bench).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = [_grade_parser(sub), _check_parser(sub), _review_parser(sub), _bench_parser(sub)]
    parser.epilog = "\n\n".join(f"=== {c.prog} ===\n{c.format_help()}" for c in commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    # nbformat warns about a student's missing or repeated cell ids once per cell; they are
    # repaired, and what matters for the grade is in that student's row, not in the terminal
    warnings.filterwarnings("ignore", category=nbformat.warnings.MissingIDFieldWarning)
    warnings.filterwarnings("ignore", category=nbformat.warnings.DuplicateCellId)
    if args.command == "check":
        from .layout import COURSE_ROOT
        from .selfcheck import check

        try:
            outcome = check(args.notebook, course_root=(args.course or COURSE_ROOT).resolve())
        except (FileNotFoundError, SandboxError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(outcome.format())
        return 0 if outcome.ok else 1
    if args.command == "review":
        return _review(args)
    if args.command == "bench":
        from .bench import run_bench

        return run_bench(
            n=args.n, jobs=args.jobs, keep=args.keep, dask_workers=args.dask, nbgrader=not args.no_nbgrader
        )
    kwargs = {}
    if args.course is not None:
        kwargs["course_root"] = args.course.resolve()
    try:
        run = grade(
            assignment=args.assignment,
            submissions=args.submissions,
            out=args.out,
            jobs=args.jobs,
            limits=Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout, memory=args.memory),
            unsandboxed=args.unsandboxed,
            progress=not args.quiet and sys.stderr.isatty(),
            roster=args.roster,
            due=args.due,
            late_penalty=args.late_penalty,
            extensions=args.extensions,
            only=args.only,
            layout=args.layout,
            similarity=not args.no_similarity,
            echo=None if args.quiet else (lambda text: print(text, file=sys.stderr)),
            dask=args.dask,
            **kwargs,
        )
    except (AssignmentError, SubmissionsError, RosterError, SandboxError, OutputError, ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.summary(run), file=sys.stderr)
    return 0
