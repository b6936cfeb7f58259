"""A folder per student, ``SUBMISSIONS/<student_id>/<notebook>.ipynb``: the layout no LMS wrote.

The folder's name is the student; a file outside every folder belongs to nobody.
"""

from __future__ import annotations

from ..archive import Entry, Listing
from ..submission import FileRef, Found
from .base import LMS


def recognises(name: str, is_dir: bool) -> bool:
    return is_dir


def parse(listing: Listing) -> tuple[dict[str, Found], list[Entry]]:
    found = {d: Found(d) for d in listing.top_dirs}
    unplaced = []
    for entry in listing.files:
        if len(entry.parts) == 1:
            unplaced.append(entry)
            continue
        found.setdefault(entry.parts[0], Found(entry.parts[0])).files.append(FileRef(entry.name, entry))
    return found, unplaced


RECORD = LMS(name="folders", describe="it is not inside a student's folder", recognises=recognises, parse=parse)
