"""Grade a whole class: every student gets a row, nobody's code can stop the rest.

The pipeline per submission:

1. :mod:`autograder.collect` finds the student's notebook (or says why there is none);
2. :mod:`autograder.prepare` reads it and lets nbgrader restore locked and test cells;
3. a fresh test process and a fresh jailed student process, forked from a warm
   zygote (:mod:`autograder.sandbox`), run the cells: the tests trusted, the
   student's code sandboxed, each in its own process;
4. nbgrader's ``determine_grade`` scores the outputs (:mod:`autograder.scoring`) and
   :mod:`autograder.feedback` renders the page with nbgrader's template, naming no
   student yet (all this is :meth:`Grader.mark`, what a cluster's worker does);
5. the client names the page and writes it; the run's marks go into a real nbgrader
   gradebook in one session at the end; :mod:`autograder.report` writes ``grades.csv``
   and ``cells.csv``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import queue
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import nbformat
import nbgrader.api
import sqlalchemy
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook

from . import feedback, lms, report, scoring
from .classreport import write_report
from .collect import Submission, SubmissionsError, collect, sha256_of
from .layout import assignments
from .limits import Limits
from .lms import RosterError
from .outputs import OutputDir, OutputError
from .prepare import SourceBook, UnreadableSubmission, bound_names, prepare, read_notebook
from .results import CellResult, GradingRun, State, StudentResult
from .review import carry as reviewed
from .sandbox import Sandbox, SandboxError, jail_available
from .scoring import Marks
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


_create_engine = nbgrader.api.create_engine


@functools.cache
def _shared_engine(url: str, echo: bool = False, future: bool = True) -> Any:
    """One engine per gradebook URL (each Gradebook() would make a new one and lose the compiled-SQL cache)."""
    engine = _create_engine(url, echo=echo, future=future)
    if url.startswith("sqlite:"):
        sqlalchemy.event.listen(engine, "connect", _fast_sqlite)
    return engine


def _fast_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """The run's gradebook is rebuilt by every run: no need to wait for the disk on each commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.close()


@functools.cache
def install() -> None:
    """Speed up nbgrader for this process: the gradebook's schema head read from disk, shared engines.

    Called by :func:`grade`; nothing is patched at import.
    """
    nbgrader.api.get_alembic_version = alembic_head
    nbgrader.api.create_engine = _shared_engine
    # nbgrader's gradebook code predates SQLAlchemy 2.1's autoflush warnings; they are harmless here
    warnings.filterwarnings("ignore", message=".*not in session.*")
    # students' notebooks of older formats have no cell ids: nbformat adds them (warning each time)
    warnings.filterwarnings("ignore", category=nbformat.warnings.MissingIDFieldWarning)
    warnings.filterwarnings("ignore", category=nbformat.warnings.DuplicateCellId)


COURSE_ROOT = Path(__file__).resolve().parent.parent
MAX_CELLS = 2000  # cells of a submitted notebook
MAX_CELL_CHARS = 1_000_000  # characters of one cell
SELF_CHECK = "self_check"  # the grade_id of the students' self-check cell, never run when grading


class ClusterError(RuntimeError):
    """The ``--dask`` address is malformed, or the cluster cannot be used (no worker that can grade)."""


class AssignmentError(RuntimeError):
    """The assignment is unknown or its source notebook cannot be used."""


@dataclass
class Assignment:
    """The source and release notebooks of an assignment and its gradebook."""

    name: str
    notebook_name: str  # the notebook's file name without .ipynb
    release: NotebookNode
    release_cells: dict[str, NotebookNode]
    db_url: str
    max_score: float
    originals: dict[str, str] = field(default_factory=dict)
    trusted_names: frozenset[str] = frozenset()  # bound by its locked and test cells: never the student's


def known_assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """Assignment names found in ``solutions/`` (see :func:`autograder.layout.assignments`)."""
    return assignments(course_root)


def setup_assignment(name: str, *, course_root: Path, out: Path, scratch: Path | None = None) -> Assignment:
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

    out.mkdir(parents=True, exist_ok=True)
    db_path = out.resolve() / "gradebook.db"
    if db_path.exists():
        db_path.unlink()
    db_url = f"sqlite:///{db_path}"
    with tempfile.TemporaryDirectory(prefix="autograder-course-", dir=scratch) as tmp:
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
    trusted = set()
    for gid, cell in cells.items():
        if cell.cell_type == "code" and _trusted_kind(cell) != "student":
            trusted |= bound_names(originals.get(gid, cell.source))
    return Assignment(name, name, release, cells, db_url, max_score, originals, frozenset(trusted))


def _trusted_kind(release_cell: NotebookNode) -> str:
    """How a cell of the release runs when graded: ``test``, ``locked`` (in both processes) or ``student``."""
    if utils.is_solution(release_cell):
        return "student"
    if utils.is_grade(release_cell):
        return "test"
    return "locked" if utils.is_locked(release_cell) else "student"


def _not_run(reason: str) -> dict[str, Any]:
    return nbformat.v4.new_output("error", ename="NotRun", evalue=reason, traceback=[f"NotRun: {reason}"])


@dataclass
class Marked:
    """A notebook run, scored and its page rendered, for no student yet: what a cluster's worker sends back."""

    marks: Marks
    page: str  # the feedback page, naming no student (:func:`autograder.feedback.name_page`)
    restored: list[str]  # notes on restoring the notebook
    ran: list[str]  # notes on running it

    def to_wire(self) -> dict[str, Any]:
        return {"marks": self.marks.to_wire(), "page": self.page, "restored": self.restored, "ran": self.ran}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Marked:
        return cls(Marks.from_wire(data["marks"]), str(data["page"]), list(data["restored"]), list(data["ran"]))


class Grader:
    """Grades submissions of one assignment: each in a fresh pair of processes of the sandbox."""

    def __init__(
        self,
        assignment: Assignment,
        *,
        out: Path,
        jobs: int,
        sandbox: Sandbox | None,
        names: dict[str, str] | None = None,
        limits: Limits | None = None,
        executor: Executor | None = None,
        links: feedback.BookLinks = feedback.NO_BOOK,
    ) -> None:
        self.assignment = assignment
        self.out = out
        self.jobs = jobs
        self.sandbox = sandbox  # None when an executor runs the notebooks elsewhere
        self.names = names or {}  # student id -> the name the feedback page greets
        self.limits = limits  # None: the sandbox's own
        self.executor = executor
        self.links = links  # where the feedback pages' links into the book lead
        self._db_lock = threading.Lock()
        self._marks: list[tuple[str, Marks]] = []
        self._book: SourceBook | None = None  # (student id, marks) of the notebooks graded, for the gradebook

    def _resources(self, student_id: str) -> dict[str, Any]:
        return {
            "nbgrader": {
                "notebook": self.assignment.notebook_name,
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

    # --- the stages of one submission ----------------------------------------------------------

    def _prepare(self, notebook: Path) -> tuple[NotebookNode, list[str]]:
        """Read and restore the notebook (stage 1). Raises UnreadableSubmission."""
        nb = read_notebook(notebook, max_cells=MAX_CELLS, max_cell_chars=MAX_CELL_CHARS)
        with self._db_lock:
            if self._book is None:  # the assignment's cells, read from the gradebook once
                self._book = SourceBook(self.assignment.db_url, self.assignment.name, self.assignment.notebook_name)
        prepared = prepare(
            nb,
            release=self.assignment.release,
            release_cells=self.assignment.release_cells,
            originals=self.assignment.originals,
            resources=self._resources("student"),
            book=self._book,
        )
        return prepared.nb, list(prepared.notes)

    def _cells_to_run(self, nb: NotebookNode) -> list[tuple[NotebookNode, dict[str, str]]]:
        """The code cells to run and how (stage 2): tests trusted, the student's cells sandboxed.

        How a cell runs is decided by the release, never by the submitted metadata:
        a cell runs trusted only under the grade id of a locked or test code cell
        of the release, with the gradebook's source (which nbgrader restored).
        """
        plan = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            original = self.assignment.release_cells.get(gid) if isinstance(gid, str) else None
            if gid == SELF_CHECK and original is not None:
                continue
            kind = _trusted_kind(original) if original is not None and original.cell_type == "code" else "student"
            source = self.assignment.originals.get(gid, original.source) if kind != "student" else cell.source
            plan.append((cell, {"source": source, "kind": kind}))
        return plan

    def _execute(self, plan: list[tuple[NotebookNode, dict[str, str]]]) -> dict[str, Any]:
        """Run the cells in the sandbox (stage 3); a failing sandbox becomes a response too."""
        if self.sandbox is None:
            raise SandboxError("this grader has no sandbox: its executor runs the notebooks")
        try:
            return self.sandbox.grade(
                [job for _, job in plan], trusted_names=self.assignment.trusted_names, limits=self.limits
            )
        except SandboxError as exc:
            return {"cells": [], "status": "died", "cell": None, "detail": f"the grading process stopped ({exc})"}

    @staticmethod
    def _fill_outputs(plan: list[tuple[NotebookNode, dict[str, str]]], response: dict[str, Any]) -> list[str]:
        """Put the outputs into the notebook's cells (stage 4); return notes on what stopped early."""
        by_index = {rec["index"]: rec for rec in response.get("cells", [])}
        status = response.get("status", "died")
        failed = response.get("cell")
        reason = response.get("detail") or status
        for position, (cell, _) in enumerate(plan):
            record = by_index.get(position)
            if record is not None:
                cell.outputs = [nbformat.from_dict(o) for o in record.get("outputs", [])]
                count = record.get("execution_count")
                cell.execution_count = count if type(count) is int else None
            elif position == failed:
                cell.outputs = [nbformat.v4.new_output("error", ename="Stopped", evalue=reason, traceback=[reason])]
            else:
                cell.outputs = [_not_run(f"not run because an earlier cell failed: {reason}")]
        notes = []
        if status != "completed":
            where = f" in cell {failed + 1}" if isinstance(failed, int) else ""
            notes.append(f"{reason}{where}")
        if response.get("leftover_processes"):
            notes.append(f"{response['leftover_processes']} background process(es) left running were stopped")
        return notes

    def run_notebook(self, notebook: Path) -> tuple[NotebookNode, list[str], list[str]]:
        """Stages 1 to 4 of one notebook file: the notebook with its outputs, the notes on restoring and on running.

        Touches no output file and no student's data: what a cluster's worker does
        (:mod:`autograder.cluster`); never raises for anything the student's code did.

        Raises:
            UnreadableSubmission: the file is not a notebook that can be graded.
        """
        nb, restored = self._prepare(notebook)
        plan = self._cells_to_run(nb)
        response = self._execute(plan)
        return nb, restored, self._fill_outputs(plan, response)

    def mark(self, notebook: Path) -> Marked:
        """Stages 1 to 6 of one notebook file, for no student in particular: run, scored, its page rendered.

        Touches no output file and no student's data: what a cluster's worker does
        (:mod:`autograder.cluster`); never raises for anything the student's code did.

        Raises:
            UnreadableSubmission: the file is not a notebook that can be graded.
        """
        nb, restored, ran = self.run_notebook(notebook)
        marks = scoring.mark(nb, max_answer_chars=MAX_CELL_CHARS)
        page = feedback.render_page(
            nb,
            marks,
            release_cells=self.assignment.release_cells,
            notebook=self.assignment.notebook_name,
            assignment=self.assignment.name,
            max_score=self.assignment.max_score,
            links=self.links,
        )
        return Marked(marks, page, restored, ran)

    def grade_submission(self, submission: Submission) -> StudentResult:
        """Grade one submission through the stages above; never raises for anything the student did."""
        started = time.monotonic()
        if submission.notebook is None:
            return self._empty_result(submission.student_id, submission.problem)
        try:
            marked = self.mark(submission.notebook)
        except UnreadableSubmission as exc:
            return self._empty_result(submission.student_id, str(exc))
        return self.finish(submission, marked, started=started)

    def finish(self, submission: Submission, marked: Marked, *, started: float) -> StudentResult:
        """The student's row and feedback page from a marked notebook; its marks go to the gradebook with the run's."""
        sid = submission.student_id
        notes = list(marked.restored)
        expected = f"{self.assignment.notebook_name}.ipynb"
        if submission.notebook is not None and submission.notebook.name != expected:
            notes.append(f"graded {submission.notebook.name!r} (expected {expected})")
        notes += marked.ran
        marks = marked.marks
        state = State.GRADED
        if marks.manual:
            points = sum(c.max_points for c in marks.cells if c.grade_id in marks.manual)
            notes.insert(0, f"{', '.join(marks.manual)} ({points:g} point{'s' * (points != 1)} not yet given)")
            state = State.NEEDS_MANUAL
        result = StudentResult(
            sid,
            self.assignment.name,
            marks.score,
            self.assignment.max_score,
            state,
            notes,
            marks.cells,
            manual=list(marks.manual),
        )
        page = self.out / "feedback" / sid / f"{self.assignment.notebook_name}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback.name_page(marked.page, sid, self.names.get(sid, "")), encoding="utf-8")
        result.feedback = page
        with self._db_lock:
            self._marks.append((sid, marks))
        result.seconds = time.monotonic() - started
        return result

    def run(self, submissions: list[Submission], *, progress: bool) -> list[StudentResult]:
        """Grade every submission with ``self.jobs`` threads, or with the executor; results in input order.

        The marks of every notebook graded go into the run's gradebook at the end, in one session.
        """
        if self.executor is not None:
            results = self.executor.run(self, submissions, progress=progress)
        else:
            results = self._run_here(submissions, progress=progress)
        with self._db_lock:
            marks, self._marks = self._marks, []
        scoring.record(self.assignment.db_url, self.assignment.name, self.assignment.notebook_name, marks)
        return results

    def _run_here(self, submissions: list[Submission], *, progress: bool) -> list[StudentResult]:
        todo: queue.Queue[tuple[int, Submission]] = queue.Queue()
        for item in enumerate(submissions):
            todo.put(item)
        results: list[StudentResult | None] = [None] * len(submissions)
        bar = report.progress_bar(len(submissions), enabled=progress)

        def serve() -> None:
            while True:
                try:
                    index, submission = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = self.grade_submission(submission)
                except Exception as exc:  # a grader bug must not lose the row
                    log.exception("grading %s failed", submission.student_id)
                    results[index] = self._empty_result(
                        submission.student_id, f"internal grader error ({type(exc).__name__}: {exc})"
                    )
                bar.update(1)

        threads = [threading.Thread(target=serve, daemon=True) for _ in range(max(1, min(self.jobs, len(submissions))))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bar.close()
        return [
            r if r is not None else self._empty_result(submissions[i].student_id, "no grading process could start")
            for i, r in enumerate(results)
        ]


class Executor(Protocol):
    """Runs :meth:`Grader.run` elsewhere (a Dask cluster: :class:`autograder.cluster.DaskExecutor`)."""

    def run(self, grader: Grader, submissions: list[Submission], *, progress: bool) -> list[StudentResult]:
        """One result per submission, in input order."""
        ...


def _file_option(path: Path | None) -> dict[str, str] | None:
    """How a run records an input file in its manifest: where it was, and its bytes' SHA-256."""
    if path is None:
        return None
    return {"path": str(Path(path).resolve()), "sha256": sha256_of(Path(path))}


def _reuse(
    previous: dict[str, Any],
    *,
    roster: Path | None,
    due: str | None,
    late_penalty: float | None,
    extensions: Path | None,
) -> tuple[Path | None, str | None, float | None, Path | None]:
    """The options of the run an ``--only`` merges into, with the ones given checked against them.

    Raises:
        RosterError: a given option differs from the run's, or an input file of the run changed since.
    """

    def file(given: Path | None, name: str, flag: str) -> Path | None:
        stored = previous.get(name)
        if given is not None:
            if stored is None or _file_option(given) != {**stored, "path": str(Path(given).resolve())}:
                raise RosterError(
                    f"{flag} {given} differs from the run --only merges into "
                    f"({'none' if stored is None else stored['path']}): leave {flag} out to reuse it, "
                    "or grade the whole class again"
                )
            return given
        if stored is None:
            return None
        path = Path(stored["path"])
        if not path.is_file() or sha256_of(path) != stored["sha256"]:
            raise RosterError(
                f"the {flag[2:]} file of the run --only merges into, {path}, is missing or changed since: "
                "grade the whole class again"
            )
        return path

    roster = file(roster, "roster", "--roster")
    extensions = file(extensions, "extensions", "--extensions")
    stored_due = previous.get("due")
    if due is not None:
        given = lms.parse_datetime(due, what="--due").isoformat()
        if given != stored_due:
            raise RosterError(
                f"--due {due} differs from the run --only merges into ({stored_due or 'no due date'}): "
                "leave it out to reuse it, or grade the whole class again"
            )
    stored_penalty = previous.get("late_penalty", 0.0)
    if late_penalty is not None and late_penalty != stored_penalty:
        raise RosterError(
            f"--late-penalty {late_penalty:g} differs from the run --only merges into ({stored_penalty:g}): "
            "leave it out to reuse it, or grade the whole class again"
        )
    return roster, stored_due, stored_penalty, extensions


def _grade_ids(nb_path: Path, max_bytes: int = 64 * 2**20) -> set[str]:
    """The nbgrader grade ids a notebook file carries (empty when it is unreadable: the grader says why later)."""
    try:
        if nb_path.stat().st_size > max_bytes:
            return set()
        data = json.loads(nb_path.read_bytes())
        cells = data.get("cells", []) if isinstance(data, dict) else []
        ids = set()
        for cell in cells if isinstance(cells, list) else []:
            meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
            gid = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta, dict) else None
            if isinstance(gid, str):
                ids.add(gid)
        return ids
    except (OSError, ValueError, AttributeError, RecursionError):
        return set()


@functools.cache
def _assignment_ids(source: Path) -> frozenset[str]:
    return frozenset(_grade_ids(source))


def _foreign(
    submissions: list[Submission], assignment: str, course_root: Path
) -> tuple[list[Submission], dict[str, int]]:
    """Submissions whose notebook belongs to another assignment of the course become rows saying so.

    Returns the submissions and, per other assignment, how many notebooks were its.
    """
    every = {
        name: _assignment_ids(course_root / "solutions" / name / f"{name}.ipynb")
        for name in known_assignments(course_root)
    }
    shared = frozenset.intersection(*every.values()) if len(every) > 1 else frozenset()  # e.g. the self-check cell
    own = every.get(assignment, frozenset()) - shared
    others = {name: ids - shared for name, ids in every.items() if name != assignment}
    counts: dict[str, int] = {}
    out = []
    for sub in submissions:
        ids = (_grade_ids(sub.notebook) - shared) if sub.notebook is not None else set()
        name, overlap = max(((n, len(ids & g)) for n, g in others.items()), key=lambda t: t[1], default=("", 0))
        if not ids or overlap <= len(ids & own):  # more of this assignment's cells than of any other's
            out.append(sub)
            continue
        counts[name] = counts.get(name, 0) + 1
        problem = (
            f"this is the notebook of the assignment {name}, not {assignment} (its graded cells are {name}'s): "
            "submitted to the wrong assignment?"
        )
        out.append(replace(sub, notebook=None, problem=problem))
    return out, counts


def grade(
    *,
    assignment: str,
    submissions: Path,
    out: Path | None = None,
    jobs: int | None = None,
    limits: Limits | None = None,
    course_root: Path = COURSE_ROOT,
    unsandboxed: bool = False,
    progress: bool = False,
    sandbox: Sandbox | None = None,
    roster: Path | None = None,
    due: datetime | str | None = None,
    late_penalty: float | None = None,
    extensions: Path | None = None,
    only: Iterable[str] | None = None,
    layout: str = "auto",
    similarity: bool = True,
    echo: Callable[[str], None] | None = None,
    dask: str | None = None,
) -> GradingRun:
    """Grade every student in ``submissions`` and write the reports into ``out``, as one set.

    Student code runs jailed (:mod:`autograder.jail`); where no jail can be
    built the grader refuses, unless ``unsandboxed`` is true. A warm
    ``sandbox`` may be passed to grade several assignments with one zygote
    (the caller closes it; its limits and mode are used). ``layout`` is
    ``"auto"`` or one of :data:`autograder.lms.LAYOUTS`. ``roster`` is the
    LMS's gradebook export: every student on it gets a row, and that LMS's
    grade-import file is written. ``due``, ``late_penalty`` (a fraction of the
    maximum per started day; None means 0, or the merged run's) and
    ``extensions`` (CSV of id, due date) charge late work. ``only`` regrades
    those students into the existing ``out``, with that run's options, and
    writes ``changes.csv``. Everything is written into a staging folder and
    swapped in whole (:mod:`autograder.outputs`). ``echo`` receives one-line
    progress messages (the layout found). ``dask`` (``local:N`` or a scheduler's
    ``tcp://HOST:PORT``) runs the notebooks on a Dask cluster
    (:mod:`autograder.cluster`); everything else, and every file, stays here.

    Raises:
        AssignmentError: unknown assignment, or the notebooks are another assignment's.
        SubmissionsError: the submissions path cannot be read, or the layout is unknown.
        RosterError: the roster, the extensions or a date cannot be used or do not fit the class,
            or ``only`` conflicts with the run it merges into.
        OutputError: ``out`` is in use, or (with ``only``) not the complete output of one run.
        SandboxError: no jail can be built here and ``unsandboxed`` is false, or the sandbox does not start.
        ClusterError: ``dask`` is malformed, or its cluster cannot be reached or has no worker that can grade.
    """
    started = time.monotonic()
    install()
    say = echo or (lambda _text: None)
    out = Path(out) if out is not None else Path("graded") / assignment
    if not Path(submissions).exists():
        raise SubmissionsError(f"{submissions} does not exist; pass a folder of student folders or a .zip of one")
    source = course_root / "solutions" / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        known = ", ".join(known_assignments(course_root)) or "none"
        raise AssignmentError(f"unknown assignment {assignment!r} (known: {known})")
    sandboxed = not unsandboxed if sandbox is None else sandbox.sandboxed
    if sandboxed and sandbox is None and dask is None:  # a cluster's workers check their own jail
        works, why = jail_available()
        if not works:
            raise SandboxError(
                f"student code cannot be sandboxed here ({why}); grading untrusted code without a sandbox "
                "needs --unsandboxed"
            )
    elif not sandboxed:
        log.warning(
            "WARNING: --unsandboxed: student code runs WITHOUT a sandbox (it can read files and use the network)"
        )
    wanted = sorted(set(only)) if only is not None else None
    due_text = due.isoformat() if isinstance(due, datetime) else due
    with contextlib.ExitStack() as cleanup, OutputDir(out) as target:
        if sandbox is None and dask is None:
            # started first: its zygote imports torch while the submissions are collected and the gradebook set up
            sandbox = Sandbox(sandboxed=sandboxed, limits=limits or Limits())
            cleanup.callback(sandbox.close)
        tmp = target.scratch  # inside DIR: a killed run's working files go with its staging folder
        previous: dict[str, StudentResult] = {}
        if wanted is not None:
            target.verify()
            assert target.previous is not None
            if target.previous.options.get("assignment") != assignment:
                raise AssignmentError(
                    f"--only merges into {out}, a run of {target.previous.options.get('assignment')!r}, "
                    f"not of {assignment!r}"
                )
            roster, due_text, late_penalty, extensions = _reuse(
                target.previous.options, roster=roster, due=due_text, late_penalty=late_penalty, extensions=extensions
            )
            try:
                previous = {r.student_id: r for r in report.read_results(out)}
            except (OSError, ValueError) as exc:
                raise OutputError(
                    f"{out / 'results.json'} cannot be read ({exc}): grade the whole class again"
                ) from exc
        class_roster = lms.read_roster(Path(roster), assignment) if roster else None
        policy = lms.LatePolicy(
            due=lms.parse_datetime(due_text, what="--due") if due_text else None,
            fraction=late_penalty or 0.0,
            extensions=lms.read_extensions(Path(extensions)) if extensions else {},
        )
        stage = target.staging
        source_sha256 = sha256_of(source)
        collection = collect(
            Path(submissions), f"{assignment}.ipynb", workdir=Path(tmp), layout=layout, progress=progress
        )
        found, foreign = _foreign(collection.submissions, assignment, course_root)
        notebooks = sum(1 for s in collection.submissions if s.notebook is not None)
        if foreign and sum(foreign.values()) * 2 > notebooks:
            name, count = max(foreign.items(), key=lambda t: t[1])
            raise AssignmentError(
                f"{count} of the {notebooks} notebooks are the assignment {name}'s, not {assignment}'s: "
                f"grade them as {name}, or pass the download of {assignment}"
            )
        found = lms.match_roster(found, class_roster, collection.layout)
        if class_roster is not None:
            lms.check_roster_fits(collection.submissions, found, class_roster, collection.layout)
        lms.check_extensions(policy, found, class_roster)
        lms.check_times(policy, class_roster)
        todo = found if wanted is None else _select(found, wanted, class_roster)
        say(collection.describe())
        # a regrade leaves the run's gradebook alone: the students regraded get a scratch one
        setup = setup_assignment(
            assignment, course_root=course_root, out=stage if wanted is None else tmp / "db", scratch=tmp
        )
        names = {s.student_id: s.name for s in todo}
        links = feedback.BookLinks.of_course(assignment, course_root)
        graded: list[StudentResult] = []
        if todo and dask is not None:
            from .cluster import connect

            with connect(dask, sandboxed=sandboxed, limits=limits or Limits(), source=source, echo=say) as executor:
                grader = Grader(setup, out=stage, jobs=1, sandbox=None, names=names, executor=executor, links=links)
                graded = grader.run(todo, progress=progress)
        elif todo:
            assert sandbox is not None
            sandbox.wait_ready()
            grader = Grader(
                setup, out=stage, jobs=jobs or os.cpu_count() or 1, sandbox=sandbox, names=names, links=links
            )
            graded = grader.run(todo, progress=progress)
        results = [
            lms.complete(r, s, roster=class_roster, policy=policy, source_sha256=source_sha256)
            for r, s in zip(graded, todo, strict=True)
        ]
        for r in results:  # pages are addressed relative to DIR: the staging folder is renamed away
            if r.feedback is not None:
                r.feedback = r.feedback.relative_to(stage)
        pairs = _similar_pairs(found, setup.release, progress=progress) if similarity else []
        if class_roster is not None:
            among = None if wanted is None else {s.student_id for w in wanted if (s := class_roster.find(w))}
            results += lms.missing(
                class_roster,
                results if among is None else [*results, *(r for sid, r in previous.items() if sid not in among)],
                found,
                among=among,
                assignment=assignment,
                max_score=setup.max_score,
                policy=policy,
                source_sha256=source_sha256,
            )
        results = reviewed.carry_over(results, out=out, stage=stage, full=wanted is None, source=source)
        regraded = [r.student_id for r in results] if wanted is not None else []
        merged = {**previous, **{r.student_id: r for r in results}}
        run = GradingRun(
            assignment,
            stage,
            sorted(merged.values(), key=lambda r: r.student_id),
            sandboxed,
            time.monotonic() - started,
            layout=collection.layout,
            max_score=setup.max_score,
            lms=class_roster.lms if class_roster else "",
            regraded=regraded,
        )
        written = report.write_grades(run)
        if wanted is not None:
            written.append(report.write_changes(previous, results, stage / "changes.csv"))
        if class_roster is not None:
            written += lms.write_exports(class_roster, run.results, stage)

        def page_of(result: StudentResult) -> Path | None:
            if result.feedback is None:
                return None
            for folder in (stage, out):
                if (folder / result.feedback).is_file():
                    return folder / result.feedback
            return None

        written += lms.pack_feedback(collection.layout, run.results, stage, page_of, f"{assignment}.ipynb")
        written.append(write_similarity(pairs, stage / "similarity.csv"))
        histogram = report.write_histogram(run)
        written.append(histogram)
        written.append(write_report(run, pairs, course_root=course_root, links_from=out, histogram=histogram))
        keep: list[str] = []
        if wanted is not None and target.previous is not None:
            redone = {f"feedback/{sid}/" for sid in regraded}
            keep = [rel for rel in target.previous.files if not any(rel.startswith(p) for p in redone)]
        options = {
            "assignment": assignment,
            "submissions": str(Path(submissions).resolve()),
            "layout": collection.layout,
            "roster": _file_option(Path(roster)) if roster else None,
            "due": policy.due.isoformat() if policy.due else None,
            "late_penalty": policy.fraction,
            "extensions": _file_option(Path(extensions)) if extensions else None,
        }
        target.commit(options=options, keep=keep)
    run.out = out
    run.written = [out / p.relative_to(stage) for p in written]
    run.seconds = time.monotonic() - started
    return run


def _similar_pairs(found: list[Submission], release: NotebookNode, *, progress: bool) -> list[Pair]:
    try:
        return compare_answers({s.student_id: s.notebook for s in found if s.notebook}, release, progress=progress)
    except ImportError as exc:  # an environment older than requirements.txt: grades matter more than this heuristic
        log.warning("similarity skipped: %s (run make to install requirements.txt)", exc)
        return []


def _select(found: list[Submission], wanted: list[str], roster: lms.Roster | None) -> list[Submission]:
    """The submissions of the students named by ``--only`` (by LMS id, by the layout's name, or a roster alias).

    Raises:
        SubmissionsError: a name is neither in the submissions nor on the roster.
    """
    by_id = {s.student_id: s for s in found}
    by_label = {s.label: s for s in found if s.label}
    chosen, unknown = [], []
    for name in wanted:
        student = roster.find(name) if roster else None
        key = student.student_id if student else name
        if key in by_id:
            chosen.append(by_id[key])
        elif name in by_label:
            chosen.append(by_label[name])
        elif student is None:
            unknown.append(name)
    if unknown:
        listed = ", ".join(sorted(by_id)[:8])
        raise SubmissionsError(f"--only: no submission from {', '.join(unknown)} (students found: {listed})")
    return chosen
