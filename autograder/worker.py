"""A warm grading worker: imports torch once, forks a clean child per submission.

Run as ``python -m autograder.worker`` (normally inside a bubblewrap sandbox).
It reads one JSON request per line on standard input and answers one JSON line
per request on standard output:

request  ``{"id": str, "cells": [{"source", "kind", "name"}], "cell_timeout": s,
           "wall_timeout": s, "memory": bytes, "max_output": chars}``
response ``{"id": str, "cells": [{"index", "outputs", "execution_count"}],
           "status": "completed" | "cell_timeout" | "wall_timeout" | "died",
           "cell": index or null, "detail": str}``

The child runs in its own session with a memory limit, a private, emptied
working directory and its output captured; when it is done (or killed) every
process it left behind is killed too: the worker is a child subreaper, so
orphans come back to it and are found.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
GRACE = 3.0  # seconds past the soft per-cell limit before the child is killed


def _warm_up() -> tuple[Any, Any]:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    import autograder.checks  # noqa: F401

    from .guard import ModuleGuard

    _exercise_torch()
    shell = InteractiveShell.instance()
    import builtins

    builtins.get_ipython = lambda: shell  # type: ignore[attr-defined]
    return shell, ModuleGuard()


def _exercise_torch() -> None:
    """Run each torch feature the tests use once, so lazy imports happen before the fork."""
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    X = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    K = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    with _Watch():
        Y = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.autograd.grad(Y.sum(), (X, K))
    Z = X.unfold(0, 2, 1).unfold(1, 2, 1)
    (Z * K).sum().backward()
    (X @ X.T).sum().backward()
    F.conv1d(torch.randn(1, 2, 5), torch.randn(3, 2, 1)).sum()
    for module in (nn.Linear(3, 2), nn.Conv2d(3, 2, 1), nn.Conv1d(3, 2, 1)):
        module.zero_grad()
        list(module.parameters())
    net = nn.Conv2d(1, 1, (1, 2))
    loss = ((net(torch.randn(1, 1, 3, 4)) - 1) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        net.weight -= 0.1 * net.weight.grad
    torch.testing.assert_close(torch.ones(1), torch.ones(1))
    torch.manual_seed(0)


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _descendants(root: int) -> list[int]:
    """Every live process whose parent chain leads to ``root``."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents[int(entry)] = ppid
    found = []
    for pid in parents:
        p = pid
        while p in parents and p != root and p > 1:
            p = parents[p]
        if p == root and pid != root:
            found.append(pid)
    return found


def _kill_all_children() -> int:
    """Kill and reap every descendant of this worker; return how many there were."""
    me = os.getpid()
    killed = 0
    for _ in range(20):
        pids = _descendants(me)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        _reap()
        time.sleep(0.01)
    _reap()
    return killed


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _clean_dir(path: str, keep: tuple[str, ...] = ()) -> None:
    """Delete everything in ``path`` except the paths in ``keep`` (and the folders leading to them)."""
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if full in keep:
            continue
        if any(k.startswith(full + os.sep) for k in keep):
            _clean_dir(full, keep)
        elif os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            try:
                os.unlink(full)
            except OSError:
                pass


def _child(request: dict[str, Any], write_fd: int, shell: Any, guard: Any, workdir: str) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.setsid()
        memory = int(request.get("memory") or 0)
        if memory > 0:
            limit = _vm_size() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        file_limit = 256 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        out = os.fdopen(write_fd, "wb", buffering=0)
        from .executor import encode, run_cells

        def emit(record: dict[str, Any]) -> None:
            out.write(encode(record))

        run_cells(
            request["cells"],
            emit,
            cell_timeout=float(request.get("cell_timeout") or 30),
            max_output=int(request.get("max_output") or 20000),
            guard=guard,
            shell=shell,
        )
        emit({"done": True})
    except BaseException:  # noqa: BLE001  (the child must end with os._exit)
        code = 70
    finally:
        os._exit(code)


def grade_one(request: dict[str, Any], shell: Any, guard: Any, workdir: str) -> dict[str, Any]:
    """Run one submission's cells in a forked child and collect its records."""
    os.makedirs(workdir, exist_ok=True)
    _clean_dir(workdir)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, write_fd, shell, guard, workdir)
    os.close(write_fd)
    cell_timeout = float(request.get("cell_timeout") or 30)
    wall_timeout = float(request.get("wall_timeout") or 120)
    started = time.monotonic()
    cell_started = started
    current: int | None = None
    cells: list[dict[str, Any]] = []
    buffer = b""
    done = False
    status, detail = "completed", ""
    eof = False
    while not eof:
        now = time.monotonic()
        deadline = min(started + wall_timeout, cell_started + cell_timeout + GRACE)
        if now >= deadline:
            if now >= started + wall_timeout:
                status, detail = "wall_timeout", f"the notebook ran longer than {wall_timeout:g} s in all"
            else:
                status, detail = "cell_timeout", f"a cell ran longer than {cell_timeout:g} s and was stopped"
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        ready, _, _ = select.select([read_fd], [], [], min(0.5, deadline - now))
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            eof = True
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
                cell_started = time.monotonic()
            elif "index" in record:
                cells.append(record)
                current = None
            elif record.get("done"):
                done = True
    os.close(read_fd)
    try:
        _, wait_status = os.waitpid(pid, 0)
    except ChildProcessError:
        wait_status = 0
    leftovers = _kill_all_children()
    _clean_dir(workdir)
    keep = tuple(filter(None, os.environ.get("AUTOGRADER_KEEP", "").split(os.pathsep)))
    for extra in filter(None, os.environ.get("AUTOGRADER_CLEAN_DIRS", "").split(os.pathsep)):
        if os.path.isdir(extra):
            _clean_dir(extra, keep)
    if status == "completed" and not done:
        status = "died"
        if os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
            detail = f"the notebook's process was killed by signal {signal.Signals(sig).name}"
            if sig == signal.SIGKILL:
                detail += " (out of memory?)"
        else:
            detail = f"the notebook's process exited with status {os.WEXITSTATUS(wait_status)}"
    return {
        "id": request.get("id"),
        "cells": cells,
        "status": status,
        "cell": current,
        "detail": detail,
        "leftover_processes": leftovers,
    }


def main() -> int:
    """Serve requests from standard input until it closes."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # stray prints from imports must not corrupt the protocol
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass
    shell, guard = _warm_up()
    workdir = os.environ.get("AUTOGRADER_WORKDIR", "/tmp/workspace")
    protocol.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        response = grade_one(request, shell, guard, workdir)
        protocol.write(json.dumps(response) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
