"""``python -m autograder check NOTEBOOK.ipynb``: a student's check before submitting.

Runs the notebook the way the grader does (the same test and student
processes, the same jail where the machine has one), with the *visible* tests
only, and looks for what would cost points silently:

* the file name the grader looks for (``corr2d.ipynb``);
* nbgrader's metadata on every cell that has it in the released notebook;
* test and other locked cells present and unedited;
* every graded name defined, with the signature of the released notebook.

It prints one line per problem and a table of the points of each part that
the visible tests would give, and exits 1 when anything is wrong, 0 otherwise.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .limits import Limits
from .prepare import UnreadableSubmission, bound_names, read_notebook
from .sandbox import Sandbox, jail_available

SELF_CHECK = "self_check"
_PART = re.compile(r"^\s*(?:[rRuU]?\"\"\"|''')?\s*(Part\s+\w+)")


@dataclass
class TestLine:
    """One visible test cell's outcome."""

    grade_id: str
    part: str
    points: float
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    """What :func:`check` found."""

    assignment: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tests: list[TestLine] = field(default_factory=list)
    sandboxed: bool = False
    file: str = ""  # the name of the file checked

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.passed for t in self.tests)

    def format(self) -> str:
        lines = [
            f"Checking {self.file or self.assignment + '.ipynb'} (visible tests only; the grader also runs hidden tests)"
        ]
        lines.extend(f"  note: {note}" for note in self.notes)
        if not self.sandboxed:
            lines.append("  note: no sandbox on this machine: your code ran as a normal program")
        for problem in self.problems:
            lines.append(f"  PROBLEM: {problem}")
        parts: dict[str, list[TestLine]] = {}
        for test in self.tests:
            parts.setdefault(test.part, []).append(test)
        if parts:
            lines.append("")
            lines.append(f"  {'part':<10}{'visible checks':<18}{'points if hidden tests agree':>30}")
            for part, tests in parts.items():
                passed = sum(t.passed for t in tests)
                points = sum(t.points for t in tests if t.passed)
                total = sum(t.points for t in tests)
                lines.append(f"  {part:<10}{f'{passed}/{len(tests)} pass':<18}{f'{points:g} / {total:g}':>30}")
            for test in self.tests:
                if not test.passed:
                    lines.append(f"  FAILED {test.grade_id}: {test.message[:500]}")
        lines.append("")
        lines.append("  OK: ready to submit" if self.ok else "  NOT READY: fix the problems above, save, check again")
        return "\n".join(lines)


def _signature(source: str) -> dict[str, list[str]]:
    """Top-level functions and classes of ``source``: name -> argument names (classes: of __init__)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        elif isinstance(node, ast.ClassDef):
            init = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
            found[node.name] = [a.arg for a in init[0].args.args] if init else []
    return found


def _meta(cell: NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {}) if "metadata" in cell else {}


def _structure(nb: NotebookNode, release: NotebookNode, report: CheckReport) -> None:
    submitted = {_meta(c).get("grade_id"): c for c in nb.cells if _meta(c).get("grade_id")}
    if not submitted:
        report.problems.append(
            "no cell has nbgrader metadata: the notebook was copied into a new file; "
            "download the exercise again and paste your answers into it"
        )
        return
    for cell in release.cells:
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if not gid:
            continue
        mine = submitted.get(gid)
        if mine is None:
            what = "test cell" if meta.get("grade") and not meta.get("solution") else "cell"
            report.problems.append(f"the {what} {gid} was deleted (the grader restores it, with your code missing)")
            continue
        if meta.get("locked") and mine.source != cell.source:
            report.problems.append(f"the locked cell {gid} was edited (the grader restores the original)")
        if meta.get("solution") and cell.cell_type == "code":
            wanted = _signature(cell.source)
            got = _signature(mine.source)
            for name, args in wanted.items():
                if name not in got:
                    report.problems.append(f"the answer cell {gid} does not define {name}: keep its def/class line")
                elif got[name] != args:
                    report.problems.append(
                        f"{name} takes ({', '.join(got[name])}) but the grader calls it with ({', '.join(args)})"
                    )


def _job(nb: NotebookNode, release: NotebookNode) -> list[tuple[str, dict[str, str]]]:
    """The cells to run: the student's code, and the released (visible) source of locked cells."""
    released = {_meta(c).get("grade_id"): c for c in release.cells if _meta(c).get("grade_id")}
    plan = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if gid == SELF_CHECK:
            continue
        original = released.get(gid)
        if original is not None and _meta(original).get("grade") and not _meta(original).get("solution"):
            plan.append((gid, {"source": original.source, "kind": "test"}))
        elif original is not None and _meta(original).get("locked"):
            plan.append((gid, {"source": original.source, "kind": "locked"}))
        else:
            plan.append((gid or "", {"source": cell.source, "kind": "student"}))
    return plan


def check(path: Path, *, course_root: Path, limits: Limits | None = None, assignment: str = "") -> CheckReport:
    """Check the notebook at ``path``; see the module docstring.

    ``assignment``: the exercise it is, when known (the self-check cell knows it);
    otherwise it is read from the file's name.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    known = sorted(p.parent.name for p in (course_root / "exercises").glob("*/*.ipynb") if p.stem == p.parent.name)
    if assignment not in known:
        assignment = path.stem if path.stem in known else ""
    if not assignment:
        for name in known:
            if path.stem.startswith(name) or name in path.stem:
                assignment = name
                break
    report = CheckReport(assignment or path.stem, file=path.name)
    if not assignment:
        report.problems.append(f"{path.name} is not the name of an exercise: name it one of {', '.join(known)}.ipynb")
        return report
    if path.name != f"{assignment}.ipynb":
        report.problems.append(f"the file is named {path.name!r}: submit it as {assignment}.ipynb")
    try:
        nb = read_notebook(path)
    except UnreadableSubmission as exc:
        report.problems.append(str(exc))
        return report
    release = nbformat.read(course_root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    _structure(nb, release, report)
    plan = _job(nb, release)
    works, _ = jail_available()
    report.sandboxed = works
    sandbox = Sandbox(sandboxed=works, limits=limits or Limits())
    try:
        sandbox.wait_ready()
        trusted = {
            name
            for c in release.cells
            if c.cell_type == "code" and _meta(c).get("locked")
            for name in bound_names(c.source)
        }
        response = sandbox.grade([job for _, job in plan], trusted_names=frozenset(trusted))
    finally:
        sandbox.close()
    by_index = {r["index"]: r for r in response.get("cells", [])}
    released = {_meta(c).get("grade_id"): c for c in release.cells}
    for position, (gid, job) in enumerate(plan):
        if job["kind"] != "test":
            continue
        cell = released[gid]
        record = by_index.get(position)
        errors = [o for o in (record or {}).get("outputs", []) if o.get("output_type") == "error"]
        match = _PART.match(cell.source)
        message = ""
        if record is None:
            message = response.get("detail") or "not run"
        elif errors:
            message = f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
        report.tests.append(
            TestLine(
                gid,
                match.group(1) if match else "",
                float(_meta(cell).get("points", 0)),
                record is not None and not errors,
                message,
            )
        )
    return report


def running_notebook() -> Path | None:
    """The notebook file this kernel runs, where the front end says which it is, else None.

    JupyterLab and Notebook 7 (jupyter_server 2) tell the kernel its session's
    path (``__session__``, ``JPY_SESSION_NAME``); VS Code sets ``__vsc_ipynb_file__``.
    The path may be relative to the server's root: then the file of that name in
    the kernel's folder is the notebook.
    """
    said: list[str] = []
    try:
        from IPython import get_ipython
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    namespace = getattr(shell, "user_ns", None) or {}
    said += [namespace.get(name) for name in ("__vsc_ipynb_file__", "__session__")]
    said.append(os.environ.get("JPY_SESSION_NAME"))
    for text in said:
        if not isinstance(text, str) or not text.endswith(".ipynb"):
            continue
        path = Path(text)
        for candidate in (path, Path.cwd() / path.name):
            if candidate.is_file():
                return candidate.resolve()
    return None


def _copies(assignment: str, folder: Path) -> list[Path]:
    """The notebooks in ``folder`` that are copies of ``assignment``: ``kernels.ipynb``,
    ``kernels (1).ipynb``, ``kernels-2.ipynb``, ``Copy of kernels.ipynb``; newest first."""
    found = [p for p in folder.glob("*.ipynb") if assignment in p.stem and p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def notebook_to_check(notebook: str | Path) -> tuple[Path, list[str]]:
    """The file the self-check cell of ``notebook``'s exercise checks, and notes on how it was chosen.

    The notebook the kernel runs when the front end says which it is (a
    re-download saved as ``kernels (1).ipynb`` checks itself, not an older
    ``kernels.ipynb`` beside it); else the most recently saved copy of the
    exercise in ``notebook``'s folder (the cell asks to save first).

    Raises:
        FileNotFoundError: no copy of the exercise is there.
    """
    given = Path(notebook)
    assignment = given.stem
    running = running_notebook()
    if running is not None:
        return running, []
    copies = _copies(assignment, given.parent if given.parent != Path() else Path.cwd())
    if not copies:
        raise FileNotFoundError(f"{given} does not exist: save the notebook, then run the check again")
    notes = []
    if len(copies) > 1:
        others = ", ".join(p.name for p in copies[1:])
        notes.append(
            f"this folder has {len(copies)} copies of the exercise; checked the most recently saved, "
            f"{copies[0].name} (also there: {others})"
        )
    return copies[0], notes


SKIP_VARIABLE = "AUTOGRADER_NO_SELF_CHECK"  # set in the environment of a grading run's kernels


def run_check(notebook: str | Path, *, course_root: Path | None = None) -> bool:
    """Check the notebook this cell runs in and print the report; the one line of a notebook's last cell.

    ``notebook`` names the exercise (``"kernels.ipynb"``); the file checked is
    the notebook the kernel runs, or the most recently saved copy of the
    exercise (:func:`notebook_to_check`). Save the notebook first: what is
    checked is the file on disk. Returns True when nothing is wrong.

    With :data:`SKIP_VARIABLE` set (plain ``nbgrader autograde`` of a class),
    the cell says so and checks nothing: a grading run has the real tests.
    """
    from .layout import COURSE_ROOT

    if os.environ.get(SKIP_VARIABLE):
        print(f"self-check skipped: {SKIP_VARIABLE} is set (a grading run)")
        return True

    path, notes = notebook_to_check(notebook)
    root = (course_root or COURSE_ROOT).resolve()
    report = check(path, course_root=root, assignment=Path(notebook).stem)
    report.notes[:0] = notes
    print(report.format())
    return report.ok
