"""The test process: runs one notebook's test cells, trusted, against a jailed student process.

Forked by the zygote for one submission. Before it reads anything of the job
it forks the student process, which enters its jail (:mod:`autograder.jail`)
and serves :mod:`autograder.jail.student` on one socket: the student process never
holds a test, an expected value or a helper of the tests in its memory.

Then it reads the job from the grader (the notebook's cells and the limits),
and walks the cells in order:

* a student cell (an answer, or any cell the student added) runs in the
  student process; the callables it defines become proxies in the test namespace;
* a locked cell that is not a test (imports, the notebook's setup) runs in both;
* a test cell runs here, in a namespace of its own where trusted names win
  over the student's and builtins cannot be shadowed; a name that any locked or
  test cell of the assignment binds (``torch``, ``F``) never stands for the
  student's, even when the submission dropped or moved the cell that binds it.

One record per cell goes back to the grader (nbformat outputs), then ``done``.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import re
import resource
import signal
import socket
import sys
import time
import warnings
from types import CodeType
from typing import Any

from ..capped import CappedStream
from ..framing import ProtocolError, receive, send
from ..limits import Limits
from . import proxy

OUTPUT_TYPES = {"stream", "error", "execute_result", "display_data"}
JOB_CAP = 64 * 2**20  # the grader's job: the cells of a notebook of up to prepare.MAX_NOTEBOOK_BYTES
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def split_hidden(source: str) -> list[tuple[str, bool]]:
    """A test cell's source as its visible and hidden parts, in order: ``[(code, hidden)]``.

    Each part keeps its line numbers (earlier lines become blank lines).
    """
    parts: list[tuple[str, bool]] = []
    lines = source.splitlines(keepends=True)
    current: list[str] = []
    hidden = False
    offset = 0
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker in (BEGIN_HIDDEN, END_HIDDEN):
            if any(part.strip() for part in current):
                parts.append(("\n" * offset + "".join(current), hidden))
            hidden = marker == BEGIN_HIDDEN
            current, offset = [], number + 1
            continue
        current.append(line)
    if any(part.strip() for part in current):
        parts.append(("\n" * offset + "".join(current), hidden))
    return parts


_COMPILED: dict[str, tuple[CodeType, CodeType | None]] = {}  # a trusted part's code -> compiled (see precompile)
MAX_COMPILED = 4096
PLACEHOLDER = "<test>"  # the file name of what precompile compiles; each run names its own cell


def precompile(sources: Any) -> None:
    """Compile the parts of trusted cells ahead of the runs (in the zygote: every test process forked after has them).

    Every student's test process runs the same test cells: parsing and
    compiling them in each costs more than some of the tests. ``sources`` come
    from the grader; what does not compile is left to the run, which reports it.
    """
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, str):
            continue
        for code in {source, *(part for part, _ in split_hidden(source))}:
            if code in _COMPILED or len(_COMPILED) >= MAX_COMPILED:
                continue
            try:
                _COMPILED[code] = _compile(code, PLACEHOLDER)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass


def _compile(code: str, filename: str) -> tuple[CodeType, CodeType | None]:
    """``code`` compiled to run, its last statement apart when it is an expression (its value is the cell's result)."""
    tree = ast.parse(code, filename=filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    return compile(tree, filename, "exec"), compile(last, filename, "eval") if last is not None else None


def _named(code: CodeType, filename: str) -> CodeType:
    """``code`` and the code of every function and class in it, as if compiled from ``filename``."""
    consts = tuple(_named(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def compiled(code: str, filename: str) -> tuple[CodeType, CodeType | None]:
    """What :func:`_compile` gives, from the precompiled parts when ``code`` is one of them."""
    ready = _COMPILED.get(code)
    if ready is None:
        return _compile(code, filename)
    body, last = ready
    return _named(body, filename), _named(last, filename) if last is not None else None


class TestTimeout(BaseException):
    """A test cell ran longer than its limit."""


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def start_student(limits: Limits, *, sandboxed: bool) -> tuple[socket.socket, int]:
    """Fork the student process; return the test side of its socket and its pid."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the student process
        code = 0
        try:
            ours.close()
            if sandboxed:
                from .. import jail

                jail.enter(
                    limits,
                    keep_fds=[theirs.fileno()],
                )
            else:
                _unsandboxed_limits(limits, keep=theirs.fileno())
            from ..jail.student import run

            run(theirs, cell_timeout=limits.cell_timeout, max_output=limits.max_output)
        except BaseException:  # noqa: BLE001  (the child must end with os._exit)
            code = 70
        finally:
            os._exit(code)
    theirs.close()
    return ours, pid


def _unsandboxed_limits(limits: Limits, *, keep: int) -> None:
    """The little that can be done without a jail (``--unsandboxed``): own session, limits, no fds."""
    import ctypes
    import tempfile

    os.setsid()
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if limits.memory > 0:
        limit = _vm_size() + limits.memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)
    work = tempfile.mkdtemp(prefix="autograder-student-")
    os.chdir(work)
    os.environ["HOME"] = work


class TestRunner:
    """Runs the cells of one job; see the module docstring."""

    def __init__(
        self, session: proxy.Session, *, cell_timeout: float, max_output: int, reserved: frozenset[str] = frozenset()
    ) -> None:
        self.session = session
        self.reserved = reserved  # names only the trusted cells may bind
        self.cell_timeout = cell_timeout
        self.max_output = max_output
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self._proxies: set[str] = set()
        self._count = 0
        self.status = "completed"
        self.failed_cell: int | None = None
        self.detail = ""
        self.last_failure = ""  # the latest of the student's cells that raised, in words

    def _student(self, index: int, source: str) -> list[dict[str, Any]]:
        if self.session.gone:
            return [_error("NotRun", f"not run: {self.session.gone}")]
        self.session.cells[index + 1] = source.splitlines()
        try:
            reply, _ = self.session.request("exec", {"cell": index + 1, "source": source}, timeout=self.cell_timeout)
        except proxy.StudentGone as exc:
            self._note_gone(index, str(exc))
            return [_error("Stopped", str(exc))]
        if "error" in reply:
            return [_error("Error", "the cell could not be run")]
        names = reply.get("names")
        for name in names[:1000] if isinstance(names, list) else []:
            if type(name) is not str or not name.isidentifier() or hasattr(builtins, name) or name in self.reserved:
                continue
            if name in self.namespace and name not in self._proxies:
                continue  # the tests' own name wins
            self.namespace[name] = proxy.RemoteName(self.session, name)
            self._proxies.add(name)
        outputs = _checked_outputs(reply.get("outputs"), self.max_output)
        for output in outputs:
            if output["output_type"] == "error":
                self.last_failure = _failure_summary(index + 1, output)
        return outputs

    def _note_gone(self, index: int, reason: str) -> None:
        if self.status == "completed":
            self.status = "cell_timeout" if "time" in reason else "died"
            self.failed_cell = index
            self.detail = reason

    def _trusted(self, index: int, source: str, *, test: bool) -> list[dict[str, Any]]:
        """Run ``source`` here (a test cell, or a locked setup cell)."""
        filename = f"<test {index + 1}>"
        budget = [self.max_output]
        out, err = CappedStream("stdout", budget), CappedStream("stderr", budget)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        outputs: list[dict[str, Any]] = []
        error: BaseException | None = None
        result: Any = None
        gone_before = self.session.gone
        hidden = False
        try:
            signal.setitimer(signal.ITIMER_REAL, self.cell_timeout)
            try:
                for code, in_hidden in split_hidden(source) if test else [(source, False)]:
                    hidden = self.session.hidden = in_hidden  # kept after the loop: where an error came from
                    body, last = compiled(code, filename)
                    exec(body, self.namespace)
                    result = eval(last, self.namespace) if last is not None else None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # noqa: BLE001  (a failing test is the normal case)
            error = exc
        finally:
            sys.stdout, sys.stderr = saved
        message = None
        if error is not None:
            message = _test_error(error, self.cell_timeout, hidden=hidden, failure=self.last_failure)
        self.session.hidden = False
        for name, value in list(self.namespace.items()):
            if name in self._proxies and not proxy.is_proxy(value):
                self._proxies.discard(name)  # the test rebound it: a trusted name from now on
        for stream in (out, err):
            text = stream.getvalue()
            if text:
                outputs.append({"output_type": "stream", "name": stream.name, "text": text})
        if message is not None:
            outputs.append(message)
            if isinstance(error, TestTimeout) and not gone_before:
                self.session.kill("your code was stopped when a test cell ran out of time")
        elif result is not None:  # nbgrader reads a number here as partial credit
            outputs.append(
                {
                    "output_type": "execute_result",
                    "execution_count": self._count,
                    "metadata": {},
                    "data": {"text/plain": _safe_repr(result)[: self.max_output]},
                }
            )
        if self.session.gone and not gone_before:
            self._note_gone(index, self.session.gone)
        return outputs

    def run(self, cells: list[dict[str, Any]], emit: Any) -> None:
        for index, cell in enumerate(cells):
            # every cell's count is its number in the run, the N of <cell N>: the page's In [N]
            # is the cell that messages name (proxy.Session._where)
            self._count = index + 1
            kind = cell.get("kind")
            source = str(cell.get("source", ""))
            started = time.perf_counter()
            if kind == "test":
                outputs = self._trusted(index, source, test=True)
            elif kind == "locked":
                outputs = self._student(index, source)
                self._trusted(index, source, test=False)
            else:
                outputs = self._student(index, source)
            emit(
                {
                    "index": index,
                    "outputs": outputs,
                    "execution_count": self._count,
                    "seconds": round(time.perf_counter() - started, 4),
                }
            )


def _safe_repr(value: Any) -> str:
    if isinstance(value, proxy.RemoteObject):
        return f"<{value.remote_type_label()} object>"  # not its remote repr: the student's text, read as points
    try:
        return repr(value)
    except BaseException as exc:  # noqa: BLE001
        return f"<repr failed: {type(exc).__name__}>"


def _error(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _failure_summary(cell: int, output: dict[str, Any]) -> str:
    """``In [4], line 1: ModuleNotFoundError: No module named 'd2l'`` from a student cell's error output."""
    where = f"In [{cell}]"
    for line in reversed(output.get("traceback") or []):
        found = re.match(r"\s*(In \[\d+\], line \d+)\s*$", line)
        if found:
            where = found.group(1)
            break
    evalue = (output.get("evalue") or "").strip().splitlines()
    return f"{where}: {output.get('ename')}" + (f": {evalue[0][:200]}" if evalue else "")


def _test_error(error: BaseException, cell_timeout: float, *, hidden: bool, failure: str = "") -> dict[str, Any]:
    """A failing test cell's output: the message only, never the test's source or frames.

    An exception of the student's code raised during a hidden test keeps its
    type, the call and the student's frames, but not its own message. A name
    the tests cannot find is explained by the latest of the student's cells
    that raised (``failure``), if any did.
    """
    if isinstance(error, proxy.StudentError) and hidden:
        return _error(type(error).__name__, error.redacted())
    if isinstance(error, TestTimeout):
        return _error("TimeoutError", f"the test cell ran longer than {cell_timeout:g} s; your code was stopped")
    if isinstance(error, proxy.StudentGone):
        return _error("Stopped", str(error))
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001
        message = "<the message could not be shown>"
    name = type(error).__name__
    if isinstance(error, NameError) and not isinstance(error, proxy.StudentError):
        if failure:
            message += f": your code stopped with an error before defining it ({failure}); fix that cell"
        else:
            message += " (is the answer cell that defines it intact, and did it run without an error?)"
    return _error(name, message[:4000])


def _text(value: Any, cap: int) -> str:
    """``value`` if it is a string (at most ``cap`` characters), else ''."""
    return value[: max(0, cap)] if isinstance(value, str) else ""


def _checked_outputs(outputs: Any, cap: int) -> list[dict[str, Any]]:
    """The student process's outputs of a cell, rebuilt field by field (nothing else passes)."""
    checked: list[dict[str, Any]] = []
    if not isinstance(outputs, list):
        return checked
    budget = cap + 500  # the student side's own cap, plus its "[output truncated ...]" line
    for output in outputs[:10]:
        kind = output.get("output_type") if isinstance(output, dict) else None
        if not isinstance(kind, str) or kind not in OUTPUT_TYPES:
            continue
        if kind == "stream":
            text = _text(output.get("text"), budget)
            budget -= len(text)
            name = "stderr" if output.get("name") == "stderr" else "stdout"
            checked.append({"output_type": "stream", "name": name, "text": text})
        elif kind == "error":
            tb = output.get("traceback") if isinstance(output.get("traceback"), list) else []
            checked.append(
                {
                    "output_type": "error",
                    "ename": _text(output.get("ename"), 100) or "Error",
                    "evalue": _text(output.get("evalue"), 4000),
                    "traceback": [_text(line, 500) for line in tb[:40]],
                }
            )
        elif kind == "execute_result":
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            text = _text(data.get("text/plain"), budget)
            budget -= len(text)
            count = output.get("execution_count")
            checked.append(
                {
                    "output_type": "execute_result",
                    "execution_count": count if type(count) is int and 0 <= count < 2**31 else None,
                    "metadata": {},
                    "data": {"text/plain": text},
                }
            )
    return checked


def main(control: socket.socket) -> None:
    """Entry of the forked test process: start the student, read the job, run it, report."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    header, _ = receive(control, deadline=time.monotonic() + 60)
    limits = Limits.from_wire(header["limits"])
    student_sock, pid = start_student(limits, sandboxed=header.get("sandboxed") is True)
    if limits.memory > 0:  # what the student's replies make here is bounded too (a MemoryError fails the test)
        cap = _vm_size() + limits.memory
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    send(control, {"student": pid})
    job, _ = receive(control, deadline=time.monotonic() + 60, max_header=JOB_CAP)

    def on_alarm(signum: int, frame: Any) -> None:
        raise TestTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    warnings.filterwarnings("ignore", message=".*non-interactive.*")
    session = proxy.Session(student_sock, pid, call_timeout=limits.cell_timeout)
    proxy.install(session)
    reserved = frozenset(n for n in job.get("trusted_names", []) if type(n) is str)
    runner = TestRunner(session, cell_timeout=limits.cell_timeout, max_output=limits.max_output, reserved=reserved)
    sys.stdin = io.StringIO()

    def emit(record: dict[str, Any]) -> None:
        send(control, record)

    try:
        runner.run(job["cells"], emit)
    except ProtocolError:
        pass
    leftover = 0
    if not session.gone:
        try:
            reply, _ = session.request("census", {}, timeout=5)
            leftover = reply.get("value") if type(reply.get("value")) is int else 0
        except proxy.StudentGone:
            pass
    session.kill(session.gone or "finished")
    if session.pid > 0:
        try:
            os.waitpid(session.pid, 0)
        except ChildProcessError:
            pass
    done = {"done": True, "status": runner.status, "cell": runner.failed_cell, "detail": runner.detail}
    send(control, {**done, "leftover_processes": max(0, min(leftover, 10_000))})
