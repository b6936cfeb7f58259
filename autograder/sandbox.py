"""The grader's side of the sandbox: the zygote it starts and the test processes it forks.

:class:`Sandbox` owns one zygote (:mod:`autograder.zygote`) for a whole run and
restarts it if it dies. :meth:`Sandbox.grade` has the zygote fork a test
process for one submission, sends it the cells, and reads back one record per
cell. Nothing that arrives is trusted: every read has a deadline and a size
cap, records are checked field by field, and a test process that overruns
the notebook's time limit is killed with everything below it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .cache import private_folder
from .framing import ProtocolError, receive, send, send_fd
from .limits import Limits

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
RECORD_CAP = 4 * 2**20  # one cell's record
START_TIMEOUT = 300.0
PRECOMPILE_CAP = 2**20  # bytes of trusted cells sent at once to be compiled ahead (the zygote reads 4 MiB)


class SandboxError(RuntimeError):
    """The zygote could not start or stopped answering."""


def jail_available() -> tuple[bool, str]:
    """Whether student code can be jailed on this machine, and if not, why."""
    try:
        from . import jail
    except ImportError as exc:  # pragma: no cover  (the module ships with the package)
        return False, f"the jail module is missing ({exc})"
    return jail.available()


def _matplotlib_cache() -> Path:
    """One matplotlib folder of this user's for every zygote (its font cache is worth keeping), never left per run.

    Private (0700) and checked to be ours: a folder someone else made in the
    shared temporary folder is not used.
    """
    try:
        return private_folder(Path(tempfile.gettempdir()) / f"autograder-mpl-{os.getuid()}")
    except OSError:
        path = Path.home() / ".cache" / "autograder-matplotlib"
        path.mkdir(parents=True, exist_ok=True)
        return path


class Zygote:
    """One zygote process; see :mod:`autograder.zygote`."""

    def __init__(self, *, sandboxed: bool) -> None:
        self.sandboxed = sandboxed
        ours, theirs = socket.socketpair()
        self._control = ours
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile(prefix="autograder-zygote-log-")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(PACKAGE_DIR.parent),
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "HOME": tempfile.gettempdir(),
            "MPLCONFIGDIR": str(_matplotlib_cache()),
            # the heap in huge pages: every test and student process is a fork of the zygote, and the kernel copies
            # (and at exit tears down) the page tables of its 200 MB at each fork, where a 2 MiB page is one entry
            "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
        }
        cmd = [sys.executable, "-m", "autograder.zygote", str(theirs.fileno())]
        if sandboxed:
            cmd.append("--sandboxed")
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            cwd="/",
            pass_fds=[theirs.fileno()],
            start_new_session=True,
        )
        theirs.close()
        self._ready = False
        self._compiled: set[str] = set()  # trusted sources sent to be compiled

    def wait_ready(self) -> None:
        """Block until the zygote has imported torch.

        Raises:
            SandboxError: it exited or did not answer in time.
        """
        if self._ready:
            return
        try:
            header, _ = receive(self._control, deadline=time.monotonic() + START_TIMEOUT, max_blobs=0)
        except ProtocolError as exc:
            detail = self.log_tail()
            self.close()
            raise SandboxError(f"the grading sandbox did not start: {detail or exc}") from exc
        if not header.get("ready"):
            self.close()
            raise SandboxError("the grading sandbox did not start")
        self._ready = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self) -> str:
        """The last line the zygote wrote to its standard error."""
        try:
            self._log.seek(0)
            lines = [line for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1].strip() if lines else ""

    def spawn(self) -> tuple[socket.socket, int]:
        """Fork a test process; return the grader's end of its socket and its pid."""
        self.wait_ready()
        ours, theirs = socket.socketpair()
        try:
            with self._lock:
                send_fd(self._control, theirs.fileno(), {"op": "spawn", "id": id(ours)})
                header, _ = receive(self._control, deadline=time.monotonic() + 30, max_blobs=0)
        except (ProtocolError, OSError) as exc:
            ours.close()
            raise SandboxError(f"the grading sandbox stopped answering ({exc})") from exc
        finally:
            theirs.close()
        pid = header.get("pid")
        if type(pid) is not int or pid <= 0:
            ours.close()
            raise SandboxError("the grading sandbox sent a malformed answer")
        return ours, pid

    def precompile(self, sources: list[str]) -> None:
        """Have the zygote compile these trusted cells (once each) for the test processes it forks next."""
        self.wait_ready()
        with self._lock:
            new = [s for s in dict.fromkeys(sources) if s not in self._compiled]
            if not new or sum(len(s.encode()) for s in new) > PRECOMPILE_CAP:
                return
            try:
                send(self._control, {"op": "compile", "sources": new})
                receive(self._control, deadline=time.monotonic() + 30, max_blobs=0)
            except (ProtocolError, OSError) as exc:
                raise SandboxError(f"the grading sandbox stopped answering ({exc})") from exc
            self._compiled.update(new)

    def discard(self) -> None:
        """Stop it at once, ready or not (a zygote started ahead and not used)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        try:
            self._control.close()
            self.process.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self._log.close()


_ahead: Zygote | None = None  # started by prestart(), for the next Sandbox of its mode


def prestart(*, sandboxed: bool) -> None:
    """Start the zygote now, so that its imports (torch) overlap the caller's own (the grader's, 1.5 s).

    The next :class:`Sandbox` of the same mode adopts it; one not adopted is
    stopped when the process exits (an error before grading, another mode).
    """
    global _ahead
    if _ahead is None:
        _ahead = Zygote(sandboxed=sandboxed)
        atexit.register(_discard_ahead)


def _adopt(sandboxed: bool) -> Zygote | None:
    global _ahead
    zygote, _ahead = _ahead, None
    if zygote is not None and (zygote.sandboxed != sandboxed or not zygote.alive()):
        zygote.discard()
        return None
    return zygote


def _discard_ahead() -> None:
    global _ahead
    zygote, _ahead = _ahead, None
    if zygote is not None:
        zygote.discard()


class Sandbox:
    """Grades submissions in fresh test and student processes; owns the zygote and its restarts.

    Create it from the thread that will outlive the grading threads (the main thread).
    """

    def __init__(self, *, sandboxed: bool, limits: Limits) -> None:
        self.sandboxed = sandboxed
        self.limits = limits
        self._zygote = _adopt(sandboxed) or Zygote(sandboxed=sandboxed)
        self._lock = threading.Lock()

    def wait_ready(self) -> None:
        self._zygote.wait_ready()

    def _live_zygote(self) -> Zygote:
        with self._lock:
            if not self._zygote.alive():
                log.warning("the grading sandbox stopped (%s); starting a new one", self._zygote.log_tail())
                self._zygote.close()
                self._zygote = Zygote(sandboxed=self.sandboxed)
            return self._zygote

    def grade(
        self,
        cells: list[dict[str, Any]],
        *,
        trusted_names: frozenset[str] = frozenset(),
        limits: Limits | None = None,
    ) -> dict[str, Any]:
        """Run ``cells`` (``{"source", "kind"}``, kind ``student``, ``locked`` or ``test``).

        ``limits`` replaces the sandbox's own for this notebook (a cluster's
        worker keeps one sandbox for runs with different limits).

        ``trusted_names`` are the names that the assignment's locked and test
        cells bind: a name the student's code defines never stands for one of them
        in a test cell, even when the submission lacks the cell that binds it.

        Returns ``{"cells": [records], "status", "cell", "detail"}`` where
        ``status`` is ``completed``, ``cell_timeout``, ``notebook_timeout`` or ``died``.
        Never raises for anything the student's code did.

        Raises:
            SandboxError: the zygote itself could not be used.
        """
        zygote = self._live_zygote()
        zygote.precompile([c["source"] for c in cells if c.get("kind") != "student"])
        sock, pid = zygote.spawn()
        limits = limits or self.limits
        started = time.monotonic()
        deadline = started + limits.notebook_seconds
        records: list[dict[str, Any]] = []
        current: int | None = None
        status, detail = "died", "the grading process ended before the notebook was done"
        leftover = 0
        budget = limits.max_feedback
        try:
            send(sock, {"limits": limits.to_wire(), "sandboxed": self.sandboxed})
            receive(sock, deadline=time.monotonic() + 60, max_blobs=0)
            send(sock, {"cells": cells, "trusted_names": sorted(trusted_names)})
            while True:
                record, _ = receive(sock, deadline=deadline, max_header=RECORD_CAP, max_blobs=0)
                if record.get("done"):
                    status = str(record.get("status", "completed"))
                    current = record.get("cell") if type(record.get("cell")) is int else None
                    detail = str(record.get("detail", ""))[:500]
                    if type(record.get("leftover_processes")) is int:
                        leftover = record["leftover_processes"]
                    break
                index = record.get("index")
                if type(index) is not int or not 0 <= index < len(cells):
                    raise ProtocolError("a record for an unknown cell")
                size = len(repr(record.get("outputs")))
                if size > budget:
                    record["outputs"] = [
                        {
                            "output_type": "stream",
                            "name": "stderr",
                            "text": "[outputs not shown: this submission's outputs exceed the feedback cap]\n",
                        }
                    ]
                    size = 0
                budget -= size
                records.append(record)
                current = index + 1 if index + 1 < len(cells) else None
        except (ProtocolError, OSError) as exc:  # OSError: the test process is gone (a broken pipe)
            if time.monotonic() >= deadline:
                status, detail = (
                    "notebook_timeout",
                    f"the notebook ran longer than {limits.notebook_seconds:g} s in all",
                )
            else:
                detail = f"the grading process stopped ({exc})"
        finally:
            sock.close()
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return {"cells": records, "status": status, "cell": current, "detail": detail, "leftover_processes": leftover}

    def close(self) -> None:
        self._zygote.close()


__all__ = ["Limits", "Sandbox", "SandboxError", "jail_available"]
