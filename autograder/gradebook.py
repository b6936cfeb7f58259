"""nbgrader, made fast enough to grade a class: its gradebook's schema head read from disk, one engine per URL.

:func:`install` patches this process's nbgrader (never at import): nbgrader's
own ``get_alembic_version`` runs ``alembic heads`` in a subprocess for every
new gradebook, and each ``Gradebook()`` makes a new SQLAlchemy engine and
loses the compiled-SQL cache.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import nbformat
import nbgrader.api
import sqlalchemy

_original_alembic_version = nbgrader.api.get_alembic_version


@functools.cache
def alembic_head() -> str:
    """The schema revision of the installed nbgrader's gradebook, read from its migration scripts.

    nbgrader's own ``get_alembic_version`` runs ``alembic heads`` in a subprocess
    (seconds, for every new gradebook); the head is the one revision that no
    other revision names as its ``down_revision``.
    """
    folder = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions: dict[str, set[str]] = {}
    for script in folder.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([0-9a-f]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if rev:
            revisions[rev.group(1)] = set(re.findall(r"[0-9a-f]{6,}", down.group(1))) if down else set()
    pointed_at = set().union(*revisions.values()) if revisions else set()
    heads = sorted(set(revisions) - pointed_at)
    if len(heads) != 1:
        return _original_alembic_version()
    return heads[0]


_create_engine = nbgrader.api.create_engine


_engines: dict[tuple[str, bool, bool], Any] = {}
_engines_lock = threading.Lock()


def _shared_engine(url: str, echo: bool = False, future: bool = True) -> Any:
    """One engine per gradebook URL (each Gradebook() would make a new one and lose the compiled-SQL cache)."""
    with _engines_lock:
        engine = _engines.get((url, echo, future))
        if engine is None:
            engine = _engines[url, echo, future] = _create_engine(url, echo=echo, future=future)
            if url.startswith("sqlite:"):
                sqlalchemy.event.listen(engine, "connect", _fast_sqlite)
        return engine


def close(url: str) -> None:
    """Close this process's connections to the gradebook at ``url``: it is done with (moved, copied or removed next)."""
    with _engines_lock:
        engines = [_engines.pop(key) for key in list(_engines) if key[0] == url]
    for engine in engines:
        engine.dispose()


def _fast_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """The run's gradebook is rebuilt by every run: no need to wait for the disk on each commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.close()


@functools.cache
def install() -> None:
    """Speed up nbgrader for this process: the gradebook's schema head read from disk, shared engines.

    Called by :func:`grade`; nothing is patched at import.
    """
    nbgrader.api.get_alembic_version = alembic_head
    nbgrader.api.create_engine = _shared_engine
    # nbgrader's gradebook code predates SQLAlchemy 2.1's autoflush warnings; they are harmless here
    warnings.filterwarnings("ignore", message=".*not in session.*")
    # students' notebooks of older formats have no cell ids: nbformat adds them (warning each time)
    warnings.filterwarnings("ignore", category=nbformat.warnings.MissingIDFieldWarning)
    warnings.filterwarnings("ignore", category=nbformat.warnings.DuplicateCellId)
