"""Start grading workers, sandboxed with bubblewrap where it is available.

A sandboxed worker sees only the operating system's read-only files, the
Python installation and the ``autograder`` package; never the course's
``solutions/``, the gradebook, the output folder or other submissions. It has
no network, its own process, IPC and host-name namespaces, and an empty
private ``/tmp`` that is wiped after every submission.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
SANDBOX_PACKAGE_ROOT = "/opt/grader"


class WorkerError(RuntimeError):
    """A grading worker could not start or stopped answering."""


def bwrap_path() -> str | None:
    """Path of the ``bwrap`` executable, or None when bubblewrap is missing."""
    return shutil.which("bwrap")


def sandbox_works() -> bool:
    """True when bubblewrap can actually create a sandbox here."""
    bwrap = bwrap_path()
    if bwrap is None:
        return False
    probe = subprocess.run(
        [*_bwrap_args(bwrap), "/bin/true"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        log.debug("bubblewrap probe failed: %s", probe.stderr.decode(errors="replace"))
    return probe.returncode == 0


def _system_dirs() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _python_dirs() -> list[str]:
    seen: list[str] = []
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["purelib"]]
    candidates.append(str(Path(sys.executable).resolve().parent.parent))
    for path in candidates:
        real = os.path.realpath(path)
        if any(real == s or real.startswith(s + os.sep) for s in seen):
            continue
        if real.startswith(("/usr/", "/bin/", "/lib")):
            continue
        seen.append(real)
    args: list[str] = []
    for path in seen:
        args += ["--ro-bind", path, path]
        original = os.path.abspath(path)
        if original != path:
            args += ["--ro-bind", path, original]
    # a virtual environment is reached through its own path (sys.prefix) too
    if os.path.abspath(sys.prefix) != os.path.realpath(sys.prefix):
        args += ["--ro-bind", os.path.realpath(sys.prefix), os.path.abspath(sys.prefix)]
    return args


def _bound_paths() -> list[str]:
    """Paths bound into the sandbox from the host (never wiped by the worker)."""
    args = _python_dirs()
    return sorted({args[i + 2] for i in range(0, len(args), 3)} | {SANDBOX_PACKAGE_ROOT})


def _bwrap_args(bwrap: str) -> list[str]:
    return [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-user-try",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        # /tmp first: a course checked out below /tmp must stay visible through its binds
        "--tmpfs",
        "/tmp",
        *_system_dirs(),
        *_python_dirs(),
        "--ro-bind",
        str(PACKAGE_DIR),
        f"{SANDBOX_PACKAGE_ROOT}/autograder",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--setenv",
        "HOME",
        "/tmp/workspace",
        "--setenv",
        "PYTHONPATH",
        SANDBOX_PACKAGE_ROOT,
        "--setenv",
        "MPLCONFIGDIR",
        "/tmp/.matplotlib",
        "--setenv",
        "AUTOGRADER_WORKDIR",
        "/tmp/workspace",
        "--setenv",
        "AUTOGRADER_CLEAN_DIRS",
        "/tmp:/dev/shm",
        "--setenv",
        "AUTOGRADER_KEEP",
        os.pathsep.join(_bound_paths()),
        "--chdir",
        "/tmp",
        # everything but /tmp and /dev/shm (both wiped after every submission) is read-only
        "--remount-ro",
        "/",
    ]


class Worker:
    """One warm worker process, optionally inside bubblewrap.

    Create workers from the thread that will outlive them (the main thread):
    bubblewrap's ``--die-with-parent`` ends a worker when the thread that
    started it exits. :meth:`wait_ready` may be called from any thread.
    """

    def __init__(self, *, sandboxed: bool) -> None:
        self.sandboxed = sandboxed
        self._private: str | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTHON"))}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["MPLBACKEND"] = "Agg"
        env["OMP_NUM_THREADS"] = "1"
        env["MKL_NUM_THREADS"] = "1"
        python = sys.executable
        self._log = tempfile.TemporaryFile(prefix="autograder-worker-log-")
        if sandboxed:
            bwrap = bwrap_path()
            assert bwrap is not None
            cmd = [*_bwrap_args(bwrap), python, "-m", "autograder.worker"]
        else:
            self._private = tempfile.mkdtemp(prefix="autograder-worker-")
            env["PYTHONPATH"] = str(PACKAGE_DIR.parent)
            env["AUTOGRADER_WORKDIR"] = os.path.join(self._private, "workspace")
            env["MPLCONFIGDIR"] = os.path.join(self._private, ".matplotlib")
            cmd = [python, "-m", "autograder.worker"]
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=self._private or "/",
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._ready = False

    def wait_ready(self) -> None:
        """Block until the worker has imported torch and said it is ready.

        Raises:
            WorkerError: it exited or did not answer within five minutes.
        """
        if self._ready:
            return
        ready = self._read_line(timeout=300)
        if not ready or not ready.get("ready"):
            detail = self.log_tail()
            self.close()
            raise WorkerError(f"the grading worker did not start: {detail or 'no message'}")
        self._ready = True

    def log_tail(self) -> str:
        """The last line the worker wrote to its standard error."""
        try:
            self._log.seek(0)
            lines = [line for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1].strip() if lines else ""

    def _read_line(self, *, timeout: float) -> dict[str, Any] | None:
        import selectors

        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        try:
            if not selector.select(timeout):
                return None
        finally:
            selector.close()
        line = self.process.stdout.readline()
        if not line:
            return None
        return json.loads(line)

    def run(self, request: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Send one request; wait at most ``timeout`` seconds for its answer."""
        self.wait_ready()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError("the grading worker stopped") from exc
        response = self._read_line(timeout=timeout)
        if response is None:
            raise WorkerError("the grading worker stopped answering")
        return response

    def close(self) -> None:
        """Stop the worker and everything it started."""
        try:
            if self.process.stdin:
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        if self._private:
            shutil.rmtree(self._private, ignore_errors=True)
        self._log.close()


_idle: list[Worker] = []
_idle_lock = __import__("threading").Lock()


def acquire_worker(*, sandboxed: bool) -> Worker:
    """A warm worker: an idle one from an earlier run in this process, or a new one."""
    with _idle_lock:
        for i, worker in enumerate(_idle):
            if worker.sandboxed == sandboxed and worker.process.poll() is None:
                return _idle.pop(i)
    return Worker(sandboxed=sandboxed)


def release_worker(worker: Worker) -> None:
    """Keep ``worker`` warm for the next run in this process (closed at exit)."""
    if worker.process.poll() is not None:
        worker.close()
        return
    with _idle_lock:
        _idle.append(worker)


def close_idle_workers() -> None:
    """Stop every idle worker."""
    with _idle_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.close()


atexit.register(close_idle_workers)
