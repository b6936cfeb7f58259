"""This user's cache: folders of files derived from the course, found again by a digest of what they came from.

An entry is a folder ``CACHE/<kind>/<key>/``, built whole in a temporary folder
beside it and renamed into place (an entry is there complete or not at all;
two runs building the same entry at once both succeed, the second's copy is
dropped). Nothing in it is ever edited: an entry that cannot be used is
removed and built again by its caller. The cache is where
``AUTOGRADER_CACHE`` says, else ``$XDG_CACHE_HOME/autograder``, else
``~/.cache/autograder``; a private folder of this user's (0700), or no cache
at all when there is none to be had (everything is then built every time).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

VARIABLE = "AUTOGRADER_CACHE"


def private_folder(path: Path) -> Path:
    """``path`` made (0700) if missing, and checked to be this user's own real folder that no one else may write.

    Raises:
        OSError: it cannot be made, or it is a symbolic link, someone else's, or open to others.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if path.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} is not a private folder of this user")
    return path


def root() -> Path | None:
    """The cache folder, or None when it cannot be used (it is then skipped, with a debug line)."""
    if os.environ.get(VARIABLE):
        path = Path(os.environ[VARIABLE])
    elif os.environ.get("XDG_CACHE_HOME"):
        path = Path(os.environ["XDG_CACHE_HOME"]) / "autograder"
    else:
        path = Path.home() / ".cache" / "autograder"
    try:
        return private_folder(path)
    except OSError as exc:
        log.debug("no cache: %s", exc)
        return None


def digest_folder(folder: Path, *salt: str) -> str:
    """SHA-256 over ``salt`` and every file below ``folder`` (its path relative to ``folder`` and its bytes)."""
    h = hashlib.sha256()
    for part in salt:
        h.update(part.encode() + b"\0")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def entry(kind: str, key: str, build: Callable[[Path], None]) -> Path | None:
    """The entry ``kind/key``, built by ``build(folder)`` into an empty folder if it is not there yet.

    Returns None when there is no cache (the caller builds for itself).
    Whatever ``build`` raises is raised, and nothing is kept.
    """
    base = root()
    if base is None:
        return None
    try:
        folder = private_folder(base / kind)
    except OSError as exc:
        log.debug("no cache: %s", exc)
        return None
    final = folder / key
    if final.is_dir():
        return final
    building = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=folder))
    try:
        build(building)
        try:
            building.rename(final)
        except OSError:  # built meanwhile by another run: theirs is as good
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return final


def drop(path: Path) -> None:
    """Remove an entry that turned out unusable (its caller builds it again)."""
    log.warning("the cached %s cannot be used: built again", path)
    shutil.rmtree(path, ignore_errors=True)
