"""Find the students and their notebooks in a folder, a ``.zip``, or an LMS bulk download as it comes.

The layouts are the LMS records of :mod:`autograder.lms` (``folders``,
``canvas``, ``moodle``, ``blackboard``), each documented in its module;
detection picks the one that recognises most top-level names (``layout=``
overrides). A zip may wrap any layout in one top-level folder. A file the
grader cannot place becomes a :class:`Submission` with ``unplaced`` set:
nothing vanishes. Archives are extracted by :mod:`autograder.archive`, within
one budget for the run and one per student; a refused member is named, with
the reason, in the row of the student it belongs to, and everything else is
graded.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .archive import (
    Budget,
    Entry,
    Listing,
    SubmissionsError,
    ZipLimits,
    extract_zip,
    list_folder,
    needed_for_grading,
    owner_of,
)
from .lms import BY_NAME, LAYOUTS, REGISTRY
from .outputs import sha256_of
from .submission import FileRef, Found, Submission

__all__ = [
    "LAYOUTS",
    "Collection",
    "Listing",
    "Submission",
    "SubmissionsError",
    "ZipLimits",
    "collect",
    "detect_layout",
    "extract_zip",
]


@dataclass
class Collection:
    """What :func:`collect` found: the layout and one submission per student (or unplaced file)."""

    layout: str
    submissions: list[Submission]
    detected: bool = True  # False when the layout was given, not detected

    def describe(self) -> str:
        """One line for the terminal: which layout, how many students."""
        students = [s for s in self.submissions if not s.unplaced]
        unplaced = len(self.submissions) - len(students)
        how = "detected" if self.detected else "given"
        text = f"layout: {self.layout} ({how}), {len(students)} student(s)"
        return text + (f", {unplaced} file(s) that could not be placed" if unplaced else "")


def _matches(listing: Listing) -> dict[str, int]:
    """How many top-level names each LMS recognises (plain folders aside), in the registry's order."""
    names = [(e.name, False) for e in listing.top_files] + [(d, True) for d in listing.top_dirs]
    return {
        record.name: sum(record.recognises(n, is_dir) for n, is_dir in names)
        for record in REGISTRY
        if record.name != "folders"
    }


def detect_layout(listing: Listing) -> str:
    """The LMS layout that recognises most top-level names; ``folders`` when none does.

    Canvas and Blackboard downloads are flat: a class with more top-level
    folders than recognised names is a class of student folders.
    """
    counts = _matches(listing)
    order = list(counts)
    best = max(order, key=lambda k: (counts[k], -order.index(k)))
    if counts[best] == 0 or (best != "moodle" and len(listing.top_dirs) > counts[best]):
        return "folders"
    return best


def _unwrap(listing: Listing, *, archive: bool) -> Listing:
    """Strip top-level folders that wrap the whole class (as LMS exports and zipped folders do).

    A folder is a wrapper when everything is inside it and it holds an LMS
    layout, or (inside a zip, where a wrapper is the rule) only folders.
    """
    while len(listing.top_dirs) == 1 and not listing.top_files:
        wrapper, inner = listing.top_dirs[0], listing.inner()
        if BY_NAME["moodle"].recognises(wrapper, True):  # one Moodle participant folder: a class of one
            return listing
        recognised = any(_matches(inner).values())
        only_folders = bool(inner.top_dirs) and not any(e.name.lower().endswith(".ipynb") for e in inner.top_files)
        if not (recognised or (archive and only_folders)):
            return listing
        listing = inner
    return listing


# --- picking the notebook of one student ------------------------------------------------------------

# Canvas's re-upload suffix ``corr2d-2``, or a browser's duplicate download ``corr2d (2)``
_SUFFIX = re.compile(r"^(?P<stem>.*?)(?:-(?P<n>\d+)|\s*\((?P<m>\d+)\))$")


def _version(name: str, wanted_stem: str) -> int | None:
    """The resubmission number of ``name`` (0 for the first upload), or None if it is another file.

    Names compare without regard to case (``Corr2D.ipynb`` is ``corr2d.ipynb``).
    """
    if Path(name).suffix.lower() != ".ipynb":
        return None
    stem, wanted_stem = Path(name).stem.strip().casefold(), wanted_stem.casefold()
    if stem == wanted_stem:
        return 0
    match = _SUFFIX.match(stem)
    if not match or match["stem"].strip() != wanted_stem:
        return None
    return int(match["n"] or match["m"])


def _is_notebook(ref: FileRef) -> bool:
    return ref.name.lower().endswith(".ipynb")


def _expand_zips(
    files: list[FileRef], scratch: Path, limits: ZipLimits, budget: Budget
) -> tuple[list[FileRef], list[str]]:
    """A student who zipped the notebook: the zip's notebooks take the zip's place (one level deep).

    The student's zips draw on ``budget`` (the student's own, itself drawing on the run's).
    """
    out: list[FileRef] = []
    notes: list[str] = []
    for i, ref in enumerate(files):
        if ref.entry.path is None or not ref.name.lower().endswith(".zip"):
            out.append(ref)
            continue
        try:
            inner = extract_zip(
                ref.entry.path,
                scratch / f"zip{i}",
                limits,
                budget=budget,
                wanted=lambda parts: parts[-1].lower().endswith(".ipynb"),
            )
        except SubmissionsError:
            notes.append(f"{ref.name} is not a readable zip archive")
            out.append(ref)
            continue
        for entry in inner.files:
            shown = Entry((ref.name, *entry.parts), entry.path, entry.refused)
            out.append(
                FileRef(entry.name, shown, ref.late, ref.timestamp, origin=ref.entry.path, lms_name=ref.lms_name)
            )
    return out, notes


def _safe_name(name: str) -> str:
    """A file or folder name that stays one path component, whatever the student called the file."""
    return re.sub(r"[^\w .@+()-]", "_", Path(name.replace("\\", "/")).name).strip(" .") or "_"


def _pick(found: Found, notebook_name: str, folder: Path, limits: ZipLimits, budget: Budget) -> Submission:
    """Choose the notebook to grade among one student's files and stage a copy in ``folder`` (the student's own)."""
    files, notes = _expand_zips(found.files, folder / ".unzipped", limits, Budget(limits.max_student, budget))
    notes = found.notes + notes
    lms_name = next((r.lms_name for r in found.files if r.lms_name), "")
    base = Submission(
        found.student_id, None, name=found.name, collision=found.collision, lms_name=lms_name, label=found.student_id
    )
    notebooks = [r for r in files if _is_notebook(r) and r.entry.path is not None]
    wanted = Path(notebook_name).stem
    versions = sorted(((v, r) for r in notebooks if (v := _version(r.name, wanted)) is not None), key=lambda vr: vr[0])
    chosen: FileRef | None = None
    if versions:
        chosen = versions[-1][1]
        if len(versions) > 1:
            earlier = ", ".join(r.name for _, r in versions[:-1])
            notes.append(f"resubmitted: {chosen.name} graded, earlier {earlier} ignored")
        elif chosen.name != notebook_name:
            notes.append(f"graded {chosen.name!r} (expected {notebook_name})")
    elif len(notebooks) == 1:
        chosen = notebooks[0]
    refused = [r for r in files if r.entry.refused]
    if chosen is not None and chosen.lms_name:
        base = replace(base, lms_name=chosen.lms_name)
    if chosen is None and any(_is_notebook(r) for r in refused):
        reasons = "; ".join(
            f"{'/'.join(r.entry.parts)} was not extracted: {r.entry.refused}" for r in refused if _is_notebook(r)
        )
        return replace(base, problem=reasons, notes=tuple(notes), refused=True)
    notes += [f"{'/'.join(r.entry.parts)} was not extracted: {r.entry.refused}" for r in refused]
    if chosen is None:
        if notebooks:
            names = ", ".join(r.name for r in notebooks[:5])
            problem = f"several notebooks and none named {notebook_name}: {names}; rename the one to grade"
        else:
            others = sorted(r.name for r in files if not r.entry.refused)
            listing = f" (found: {', '.join(others[:5])})" if others else " (no files)"
            problem = f"no notebook submitted: expected {notebook_name}{listing}"
        return replace(base, problem=problem, notes=tuple(notes))
    assert chosen.entry.path is not None
    # staged under the student's own file name, without the LMS's prefix or Canvas's -N suffix
    target = folder / (notebook_name if _version(chosen.name, wanted) is not None else _safe_name(chosen.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chosen.entry.path, target)
    submitted = chosen.origin or chosen.entry.path
    return replace(
        base,
        notebook=target,
        timestamp=chosen.timestamp,
        late=chosen.late,
        submitted=submitted,
        sha256=sha256_of(submitted),
        notes=tuple(notes),
    )


def _unplaced(entries: Iterable[Entry], layout: str) -> list[Submission]:
    hint = BY_NAME[layout].describe
    rows = []
    for entry in entries:
        shown = "/".join(entry.parts)
        why = f"not extracted: {entry.refused}" if entry.refused else hint
        rows.append(
            Submission(
                f"unplaced:{shown}",
                None,
                f"could not tell whose file {shown!r} is: {why}",
                submitted=entry.path,
                sha256=sha256_of(entry.path) if entry.path else "",
                unplaced=True,
            )
        )
    return rows


def collect(
    submissions: Path,
    notebook_name: str,
    *,
    workdir: Path,
    layout: str = "auto",
    limits: ZipLimits = ZipLimits(),
    progress: bool = False,
) -> Collection:
    """Every student found in ``submissions`` (a folder or a ``.zip``, any layout), sorted by id.

    Notebooks are copied into ``workdir`` (zips are extracted there too), so
    the grader reads a staged copy and ``Submission.submitted`` the original.

    Raises:
        SubmissionsError: the path does not exist, is neither a folder nor a
            zip, or cannot be read; ``layout`` is unknown.
    """
    budget = Budget(limits.max_total)
    if layout not in LAYOUTS:
        raise SubmissionsError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if not submissions.exists():
        raise SubmissionsError(f"{submissions} does not exist; pass a folder of student folders or a .zip of one")
    try:
        if submissions.is_file():
            if not zipfile.is_zipfile(submissions):
                raise SubmissionsError(f"{submissions} is neither a folder nor a .zip archive")
            listing = extract_zip(
                submissions,
                workdir / "archive",
                limits,
                budget=budget,
                wanted=needed_for_grading,
                owner=owner_of,
                progress=progress,
            )
        else:
            listing = list_folder(submissions)
    except PermissionError as exc:
        raise SubmissionsError(f"cannot read {submissions}: {exc}") from exc
    listing = _unwrap(listing, archive=submissions.is_file())
    chosen = detect_layout(listing) if layout == "auto" else layout
    found, unplaced = BY_NAME[chosen].parse(listing)
    from .report import progress_bar

    stage = workdir / "staged"
    bar = progress_bar(len(found), enabled=progress and len(found) > 50, desc="collecting", unit="student")
    rows = []
    for number, sid in enumerate(sorted(found)):  # numbered folders: two ids never share one, whatever their names
        rows.append(_pick(found[sid], notebook_name, stage / f"{number:06d}", limits, budget))
        bar.update(1)
    bar.close()
    rows += _unplaced(unplaced, chosen)
    return Collection(chosen, rows, detected=layout == "auto")
