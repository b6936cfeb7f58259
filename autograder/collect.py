"""Find the students and their notebooks in a folder, a ``.zip``, or an LMS bulk download as it comes.

Layouts (auto-detected; ``layout=`` overrides):

``folders``
    ``SUBMISSIONS/<student_id>/<notebook>.ipynb``. A student's folder holding
    a single notebook under another name (``corr2d (1).ipynb``) is graded.
``canvas``
    Flat files ``name[_LATE]_userid_submissionid_filename`` as in Canvas's
    "Download Submissions" zip (e.g. ``studenttest_3143_207797_zipsubmission.zip``
    in instructure/canvas-lms issue #2406). Canvas renames a re-uploaded file
    ``corr2d-1.ipynb``, ``corr2d-2.ipynb`` (nus-cs2103-AY2324S1/forum issue #459):
    the highest suffix is the latest and counts. ``_LATE`` is Canvas's late marker.
``moodle``
    Moodle's "Download all submissions": one folder per participant,
    ``Full Name_participantid_assignsubmission_file_/corr2d.ipynb`` (or, without
    "Download submissions in folders", flat files
    ``Full Name_participantid_assignsubmission_file_corr2d.ipynb``). The number
    is the participant id that Moodle's grading worksheet calls
    ``Participant <id>`` (mod/assign/lang/en/assign.php, string ``hiddenuser``).
``blackboard``
    Blackboard Learn's "Assignment File Download":
    ``Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS_file`` plus a receipt
    ``Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS.txt`` (``Name: First Last
    (username)``, ``Original filename: ...``), the layout vangef/BBGradebookOrganiser
    (utils/organiser.py) splits on ``_attempt_``. The latest attempt counts.

A zip may wrap any layout in one top-level folder. A file the grader cannot
place becomes a :class:`Submission` with ``unplaced`` set: nothing vanishes.
Zip archives are extracted with caps on total size, member count and
compression ratio; a refused member is named, with the reason, in the row of
the student it belongs to, and everything else is graded.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO

IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}
LAYOUTS = ("auto", "folders", "canvas", "moodle", "blackboard")


class SubmissionsError(RuntimeError):
    """The submissions folder or archive cannot be read at all."""


@dataclass(frozen=True)
class ZipLimits:
    """Caps for extracting one archive (a class's download, or a zip a student submitted).

    ``max_ratio`` applies to members larger than ``ratio_floor`` bytes: small
    files legitimately compress well, zip bombs are large and compress absurdly.
    """

    max_total: int = 2 * 2**30
    max_member: int = 256 * 2**20
    max_members: int = 20_000
    max_ratio: float = 200.0
    ratio_floor: int = 2**20


@dataclass(frozen=True)
class Submission:
    """One student's entry: the notebook to grade, or why there is none.

    ``student_id``, ``notebook`` and ``problem`` are what the grader needs;
    the other fields come from the layout and end up in ``grades.csv``.
    """

    student_id: str
    notebook: Path | None
    problem: str = ""
    name: str = ""  # display name the layout carries (Moodle's full name, Blackboard's receipt)
    timestamp: datetime | None = None  # submission time the layout carries (Blackboard)
    late: bool = False  # the LMS marked the file late (Canvas ``_LATE``)
    submitted: Path | None = None  # the file as submitted (the notebook, or the zip it came in)
    sha256: str = ""  # receipt: SHA-256 of ``submitted``
    notes: tuple[str, ...] = ()  # remarks of collection (resubmissions, refused archive members)
    refused: bool = False  # the notebook itself was refused by the zip caps
    unplaced: bool = False  # a file the layout could not assign to a student


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


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (the receipts of ``grades.csv``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- listing a class: files relative to the class root, including refused archive members -------


@dataclass(frozen=True)
class Entry:
    """A file of the class, relative to the class root; ``path`` is None when the zip caps refused it."""

    parts: tuple[str, ...]
    path: Path | None
    refused: str = ""

    @property
    def name(self) -> str:
        return self.parts[-1]


@dataclass
class Listing:
    """Every file and folder of a class (an empty student folder still counts)."""

    files: list[Entry]
    dirs: set[tuple[str, ...]] = field(default_factory=set)

    @property
    def top_dirs(self) -> list[str]:
        return sorted({d[0] for d in self.dirs})

    @property
    def top_files(self) -> list[Entry]:
        return [e for e in self.files if len(e.parts) == 1]

    def inner(self) -> Listing:
        """The listing one folder down (for a class wrapped in a single folder)."""
        files = [Entry(e.parts[1:], e.path, e.refused) for e in self.files if len(e.parts) > 1]
        return Listing(files, {d[1:] for d in self.dirs if len(d) > 1})


def _hidden(part: str) -> bool:
    return part.startswith(".") or part in IGNORED_DIRS


def _list_folder(root: Path) -> Listing:
    listing = Listing([])
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(_hidden(p) for p in parts):
            continue
        if path.is_dir():
            listing.dirs.add(parts)
        elif path.is_file():
            listing.files.append(Entry(parts, path))
    return listing


def _member_parts(name: str) -> tuple[str, ...] | None:
    """The path parts of a zip member name, or None if it could escape the extraction folder."""
    name = name.replace("\\", "/")
    if "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if any(p == ".." for p in parts):
        return None
    return parts


def extract_zip(archive: Path, into: Path, limits: ZipLimits = ZipLimits(), *, progress: bool = False) -> Listing:
    """Extract ``archive`` into ``into`` within ``limits``; return what it holds, refused members included.

    Nothing is ever written outside ``into``: member names with absolute paths
    or ``..`` are refused, symbolic links are refused, and each target is
    checked against ``into`` after resolving. A member that breaks a cap is
    refused with the reason; the others are extracted.

    Raises:
        SubmissionsError: the file is not a readable zip archive.
    """
    into.mkdir(parents=True, exist_ok=True)
    base = into.resolve()
    listing = Listing([])
    files = listing.files
    total = 0
    seen: set[tuple[str, ...]] = set()
    from .report import progress_bar

    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            bar = progress_bar(len(members), enabled=progress and len(members) > 50, desc="unzipping", unit="file")
            for count, info in enumerate(members, start=1):
                bar.update(1)
                parts = _member_parts(info.filename)
                if parts is None:
                    shown = tuple(p for p in info.filename.replace("\\", "/").split("/") if p and p != "..")
                    files.append(Entry(shown or ("?",), None, "its path points outside the archive's folder"))
                    continue
                if not parts or any(_hidden(p) for p in parts):
                    continue
                folders = parts if info.is_dir() else parts[:-1]
                listing.dirs.update(folders[:n] for n in range(1, len(folders) + 1))
                if info.is_dir():
                    continue
                reason = _refusal(info, count, total, limits, parts in seen)
                if reason:
                    files.append(Entry(parts, None, reason))
                    continue
                seen.add(parts)
                target = base.joinpath(*parts)
                if not target.resolve().is_relative_to(base):  # belt and braces: never write outside
                    files.append(Entry(parts, None, "its path points outside the archive's folder"))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    written, reason = _copy_capped(
                        zf, info, target, min(limits.max_member, limits.max_total - total), limits
                    )
                except _CorruptMember as exc:
                    written, reason = 0, f"it is corrupt ({exc})"
                if reason:
                    target.unlink(missing_ok=True)
                    files.append(Entry(parts, None, reason))
                    continue
                total += written
                files.append(Entry(parts, target))
            bar.close()
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:  # a name flagged UTF-8 that is not
        raise SubmissionsError(f"{archive} is not a readable zip archive ({exc})") from exc
    return listing


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def _refusal(info: zipfile.ZipInfo, count: int, total: int, limits: ZipLimits, duplicate: bool) -> str:
    """Why a member must not be extracted, judged from its header (before any byte is written)."""
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "it is a symbolic link"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if duplicate:
        return "the archive holds two members with this name"
    if count > limits.max_members:
        return f"the archive has more than {limits.max_members} members"
    if info.file_size > limits.max_member:
        return f"it is {_mib(info.file_size)} uncompressed, more than the {_mib(limits.max_member)} allowed per file"
    if total + info.file_size > limits.max_total:
        return f"the archive unpacks to more than {_mib(limits.max_total)} (unzip it yourself and pass the folder)"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        return f"its compression ratio {ratio:.0f}:1 exceeds {limits.max_ratio:.0f}:1 (a zip bomb?)"
    return ""


class _CorruptMember(Exception):
    """One member of an otherwise readable archive cannot be decompressed."""


def _read_block(src: IO[bytes]) -> bytes:
    try:
        return src.read(2**16)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _CorruptMember(str(exc) or type(exc).__name__) from exc


def _copy_capped(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int, limits: ZipLimits
) -> tuple[int, str]:
    """Stream one member to ``target``, stopping when it grows past what its header declared or the caps."""
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while block := _read_block(src):
            written += len(block)
            if written > info.file_size:
                return written, "it unpacks to more than its header declares"
            if written > cap:
                return written, f"it unpacks to more than the {_mib(cap)} still allowed"
            if written > limits.ratio_floor and written / max(info.compress_size, 1) > limits.max_ratio:
                return written, f"its compression ratio exceeds {limits.max_ratio:.0f}:1 (a zip bomb?)"
            dst.write(block)
    return written, ""


# --- layouts ---------------------------------------------------------------------------------------

# the login part is Canvas's sortable name stripped of non-word characters: an underscore can stay in it
CANVAS = re.compile(r"^(?P<login>.+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?:(?P<subid>\d+)_)?(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_(?P<plugin>assignsubmission_[a-z]+|onlinetext)_(?P<file>.*)$")
BLACKBOARD = re.compile(
    r"^(?P<assignment>.+)_(?P<user>[^_]+)_attempt_(?P<when>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?:_(?P<file>.+)|\.txt)$"
)


@dataclass
class FileRef:
    """A file of one student: its logical name (the name the student gave it) and what the LMS added."""

    name: str
    entry: Entry
    late: bool = False
    timestamp: datetime | None = None
    origin: Path | None = None  # the file as submitted when this one came out of a student's zip


@dataclass
class Found:
    """Everything a layout found for one student."""

    student_id: str
    files: list[FileRef] = field(default_factory=list)
    name: str = ""
    notes: list[str] = field(default_factory=list)


def _canvas(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    found: dict[str, Found] = {}
    unplaced = []
    for entry in listing.files:
        match = CANVAS.match(entry.name) if len(entry.parts) == 1 else None
        if not match:
            unplaced.append(entry)
            continue
        student = found.setdefault(match["uid"], Found(match["uid"]))
        student.files.append(FileRef(match["file"], entry, late=bool(match["late"])))
    return found, unplaced


def _moodle(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    found: dict[str, Found] = {}
    unplaced = []
    for folder in listing.top_dirs:  # an empty participant folder still gets its row
        match = MOODLE.match(folder)
        if match:
            found.setdefault(match["pid"], Found(match["pid"], name=match["name"]))
    for entry in listing.files:
        match = MOODLE.match(entry.parts[0])
        if not match or (len(entry.parts) == 1 and not match["file"]):
            unplaced.append(entry)
            continue
        student = found.setdefault(match["pid"], Found(match["pid"], name=match["name"]))
        logical = entry.name if len(entry.parts) > 1 else match["file"]
        student.files.append(FileRef(logical, entry))
    return found, unplaced


def _blackboard_receipt(path: Path | None) -> tuple[str, dict[str, str]]:
    """The student's name and the map stored file name -> original file name of a Blackboard receipt."""
    if path is None:
        return "", {}
    text = path.read_text(encoding="utf-8", errors="replace")
    name = re.search(r"^Name:\s*(.*?)\s*(?:\([^()]*\))?\s*$", text, re.M)
    originals = dict(
        (stored.strip(), original.strip())
        for original, stored in re.findall(r"Original filename:\s*(.+)\n\s*Filename:\s*(.+)", text)
    )
    return (name.group(1) if name else ""), originals


def _blackboard(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    attempts: dict[str, dict[datetime, list[tuple[Entry, re.Match]]]] = {}
    unplaced = []
    for entry in listing.files:
        match = BLACKBOARD.match(entry.name) if len(entry.parts) == 1 else None
        if not match or match["user"] in (".", ".."):
            unplaced.append(entry)
            continue
        when = datetime.strptime(match["when"], "%Y-%m-%d-%H-%M-%S")
        attempts.setdefault(match["user"], {}).setdefault(when, []).append((entry, match))
    found: dict[str, Found] = {}
    for user, by_time in attempts.items():
        student = found[user] = Found(user)
        latest = max(by_time)
        if len(by_time) > 1:
            student.notes.append(f"attempt of {latest:%Y-%m-%d %H:%M:%S} graded ({len(by_time) - 1} earlier ignored)")
        receipt = next((e for e, m in by_time[latest] if m["file"] is None), None)
        student.name, originals = _blackboard_receipt(receipt.path if receipt else None)
        for entry, match in by_time[latest]:
            if match["file"] is not None:
                logical = originals.get(entry.name, match["file"])
                student.files.append(FileRef(logical, entry, timestamp=latest))
    return found, unplaced


def _folders(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    found = {d: Found(d) for d in listing.top_dirs}
    unplaced = []
    for entry in listing.files:
        if len(entry.parts) == 1:
            unplaced.append(entry)
            continue
        found.setdefault(entry.parts[0], Found(entry.parts[0])).files.append(FileRef(entry.name, entry))
    return found, unplaced


PARSERS = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard, "folders": _folders}


def _matches(listing: Listing) -> dict[str, int]:
    """How many top-level names each LMS layout recognises, most specific layout first.

    A Blackboard or Moodle name also reads as a Canvas name to a loose eye,
    so ties go to the earlier layout of this dict.
    """
    names = [e.name for e in listing.top_files]
    return {
        "blackboard": sum(bool(BLACKBOARD.match(n)) for n in names),
        "moodle": sum(bool(MOODLE.match(n)) for n in names + listing.top_dirs),
        "canvas": sum(bool(CANVAS.match(n)) for n in names),
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
        if MOODLE.match(wrapper):  # one Moodle participant folder: a class of one
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


def _expand_zips(files: list[FileRef], scratch: Path, limits: ZipLimits) -> tuple[list[FileRef], list[str]]:
    """A student who zipped the notebook: the zip's files take the zip's place (one level deep)."""
    out: list[FileRef] = []
    notes: list[str] = []
    for i, ref in enumerate(files):
        if ref.entry.path is None or not ref.name.lower().endswith(".zip"):
            out.append(ref)
            continue
        try:
            inner = extract_zip(ref.entry.path, scratch / f"zip{i}", limits)
        except SubmissionsError:
            notes.append(f"{ref.name} is not a readable zip archive")
            out.append(ref)
            continue
        for entry in inner.files:
            shown = Entry((ref.name, *entry.parts), entry.path, entry.refused)
            out.append(FileRef(entry.name, shown, ref.late, ref.timestamp, origin=ref.entry.path))
    return out, notes


def _safe_name(name: str) -> str:
    """A file or folder name that stays one path component, whatever the student called the file."""
    return re.sub(r"[^\w .@+()-]", "_", Path(name.replace("\\", "/")).name).strip(" .") or "_"


def _pick(found: Found, notebook_name: str, stage: Path, limits: ZipLimits) -> Submission:
    """Choose the notebook to grade among one student's files and stage a copy under its own name."""
    folder = stage / _safe_name(found.student_id)
    files, notes = _expand_zips(found.files, folder / ".unzipped", limits)
    notes = found.notes + notes
    base = Submission(found.student_id, None, name=found.name)
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
    hint = {
        "folders": "it is not inside a student's folder",
        "canvas": "its name does not follow Canvas's name[_LATE]_userid_submissionid_filename",
        "moodle": "its name does not follow Moodle's Full Name_participantid_assignsubmission_file_",
        "blackboard": "its name does not follow Blackboard's Assignment_username_attempt_date_file",
    }[layout]
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
    if layout not in LAYOUTS:
        raise SubmissionsError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if not submissions.exists():
        raise SubmissionsError(f"{submissions} does not exist; pass a folder of student folders or a .zip of one")
    try:
        if submissions.is_file():
            if not zipfile.is_zipfile(submissions):
                raise SubmissionsError(f"{submissions} is neither a folder nor a .zip archive")
            listing = extract_zip(submissions, workdir / "archive", limits, progress=progress)
        else:
            listing = _list_folder(submissions)
    except PermissionError as exc:
        raise SubmissionsError(f"cannot read {submissions}: {exc}") from exc
    listing = _unwrap(listing, archive=submissions.is_file())
    chosen = detect_layout(listing) if layout == "auto" else layout
    found, unplaced = PARSERS[chosen](listing)
    from .report import progress_bar

    stage = workdir / "staged"
    bar = progress_bar(len(found), enabled=progress and len(found) > 50, desc="collecting", unit="student")
    rows = []
    for sid in sorted(found):
        rows.append(_pick(found[sid], notebook_name, stage, limits))
        bar.update(1)
    bar.close()
    rows += _unplaced(unplaced, chosen)
    return Collection(chosen, rows, detected=layout == "auto")
