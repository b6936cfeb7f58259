"""Grade a whole class: every student gets a row, nobody's code can stop the rest.

The pipeline per submission:

1. :mod:`autograder.collect` finds the student's notebook (or says why there is none);
2. :mod:`autograder.prepare` reads it and lets nbgrader restore locked and test cells;
3. a warm, sandboxed worker (:mod:`autograder.worker`) executes the cells;
4. nbgrader scores the outputs (``SaveAutoGrades`` into a real gradebook);
5. :mod:`autograder.report` writes the feedback, ``grades.csv`` and ``cells.csv``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import nbgrader.api
import sqlalchemy
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveAutoGrades

from . import lms, report
from .classreport import write_report
from .collect import Submission, SubmissionsError, collect, sha256_of
from .prepare import UnreadableSubmission, prepare, read_notebook
from .results import CellResult, GradingRun, State, StudentResult
from .sandbox import Worker, WorkerError, acquire_worker, release_worker, sandbox_works
from .similarity import Pair
from .similarity import compare as compare_answers
from .similarity import write_csv as write_similarity

log = logging.getLogger(__name__)


_original_alembic_version = nbgrader.api.get_alembic_version


@functools.cache
def alembic_head() -> str:
    """The schema revision of the installed nbgrader's gradebook, read from its migration scripts.

    nbgrader's own ``get_alembic_version`` runs ``alembic heads`` in a subprocess
    (seconds, for every new gradebook); the head is the one revision that no
    other revision names as its ``down_revision``.
    """
    folder = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions: dict[str, set[str]] = {}
    for script in folder.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([0-9a-f]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if rev:
            revisions[rev.group(1)] = set(re.findall(r"[0-9a-f]{6,}", down.group(1))) if down else set()
    pointed_at = set().union(*revisions.values()) if revisions else set()
    heads = sorted(set(revisions) - pointed_at)
    if len(heads) != 1:
        return _original_alembic_version()
    return heads[0]


nbgrader.api.get_alembic_version = alembic_head
# Each Gradebook() also makes a new SQLAlchemy engine, which throws away the compiled-SQL
# cache; one engine per database URL keeps it (nbgrader's preprocessors open many).
_create_engine = nbgrader.api.create_engine


@functools.cache
def _shared_engine(url: str, echo: bool = False, future: bool = True) -> Any:
    return _create_engine(url, echo=echo, future=future)


nbgrader.api.create_engine = _shared_engine


@sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
def _fast_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """The gradebook is rebuilt by every run: no need to wait for the disk on each commit."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.close()


# nbgrader's gradebook code predates SQLAlchemy 2.1's autoflush warnings; they are harmless here
warnings.filterwarnings("ignore", message=".*not in session.*")

COURSE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CELL_TIMEOUT = 30.0
DEFAULT_MEMORY = 4 * 2**30
DEFAULT_MAX_OUTPUT = 20_000


class AssignmentError(RuntimeError):
    """The assignment is unknown or its source notebook cannot be used."""


@dataclass
class Assignment:
    """The source and release notebooks of an assignment and its gradebook."""

    name: str
    notebook: str
    release: NotebookNode
    release_cells: dict[str, NotebookNode]
    db_url: str
    max_score: float
    originals: dict[str, str] = field(default_factory=dict)


def known_assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """Assignment names found in ``solutions/``."""
    folder = course_root / "solutions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


def setup_assignment(name: str, *, course_root: Path, out: Path) -> Assignment:
    """Create a fresh gradebook for ``name`` in ``out`` with nbgrader's own generate step.

    Raises:
        AssignmentError: no ``solutions/<name>/<name>.ipynb`` in the course.
    """
    source = course_root / "solutions" / name / f"{name}.ipynb"
    if not source.is_file():
        known = ", ".join(known_assignments(course_root)) or "none"
        raise AssignmentError(f"unknown assignment {name!r}: no solutions/{name}/{name}.ipynb (known: {known})")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    # nbgrader's Gradebook runs the `alembic` command of this environment
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    out.mkdir(parents=True, exist_ok=True)
    db_path = out.resolve() / "gradebook.db"
    if db_path.exists():
        db_path.unlink()
    db_url = f"sqlite:///{db_path}"
    with tempfile.TemporaryDirectory(prefix="autograder-course-") as tmp:
        shutil.copytree(source.parent, Path(tmp) / "source" / name)
        config = Config()
        config.CourseDirectory.root = tmp
        config.CourseDirectory.source_directory = "source"
        config.CourseDirectory.release_directory = "release"
        config.CourseDirectory.db_url = db_url
        (Path(tmp) / "exchange").mkdir()
        config.Exchange.root = str(Path(tmp) / "exchange")
        config.ClearHiddenTests.enforce_metadata = False
        quiet = io.StringIO()
        logging.disable(logging.WARNING)  # nbgrader logs its progress at INFO and WARNING
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                coursedir = CourseDirectory(config=config)
                api = NbGraderAPI(coursedir=coursedir, config=config)
                result = api.generate_assignment(name, force=True, create=True)
        finally:
            logging.disable(logging.NOTSET)
        if not result.get("success"):
            detail = (result.get("error") or result.get("log") or "").strip().splitlines()
            raise AssignmentError(f"nbgrader could not generate {name}: {detail[-1] if detail else 'no detail'}")
        release = nbformat.read(Path(tmp) / "release" / name / f"{name}.ipynb", as_version=4)
    cells = {c.metadata.nbgrader["grade_id"]: c for c in release.cells if "nbgrader" in c.metadata}
    with Gradebook(db_url) as gb:
        max_score = float(gb.find_assignment(name).max_score)
        originals = {c.name: c.source for c in gb.find_notebook(name, name).source_cells}
    return Assignment(name, name, release, cells, db_url, max_score, originals)


def _failure_message(cell: NotebookNode) -> str:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}" if output.evalue else output.ename
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            return "the test wrote to stderr: " + output.text.strip()[:500]
    return ""


def _not_run(reason: str) -> dict[str, Any]:
    return nbformat.v4.new_output("error", ename="NotRun", evalue=reason, traceback=[f"NotRun: {reason}"])


class Grader:
    """Grades submissions of one assignment with a pool of warm workers."""

    def __init__(
        self,
        assignment: Assignment,
        *,
        out: Path,
        jobs: int,
        cell_timeout: float,
        wall_timeout: float,
        memory: int,
        max_output: int,
        sandboxed: bool,
    ) -> None:
        self.assignment = assignment
        self.out = out
        self.jobs = jobs
        self.cell_timeout = cell_timeout
        self.wall_timeout = wall_timeout
        self.memory = memory
        self.max_output = max_output
        self.sandboxed = sandboxed
        self._db_lock = threading.Lock()

    def _resources(self, student_id: str) -> dict[str, Any]:
        return {
            "nbgrader": {
                "notebook": self.assignment.notebook,
                "assignment": self.assignment.name,
                "student": student_id,
                "db_url": self.assignment.db_url,
            }
        }

    def _empty_result(self, student_id: str, reason: str, state: State = State.NOT_GRADED) -> StudentResult:
        cells = [
            CellResult(gid, 0.0, float(c.metadata.nbgrader.get("points", 0)), f"not run: {state.value}: {reason}")
            for gid, c in self.assignment.release_cells.items()
            if utils.is_grade(c)
        ]
        return StudentResult(student_id, self.assignment.name, 0.0, self.assignment.max_score, state, [reason], cells)

    def grade_one(self, submission: Submission, worker_box: list[Worker]) -> StudentResult:
        """Grade one submission; never raises for anything the student did."""
        started = time.monotonic()
        sid = submission.student_id
        if submission.notebook is None:
            return self._empty_result(sid, submission.problem)
        try:
            nb = read_notebook(submission.notebook)
            with self._db_lock:
                prepared = prepare(
                    nb,
                    release=self.assignment.release,
                    source_cells=self.assignment.release_cells,
                    originals=self.assignment.originals,
                    resources=self._resources(sid),
                )
        except UnreadableSubmission as exc:
            return self._empty_result(sid, str(exc))
        nb = prepared.nb
        notes = list(prepared.notes)
        if submission.notebook.name != f"{self.assignment.notebook}.ipynb":
            notes.append(f"graded {submission.notebook.name!r} (expected {self.assignment.notebook}.ipynb)")
        code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        request = {
            "id": sid,
            "cells": [
                {
                    "source": c.source,
                    "kind": "test" if utils.is_grade(c) and not utils.is_solution(c) else "code",
                    "name": c.metadata.get("nbgrader", {}).get("grade_id"),
                }
                for _, c in code_cells
            ],
            "cell_timeout": self.cell_timeout,
            "wall_timeout": self.wall_timeout,
            "memory": self.memory,
            "max_output": self.max_output,
        }
        try:
            response = worker_box[0].run(request, timeout=self.wall_timeout + 30)
        except WorkerError as exc:
            response = {"cells": [], "status": "died", "cell": None, "detail": f"the grading process stopped ({exc})"}
            worker_box[0].close()
            worker_box[0] = Worker(sandboxed=self.sandboxed)
        by_index = {rec["index"]: rec for rec in response.get("cells", [])}
        status = response.get("status", "died")
        failed = response.get("cell")
        reason = response.get("detail") or status
        for position, (_, cell) in enumerate(code_cells):
            record = by_index.get(position)
            if record is not None:
                cell.outputs = [nbformat.from_dict(o) for o in record["outputs"]]
                cell.execution_count = record["execution_count"]
            elif position == failed:
                cell.outputs = [nbformat.v4.new_output("error", ename="Stopped", evalue=reason, traceback=[reason])]
            else:
                cell.outputs = [_not_run(f"not run because an earlier cell failed: {reason}")]
        if status != "completed":
            where = f" in cell {failed + 1}" if isinstance(failed, int) else ""
            notes.append(f"{reason}{where}; the cells after it were not run")
        if response.get("leftover_processes"):
            notes.append(f"{response['leftover_processes']} background process(es) left running were stopped")
        with self._db_lock:
            with Gradebook(self.assignment.db_url) as gb:
                gb.update_or_create_student(sid)
                gb.update_or_create_submission(self.assignment.name, sid)
            resources = self._resources(sid)
            SaveAutoGrades().preprocess(nb, resources)
            with Gradebook(self.assignment.db_url) as gb:
                submitted = gb.find_submission(self.assignment.name, sid)
                score, max_score = float(submitted.score), float(submitted.max_score)
        cells = []
        for cell in nb.cells:
            if utils.is_grade(cell):
                points, max_points = utils.determine_grade(cell)
                gid = cell.metadata.nbgrader["grade_id"]
                cells.append(CellResult(gid, float(points or 0), float(max_points), _failure_message(cell)))
        result = StudentResult(sid, self.assignment.name, score, max_score, State.GRADED, notes, cells)
        with self._db_lock:
            result.feedback = report.write_feedback(
                nb,
                release_cells=self.assignment.release_cells,
                resources=self._resources(sid),
                path=self.out / "feedback" / sid / f"{self.assignment.notebook}.html",
            )
        result.seconds = time.monotonic() - started
        return result

    def run(self, submissions: list[Submission], *, progress: bool) -> list[StudentResult]:
        """Grade every submission with ``self.jobs`` workers; results in input order."""
        todo: queue.Queue[tuple[int, Submission]] = queue.Queue()
        for item in enumerate(submissions):
            todo.put(item)
        results: list[StudentResult | None] = [None] * len(submissions)
        bar = report.progress_bar(len(submissions), enabled=progress)
        errors: list[BaseException] = []

        def serve(box: list[Worker]) -> None:
            try:
                box[0].wait_ready()
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
                return
            while True:
                try:
                    index, submission = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = self.grade_one(submission, box)
                except Exception as exc:  # a grader bug must not lose the row
                    log.exception("grading %s failed", submission.student_id)
                    results[index] = self._empty_result(
                        submission.student_id, f"internal grader error ({type(exc).__name__}: {exc})"
                    )
                bar.update(1)

        # workers start here, in the main thread, so that they outlive the serving threads
        boxes = [[acquire_worker(sandboxed=self.sandboxed)] for _ in range(max(1, min(self.jobs, len(submissions))))]
        threads = [threading.Thread(target=serve, args=(box,), daemon=True) for box in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for box in boxes:
            release_worker(box[0])
        bar.close()
        if errors and all(r is None for r in results):
            raise errors[0]
        for i, r in enumerate(results):
            if r is None:
                results[i] = self._empty_result(submissions[i].student_id, "no grading worker could start")
        return [r for r in results if r is not None]


def _check_sandbox(sandbox: str) -> bool:
    if sandbox == "off":
        return False
    if sandbox_works():
        return True
    if sandbox == "require":
        raise RuntimeError("bubblewrap is required but does not work here (install the 'bubblewrap' package)")
    log.warning(
        "WARNING: bubblewrap is not available: student code runs WITHOUT a sandbox "
        "(it can read files and use the network). Install the 'bubblewrap' package."
    )
    return False


def grade(
    *,
    assignment: str,
    submissions: Path,
    out: Path | None = None,
    jobs: int | None = None,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    wall_timeout: float | None = None,
    memory: int = DEFAULT_MEMORY,
    max_output: int = DEFAULT_MAX_OUTPUT,
    course_root: Path = COURSE_ROOT,
    sandbox: str = "auto",
    progress: bool = False,
    roster: Path | None = None,
    due: datetime | str | None = None,
    late_penalty: float = 0.0,
    extensions: Path | None = None,
    only: Iterable[str] | None = None,
    layout: str = "auto",
    similarity: bool = True,
    echo: Callable[[str], None] | None = None,
) -> GradingRun:
    """Grade every student in ``submissions`` and write the reports into ``out``.

    ``timeout`` is the per-cell limit in seconds; ``wall_timeout`` the limit
    for a whole notebook (default: ten cells' worth). ``sandbox`` is
    ``"auto"`` (bubblewrap when it works, else a loud warning), ``"require"``
    or ``"off"``. ``layout`` is ``"auto"`` or one of :data:`autograder.collect.LAYOUTS`.
    ``roster`` is the LMS's gradebook export (Canvas CSV or Moodle grading
    worksheet): every student on it gets a row, and the LMS's grade file is
    written. ``due``, ``late_penalty`` (a fraction of the maximum per started
    day) and ``extensions`` (CSV of id, due date) charge late work. ``only``
    regrades those students into the existing ``out`` and writes
    ``changes.csv``. ``echo`` receives one-line progress messages (the layout found).

    Raises:
        AssignmentError: unknown assignment.
        SubmissionsError: the submissions path cannot be read, or the layout is unknown.
        RosterError: the roster, the extensions or a date cannot be used.
        RuntimeError: ``sandbox="require"`` and bubblewrap does not work.
    """
    started = time.monotonic()
    say = echo or (lambda _text: None)
    out = Path(out) if out is not None else Path("graded") / assignment
    if not Path(submissions).exists():
        raise SubmissionsError(f"{submissions} does not exist; pass a folder of student folders or a .zip of one")
    source = course_root / "solutions" / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        known = ", ".join(known_assignments(course_root)) or "none"
        raise AssignmentError(f"unknown assignment {assignment!r} (known: {known})")
    class_roster = lms.read_roster(Path(roster), assignment) if roster else None
    policy = lms.LatePolicy(
        due=lms.parse_datetime(due, what="--due") if isinstance(due, str) else due,
        fraction=late_penalty,
        extensions=lms.read_extensions(Path(extensions)) if extensions else {},
    )
    wanted = sorted(set(only)) if only is not None else None
    previous: dict[str, StudentResult] = {}
    if wanted is not None:
        try:
            previous = {r.student_id: r for r in report.read_results(out)}
        except FileNotFoundError as exc:
            raise SubmissionsError(
                f"--only regrades into an earlier run, but {out} has none: grade the class first"
            ) from exc
    source_sha256 = sha256_of(source)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-class-") as tmp:
        collection = collect(
            Path(submissions), f"{assignment}.ipynb", workdir=Path(tmp), layout=layout, progress=progress
        )
        say(collection.describe())
        found = lms.match_roster(collection.submissions, class_roster)
        todo = found if wanted is None else _select(found, wanted, class_roster)
        # a regrade leaves the run's gradebook alone: the students regraded get a scratch one
        setup = setup_assignment(assignment, course_root=course_root, out=out if wanted is None else Path(tmp) / "db")
        sandboxed = _check_sandbox(sandbox)
        feedback = out / "feedback"
        for folder in [feedback] if wanted is None else [feedback / s.student_id for s in todo]:
            if folder.exists():
                shutil.rmtree(folder)
        grader = Grader(
            setup,
            out=out,
            jobs=jobs or os.cpu_count() or 1,
            cell_timeout=timeout,
            wall_timeout=wall_timeout or max(60.0, 10 * timeout),
            memory=memory,
            max_output=max_output,
            sandboxed=sandboxed,
        )
        graded = grader.run(todo, progress=progress) if todo else []
        results = [
            lms.complete(r, s, roster=class_roster, policy=policy, source_sha256=source_sha256)
            for r, s in zip(graded, todo, strict=True)
        ]
        pairs = _similar_pairs(found, setup.release, progress=progress) if similarity else []
    if class_roster is not None:
        among = None if wanted is None else {s.student_id for w in wanted if (s := class_roster.find(w))}
        results += lms.missing(
            class_roster,
            {r.student_id for r in results},
            among=among,
            assignment=assignment,
            max_score=setup.max_score,
            policy=policy,
            source_sha256=source_sha256,
        )
    regraded = [r.student_id for r in results] if wanted is not None else []
    merged = {**previous, **{r.student_id: r for r in results}}
    run = GradingRun(
        assignment,
        out,
        sorted(merged.values(), key=lambda r: r.student_id),
        sandboxed,
        time.monotonic() - started,
        layout=collection.layout,
        max_score=setup.max_score,
        lms=class_roster.lms if class_roster else "",
        regraded=regraded,
    )
    run.written += report.write_grades(run)
    if wanted is not None:
        run.written.append(report.write_changes(previous, results, out / "changes.csv"))
    if class_roster is not None:
        run.written += lms.write_exports(class_roster, run.results, out, max_score=setup.max_score)
    run.written.append(write_similarity(pairs, out / "similarity.csv"))
    run.written.append(report.write_histogram(run))
    run.written.append(write_report(run, pairs, course_root=course_root))
    return run


def _similar_pairs(found: list[Submission], release: NotebookNode, *, progress: bool) -> list[Pair]:
    try:
        return compare_answers({s.student_id: s.notebook for s in found if s.notebook}, release, progress=progress)
    except ImportError as exc:  # an environment older than requirements.txt: grades matter more than this heuristic
        log.warning("similarity skipped: %s (run make to install requirements.txt)", exc)
        return []


def _select(found: list[Submission], wanted: list[str], roster: lms.Roster | None) -> list[Submission]:
    """The submissions of the students named by ``--only`` (by LMS id, or by an alias on the roster).

    Raises:
        SubmissionsError: a name is neither in the submissions nor on the roster.
    """
    by_id = {s.student_id: s for s in found}
    chosen, unknown = [], []
    for name in wanted:
        student = roster.find(name) if roster else None
        key = student.student_id if student else name
        if key in by_id:
            chosen.append(by_id[key])
        elif student is None:
            unknown.append(name)
    if unknown:
        listed = ", ".join(sorted(by_id)[:8])
        raise SubmissionsError(f"--only: no submission from {', '.join(unknown)} (students found: {listed})")
    return chosen
