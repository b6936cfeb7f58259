"""CSV in and out: exports as an LMS or a spreadsheet saved them, and files safe to open in one.

Reading accepts what a gradebook export becomes after a round trip through a
spreadsheet: a byte-order mark, UTF-16 or Windows-1252 instead of UTF-8, and
``;`` or tab instead of ``,`` as the delimiter (the list separator of many
locales). Writing neutralises every cell a spreadsheet or an LMS could read as
a formula (OWASP "CSV injection": a leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) by prefixing an apostrophe; plain numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


class CsvError(ValueError):
    """A file cannot be read as CSV; the message says why."""


@dataclass(frozen=True)
class Table:
    """The non-empty rows of a CSV file, its header first, and how the file was written."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    delimiter: str = ","
    encoding: str = "utf-8"


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _delimiter(first_line: str) -> str:
    """The delimiter that splits the header into the most columns (outside quotes)."""
    best, most = ",", 0
    for candidate in (",", ";", "\t"):
        columns = len(next(csv.reader([first_line], delimiter=candidate), []))
        if columns > most:
            best, most = candidate, columns
    return best


def read_table(path: Path, *, what: str = "file") -> Table:
    """Read a CSV file as an LMS or a spreadsheet wrote it.

    Raises:
        CsvError: the file cannot be read, or is empty.
    """
    try:
        text, encoding = _decode(Path(path).read_bytes())
    except OSError as exc:
        raise CsvError(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    if "\x00" in text:
        raise CsvError(f"the {what} {path} is not a CSV file (it holds binary data): export it as CSV")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(first)
    try:
        rows = [
            row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(c.strip() for c in row)
        ]
    except csv.Error as exc:
        raise CsvError(f"cannot read the {what} {path} as CSV: {exc}") from exc
    if not rows:
        raise CsvError(f"the {what} {path} is empty")
    return Table(Path(path), [h.strip() for h in rows[0]], rows[1:], delimiter, encoding)


def safe_cell(value: object) -> str:
    """``value`` as text that no spreadsheet or LMS evaluates as a formula (plain numbers unchanged)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> Path:
    """Write a CSV file atomically (a temporary name renamed into place), every cell formula-safe."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return write_atomic(path, buffer.getvalue().encode("utf-8"))


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for every thread at once)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as an ordinary new file (mkstemp makes it private)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
