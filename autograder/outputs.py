"""The output folder of a grading run: written as one set, or not at all.

A run writes everything into a staging folder inside ``DIR``
(``DIR/.staging-<random>``). When the set is complete it writes the set's
manifest there (every file with its SHA-256, and the options of the run), and
commits by renaming the staging folder to ``DIR/.commit``: one atomic rename.
It then moves each file into place, removes the files of the previous run
that this one did not write, and finally renames the manifest into
``DIR/manifest.json``. A run killed before the commit leaves the previous
set untouched (its staging folder is removed by the next run); a run killed
after it is finished by the next command that opens ``DIR``. The run's working
files (the extracted download, staged notebooks) live in ``DIR/.scratch-<random>``,
removed at the end or, after a kill, by the next run. Files the
grader did not write (not in a manifest) are never deleted. One run at a time
writes into a ``DIR`` (a lock file).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
COMMIT = ".commit"
STAGING_PREFIX = ".staging-"
SCRATCH_PREFIX = ".scratch-"  # the run's working files (extracted download, staged notebooks): never outputs
LOCK = ".lock"
FORMAT = 1


class OutputError(RuntimeError):
    """The output folder cannot be used: another run holds it, or it is not what a run left there."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (the manifest's, and the receipts of ``grades.csv``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_file(stored: dict[str, str]) -> Path | None:
    """The input file a run recorded (``{"path", "sha256"}`` in its options), or None if it is gone or changed since."""
    path = Path(stored["path"])
    return path if path.is_file() and sha256_of(path) == stored["sha256"] else None


@dataclass
class Manifest:
    """What one complete run wrote: relative path -> SHA-256, and the options it ran with."""

    files: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = {"format": FORMAT, "options": self.options, "files": dict(sorted(self.files.items()))}
        return json.dumps(data, indent=1).encode()

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Raises: OutputError when the file is not a manifest."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files, options = data["files"], data["options"]
            if data.get("format") != FORMAT or not isinstance(files, dict) or not isinstance(options, dict):
                raise ValueError("not a manifest of this grader")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"{path} is not a grading run's manifest ({exc})") from exc
        return cls({str(k): str(v) for k, v in files.items()}, options)


class OutputDir:
    """``DIR`` of one run: locked while open, staged, committed whole. Use as a context manager."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        run = uuid.uuid4().hex[:12]
        self.staging = self.out / f"{STAGING_PREFIX}{run}"
        self.scratch = self.out / f"{SCRATCH_PREFIX}{run}"
        self._lock: Any = None
        self.previous: Manifest | None = None

    def __enter__(self) -> OutputDir:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.out / LOCK, "a")  # held for the run
        except OSError as exc:
            raise OutputError(f"cannot write into {self.out}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise OutputError(f"another grading run is writing into {self.out}: wait for it to finish") from exc
        recover(self.out)
        path = self.out / MANIFEST
        self.previous = Manifest.read(path) if path.exists() else None
        self.staging.mkdir()
        self.scratch.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()

    def verify(self) -> None:
        """Check that ``DIR`` holds exactly what its manifest says (for a run that merges into it).

        Raises:
            OutputError: no manifest, or a file missing or changed since.
        """
        if self.previous is None:
            raise OutputError(f"{self.out} holds no complete grading run (no {MANIFEST}): grade the whole class first")
        for rel, digest in self.previous.files.items():
            path = self.out / rel
            if not path.is_file():
                raise OutputError(f"{path} is missing since the run that wrote {self.out}: grade the whole class again")
            if sha256_of(path) != digest:
                raise OutputError(f"{path} changed since the run that wrote it: grade the whole class again")

    def commit(self, *, options: dict[str, Any], keep: Iterable[str] = ()) -> Manifest:
        """Swap the staged set in: the staged files, plus ``keep`` (paths of the previous manifest left as they are)."""
        files: dict[str, str] = {}
        for path in sorted(self.staging.rglob("*")):
            if path.is_file():
                files[path.relative_to(self.staging).as_posix()] = sha256_of(path)
        previous = self.previous.files if self.previous else {}
        for rel in keep:
            if rel in previous and rel not in files:
                files[rel] = previous[rel]
        manifest = Manifest(files, options)
        stale = sorted(rel for rel in previous if rel not in files)
        (self.staging / MANIFEST).write_bytes(manifest.to_json())
        (self.staging / ".stale.json").write_text(json.dumps(stale), encoding="utf-8")
        _fsync_tree(self.staging)
        os.rename(self.staging, self.out / COMMIT)  # the commit point
        recover(self.out)
        return manifest


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def recover(out: Path) -> None:
    """Finish a committed run that was killed while moving its files; drop runs killed before their commit."""
    commit = out / COMMIT
    if commit.is_dir():
        stale_list = commit / ".stale.json"
        stale = json.loads(stale_list.read_text(encoding="utf-8")) if stale_list.exists() else []
        for rel in stale:
            target = out / rel
            if target.is_file() and target.resolve().is_relative_to(out.resolve()):
                target.unlink()
                _prune(target.parent, out)
        for path in sorted(commit.rglob("*")):
            rel = path.relative_to(commit).as_posix()
            if not path.is_file() or rel in (MANIFEST, ".stale.json"):
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        if (commit / MANIFEST).exists():
            os.replace(commit / MANIFEST, out / MANIFEST)
        shutil.rmtree(commit)
        log.info("finished writing the run committed in %s", out)
    for prefix in (STAGING_PREFIX, SCRATCH_PREFIX):  # called under the lock: these are of runs that died
        for leftover in out.glob(f"{prefix}*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
