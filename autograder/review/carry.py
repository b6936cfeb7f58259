"""Reviews applied to a run's results and written into every output of ``DIR``, as one set.

After a review, ``grades.csv``, ``results.json``, ``cells.csv``, the LMS grade
files, the feedback pages and the LMS feedback uploads carry the manual points
and the rubric's feedback, and nbgrader's gradebook (``DIR/gradebook.db``)
holds them as manual grades and comments, so formgrader shows the same. The
set is staged and committed whole (:mod:`autograder.outputs`): a review
killed half-way leaves the previous complete set.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from datetime import datetime
from pathlib import Path

from .. import lms, report
from ..outputs import OutputDir
from ..results import GradingRun, State, StudentResult
from .rubric import Question, Questions, RubricError, read_questions
from .store import FILE, Reviews, StoreError

log = logging.getLogger(__name__)

AWAITS = "awaits manual grading"
_PENDING = re.compile(r" not yet given\)$")
_CHANGED = "changed since it was reviewed"
BEGIN_MARK, END_MARK = "<!-- written answers: begin -->", "<!-- written answers: end -->"


class ReviewError(RuntimeError):
    """The review cannot run on ``DIR``; the message says what to fix."""


def apply(result: StudentResult, questions: Questions, reviews: Reviews) -> None:
    """Give ``result``'s manually graded cells the points and feedback of their reviews (in place).

    A review counts only for the answer it graded (by hash); a review of an
    earlier answer is flagged in the status. The score, raw score and state
    follow: ``graded`` once every written answer has its review.
    """
    if not result.manual or result.state not in (State.NEEDS_MANUAL, State.GRADED):
        return
    before = sum(c.points for c in result.cells if c.grade_id in result.manual)
    pending, changed = [], []
    for cell in result.cells:
        if cell.grade_id not in result.manual:
            continue
        review = reviews.current(result.student_id, cell.grade_id, cell.answer)
        question = questions.get(cell.grade_id)
        if review is None:
            cell.points, cell.message = 0.0, AWAITS
            pending.append(cell)
            if reviews.get(result.student_id, cell.grade_id) is not None:
                changed.append(cell.grade_id)
            continue
        cell.points = min(max(review.points, 0.0), cell.max_points)
        text = question.feedback_of(review.items, review.comment) if question else review.comment
        cell.message = text or f"{cell.points:g} of {cell.max_points:g} points"
    after = sum(c.points for c in result.cells if c.grade_id in result.manual)
    raw = (result.score if result.raw_score is None else result.raw_score) + after - before
    result.raw_score = raw
    # the penalty is capped at the raw score: recapped at the new one (a run before late_charge kept only the capped)
    result.late_penalty = min(max(result.late_charge, result.late_penalty), max(raw, 0.0))
    result.score = max(raw - result.late_penalty, 0.0)
    result.notes = [n for n in result.notes if not _PENDING.search(n) and _CHANGED not in n]
    if changed:
        result.notes.insert(0, f"written answer {', '.join(changed)} {_CHANGED}: review it again")
    if pending:
        points = sum(c.max_points for c in pending)
        ids = ", ".join(c.grade_id for c in pending)
        result.notes.insert(0, f"{ids} ({points:g} point{'s' * (points != 1)} not yet given)")
        result.state = State.NEEDS_MANUAL
    else:
        result.state = State.GRADED


def section(result: StudentResult, questions: Questions) -> str:
    """The feedback page's part on written answers: points, the rubric's feedback and the comment of each."""
    parts = [BEGIN_MARK, '<section class="written-answers" style="margin:2em auto;max-width:900px">']
    parts.append("<h2>Written answers, graded by hand</h2>")
    parts.append(
        f"<p>Total score with the written answers: <strong>{result.score:g} / {result.max_score:g}</strong></p>"
    )
    for cell in result.cells:
        if cell.grade_id not in result.manual:
            continue
        question = questions.get(cell.grade_id)
        title = html.escape(question.title if question else cell.grade_id)
        parts.append(f"<h3>{title}: {cell.points:g} / {cell.max_points:g}</h3>")
        if cell.message == AWAITS:
            parts.append("<p>Not graded yet.</p>")
            continue
        lines = [line for line in cell.message.splitlines() if line.strip()]
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
    parts.append("</section>")
    parts.append(END_MARK)
    return "\n".join(parts)


def rewrite_page(page: str, result: StudentResult, questions: Questions) -> str:
    """The page with its written-answers section replaced (or added before ``</body>``)."""
    start, end = page.find(BEGIN_MARK), page.find(END_MARK)
    if start != -1 and end > start:
        page = page[:start] + page[end + len(END_MARK) :]
    page = re.sub(
        r"(<h4>[^<]*\(Score: )[0-9.]+( / [0-9.]+\)</h4>)",
        lambda m: f"{m.group(1)}{result.score:.1f}{m.group(2)}",
        page,
        count=1,
    )
    for cell in result.cells:
        if cell.grade_id not in result.manual:
            continue
        gid = re.escape(html.escape(cell.grade_id))
        for pattern in (
            rf'(<a href="#{gid}">[^<]*</a> \(Score: )[0-9.]+( / )',  # the page's table of contents
            rf'(<a name="{gid}"></a><div class="panel-heading">.{{0,300}}?Score: )[0-9.]+( / )',  # the cell's heading
        ):
            page = re.sub(
                pattern, lambda m, c=cell: f"{m.group(1)}{c.points:.1f}{m.group(2)}", page, count=1, flags=re.S
            )
    block = section(result, questions)
    at = page.rfind("</body>")
    return page[:at] + block + "\n" + page[at:] if at != -1 else page + block


def write_gradebook(db: Path, results: list[StudentResult], reviews: Reviews) -> None:
    """Store each reviewed answer's points and feedback as nbgrader's manual grade and comment in ``db``."""
    from nbgrader.api import Gradebook, MissingEntry

    from ..gradebook import install

    install()
    with Gradebook(f"sqlite:///{db.resolve()}") as gb:
        for r in results:
            for cell in r.cells:
                if cell.grade_id not in r.manual:
                    continue
                review = reviews.current(r.student_id, cell.grade_id, cell.answer)
                try:
                    grade = gb.find_grade(cell.grade_id, r.assignment, r.assignment, r.student_id)
                    comment = gb.find_comment(cell.grade_id, r.assignment, r.assignment, r.student_id)
                except MissingEntry:
                    log.info("%s has no %s in %s: not stored there", r.student_id, cell.grade_id, db)
                    continue
                grade.manual_score = cell.points if review is not None else None
                comment.manual_comment = cell.message if review is not None else None
        gb.db.commit()


def _questions(source: Path, assignment: str) -> Questions:
    try:
        return read_questions(source, assignment)
    except RubricError as exc:
        raise ReviewError(str(exc)) from exc


def carry_over(
    results: list[StudentResult], *, out: Path, stage: Path, full: bool, source: Path
) -> list[StudentResult]:
    """For a grading run into ``out``: keep the reviews of answers that did not change, flag those that did.

    Called by :func:`autograder.grading.grade` before it writes its reports:
    the staged feedback pages get their written-answers section, the staged
    set keeps ``reviews.json``, and a full run's fresh gradebook the manual grades.
    """
    if not (Path(out) / FILE).is_file() or not results:
        return results
    assignment = results[0].assignment
    try:
        reviews = Reviews.read(out, assignment)
        questions = read_questions(source, assignment)
    except (StoreError, RubricError) as exc:
        log.warning("the reviews in %s are not carried over: %s", out, exc)
        return results
    for r in results:
        if not r.manual:
            continue
        apply(r, questions, reviews)
        page = stage / r.feedback if r.feedback is not None else None
        if page is not None and page.is_file():
            page.write_text(rewrite_page(page.read_text(encoding="utf-8"), r, questions), encoding="utf-8")
    (stage / FILE).write_bytes(reviews.to_json())
    if full and (stage / "gradebook.db").is_file():
        write_gradebook(stage / "gradebook.db", results, reviews)
    return results


class Class:
    """A graded ``DIR`` opened for review: its run's options, results, questions and reviews."""

    def __init__(self, out: Path, *, course_root: Path | None = None) -> None:
        """Raises: ReviewError when ``out`` holds no complete grading run, or its questions cannot be read."""
        from ..layout import COURSE_ROOT
        from ..outputs import MANIFEST, Manifest, OutputError

        self.out = Path(out)
        if not (self.out / MANIFEST).is_file():
            raise ReviewError(f"{self.out} holds no grading run (no {MANIFEST}): grade the class first")
        try:
            self.options = Manifest.read(self.out / MANIFEST).options
        except OutputError as exc:
            raise ReviewError(str(exc)) from exc
        self.assignment = str(self.options.get("assignment") or "")
        root = self.course_root = course_root or COURSE_ROOT
        self.source = root / "solutions" / self.assignment / f"{self.assignment}.ipynb"
        self.questions = _questions(self.source, self.assignment)
        if not self.questions.questions:
            raise ReviewError(f"{self.assignment} has no written questions (no manually graded answer cells)")
        try:
            self.reviews = Reviews.read(self.out, self.assignment)
        except StoreError as exc:
            raise ReviewError(f"{exc}: move it away to start the review afresh") from exc
        self.reload()

    def reload(self) -> None:
        """Read ``results.json`` again (a ``grade --only`` may have changed it)."""
        try:
            self.results = {r.student_id: r for r in report.read_results(self.out)}
        except (OSError, ValueError) as exc:
            raise ReviewError(f"{self.out / 'results.json'} cannot be read ({exc}): grade the class again") from exc
        self.max_score = max((r.max_score for r in self.results.values()), default=0.0)

    def answers(self, grade_id: str) -> list[tuple[StudentResult, str]]:
        """Every student's answer to a question: the students whose notebook was graded, by id."""
        found = []
        for sid in sorted(self.results):
            r = self.results[sid]
            cell = next((c for c in r.cells if c.grade_id == grade_id), None)
            if cell is not None and grade_id in r.manual:
                found.append((r, cell.answer))
        return found

    def question(self, grade_id: str) -> Question | None:
        return self.questions.get(grade_id)

    def progress(self, grade_id: str) -> tuple[int, int]:
        """(answers graded, answers) of a question."""
        answers = self.answers(grade_id)
        done = sum(self.reviews.current(r.student_id, grade_id, text) is not None for r, text in answers)
        return done, len(answers)

    def publish(self) -> None:
        """Write the reviews into every output of ``DIR`` as one set (see the module's docstring).

        Raises:
            ReviewError: ``DIR`` changed since its run, is in use, or the run's roster is gone.
        """
        from ..outputs import OutputError

        try:
            with OutputDir(self.out) as target:
                target.verify()
                self.reload()
                self._stage(target)
        except OutputError as exc:
            raise ReviewError(str(exc)) from exc

    def _stage(self, target: OutputDir) -> None:
        stage, out = target.staging, self.out
        results = sorted(self.results.values(), key=lambda r: r.student_id)
        for r in results:
            apply(r, self.questions, self.reviews)
        (stage / FILE).write_bytes(self.reviews.to_json())
        if (out / "gradebook.db").is_file():
            shutil.copy2(out / "gradebook.db", stage / "gradebook.db")
            write_gradebook(stage / "gradebook.db", results, self.reviews)
        run = GradingRun(self.assignment, stage, results, True, 0.0, max_score=self.max_score)
        report.write_grades(run)
        self._redraw_report(run)
        for r in results:
            if r.manual and r.feedback is not None and (out / r.feedback).is_file():
                page = (out / r.feedback).read_text(encoding="utf-8")
                (stage / r.feedback).parent.mkdir(parents=True, exist_ok=True)
                (stage / r.feedback).write_text(rewrite_page(page, r, self.questions), encoding="utf-8")
        roster = self._roster()
        if roster is not None:
            lms.write_exports(roster, results, stage)

        layout = str(self.options.get("layout") or "")
        lms.pack_feedback(layout, results, stage, f"{self.assignment}.ipynb", pages_in=(stage, out))
        assert target.previous is not None
        target.commit(options=target.previous.options, keep=list(target.previous.files))

    def _redraw_report(self, run: GradingRun) -> None:
        """``scores.png`` and ``report.html`` drawn again with the reviewed scores (a run without report.json keeps its)."""
        from ..classreport import read_inputs, write_class_report

        inputs = read_inputs(self.out)
        if inputs is None:
            return
        run.seconds, run.sandboxed, run.layout = inputs.seconds, inputs.sandboxed, inputs.layout
        write_class_report(
            run,
            inputs.pairs,
            course_root=self.course_root,
            links_from=self.out,
            when=inputs.when,
            reviewed=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )

    def _roster(self) -> lms.Roster | None:
        from ..outputs import recorded_file

        stored = self.options.get("roster")
        if not stored:
            return None
        path = recorded_file(stored)
        if path is None:
            raise ReviewError(
                f"the roster of the run in {self.out}, {stored['path']}, is missing or changed since: put it back, "
                "or grade the class again"
            )
        try:
            return lms.read_roster(path, self.assignment)
        except lms.RosterError as exc:
            raise ReviewError(str(exc)) from exc
