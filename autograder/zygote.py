"""The zygote: one warm process that forks a test process per submission.

Run as ``python -m autograder.zygote FD [--sandboxed]`` by :mod:`autograder.sandbox`.
It prepares the jail (:func:`autograder.jail.prepare_zygote`), imports torch,
IPython and the course helpers once, says ``ready`` on the control socket
``FD``, and then serves two kinds of request: ``spawn`` with a socket attached,
answered with the pid of a forked test process (:mod:`autograder.trusted.testproc`)
that talks to the grader on that socket; and ``compile``, the sources of an
assignment's test and locked cells, compiled here (never run) so that every
test process forked after finds them compiled (:func:`~autograder.trusted.testproc.precompile`).

The zygote never runs student code and never reads anything but the grader's
requests: every student process is a grandchild that enters its own jail, in
whose pid namespace the zygote does not exist.
"""

from __future__ import annotations

import gc
import importlib
import os
import select
import signal
import socket
import sys


def _readable_paths() -> list[str]:
    """Host paths the jailed student process may read: the Python installation, nothing of the course.

    Not even this package: the student process is forked with everything it
    runs already imported, so the grader's files (``autograder/hidden`` with
    the hidden tests' helpers among them) never need to be in its view.
    """
    from .jail import python_readable_paths

    return python_readable_paths()


# what IPython's shell imports when the student process makes one (its history database among them)
SHELL_MODULES = (
    "IPython.core.application",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.logger",
    "IPython.core.magics",
    "IPython.core.oinspect",
    "IPython.utils.wildcard",
    "bdb",
    "sqlite3",
)


def _warm_up() -> None:
    """Import and run once what the tests and the students' code use, so that forks start warm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from torch import nn
    from torch.nn import functional as F

    for name in SHELL_MODULES:
        importlib.import_module(name)
    # each test process imports its assignment's hidden tests and writes no bytecode: compiled once here, not run
    import compileall

    compileall.compile_dir(os.path.join(os.path.dirname(__file__), "hidden"), quiet=2)
    import autograder.checks  # noqa: F401
    import autograder.course  # noqa: F401
    import autograder.jail.student
    import autograder.trusted.proxy  # noqa: F401
    import autograder.trusted.testproc  # noqa: F401

    autograder.jail.student.shell_class()  # the students' shell class, made once

    torch.set_num_threads(1)
    X = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    K = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    Y, _ = autograder.course.record_ops(lambda a, b: F.conv2d(a[None, None], b[None, None])[0, 0], X, K)
    autograder.course.vjp(Y, (X, K), torch.ones_like(Y))  # a given gradient: the hidden tests' call
    Z = X.unfold(0, 2, 1).unfold(1, 2, 1)
    (Z * K).sum().backward()
    (X @ X.T).sum().backward()
    F.conv1d(torch.randn(1, 2, 5), torch.randn(3, 2, 1)).sum()
    for module in (nn.Linear(3, 2), nn.Conv2d(3, 2, 1), nn.Conv1d(3, 2, 1)):
        module.zero_grad()
        list(module.parameters())
    net = nn.Conv2d(1, 1, (1, 2))
    ((net(torch.randn(1, 1, 3, 4)) - 1) ** 2).sum().backward()
    torch.random.default_generator.manual_seed(0)


MADV_COLLAPSE = 25  # Linux 6.1+, the same number on every architecture
HUGE = 2 * 2**20  # a huge page
CHUNK = 4 * HUGE  # collapsed at a time between requests


def _collapsible() -> list[tuple[int, int]]:
    """This process's anonymous memory and heap, as huge-page-aligned chunks (start, length)."""
    try:
        with open("/proc/self/maps", encoding="ascii") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    chunks = []
    for line in lines:
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]") or not fields[1].startswith("rw"):
            continue  # a file's pages are not copied at fork: only anonymous memory counts
        start, end = (int(x, 16) for x in fields[0].split("-"))
        start, end = -(-start // HUGE) * HUGE, end // HUGE * HUGE
        chunks += [(at, min(CHUNK, end - at)) for at in range(start, end, CHUNK)]
    return chunks


class HugePages:
    """Moves the zygote's memory into huge pages, a chunk at a time, while it has nothing else to do.

    Every test and student process is a fork of the zygote: at each fork the
    kernel copies the page tables of its 200 MB of anonymous memory, and tears
    them down at each exit, a large part of a notebook's fixed cost. A 2 MiB
    page needs one entry where 4 KiB pages need 512. The heap is born in huge
    pages (``glibc.malloc.hugetlb``, :class:`autograder.sandbox.Zygote`); the
    rest is collapsed here with ``MADV_COLLAPSE``, never while a request waits.
    A kernel without it (before 6.1, or with huge pages off) refuses each
    chunk at once, as any kernel refuses a chunk it cannot collapse. Pages
    written after a fork are still copied a small page at a time.
    """

    def __init__(self) -> None:
        self.chunks = _collapsible()
        self._madvise = None
        try:
            import ctypes

            madvise = ctypes.CDLL(None, use_errno=True).madvise
            madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            self._madvise = madvise
        except (OSError, AttributeError):
            self.chunks = []

    def step(self) -> None:
        """Collapse the next chunk (a few milliseconds; a refusal, where the kernel cannot, costs nothing)."""
        start, length = self.chunks.pop(0)
        if self._madvise is not None:
            self._madvise(start, length, MADV_COLLAPSE)


def main(argv: list[str]) -> int:
    fd = int(argv[0])
    sandboxed = "--sandboxed" in argv
    # the imports make some 220,000 objects, hardly any of them garbage (4 %, a few MB): collecting while they are
    # made took a sixth of the start-up. Frozen after, no collection in a forked process walks them (and copies
    # the pages of their headers)
    gc.disable()
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    if sandboxed:
        from . import jail

        jail.prepare_zygote(_readable_paths())
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # stray prints of imports must go nowhere
    _warm_up()
    from .framing import PeerClosed, receive_fd, send
    from .trusted import testproc

    gc.freeze()
    gc.enable()

    control = socket.socket(fileno=fd)
    send(control, {"ready": True, "pid": os.getpid()})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # test processes are reaped by the kernel
    huge = HugePages()
    while True:
        while huge.chunks and not select.select([control], [], [], 0)[0]:
            huge.step()
        try:
            header, job_fd = receive_fd(control)
        except (PeerClosed, OSError):
            return 0
        if header.get("op") != "spawn" or job_fd is None:
            if job_fd is not None:
                os.close(job_fd)
            if header.get("op") == "stop":
                return 0
            if header.get("op") == "compile":
                testproc.precompile(header.get("sources"))
                send(control, {"compiled": True})
            continue
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                os.setpgid(0, 0)
                testproc.main(socket.socket(fileno=job_fd))
            except BaseException:  # noqa: BLE001  (the child must end with os._exit)
                code = 70
            finally:
                os._exit(code)
        os.close(job_fd)
        send(control, {"id": header.get("id"), "pid": pid})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
