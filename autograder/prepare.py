"""Turn a submitted file into a notebook nbgrader can grade, noting what was wrong.

nbgrader does the real work: :class:`nbgrader.preprocessors.OverwriteCells`
restores locked and test cells from the gradebook (and adds deleted test
cells back). This module reads the file defensively, recognises a notebook
copied into a fresh file without nbgrader metadata (its answers are matched
to the answer cells by the names they define), and describes in words every
repair, so that the instructor sees it in ``grades.csv``.
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells

log = logging.getLogger(__name__)

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class UnreadableSubmission(ValueError):
    """The submitted file is not a notebook that can be graded; the message says why."""


@dataclass(frozen=True)
class _Cell:
    name: str
    cell_type: str = ""
    locked: bool = False
    checksum: str | None = None
    source: str = ""
    max_score: float = 0.0


class SourceBook:
    """What :class:`~nbgrader.preprocessors.OverwriteCells` asks the gradebook, read from it once per assignment.

    nbgrader's preprocessor looks each cell up in the gradebook (a query per
    cell, for every student); the answers never change during a run, so they are
    read once and kept as plain values. Only the lookups it makes are answered.
    """

    def __init__(
        self,
        notebook: str,
        assignment: str,
        *,
        source_cells: list[_Cell],
        grade_cells: list[_Cell],
        solution_cells: list[_Cell],
        task_cells: list[_Cell],
    ) -> None:
        self.source_cells, self.grade_cells = source_cells, grade_cells
        self.solution_cells, self.task_cells = solution_cells, task_cells
        self._sources = {c.name: c for c in self.source_cells}
        self._graded = {c.name: c for c in [*self.grade_cells, *self.task_cells]}
        self.name, self.assignment = notebook, assignment

    @classmethod
    def read(cls, db_url: str, assignment: str, notebook: str) -> SourceBook:
        """The source book of ``notebook`` of ``assignment``, read from the gradebook at ``db_url``."""
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gb:
            source = gb.find_notebook(notebook, assignment)
            return cls(
                notebook,
                assignment,
                source_cells=[
                    _Cell(c.name, c.cell_type, bool(c.locked), c.checksum, c.source) for c in source.source_cells
                ],
                grade_cells=[_Cell(c.name, max_score=float(c.max_score)) for c in source.grade_cells],
                solution_cells=[_Cell(c.name) for c in source.solution_cells],
                task_cells=[_Cell(c.name, max_score=float(c.max_score)) for c in source.task_cells],
            )

    _KINDS = ("source_cells", "grade_cells", "solution_cells", "task_cells")

    def to_wire(self) -> dict[str, Any]:
        """Plain data (JSON): the notebook, the assignment and each kind of cell's fields."""
        return {
            "notebook": self.name,
            "assignment": self.assignment,
            **{kind: [asdict(c) for c in getattr(self, kind)] for kind in self._KINDS},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> SourceBook:
        cells = {kind: [_Cell(**c) for c in data[kind]] for kind in cls._KINDS}
        return cls(str(data["notebook"]), str(data["assignment"]), **cells)

    def _check(self, notebook: str, assignment: str) -> None:
        if (notebook, assignment) != (self.name, self.assignment):
            raise ValueError(f"this source book is of {self.assignment}/{self.name}, not {assignment}/{notebook}")

    def find_notebook(self, notebook: str, assignment: str) -> SourceBook:
        self._check(notebook, assignment)
        return self

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> _Cell:
        from nbgrader.api import MissingEntry

        self._check(notebook, assignment)
        if name not in self._sources:
            raise MissingEntry()
        return self._sources[name]

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> _Cell:
        from nbgrader.api import MissingEntry

        self._check(notebook, assignment)
        if name not in self._graded:
            raise MissingEntry()
        return self._graded[name]


class _OverwriteFromBook(OverwriteCells):
    """nbgrader's ``OverwriteCells``, its gradebook lookups answered by a :class:`SourceBook`."""

    def __init__(self, book: SourceBook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.book = book

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        # OverwriteCells.preprocess, with the book where it opens a Gradebook
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.book
        nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


@dataclass
class Prepared:
    """A notebook ready to execute, and the repairs made to it."""

    nb: NotebookNode
    notes: list[str] = field(default_factory=list)


def read_notebook(path: Path, *, max_cells: int = 2000, max_cell_chars: int = 1_000_000) -> NotebookNode:
    """Read ``path`` as a version-4 notebook.

    The size, the number of cells and the size of each cell are checked before
    nbformat parses and validates the notebook (the expensive part).

    Raises:
        UnreadableSubmission: empty, too large, too many or too large cells, not JSON, or not a notebook.
    """
    size = path.stat().st_size
    if size == 0:
        raise UnreadableSubmission("the notebook file is empty (0 bytes)")
    if size > MAX_NOTEBOOK_BYTES:
        raise UnreadableSubmission(f"the notebook file is too large ({size / 2**20:.0f} MiB)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableSubmission(f"the notebook file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableSubmission(
            f"the notebook file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except (ValueError, RecursionError) as exc:  # nested too deeply, an integer of 5000 digits
        raise UnreadableSubmission(f"the notebook file cannot be read as JSON ({str(exc)[:200]})") from exc
    if _ESCAPED_SURROGATE.search(text):
        # "\ud800" alone is valid JSON but no valid text: it would stop the feedback page and the CSV
        text = json.dumps(data, ensure_ascii=False).encode(errors="replace").decode()
        data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UnreadableSubmission("the file is JSON but not a Jupyter notebook (no 'cells')")
    cells = data["cells"]
    if len(cells) > max_cells:
        raise UnreadableSubmission(f"the notebook has {len(cells)} cells; at most {max_cells} are graded")
    for number, cell in enumerate(cells, 1):
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        size = len(source) if isinstance(source, str) else sum(len(str(s)) for s in source[:100_000])
        if size > max_cell_chars:
            raise UnreadableSubmission(f"cell {number} holds {size} characters; at most {max_cell_chars} are graded")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several unrelated types
        message = str(exc).splitlines()[0][:200]
        raise UnreadableSubmission(f"the file is not a valid Jupyter notebook ({message})") from exc
    return nb


# CPython 3.11 counts the AST's recursion depth per interpreter, not per thread: two threads parsing
# or compiling at once can fail with "SystemError: AST constructor recursion depth mismatch"
# (gh-106905). The grader's threads parse code here and compile templates for the feedback pages
# (autograder.feedback) only while holding this lock.
PARSING = threading.RLock()


def parse(source: str) -> ast.Module:
    """``ast.parse`` under :data:`PARSING`; raises SyntaxError (and ValueError for a NUL byte) as it does."""
    with PARSING:
        return ast.parse(source)


def _defined_names(source: str) -> set[str]:
    try:
        tree = parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def bound_names(source: str) -> set[str]:
    """The names a cell binds in the notebook's namespace (assignments, imports, defs, loops, ...).

    Names local to functions, classes and comprehensions are left out; names
    declared ``global`` in a function and bound by ``:=`` in a comprehension are
    kept. A cell that does not parse binds nothing.
    """
    try:
        tree = parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            names.update(name for inner in ast.walk(node) if isinstance(inner, ast.Global) for name in inner.names)
            pending.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            pending.extend(n.target for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
            continue
        pending.extend(ast.iter_child_nodes(node))
    return names


def _drop_malformed_metadata(nb: NotebookNode) -> int:
    """Remove nbgrader metadata that nbgrader itself would crash on; return how many cells had it.

    That is metadata that is not a dict, or that marks a cell as graded, an
    answer or locked without a grade id of text: such a cell is the student's.
    """
    dropped = 0
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata.nbgrader
        marked = isinstance(meta, dict) and any(meta.get(key) for key in ("grade", "solution", "locked", "task"))
        if not isinstance(meta, dict) or (marked and not isinstance(meta.get("grade_id"), str)):
            del cell.metadata["nbgrader"]
            dropped += 1
    return dropped


def _has_nbgrader_cells(nb: NotebookNode) -> bool:
    return any("nbgrader" in cell.metadata for cell in nb.cells)


def rebuild_from_release(nb: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """Answers of a metadata-less notebook placed into the release notebook.

    Each answer cell of the release (grade_id = the graded name) takes the
    last code cell of the submission that defines that name.
    """
    rebuilt = copy.deepcopy(release)
    notes = ["the notebook had no nbgrader metadata (copied into a new file?): answers were matched by name"]
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in rebuilt.cells:
        if not utils.is_solution(cell) or cell.cell_type != "code":
            continue
        name = cell.metadata.nbgrader.get("grade_id")
        matches = [c for c in code_cells if name in _defined_names(c.source)]
        if matches:
            cell.source = matches[-1].source
        else:
            notes.append(f"no cell defining {name} was found")
    return rebuilt, notes


def _role(cell: NotebookNode) -> tuple[bool, bool, bool]:
    return bool(utils.is_grade(cell)), bool(utils.is_solution(cell)), bool(utils.is_locked(cell))


def _metadata_mismatch(nb: NotebookNode, release_cells: dict[str, NotebookNode]) -> str:
    """In words, how the notebook's nbgrader metadata differs from the release's ('' when it does not)."""
    seen: dict[str, int] = {}
    foreign, changed = [], []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
            continue
        gid = meta["grade_id"]
        seen[gid] = seen.get(gid, 0) + 1
        if gid not in release_cells:
            foreign.append(gid)
        elif _role(cell) != _role(release_cells[gid]):
            changed.append(gid)
    parts = []
    if foreign:
        parts.append(f"cells the release does not have carry nbgrader ids: {', '.join(sorted(set(foreign))[:5])}")
    if changed:
        parts.append(f"the nbgrader type of {', '.join(sorted(set(changed))[:5])} was changed")
    twice = sorted(gid for gid, n in seen.items() if n > 1)
    if twice:
        parts.append(f"several cells share the id {', '.join(twice[:5])}")
    return "; ".join(parts)


def prepare(
    nb: NotebookNode,
    *,
    release: NotebookNode,
    release_cells: dict[str, NotebookNode],
    originals: dict[str, str] | None = None,
    resources: dict,
    book: SourceBook | None = None,
) -> Prepared:
    """Restore the notebook with nbgrader and describe the repairs.

    ``release_cells`` maps grade ids to the released notebook's nbgrader cells,
    ``originals`` grade ids to the sources nbgrader stored (hidden tests included).
    ``book``, if given, answers nbgrader's gradebook lookups (the gradebook of
    ``resources`` is then not opened).
    """

    def overwrite(nb: NotebookNode) -> NotebookNode:
        if book is None:
            return OverwriteCells(add_missing_cells=True, log=quiet).preprocess(nb, resources)[0]
        return _OverwriteFromBook(book, add_missing_cells=True, log=quiet).preprocess(nb, resources)[0]

    notes: list[str] = []
    malformed = _drop_malformed_metadata(nb)
    if not _has_nbgrader_cells(nb):
        nb, notes = rebuild_from_release(nb, release)
    if malformed:
        notes.append(f"nbgrader metadata without a grade id removed from {malformed} cell(s)")
    submitted = {
        cell.metadata.nbgrader["grade_id"]: cell
        for cell in nb.cells
        if "nbgrader" in cell.metadata and "grade_id" in cell.metadata.nbgrader
    }
    deleted_tests = [gid for gid, c in release_cells.items() if utils.is_grade(c) and gid not in submitted]
    deleted_answers = [
        gid
        for gid, c in release_cells.items()
        if utils.is_solution(c) and not utils.is_grade(c) and gid not in submitted
    ]
    edited = []
    for gid, cell in submitted.items():
        original = release_cells.get(gid)
        if original is None or not utils.is_locked(original):
            continue
        allowed = {original.source, (originals or {}).get(gid, original.source)}
        if cell.source not in allowed or cell.cell_type != original.cell_type:
            edited.append(gid)
    if deleted_tests:
        notes.append(f"deleted test cells restored: {', '.join(deleted_tests)}")
    if deleted_answers:
        notes.append(f"answer cells missing: {', '.join(deleted_answers)}")
    if edited:
        notes.append(f"edited locked cells restored: {', '.join(edited)}")
    mismatch = _metadata_mismatch(nb, release_cells)
    quiet = logging.getLogger("autograder.nbgrader")  # nbgrader's per-cell warnings, kept out of the terminal
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    nb, _ = ClearOutput().preprocess(nb, {})
    nb, _ = DeduplicateIds(log=quiet).preprocess(nb, {})
    try:
        nb = overwrite(nb)
    except (KeyError, ValueError) as exc:
        # nbgrader cannot place restored cells when the notebook's order is broken:
        # fall back to the release notebook with the student's answers.
        nb, more = rebuild_from_release(nb, release)
        why = mismatch or f"nbgrader: {str(exc)[:200]}"
        notes.append(
            f"the notebook's nbgrader cells do not match the released notebook ({why}); "
            "the released notebook was graded with your answers, matched by the names they define"
        )
        notes.extend(more[1:])
        nb = overwrite(nb)
    # cells nbgrader added back hold plain dicts: make the whole notebook attribute-accessible
    return Prepared(nb=nbformat.from_dict(nb), notes=notes)
