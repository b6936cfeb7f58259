"""Find the students and their notebooks in a folder or a ``.zip`` of one.

Layout: ``SUBMISSIONS/<student_id>/<notebook>.ipynb``. A zip may wrap that in
one top-level folder (as learning-management systems export it). A student's
folder holding a single notebook under another name (``corr2d (1).ipynb``) is
graded; ``.ipynb_checkpoints``, hidden files and stray files are ignored.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}


class SubmissionsError(RuntimeError):
    """The submissions folder or archive cannot be read at all."""


@dataclass(frozen=True)
class Submission:
    """One student's entry: the notebook to grade, or why there is none."""

    student_id: str
    notebook: Path | None
    problem: str = ""


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in IGNORED_DIRS


def _notebooks_in(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in IGNORED_DIRS for part in relative.parts):
            continue
        if path.is_file():
            found.append(path)
    return found


def _pick(student_id: str, folder: Path, notebook_name: str) -> Submission:
    notebooks = _notebooks_in(folder)
    exact = [p for p in notebooks if p.name == notebook_name]
    if exact:
        return Submission(student_id, exact[0])
    if len(notebooks) == 1:
        return Submission(student_id, notebooks[0])
    if not notebooks:
        others = sorted(p.name for p in folder.rglob("*") if p.is_file() and _visible(p))
        listing = f" (found: {', '.join(others[:5])})" if others else " (the folder is empty)"
        return Submission(student_id, None, f"no notebook submitted: expected {notebook_name}{listing}")
    names = ", ".join(p.name for p in notebooks[:5])
    return Submission(
        student_id, None, f"several notebooks and none named {notebook_name}: {names}; rename the one to grade"
    )


def _class_root(root: Path) -> Path:
    """Unwrap a single top-level folder that only contains student folders."""
    entries = [p for p in root.iterdir() if _visible(p)]
    if len(entries) == 1 and entries[0].is_dir():
        inner = [p for p in entries[0].iterdir() if _visible(p)]
        if inner and all(p.is_dir() for p in inner) and not _notebooks_in_top(entries[0]):
            return entries[0]
    return root


def _notebooks_in_top(folder: Path) -> bool:
    return any(p.suffix == ".ipynb" for p in folder.iterdir() if p.is_file())


def extract_zip(archive: Path, into: Path) -> Path:
    """Extract ``archive`` safely (no paths outside ``into``); return the class root."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = (into / info.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    continue  # a path that escapes the folder is skipped
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as exc:
        raise SubmissionsError(f"{archive} is not a readable zip archive ({exc})") from exc
    return _class_root(into)


def collect(submissions: Path, notebook_name: str, *, workdir: Path | None = None) -> list[Submission]:
    """Every student found in ``submissions`` (a folder or a ``.zip``), sorted by id.

    Raises:
        SubmissionsError: the path does not exist or is neither a folder nor a zip.
    """
    if not submissions.exists():
        raise SubmissionsError(f"{submissions} does not exist; pass a folder of student folders or a .zip of one")
    if submissions.is_file():
        if not zipfile.is_zipfile(submissions):
            raise SubmissionsError(f"{submissions} is neither a folder nor a .zip archive")
        workdir = workdir or Path(tempfile.mkdtemp(prefix="autograder-zip-"))
        root = extract_zip(submissions, workdir)
    else:
        root = submissions
    try:
        entries = sorted(p for p in root.iterdir() if _visible(p))
    except PermissionError as exc:
        raise SubmissionsError(f"cannot read {submissions}: {exc}") from exc
    found: list[Submission] = []
    for entry in entries:
        if entry.is_dir():
            found.append(_pick(entry.name, entry, notebook_name))
    return found
