"""One assignment's grader: each submission run in the sandbox, scored and its page rendered.

:func:`setup_assignment` makes the assignment's gradebook with nbgrader's own
generate step; a :class:`Grader` takes a submission through the stages listed
in :mod:`autograder.grading`, in a pool of threads here or through an
:class:`Executor` (a Dask cluster, :mod:`autograder.cluster`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import logging
import queue
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nbformat
import nbgrader
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook

from . import cache, feedback, gradebook, report, scoring
from .layout import COURSE_ROOT, assignments
from .limits import Limits
from .outputs import sha256_of
from .prepare import PARSING, SourceBook, UnreadableSubmission, bound_names, prepare, read_notebook
from .results import CellResult, State, StudentResult
from .sandbox import Sandbox, SandboxError
from .scoring import Marks
from .submission import Submission

log = logging.getLogger(__name__)

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
    book: SourceBook | None = None  # the gradebook's answers to nbgrader's lookups (None: read from db_url)


@functools.cache
def warm_up() -> None:
    """Load what grading needs in this process once: the feedback page's templates, highlighter and markdown
    parser, Pillow and its font (the histogram) and copydetect (similarity).

    Called between starting the sandbox and waiting for it, it costs nothing: the
    zygote imports torch meanwhile. It runs in the caller's thread (imports of
    one package from two threads at once can see it half initialised). What is
    loaded by then is frozen (:func:`gc.freeze`): the collections during the
    grading walk only what the grading made, not the libraries (a collector's
    time during a 64-notebook class 0.23 -> 0.06 s, all of it holding the GIL).
    """
    try:
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_markdown_cell("*warm* $x^2$"), nbformat.v4.new_code_cell("x = 1")]
        )
        feedback.render_page(nb, Marks(0.0), release_cells={}, notebook="warm-up", assignment="", max_score=0)
        import copydetect  # noqa: F401

        from .charts import histogram_png

        histogram_png([], top=1.0, bins=5, title="", xlabel="", ylabel="")
    except Exception:  # noqa: BLE001  (whatever fails here fails again, and is reported, where it is used)
        log.debug("warm-up failed", exc_info=True)
    gc.freeze()  # once a process: what is frozen is never collected


def known_assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """Assignment names found in ``solutions/`` (see :func:`autograder.layout.assignments`)."""
    return assignments(course_root)


SETUP_FORMAT = "3"  # what a set-up holds (gradebook.db, release.ipynb, setup.json): change it when that changes


def setup_assignment(name: str, *, course_root: Path, out: Path, scratch: Path | None = None) -> Assignment:
    """A fresh gradebook for ``name`` in ``out``, made by nbgrader's own generate step, and the release notebook.

    The generate step's output depends only on the assignment's source folder
    and nbgrader: it is kept in this user's cache (:mod:`autograder.cache`),
    keyed by a digest of both, and copied from there while the source is unchanged.

    Raises:
        AssignmentError: no ``solutions/<name>/<name>.ipynb`` in the course, or nbgrader cannot generate it.
    """
    source = course_root / "solutions" / name / f"{name}.ipynb"
    if not source.is_file():
        known = ", ".join(known_assignments(course_root)) or "none"
        raise AssignmentError(f"unknown assignment {name!r}: no solutions/{name}/{name}.ipynb (known: {known})")
    out.mkdir(parents=True, exist_ok=True)
    db_path = out.resolve() / "gradebook.db"
    db_url = f"sqlite:///{db_path}"
    key = cache.digest_folder(source.parent, SETUP_FORMAT, name, nbgrader.__version__)

    def cached() -> Path | None:
        return cache.entry("assignments", key, lambda folder: _generate(name, source.parent, folder, scratch))

    entry = cached()
    try:
        loaded = _copy_in(entry, name, db_path) if entry is not None else None
    except Exception:  # noqa: BLE001  (a damaged entry, whatever the damage: built again, once)
        assert entry is not None
        cache.drop(entry)
        entry = cached()
        loaded = _copy_in(entry, name, db_path) if entry is not None else None
    if loaded is None:  # no cache here: generated for this run alone
        with tempfile.TemporaryDirectory(prefix="autograder-setup-", dir=scratch) as own:
            _generate(name, source.parent, Path(own), scratch)
            loaded = _copy_in(Path(own), name, db_path)
    release, facts = loaded
    cells = {c.metadata.nbgrader["grade_id"]: c for c in release.cells if "nbgrader" in c.metadata}
    return Assignment(
        name,
        name,
        release,
        cells,
        db_url,
        float(facts["max_score"]),
        {str(k): str(v) for k, v in facts["originals"].items()},
        frozenset(map(str, facts["trusted_names"])),
        SourceBook.from_wire(facts["book"]),
    )


def _copy_in(generated: Path, name: str, db_path: Path) -> tuple[NotebookNode, dict[str, Any]]:
    """The generated gradebook copied to ``db_path``; the release notebook and what ``setup.json`` says of it."""
    facts = json.loads((generated / "setup.json").read_text(encoding="utf-8"))
    if facts.get("assignment") != name:
        raise ValueError(f"{generated} is the set-up of {facts.get('assignment')!r}, not {name!r}")
    db_path.unlink(missing_ok=True)
    shutil.copyfile(generated / "gradebook.db", db_path)
    release_path = generated / "release.ipynb"
    if sha256_of(db_path) != facts["gradebook_sha256"] or sha256_of(release_path) != facts["release_sha256"]:
        raise ValueError(f"{generated}: a file differs from what it was when generated")
    return nbformat.read(release_path, as_version=4), facts


def _generate(name: str, source: Path, into: Path, scratch: Path | None) -> None:
    """nbgrader's generate step for the assignment folder ``source``: ``into/gradebook.db`` and ``release.ipynb``.

    Raises:
        AssignmentError: nbgrader could not generate it.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="autograder-course-", dir=scratch) as tmp:
        shutil.copytree(source, Path(tmp) / "source" / name)
        config = Config()
        config.CourseDirectory.root = tmp
        config.CourseDirectory.source_directory = "source"
        config.CourseDirectory.release_directory = "release"
        db_url = f"sqlite:///{into.resolve() / 'gradebook.db'}"
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
            gradebook.close(db_url)
        if not result.get("success"):
            detail = (result.get("error") or result.get("log") or "").strip().splitlines()
            raise AssignmentError(f"nbgrader could not generate {name}: {detail[-1] if detail else 'no detail'}")
        shutil.copyfile(Path(tmp) / "release" / name / f"{name}.ipynb", into / "release.ipynb")
    # what every run needs to know of the assignment, read from the gradebook and the release once
    release = nbformat.read(into / "release.ipynb", as_version=4)
    with Gradebook(db_url) as gb:
        max_score = float(gb.find_assignment(name).max_score)
        originals = {c.name: c.source for c in gb.find_notebook(name, name).source_cells}
    book = SourceBook.read(db_url, name, name)
    gradebook.close(db_url)
    trusted: set[str] = set()
    for cell in release.cells:
        if "nbgrader" in cell.metadata and cell.cell_type == "code" and _trusted_kind(cell) != "student":
            trusted |= bound_names(originals.get(cell.metadata.nbgrader["grade_id"], cell.source))
    facts = {
        "assignment": name,
        "max_score": max_score,
        "originals": originals,
        "trusted_names": sorted(trusted),
        "book": book.to_wire(),
        "gradebook_sha256": sha256_of(into / "gradebook.db"),
        "release_sha256": sha256_of(into / "release.ipynb"),
    }
    (into / "setup.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")


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
        with self._db_lock:
            if self._book is None:  # the assignment's cells, read from the gradebook once
                self._book = self.assignment.book or SourceBook.read(
                    self.assignment.db_url, self.assignment.name, self.assignment.notebook_name
                )
        with PARSING:  # one notebook at a time: reading and restoring parse and compile (see PARSING)
            nb = read_notebook(notebook, max_cells=MAX_CELLS, max_cell_chars=MAX_CELL_CHARS)
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
