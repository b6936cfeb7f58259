"""Execute a notebook's code cells in this process, one after the other.

This runs in a child forked from a warm worker (torch already imported), inside
the sandbox. It replaces a Jupyter kernel: each cell is transformed by IPython
(magics, ``!shell``), executed in one namespace, and its outputs are recorded
in nbformat's shape (``stream``, ``execute_result``, ``error``), so that
nbgrader scores them exactly as it scores a kernel's outputs.

Tracebacks never show test-cell source: frames from test cells are replaced by
one line naming the test, so hidden tests do not leak into feedback.
"""

from __future__ import annotations

import ast
import io
import json
import linecache
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TextIO

from .guard import ModuleGuard


class CellTimeout(BaseException):
    """Raised inside a cell that ran longer than its time limit."""


class CappedStream(io.TextIOBase):
    """A text stream that keeps at most ``budget`` characters (shared per cell)."""

    def __init__(self, name: str, budget: list[int]) -> None:
        self.name = name
        self._budget = budget
        self._parts: list[str] = []
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            text = str(text)
        room = self._budget[0]
        if room > 0:
            self._parts.append(text[:room])
            self._budget[0] = room - min(room, len(text))
        self.dropped += max(0, len(text) - room)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        text = "".join(self._parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more characters were printed]\n"
        return text


def _format_exception(exc: BaseException, test_files: dict[str, str]) -> list[str]:
    """Traceback lines with every frame from a test cell replaced by its name."""
    lines = ["Traceback (most recent call last):"]
    tb = exc.__traceback__
    frames = traceback.extract_tb(tb)
    hidden_run = False
    for frame in frames:
        if frame.filename in test_files:
            if not hidden_run:
                lines.append(f"  in the test cell {test_files[frame.filename]!r}")
            hidden_run = True
            continue
        hidden_run = False
        if not frame.filename.startswith("<cell"):
            continue  # library frames: the student's own cells are what matters
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    lines.append(f"{type(exc).__name__}: {exc}")
    return lines


def run_cells(
    cells: list[dict[str, Any]],
    emit: Callable[[dict[str, Any]], None],
    *,
    cell_timeout: float,
    max_output: int,
    guard: ModuleGuard | None,
    shell: Any,
) -> None:
    """Run ``cells`` in order; call ``emit`` with one record per cell.

    Each cell is ``{"source": str, "kind": "test" | "code", "name": str | None}``.
    Before each cell ``emit({"start": index})`` is called, after it
    ``emit({"index": index, "outputs": [...], "execution_count": n})``.
    """
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    shell.user_ns = namespace
    test_files: dict[str, str] = {}

    def on_alarm(signum: int, frame: Any) -> None:
        raise CellTimeout(f"the cell ran longer than {cell_timeout:g} s")

    signal.signal(signal.SIGALRM, on_alarm)
    # plt.show() under the Agg backend warns; a kernel's inline backend would not
    warnings.filterwarnings("ignore", message=".*non-interactive.*")
    count = 0
    for index, cell in enumerate(cells):
        emit({"start": index})
        count += 1
        filename = f"<cell {index + 1}>"
        if cell["kind"] == "test":
            filename = f"<test {cell.get('name') or index + 1}>"
            test_files[filename] = cell.get("name") or f"cell {index + 1}"
            if guard is not None:
                guard.restore()
        budget = [max_output]
        out, err = CappedStream("stdout", budget), CappedStream("stderr", budget)
        outputs: list[dict[str, Any]] = []
        saved: tuple[TextIO, TextIO] = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = out, err
        result: Any = None
        has_result = False
        cell_started = time.perf_counter()
        error: BaseException | None = None
        try:
            source = shell.transform_cell(cell["source"])
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            tree = ast.parse(source, filename=filename)
            last: ast.Expression | None = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            signal.setitimer(signal.ITIMER_REAL, cell_timeout)
            try:
                exec(compile(tree, filename, "exec"), namespace)
                if last is not None:
                    result = eval(compile(last, filename, "eval"), namespace)
                    has_result = result is not None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # noqa: BLE001  (student code may raise anything)
            error = exc
        finally:
            sys.stdout, sys.stderr = saved
        text = out.getvalue()
        if text:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        text = err.getvalue()
        if text:
            outputs.append({"output_type": "stream", "name": "stderr", "text": text})
        if error is not None:
            outputs.append(_error_output(error, test_files))
        elif has_result:
            try:
                text = repr(result)[:max_output]
            except BaseException as exc:  # noqa: BLE001
                text = f"<repr failed: {type(exc).__name__}>"
            outputs.append(
                {
                    "output_type": "execute_result",
                    "execution_count": count,
                    "metadata": {},
                    "data": {"text/plain": text},
                }
            )
        seconds = round(time.perf_counter() - cell_started, 4)
        emit({"index": index, "outputs": outputs, "execution_count": count, "seconds": seconds})


def _error_output(error: BaseException, test_files: dict[str, str]) -> dict[str, Any]:
    try:
        evalue = str(error)
    except BaseException:  # noqa: BLE001
        evalue = "<the exception's message could not be shown>"
    try:
        lines = _format_exception(error, test_files)
    except BaseException:  # noqa: BLE001
        lines = [f"{type(error).__name__}: {evalue}"]
    return {
        "output_type": "error",
        "ename": type(error).__name__,
        "evalue": evalue[:5000],
        "traceback": lines,
    }


def encode(record: dict[str, Any]) -> bytes:
    """One JSON line; non-text values are turned into text."""
    return (json.dumps(record, default=str) + "\n").encode()
