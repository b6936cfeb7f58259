"""The files of a class, from a folder or a ``.zip``: listed, and extracted only as far as grading needs.

Zip archives are extracted with caps on member size, member count and
compression ratio, and against one :class:`Budget` of bytes for the whole run
(the class's download and every zip a student submitted draw on it) and one
per student. Only the members grading can use are written out (notebooks,
zips a student submitted, Blackboard's receipts); everything else is listed
by name and never touches the disk. Nothing is ever written outside the
extraction folder.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}
# what grading reads from a class download: notebooks, zips a student made, Blackboard's receipts
NEEDED_SUFFIXES = (".ipynb", ".zip")
RECEIPT = re.compile(r"_attempt_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.txt$")
# a flat file's owner, as far as extraction can tell: up to the LMS's id or attempt marker
_FLAT_OWNER = re.compile(r"^(.*?_(?:\d+|attempt)_)")


class SubmissionsError(RuntimeError):
    """The submissions folder or archive cannot be read at all."""


@dataclass(frozen=True)
class ZipLimits:
    """Caps for extracting archives: per member, per archive, per student and for the whole run.

    ``max_ratio`` applies to members larger than ``ratio_floor`` bytes: small
    files legitimately compress well, zip bombs are large and compress absurdly.
    """

    max_total: int = 2 * 2**30  # bytes extracted in the whole run, class download and students' zips together
    max_student: int = 256 * 2**20  # bytes extracted from the zips one student submitted
    max_member: int = 256 * 2**20
    max_members: int = 20_000
    max_ratio: float = 200.0
    ratio_floor: int = 2**20


@dataclass
class Budget:
    """Bytes still allowed to be extracted; a budget may draw on a parent (a student's on the run's)."""

    remaining: int
    parent: Budget | None = None

    def available(self) -> int:
        own = self.remaining
        return own if self.parent is None else min(own, self.parent.available())

    def spend(self, n: int) -> None:
        self.remaining -= n
        if self.parent is not None:
            self.parent.spend(n)


@dataclass(frozen=True)
class Entry:
    """A file of the class, relative to the class root.

    ``path`` is None when the file was not extracted: ``refused`` says why when
    a cap or a rule refused it; empty ``refused`` means grading does not need it.
    """

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


def hidden(part: str) -> bool:
    """A name no LMS writes and no grading needs (dot files, macOS and Jupyter leftovers)."""
    return part.startswith(".") or part in IGNORED_DIRS


def list_folder(root: Path) -> Listing:
    """Every file and folder under ``root`` (read in place, nothing copied)."""
    listing = Listing([])
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(hidden(p) for p in parts):
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


def needed_for_grading(parts: tuple[str, ...]) -> bool:
    """Whether a member of a class download is worth extracting (notebooks, students' zips, Blackboard receipts)."""
    return parts[-1].lower().endswith(NEEDED_SUFFIXES) or (len(parts) == 1 and bool(RECEIPT.search(parts[0])))


def owner_of(parts: tuple[str, ...]) -> str:
    """Whose budget a member of a class download draws on: its top folder, or a flat file's LMS prefix."""
    if len(parts) > 1:
        return parts[0]
    match = _FLAT_OWNER.match(parts[0])
    return match.group(1) if match else parts[0]


def extract_zip(
    archive: Path,
    into: Path,
    limits: ZipLimits = ZipLimits(),
    *,
    budget: Budget | None = None,
    wanted: Callable[[tuple[str, ...]], bool] = lambda parts: True,
    owner: Callable[[tuple[str, ...]], str] | None = None,
    progress: bool = False,
) -> Listing:
    """Extract the ``wanted`` members of ``archive`` into ``into`` within ``limits`` and ``budget``.

    Every member is listed; those not wanted are listed with ``path`` None and
    no reason. Nothing is ever written outside ``into``: member names with
    absolute paths or ``..`` are refused, symbolic links are refused, and each
    target is checked against ``into`` after resolving. With ``owner``, the
    members of one owner (a student's folder) also share one budget of
    ``limits.max_student`` bytes, so that no student can spend the run's. A
    member that breaks a cap is refused with the reason; the others are extracted.

    Raises:
        SubmissionsError: the file is not a readable zip archive.
    """
    budget = budget if budget is not None else Budget(limits.max_total)
    owners: dict[str, Budget] = {}
    into.mkdir(parents=True, exist_ok=True)
    base = into.resolve()
    listing = Listing([])
    files = listing.files
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
                if not parts or any(hidden(p) for p in parts):
                    continue
                folders = parts if info.is_dir() else parts[:-1]
                listing.dirs.update(folders[:n] for n in range(1, len(folders) + 1))
                if info.is_dir():
                    continue
                if not wanted(parts):
                    files.append(Entry(parts, None))
                    continue
                spend = budget if owner is None else owners.setdefault(owner(parts), Budget(limits.max_student, budget))
                reason = _refusal(info, count, spend.available(), limits, parts in seen)
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
                    written, reason = _copy_capped(zf, info, target, min(limits.max_member, budget.available()), limits)
                except _CorruptMember as exc:
                    written, reason = 0, f"it is corrupt ({exc})"
                if reason:
                    target.unlink(missing_ok=True)
                    files.append(Entry(parts, None, reason))
                    continue
                spend.spend(written)
                files.append(Entry(parts, target))
            bar.close()
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:  # a name flagged UTF-8 that is not
        raise SubmissionsError(f"{archive} is not a readable zip archive ({exc})") from exc
    return listing


def _mib(n: float) -> str:
    """A size in words: bytes, KiB or MiB."""
    if n < 2**10:
        return f"{max(n, 0):.0f} bytes"
    if n < 2**20:
        return f"{n / 2**10:.0f} KiB"
    return f"{n / 2**20:.0f} MiB"


def _refusal(info: zipfile.ZipInfo, count: int, available: int, limits: ZipLimits, duplicate: bool) -> str:
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
    if info.file_size > available:
        return (
            f"it unpacks to more than the {_mib(available)} left of the extraction budget "
            "(unzip it yourself and pass the folder)"
        )
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
