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
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from . import feedback, lms, report
from .classreport import write_class_report
from .collect import Submission, SubmissionsError, collect
from .gradebook import close as close_gradebook
from .gradebook import install
from .grader import AssignmentError, ClusterError, Grader, known_assignments, setup_assignment, warm_up
from .layout import COURSE_ROOT
from .limits import Limits
from .lms import RosterError
from .outputs import OutputDir, OutputError, recorded_file, sha256_of
from .prepare import PARSING
from .results import GradingRun, StudentResult
from .review import carry as reviewed
from .sandbox import Sandbox, SandboxError, jail_available
from .similarity import Fingerprints, Pair, fingerprint
from .similarity import compare as compare_answers
from .similarity import write_csv as write_similarity

log = logging.getLogger(__name__)

__all__ = ["AssignmentError", "ClusterError", "grade"]


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
        path = recorded_file(stored)
        if path is None:
            raise RosterError(
                f"the {flag[2:]} file of the run --only merges into, {stored['path']}, is missing or changed since: "
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
        if sandbox is not None and todo:
            warm_up()  # templates and libraries load while the zygote starts
        # a regrade leaves the run's gradebook alone: the students regraded get a scratch one
        setup = setup_assignment(
            assignment, course_root=course_root, out=stage if wanted is None else tmp / "db", scratch=tmp
        )
        names = {s.student_id: s.name for s in todo}
        links = feedback.BookLinks.of_course(assignment, course_root)
        # the answers are fingerprinted beside the grading (compared pair by pair after it)
        answers = None
        if similarity:
            with contextlib.suppress(ImportError):  # here, not in a thread beside the graders' (see prepare.PARSING)
                import copydetect  # noqa: F401
            background = cleanup.enter_context(ThreadPoolExecutor(1, thread_name_prefix="similarity"))
            answers = background.submit(_fingerprints, found, setup.release)
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
        pairs = _similar_pairs(answers.result(), progress=progress) if answers is not None else []
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

        written += lms.pack_feedback(
            collection.layout, run.results, stage, f"{assignment}.ipynb", pages_in=(stage, out)
        )
        written.append(write_similarity(pairs, stage / "similarity.csv"))
        written += write_class_report(run, pairs, course_root=course_root, links_from=out)
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
        close_gradebook(setup.db_url)  # its file is moved next
        target.commit(options=options, keep=keep)
    run.out = out
    run.written = [out / p.relative_to(stage) for p in written]
    run.seconds = time.monotonic() - started
    return run


def _fingerprints(found: list[Submission], release: NotebookNode) -> Fingerprints | None:
    """The answers fingerprinted for :func:`_similar_pairs` (None: copydetect is missing)."""
    try:
        return fingerprint({s.student_id: s.notebook for s in found if s.notebook}, release, each=PARSING)
    except ImportError as exc:  # an environment older than requirements.txt: grades matter more than this heuristic
        log.warning("similarity skipped: %s (run make to install requirements.txt)", exc)
        return None


def _similar_pairs(answers: Fingerprints | None, *, progress: bool) -> list[Pair]:
    return compare_answers(answers, progress=progress) if answers is not None else []


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
